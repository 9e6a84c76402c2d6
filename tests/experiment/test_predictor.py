"""`Predictor` and `SpikePairingExperiment`: rows -> predictions, against a loop over conditions
and against the spike trains built by hand; rows the experiment cannot predict are refused
before any work."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.experiment import (
    AbstractReadout,
    Efficacy,
    Predictor,
    SpikePairingExperiment,
    dataset_from_records,
)
from plastic.protocols import burst_pairs, spike_pairs
from plastic.rules import GraupnerBrunelSynapse, STDPSynapse, TripletSTDP
from plastic.studies import get_study

EXPERIMENT = SpikePairingExperiment()
ROW = dict(readout="weight", mean=1.1, sem=0.1, n=5, unit="ratio", source="test")


def _data(rows):
    return dataset_from_records([{**ROW, "condition": str(i), **row} for i, row in enumerate(rows)])


def test_predictions_equal_each_condition_simulated_alone():
    """Rows of different burst and pair counts (padded to one shape) against the unpadded
    trains of each row, one by one; duplicated conditions are simulated once."""
    rows = [
        dict(delta_t=5.0, frequency=20.0, n_per_burst=5, n_bursts=10, burst_period=4000.0),
        dict(delta_t=-10.0, frequency=10.0, n_per_burst=3, n_bursts=4, burst_period=2000.0),
        dict(delta_t=10.0, n_bursts=60, burst_period=1000.0),  # regular pairs at 1 Hz
        dict(delta_t=5.0, frequency=20.0, n_per_burst=5, n_bursts=10, burst_period=4000.0,
             readout="weight", site="other"),
    ]  # fmt: skip
    data = _data(rows)
    synapse = GraupnerBrunelSynapse.from_published("DP")
    predictor = Predictor.from_data(EXPERIMENT, data, model=synapse)
    assert predictor.n_conditions == 3 and predictor.row_condition == (0, 1, 2, 0)
    expected = [
        synapse.efficacy(burst_pairs(5.0, frequency=20.0, n_per_burst=5, n_bursts=10,
                                     burst_period=4000.0)),
        synapse.efficacy(burst_pairs(-10.0, frequency=10.0, n_per_burst=3, n_bursts=4,
                                     burst_period=2000.0)),
        synapse.efficacy(spike_pairs(10.0, n_pairings=60, period=1000.0)),
    ]  # fmt: skip
    predicted = eqx.filter_jit(lambda p, m: p(m))(predictor, synapse)
    np.testing.assert_allclose(predicted, [*expected, expected[0]], rtol=1e-10)
    assert float(expected[0]) > 1.01 and float(expected[1]) < 0.99  # the rows do move
    batched = Predictor.from_data(EXPERIMENT, data, batch_size=2)
    np.testing.assert_allclose(batched(synapse), predicted, rtol=1e-12)


class Twice(AbstractReadout):
    """A readout with an axis of its own: the efficacy and twice it."""

    name: str = eqx.field(static=True, default="twice")
    unit: str = eqx.field(static=True, default="ratio")
    dims: tuple[str, ...] = eqx.field(static=True, default=("copy",))
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def __call__(self, model, condition, result):
        return jnp.stack([result, 2.0 * result])


def test_a_readout_with_its_own_axis_is_read_per_condition_not_by_a_row():
    """`Predictor.condition_values` reads any per-condition readout from the solves that give
    the rows' predictions (three conditions in batches of two: the last batch is padded); a
    row of such a readout is refused, since a row reads one number."""
    experiment = SpikePairingExperiment(readouts=(Efficacy(), Twice()))
    rows = [dict(delta_t=d, n_bursts=60, burst_period=1000.0) for d in (-10.0, 5.0, 10.0)]
    synapse = GraupnerBrunelSynapse.from_published("DP")
    predictor = Predictor.from_data(experiment, _data(rows), batch_size=2)
    values = eqx.filter_jit(lambda p, m: p.condition_values(m, ("weight", "twice")))(
        predictor, synapse
    )
    assert values["twice"].shape == (3, 2)
    np.testing.assert_array_equal(values["twice"][:, 0], values["weight"])
    np.testing.assert_array_equal(values["twice"][:, 1], 2.0 * values["weight"])
    unbatched = Predictor.from_data(EXPERIMENT, _data(rows))(synapse)
    np.testing.assert_allclose(predictor.predictions_from(values), unbatched, rtol=1e-12)
    with pytest.raises(ValueError, match=r"readout 'twice' has dims \('copy',\); a row reads"):
        Predictor.from_data(experiment, _data([{**rows[0], "readout": "twice"}]))


def test_gradient_of_a_burst_prediction_matches_finite_differences():
    data = get_study("markram1997").data().select(frequency=(10.0, 40.0))
    synapse = GraupnerBrunelSynapse.from_published("DP")
    predictor = Predictor.from_data(EXPERIMENT, data)

    def loss(c_post, tau):
        model = eqx.tree_at(lambda s: (s.calcium.c_post, s.rule.tau), synapse, (c_post, tau))
        return jnp.sum((predictor(model) - data.mean) ** 2)

    point = (jnp.asarray(2.0), jnp.asarray(150_000.0))
    gradient = jax.grad(loss, argnums=(0, 1))(*point)
    for i, step in ((0, 1e-5), (1, 1.0)):
        up = list(point)
        down = list(point)
        up[i] = up[i] + step
        down[i] = down[i] - step
        central = (loss(*up) - loss(*down)) / (2 * step)
        np.testing.assert_allclose(gradient[i], central, rtol=1e-5)
        assert abs(float(gradient[i])) > 0


def test_triplet_rule_prediction_is_the_event_driven_weight_change():
    data = get_study("markram1997").data()
    synapse = STDPSynapse(TripletSTDP.from_published("visual_cortex_nearest_full"))
    predicted = Predictor.from_data(EXPERIMENT, data)(synapse)
    frequency, delta_t = data.column("frequency"), data.column("delta_t")
    for i in range(data.n_rows):
        trains = burst_pairs(delta_t[i], frequency=frequency[i], n_per_burst=5, n_bursts=10,
                             burst_period=4000.0)  # fmt: skip
        expected = 1.0 + synapse.rule.weight_change(trains.pre, trains.post)
        np.testing.assert_allclose(predicted[i], expected, rtol=1e-12)


@pytest.mark.parametrize(
    "row, message",
    [
        (dict(delta_t=5.0, n_bursts=10), r"no column\(s\) \['burst_period'\]"),
        (dict(delta_t=5.0, n_bursts=10, burst_period=1e3, v_clamp=-30.0),
         r"column\(s\) \['v_clamp'\] are not conditions"),
        (dict(delta_t=5.0, n_bursts=10.5, burst_period=1e3), r"'n_bursts' must be a whole"),
        (dict(delta_t=5.0, n_bursts=10, burst_period=1e3, readout="uepsp"),
         r"readout 'uepsp' is not one SpikePairingExperiment predicts"),
        (dict(delta_t=5.0, n_bursts=10, burst_period=1e3, unit="%"), r"unit 'ratio'; got '%'"),
        (dict(delta_t=150.0, frequency=10.0, n_per_burst=5, n_bursts=10, burst_period=4e3),
         r"delta_t must be a number in \(-100, 100\)"),
        (dict(delta_t=5.0, frequency=1.0, n_per_burst=5, n_bursts=10, burst_period=4e3),
         r"burst_period must be a number in \(4005, inf\) ms \(longer than one burst"),
    ],
)  # fmt: skip
def test_rows_the_experiment_cannot_predict_are_refused(row, message):
    with pytest.raises(ValueError, match=message):
        Predictor.from_data(EXPERIMENT, _data([row]))


def test_a_model_the_experiment_cannot_run_is_refused():
    from plastic.rules import KinaseCompetition

    data = _data([dict(delta_t=5.0, n_bursts=10, burst_period=1e3)])
    with pytest.raises(ValueError, match="runs a spike-driven synapse"):
        Predictor.from_data(EXPERIMENT, data, model=KinaseCompetition())


def test_voltage_clamp_rows_equal_each_condition_alone():
    """Rows of different pulse counts (padded to one shape) against each synapse held at its
    own potential with its own, unpadded train."""
    from plastic.experiment import VoltageClampExperiment
    from plastic.protocols import presynaptic_train
    from plastic.rules import NMDACalcium, NMDACalciumSynapse, ShouvalBearCooper

    rows = [
        dict(v_clamp=-30.0, n_pulses=20, frequency=2.0),
        dict(v_clamp=-10.0, n_pulses=12, frequency=5.0),
    ]
    synapse = NMDACalciumSynapse(
        ShouvalBearCooper.from_published("2002", calcium_rest=0.05), NMDACalcium(amplitude=3e-4)
    )
    experiment = VoltageClampExperiment()
    predicted = Predictor.from_data(experiment, _data(rows), model=synapse)(synapse)
    for row, value in zip(rows, predicted):
        held = eqx.tree_at(lambda s: s.voltage, synapse, jnp.asarray(row["v_clamp"]))
        trains = presynaptic_train(frequency=row["frequency"], n_spikes=row["n_pulses"])
        # Padding puts extra step edges at the end: the same solution to the solve's rtol 1e-7.
        np.testing.assert_allclose(value, held.efficacy(trains), rtol=1e-6)
    assert float(predicted[0]) < 0.9 and float(predicted[1]) > 1.1  # LTD, then LTP
    with pytest.raises(ValueError, match="with a membrane to hold"):
        Predictor.from_data(
            experiment, _data(rows), model=GraupnerBrunelSynapse.from_published("DP")
        )
