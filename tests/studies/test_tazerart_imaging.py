"""The imaging of Figs. 6-8 on the model: the imaged conditions come from the paper's findings,
the indices and verdicts follow their definitions on hand-made signals, and the imaged signals
of a short induction are the indicator readouts of the model with its dye."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

from plastic.biophysics import CalciumIndicator
from plastic.experiment import Predictor, dataset_from_records
from plastic.fit import Objective
from plastic.studies.spine_calcium import physiological_calcium
from plastic.studies.tazerart2020 import (
    TazerartExperiment,
    imaged_conditions,
    imaged_signals,
    imaging_data,
    imaging_index,
    imaging_table,
    index_verdict,
    paper_findings,
    tazerart2020_data,
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


def test_the_study_fits_imaging_rows_coupled_and_refuses_them_elsewhere():
    """The single +13 ms findings as bounded rows of `imaging_data`, predicted by the study's
    experiment (coupled, the rule and expression running, dye loaded by the ``indicator``
    field), equal the indices of `imaged_signals` on the same model; met bounds add nothing."""
    model = tazerart_model()
    data = imaging_data().select(condition="single +13 ms imaged")
    assert set(data.relations) == {">="} and set(data.column("indicator")) == {300.0}
    objective = Objective(
        Predictor.from_data(TazerartExperiment(mode="coupled"), data, model=model), data
    )
    predicted = np.asarray(objective.predictions(model))
    condition = imaged_conditions(paper_findings())["single +13 ms"]
    arrays = {name: jnp.asarray(value) for name, value in condition.items()}
    signals = eqx.filter_jit(lambda m, c: imaged_signals(m, c))(with_indicator(model), arrays)
    signals = {name: np.asarray(value) for name, value in signals.items()}
    direct = [imaging_index(signals, o, s) for o, s in zip(data.readout, data.site)]
    np.testing.assert_allclose(predicted, direct, rtol=1e-5)
    residuals = np.asarray(objective.residuals(model))
    met = predicted >= 1.10
    assert np.all(residuals[met] == 0.0)
    np.testing.assert_allclose(residuals[~met], (predicted[~met] - 1.10) / 0.02)
    with pytest.raises(ValueError, match="need TazerartExperiment\\(mode='coupled'\\)"):
        Predictor.from_data(TazerartExperiment(mode="replay"), data, model=model)


def test_dye_in_a_plasticity_row_is_refused():
    data = tazerart2020_data().select(condition="single +13 ms", readout="uepsp")
    dyed = dataset_from_records(
        [{**record, "indicator": 300.0} for record in _records(data)], where="test"
    )
    with pytest.raises(ValueError, match="read only by the imaging readouts"):
        Predictor.from_data(TazerartExperiment(mode="coupled"), dyed, model=tazerart_model())


def _records(data):
    return [
        {
            **{name: values[i] for name, values in data.label_columns().items()},
            "mean": float(data.mean[i]),
            "sem": float(data.sem[i]),
            "n": float(data.n[i]),
            "source": data.source[i],
        }
        for i in range(data.n_rows)
    ]


def test_the_orderings_are_contrasts_between_the_imaged_conditions():
    """The two orderings that vary one field become rows bounded below by 0, each reading the
    before-pairing index at two conditions that differ only in that field (no solve here)."""
    data = imaging_data()
    predictor = Predictor.from_data(TazerartExperiment(mode="coupled"), data)
    conditions = predictor.conditions
    for label, field, values in (
        ("single +13 ms > single +7 ms imaged", "delta_t", (7.0, 13.0)),
        ("clustered -15 ms > single -15 ms imaged", "n_spines_uncaged", (1.0, 2.0)),
    ):
        row = data.condition.index(label)
        assert data.relations[row] == ">=" and float(data.mean[row]) == 0.0
        cells = predictor.row_cells[row]  # (condition, column): column 0 is calcium_before there
        assert predictor.readout_names[0] == "calcium_before" and [c[1] for c in cells] == [0, 0]
        indices = [c[0] for c in cells]
        np.testing.assert_array_equal(np.asarray(conditions[field])[indices], values)
        others = [name for name in conditions if name != field]
        for name in others:
            first, second = (np.asarray(conditions[name])[i] for i in indices)
            assert first == second, name
    # Six imaged protocols and the single spine at the clustered -15 ms pair's distance.
    assert predictor.n_conditions == 7
