"""The Urakubo 2008 rate study: its rows are the Go tables' (read independently here), with the
Go runs' protocols, and the kinase rules predict them."""

import importlib.resources

import equinox as eqx
import jax.numpy as jnp
import numpy as np

import plastic  # noqa: F401  (float64)
from plastic.experiment import Predictor
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


def test_the_xcal_rule_predicts_the_rows_and_its_reversal_point_matters():
    """The default rule on the corners of the three tables: finite, moved by the protocols, and
    moved again by XCAL's reversal point (a short fit through ``plastic fit`` is tested on the
    cheaper studies; ``experiments/urakubo_kinase_fit.py`` runs this one)."""
    data = STUDY.data()
    rows = [0, 9, 90, 99, 100, 189, 190, 279]
    subset = data.select(condition=[data.condition[i] for i in rows])
    predict = eqx.filter_jit(lambda p, m: p(m))
    predictor = Predictor.from_data(STUDY.experiment, subset)
    model = STUDY.rule("xcal").model()
    start = np.asarray(predict(predictor, model))
    other = eqx.tree_at(lambda m: m.rule.xcal.d_rev, model, jnp.asarray(0.5))
    moved = np.asarray(predict(predictor, other))
    assert np.all(np.isfinite(start)) and np.ptp(start) > 1e-4
    assert np.max(np.abs(moved - start)) > 1e-6
