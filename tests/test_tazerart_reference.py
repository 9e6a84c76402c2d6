"""Regression pin for the port of the Tazerart study to the experiment layer (issue: one
experiment layer): the shipped fitted model must keep predicting every fitted row as the code
before the port did, to 1e-6 relative, and the chi-square 24.42 over 37 rows.

The reference (`tests/data/tazerart2020_reference.json`) was written by
``python experiments/tazerart_reference.py`` at the commit it names, before any of the port.
It is a pin of behaviour across a refactor, not a check of correctness: the science is checked
against the paper's rows by the fit itself and against scipy and NEURON elsewhere.
"""

import importlib.util
import json
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
REFERENCE = json.loads((ROOT / "tests" / "data" / "tazerart2020_reference.json").read_text())


def _script():
    spec = importlib.util.spec_from_file_location(
        "tazerart_reference", ROOT / "experiments" / "tazerart_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fitted_model_predicts_every_row_as_before():
    record = _script().compute()
    assert [(r["condition"], r["readout"], r["site"]) for r in record["rows"]] == [
        (r["condition"], r["readout"], r["site"]) for r in REFERENCE["rows"]
    ]
    np.testing.assert_allclose(
        [r["prediction"] for r in record["rows"]],
        [r["prediction"] for r in REFERENCE["rows"]],
        rtol=1e-6,
    )
    np.testing.assert_allclose(record["chi_square"], REFERENCE["chi_square"], rtol=1e-6)
    assert record["n_rows"] == 37 and round(REFERENCE["chi_square"], 1) == 24.4
