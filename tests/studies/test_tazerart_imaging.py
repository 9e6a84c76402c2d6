"""The imaging of Figs. 6-8 on the model: the imaged conditions come from the paper's findings,
the indices and verdicts follow their definitions on hand-made signals, and the imaged signals
of a short induction are the indicator readouts of the model with its dye."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

from plastic.biophysics import CalciumIndicator
from plastic.studies.spine_calcium import physiological_calcium
from plastic.studies.tazerart2020 import (
    imaged_conditions,
    imaged_signals,
    imaging_index,
    imaging_table,
    index_verdict,
    paper_findings,
    tazerart_model,
    with_indicator,
)
from plastic.studies.tazerart2020.protocol import DRUG_NAMES


def test_the_imaged_conditions_are_those_of_the_calcium_findings():
    conditions = imaged_conditions(paper_findings())
    assert set(conditions) == {
        "single +7 ms",
        "clustered +7 ms",
        "clustered +7 ms AP5",
        "single +13 ms",
        "single -15 ms",
        "clustered -15 ms",
    }
    clustered = conditions["clustered -15 ms"]
    # The 1-40 um class stands at its middle; AP5 is the study's drug of that name.
    assert (clustered["n_spines_uncaged"], clustered["distance"]) == (2, 20.5)
    assert DRUG_NAMES[conditions["clustered +7 ms AP5"]["drug"]] == "AP5"
    assert conditions["single +13 ms"]["delta_t"] == 13.0


def _signals(before, after):
    return {
        "head_delta_g_over_r_before_per_pairing": np.asarray(before, float),
        "head_delta_g_over_r_after_per_pairing": np.asarray(after, float),
    }


def test_indices_on_hand_made_signals():
    # 40 pairings: after-pairing signal 0.2 for repetitions 1-5, 0.3 for 35-40; the
    # before-pairing signal 0 for 1-5 and 0.05 for 35-40.
    after = np.full(40, 0.25)
    after[:5], after[34:] = 0.2, 0.3
    before = np.full(40, 0.02)
    before[:5], before[34:] = 0.0, 0.05
    signals = _signals(before, after)
    assert imaging_index(signals, "calcium_after", "activated") == pytest.approx(1.5)
    assert imaging_index(signals, "calcium_before", "activated") == pytest.approx(1.25)
    with pytest.raises(ValueError, match="observable must be one of"):
        imaging_index(signals, "uepsp", "activated")


@pytest.mark.parametrize(
    "index, outcome, verdict",
    [
        (1.10, "increase", "in direction"),
        (1.07, "increase", "unclear"),
        (1.01, "increase", "against"),
        (1.04, "no change", "in direction"),
        (1.07, "no change", "unclear"),
        (0.85, "no change", "against"),
        (0.90, "decrease", "in direction"),
        (1.20, "decrease", "against"),
        (float("nan"), "no change", "against"),
    ],
)
def test_verdicts_follow_the_thresholds(index, outcome, verdict):
    assert index_verdict(index, outcome) == verdict


def test_imaged_signals_are_the_indicator_readouts_of_the_loaded_model():
    """Five pairings of single +13 ms on the seed model with physiological calcium and Fluo-4:
    the head's Delta G / R is 0 at the first image, a clear fraction of saturation 4 ms after
    each pairing, and the dye's buffering leaves the free calcium after a pairing far below the
    model's without dye."""
    condition = imaged_conditions(paper_findings())["single +13 ms"]
    arrays = {name: jnp.asarray(value) for name, value in condition.items()}
    model = physiological_calcium(tazerart_model()).without_plasticity()
    with pytest.raises(ValueError, match="needs a model with a calcium indicator"):
        imaged_signals(model, arrays, n_pairings=5)
    run = eqx.filter_jit(lambda m, c: imaged_signals(m, c, n_pairings=5))
    dyed = run(with_indicator(model, CalciumIndicator()), arrays)
    assert float(dyed["head_delta_g_over_r_before_per_pairing"][0]) == 0.0
    after = np.asarray(dyed["head_delta_g_over_r_after_per_pairing"])
    assert after.shape == (5,) and np.all((after > 0.05) & (after < 1.0))
    bare = with_indicator(model, CalciumIndicator(concentration=1e-6))
    undyed = run(bare, arrays)
    assert float(dyed["head_calcium_after_per_pairing"][0]) < 0.5 * float(
        undyed["head_calcium_after_per_pairing"][0]
    )
    with pytest.raises(ValueError, match="it needs at least 40 pairings; got 5"):
        imaging_table({"single +13 ms": dyed}, paper_findings())
