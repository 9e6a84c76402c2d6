"""Sensitivities: log-log slopes of a power law are its exponents (analytic), every
element of an array leaf is its own column, a study's slopes match central finite differences,
and the table and heatmap are written."""

import csv

import numpy as np
import pytest

from plastic.experiment import Predictor, dataset_from_records
from plastic.fit import Objective, model_scalars, sensitivity, write_sensitivity
from plastic.geometry import Geometry
from plastic.model import SpineModel
from plastic.paths import ModelPath
from plastic.studies import get_study

MODEL = SpineModel(geometry=Geometry(n_compartments=4))


def _rows(n):
    return dataset_from_records(
        [
            dict(
                condition=f"spine {i}",
                readout="x",
                mean=1.0,
                sem=0.1,
                n=1,
                unit="1",
                source="test",
                spine=float(i),
            )  # fmt: skip
            for i in range(n)
        ]
    )


def power_law(model, data):
    """Row i: head_volume[i]^2 * neck_length[i] / head buffer capacity; nothing else enters."""
    spines = model.geometry.spines
    return spines.head_volume**2 * spines.neck_length / model.calcium.head_buffer_capacity


def test_log_slopes_of_a_power_law_are_its_exponents():
    objective = Objective(power_law, _rows(2))
    result = sensitivity(objective, MODEL)
    slopes = dict(zip(result.names, result.normalised.T))
    np.testing.assert_allclose(slopes["geometry.spines.head_volume[0]"], [2.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(slopes["geometry.spines.head_volume[1]"], [0.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(slopes["geometry.spines.neck_length[1]"], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(slopes["calcium.head_buffer_capacity"], [-1.0, -1.0], atol=1e-12)
    # Every other float leaf of the model is a column, with slope 0 (or NaN at a zero value).
    other = [name for name in result.names if "spines" not in name and "buffer" not in name]
    assert len(other) > 40
    assert np.all(np.nan_to_num(result.normalised[:, [result.names.index(n) for n in other]]) == 0)
    assert result.largest(0, 1) == [("geometry.spines.head_volume[0]", pytest.approx(2.0))]
    # A leaf at 0 has no log slope: NaN, its raw derivative kept.
    index = result.names.index("calcium.diffusion_coefficient")
    assert result.values[index] > 0.0
    zero = [j for j, value in enumerate(result.values) if value == 0.0]
    assert zero and np.all(np.isnan(result.normalised[:, zero]))


def test_prefixes_pick_the_leaves_and_unknown_ones_are_refused():
    paths, leaves = model_scalars(MODEL, ["geometry.spines.", "temperature"])
    assert "temperature" in paths and "geometry.spines.head_volume" in paths
    assert all(p.startswith("geometry.spines.") or p == "temperature" for p in paths)
    with pytest.raises(ValueError, match="no floating-point leaf of the model under"):
        model_scalars(MODEL, ["rule."])


def test_a_study_slopes_match_finite_differences(tmp_path):
    """Markram 1997 on the triplet rule: every log slope of every row against a central
    difference of 1e-4 relative in the parameter."""
    study = get_study("markram1997")
    model = study.rule("triplet").model()
    data = study.data()
    objective = Objective(Predictor.from_data(study.experiment, data, model=model), data)
    fitted = ["rule.a2_plus", "rule.a3_plus", "rule.a2_minus", "rule.a3_minus",
              "rule.tau_plus", "rule.tau_minus", "rule.tau_x", "rule.tau_y"]  # fmt: skip
    result = sensitivity(objective, model, fitted)
    assert result.names == tuple(fitted)
    step = 1e-4
    for j, name in enumerate(result.names):
        path = ModelPath(name)
        up = objective.predictions(path.set(model, result.values[j] * (1 + step)))
        down = objective.predictions(path.set(model, result.values[j] * (1 - step)))
        finite = np.asarray(up - down) / (2 * step) / result.predictions
        np.testing.assert_allclose(result.normalised[:, j], finite, rtol=1e-5, atol=1e-9)
    # The -10 ms row rests on depression, the 40 Hz row on triplet potentiation.
    assert result.largest(7, 1)[0][0] == "rule.a2_minus"
    assert result.largest(5, 1)[0][0] == "rule.a3_plus"
    paths = write_sensitivity(result, tmp_path)
    with paths["table"].open() as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == len(result.rows) * len(result.names)
    assert float(lines[0]["log_slope"]) == pytest.approx(result.normalised[0, 0], rel=1e-5)
    assert paths["figure"].stat().st_size > 10_000
