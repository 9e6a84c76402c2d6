"""`RateTrainExperiment`: rows of rate protocols -> predictions, equal to the trains drawn by hand
and run one at a time; rows it cannot run are refused, naming the field, before any work."""

import re

import equinox as eqx
import jax
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.experiment import Predictor, RateTrainExperiment, dataset_from_records
from plastic.protocols import PATTERNS, rate_trains
from plastic.rules import STDPSynapse, TripletSTDP

EXPERIMENT = RateTrainExperiment(tail=500.0)
ROW = dict(readout="weight", mean=1.0, sem=0.1, n=5, unit="ratio", source="test")
ROWS = [
    dict(pattern="poisson", pre_rate=20.0, post_rate=40.0, duration=300.0, n_repeats=3,
         repeat_period=1000.0, seed=4),
    dict(pattern="axon_poisson", pre_rate=50.0, post_rate=10.0, duration=200.0, n_repeats=2,
         repeat_period=1200.0, post_delay=5.0),
    dict(pattern="out_of_phase", pre_rate=100.0, post_rate=30.0, duration=500.0,
         repeat_period=600.0),
    dict(pattern="axon_poisson", pre_rate=50.0, post_rate=50.0, duration=200.0, n_repeats=2,
         repeat_period=1200.0, late_fraction=0.5, late_pre_rate=25.0, late_post_rate=25.0),
]  # fmt: skip


def _data(rows):
    return dataset_from_records([{**ROW, "condition": str(i), **row} for i, row in enumerate(rows)])


def test_predictions_equal_the_trains_drawn_by_hand():
    synapse = STDPSynapse(TripletSTDP.from_published("visual_cortex_all_to_all_minimal"))
    predictor = Predictor.from_data(EXPERIMENT, _data(ROWS), model=synapse)
    predicted = eqx.filter_jit(lambda p, m: p(m))(predictor, synapse)
    expected = []
    for row in ROWS:
        trains, fits = rate_trains(
            jax.random.PRNGKey(row.get("seed", 0)),
            pattern=PATTERNS.index(row["pattern"]),
            pre_rate=row["pre_rate"],
            post_rate=row["post_rate"],
            duration=row["duration"],
            n_repeats=row.get("n_repeats", 1),
            repeat_period=row["repeat_period"],
            post_delay=row.get("post_delay", 0.0),
            tail=500.0,
            step_time=row["duration"] * (1.0 - row.get("late_fraction", 0.0)),
            late_pre_rate=row.get("late_pre_rate", 0.0),
            late_post_rate=row.get("late_post_rate", 0.0),
            # The batch's shapes (one compile); that a row's trains do not depend on them is
            # tested in tests/protocols/test_rate_trains.py.
            max_repeats=predictor.experiment.max_repeats,
            max_pre=predictor.experiment.max_pre,
            max_post=predictor.experiment.max_post,
        )
        assert bool(fits)
        expected.append(synapse.efficacy(trains))
    np.testing.assert_allclose(predicted, expected, rtol=1e-12)
    # The rates move the weight: the rows are not all at 1.
    assert np.ptp(np.asarray(predicted)) > 1e-3


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(pattern="bursts"), "column 'pattern' must be one of"),
        (dict(pre_rate=-1.0), "column 'pre_rate' must be a number in [0, 1000] Hz"),
        (dict(n_repeats=2.5), "column 'n_repeats' must be a whole number"),
        (dict(repeat_period=100.0), "repeat_period (100 ms) must be at least duration"),
        (dict(late_fraction=1.5), "column 'late_fraction' must be a number in [0, 1]"),
    ],
)
def test_rows_it_cannot_run_are_refused_by_name(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        rows = [{**ROWS[0], **change}]
        Predictor.from_data(EXPERIMENT, _data(rows))


def test_a_rate_rule_is_refused_a_model_without_spikes():
    with pytest.raises(ValueError, match="spike-driven synapse"):
        EXPERIMENT.check_model(object())
