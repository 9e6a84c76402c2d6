"""The Urakubo 2008 rate study: its rows are the Go tables' (read independently here), with the
Go runs' protocols, and a short fit of the kinase cascade to a few of them descends."""

import importlib.resources
import json

import numpy as np

import plastic  # noqa: F401  (float64)
from plastic import cli
from plastic.experiment import Predictor, save_dataset
from plastic.studies import get_study

STUDY = get_study("urakubo2008")


def _go(name):
    path = importlib.resources.files("plastic.rules.urakubo").joinpath("reference", name)
    return np.loadtxt(path.open(), skiprows=1)


def test_rows_are_the_go_tables_with_their_protocols():
    data = STUDY.data()
    poisson = _go("fig_urakubo22_poisson_200msec_isi1_final100_10rep.tsv")
    out_50 = _go("fig_urakubo22_opphasedur_50shz_final100_1rep.tsv")
    out_100 = _go("fig_urakubo22_opphasedur_100shz_final100_1rep.tsv")
    assert data.n_rows == len(poisson) + len(out_50) + len(out_100)
    np.testing.assert_allclose(
        data.mean, 1.0 + np.concatenate([poisson[:, 2], out_50[:, 2], out_100[:, 2]])
    )
    # The tables' X is the receiving (post) rate: stims.go logs LogDWt(rhz, shz).
    np.testing.assert_array_equal(data.column("post_rate")[: len(poisson)], poisson[:, 0])
    np.testing.assert_array_equal(data.column("pre_rate")[: len(poisson)], poisson[:, 1])
    durations = np.asarray(data.column("duration"), float)
    periods = np.asarray(data.column("repeat_period"), float)
    np.testing.assert_array_equal(periods, durations + 1000.0)  # 1 s after every train
    assert set(data.column("pattern")) == {"axon_poisson", "out_of_phase"}
    conditions, _, _ = STUDY.experiment.conditions_of(data)
    assert len(conditions["pre_rate"]) == data.n_rows


def test_a_short_cascade_fit_to_a_few_rows_descends(tmp_path):
    data = STUDY.data()
    rows = [0, 9, 90, 99, 100, 189, 190, 279]  # corners of the three tables
    subset = data.select(condition=[data.condition[i] for i in rows])
    path = tmp_path / "rows.csv"
    save_dataset(subset, path)
    start = Predictor.from_data(STUDY.experiment, subset)(STUDY.rule("cascade").model())
    assert np.ptp(np.asarray(start)) > 1e-4
    out = tmp_path / "fit"
    cli.main(["fit", "--study", "urakubo2008", "--rule", "cascade", "--data", str(path),
              "--sem-floor", "0.02", "--n-starts", "1", "--n-steps", "12", "--learning-rate",
              "0.2", "--out", str(out)])  # fmt: skip
    record = json.loads((out / "parameters.json").read_text())
    first = float(np.sum(((np.asarray(start) - np.asarray(subset.mean)) / 0.02) ** 2))
    assert record["loss"] < 0.8 * first
