"""Regression pin of the shipped fitted Tazerart model: it must keep predicting its fitted rows
as the code before the experiment-layer port did (`tests/data/tazerart2020_reference.json`,
written by ``python experiments/tazerart_reference.py`` at the commit it names).

It is a pin of behaviour, not a check of correctness: the science is checked against the
paper's rows by the fit itself and against scipy and NEURON elsewhere. Here the 24 neck and
head rows (every condition's replayed induction and quiet minutes); all 37 rows, with the
uEPSP test recordings and the length-constant pairs, and the chi-square 24.42, are checked by
``python experiments/tazerart_reference.py --check`` (about 90 s).
"""

import importlib.util
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
REFERENCE = json.loads((ROOT / "tests" / "data" / "tazerart2020_reference.json").read_text())


def _script():
    spec = importlib.util.spec_from_file_location(
        "tazerart_reference", ROOT / "experiments" / "tazerart_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fitted_model_predicts_the_neck_and_head_rows_as_before():
    script = _script()
    record = script.compute(readouts=("neck_length", "head_volume"))
    structural = [r for r in REFERENCE["rows"] if r["readout"] in ("neck_length", "head_volume")]
    assert record["n_rows"] == len(structural) == 24
    script.check(record)


def test_a_changed_prediction_fails_the_check():
    script = _script()
    row = dict(REFERENCE["rows"][0])
    row["prediction"] *= 1.0 + 1e-4
    with pytest.raises(AssertionError):
        script.check({"n_rows": 1, "rows": [row]})
