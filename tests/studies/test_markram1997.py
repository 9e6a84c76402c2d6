"""The Markram et al. 1997 study through the command line: fits that descend and resume, a
user's own CSV of the same shape, data the study cannot predict refused, and flat starts
reported."""

import csv
import json

import equinox as eqx
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic import cli
from plastic.experiment import Predictor, save_dataset
from plastic.fit import FitParameters, Objective, Parameter, fit
from plastic.rules import GraupnerBrunelSynapse
from plastic.studies import get_study

STUDY = get_study("markram1997")


def _fit(tmp_path, *options):
    out = tmp_path / "fit"
    cli.main(["fit", "--study", "markram1997", "--out", str(out), "--seed", "1", *options])
    record = json.loads((out / "parameters.json").read_text())
    with open(out / "predictions.csv") as file:
        rows = list(csv.DictReader(file))
    return record, rows


def test_triplet_fit_descends_writes_the_table_and_resumes_bit_for_bit(tmp_path):
    options = ("--rule", "triplet", "--n-starts", "2", "--n-steps", "20")
    record, rows = _fit(tmp_path, *options)
    start = Predictor.from_data(STUDY.experiment, STUDY.data())
    first = float(Objective(start, STUDY.data())(STUDY.rule("triplet").model()))
    assert record["loss"] < 0.5 * first and record["n_rows"] == 8
    assert [r["frequency"] for r in rows[:3]] == ["2.0", "5.0", "10.0"]
    chi = sum(float(r["chi_square"]) for r in rows)
    np.testing.assert_allclose(chi, record["loss"], rtol=1e-9)
    # Run again: the checkpoint is complete, so the same result comes back without steps;
    # this time with the fit's uncertainty, every fitted value inside its interval, and a
    # profile.
    again, _ = _fit(tmp_path, *options, "--uncertainty", "profile", "--profile-parameter",
                    "rule.a2_plus", "--profile-points", "3", "--n-draws", "20")  # fmt: skip
    assert again["parameters"] == record["parameters"]
    uncertainty = json.loads((tmp_path / "fit" / "uncertainty.json").read_text())
    assert list(uncertainty["parameters"]) == [p.path for p in STUDY.rule("triplet").parameters()]
    for name, entry in uncertainty["parameters"].items():
        low, high = entry["interval"]
        assert low < entry["value"] < high
        assert entry["value"] == pytest.approx(record["parameters"][name]["value"], rel=1e-12)
    # The same model, solved outside the fit's batched step: equal to the solver's tolerance.
    assert uncertainty["chi_square"] == pytest.approx(record["loss"], rel=1e-6)
    assert uncertainty["method"] == "laplace+profile"
    assert list(uncertainty["profiles"]) == ["rule.a2_plus"]
    low, high = uncertainty["parameters"]["rule.a2_plus"]["profile_interval"]
    assert low is None or low < record["parameters"]["rule.a2_plus"]["value"]
    assert high is None or record["parameters"]["rule.a2_plus"]["value"] < high
    figures = ("uncertainty.png", "bands.png", "curves.png", "profiles.png", "draws.npz")
    for figure in figures:  # curves: along frequency
        assert (tmp_path / "fit" / figure).stat().st_size


def test_graupner_brunel_fit_from_the_published_set_descends(tmp_path):
    record, _ = _fit(tmp_path, "--rule", "graupner-brunel", "--n-starts", "1", "--n-steps", "12")
    assert record["loss"] < 0.8 * 97.03  # the DP set's chi-square on these rows


def test_a_users_csv_of_the_same_shape_fits_and_other_columns_are_refused(tmp_path):
    data = STUDY.data().select(frequency=(5.0, 10.0, 20.0))
    path = tmp_path / "mine.csv"
    save_dataset(data, path)
    record, rows = _fit(tmp_path, "--rule", "triplet", "--data", str(path), "--n-steps", "3")
    assert record["n_rows"] == 5 and len(rows) == 5
    text = path.read_text().replace("burst_period", "v_clamp")
    (tmp_path / "other.csv").write_text(text)
    with pytest.raises(SystemExit, match=r"no column\(s\) \['burst_period'\]"):
        _fit(tmp_path, "--data", str(tmp_path / "other.csv"))
    text = path.read_text().replace(",weight,", ",uepsp,")
    (tmp_path / "uepsp.csv").write_text(text)
    with pytest.raises(SystemExit, match="readout 'uepsp' is not one SpikePairingExperiment"):
        _fit(tmp_path, "--data", str(tmp_path / "uepsp.csv"))


def test_unknown_parameter_path_or_rule_is_refused_before_any_work(tmp_path):
    with pytest.raises(SystemExit, match="'nothing' is not a field of"):
        _fit(tmp_path, "--parameter", "rule.nothing:0:1")
    with pytest.raises(SystemExit, match="has no rule 'stdp'"):
        _fit(tmp_path, "--rule", "stdp")


def test_a_start_where_no_calcium_crosses_a_threshold_is_reported():
    """c_pre and c_post far below theta_d: the rule never acts, the gradient is exactly 0."""
    quiet = eqx.tree_at(
        lambda s: (s.calcium.c_pre, s.calcium.c_post),
        GraupnerBrunelSynapse.from_published("DP"),
        (0.05, 0.05),
    )
    data = STUDY.data()
    objective = Objective(Predictor.from_data(STUDY.experiment, data), data)
    parameters = FitParameters(quiet, [Parameter("rule.gamma_p", 1.0, 5000.0, log=True)])
    with pytest.warns(UserWarning, match=r"exactly zero at starts \[0\]"):
        fit(objective, parameters, n_steps=1, progress=False)
