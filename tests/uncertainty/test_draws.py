"""The parameter draws kept on disk give back the bands they were drawn for."""

import operator

import jax
import numpy as np
import pytest

import plastic  # noqa: F401  (enables float64)
from plastic.uncertainty import ParameterDraws, load_draws, prediction_band


def test_saved_draws_reproduce_the_band(triplet_fit, tmp_path):
    objective, approx, model = triplet_fit
    draws = approx.sample(jax.random.key(3), 24)
    band = prediction_band(approx, objective.predictions, jax.random.key(0), draws=draws)
    ParameterDraws.from_unconstrained(approx.flat, draws, "laplace").save(tmp_path / "d.npz")

    loaded = load_draws(tmp_path / "d.npz")
    assert loaded.method == "laplace" and loaded.n_draws == 24
    assert set(loaded.values) == set(approx.names)
    # Each draw's values are the constrained point of its unconstrained one, inside the bounds.
    np.testing.assert_allclose(
        np.stack([loaded.values[name] for name in approx.names], axis=1),
        approx.flat.to_constrained(draws),
        rtol=1e-12,
    )
    models = loaded.models(model)
    # A Python loop over the stacked models, against the band's vmap over unconstrained draws.
    predicted = np.stack(
        [objective.predictions(jax.tree.map(operator.itemgetter(i), models)) for i in range(24)]
    )
    np.testing.assert_allclose(np.percentile(predicted, 2.5, axis=0), band.low, rtol=1e-9)
    np.testing.assert_allclose(np.percentile(predicted, 97.5, axis=0), band.high, rtol=1e-9)
    # Every leaf, fitted or not, is that of the fit's own model at the draw.
    for i in (0, 23):
        expected = jax.tree.leaves(approx.flat.to_model(draws[i]))
        for leaf, want in zip(jax.tree.leaves(models), expected, strict=True):
            np.testing.assert_allclose(leaf[i], want, rtol=1e-12)


def test_thinning_keeps_evenly_spaced_draws():
    draws = ParameterDraws({"rule.a": np.arange(10.0)}, "nuts")
    np.testing.assert_array_equal(draws.thinned(4).values["rule.a"], [0.0, 3.0, 6.0, 9.0])
    assert draws.thinned(50).n_draws == 10
    with pytest.raises(ValueError, match="n_draws must be at least 1"):
        draws.thinned(0)


def test_bad_draws_are_refused(triplet_fit, tmp_path):
    _, approx, model = triplet_fit
    with pytest.raises(ValueError, match="one leading row per draw"):
        ParameterDraws({"rule.a": np.ones(3), "rule.b": np.ones(4)}, "laplace")
    with pytest.raises(ValueError, match="shape"):
        ParameterDraws({approx.names[0]: np.ones((5, 2))}, "laplace").models(model)
    with pytest.raises(ValueError):
        ParameterDraws({"rule.no_such_leaf": np.ones(5)}, "laplace").models(model)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a draws file"):
        load_draws(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", x=np.ones(3))
    with pytest.raises(ValueError, match="no method recorded"):
        load_draws(tmp_path / "other.npz")
