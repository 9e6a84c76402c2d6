"""NUTS draws against the exact posterior and the Laplace approximation."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (enables float64)
from plastic.fit import FitParameters, Objective, Parameter
from plastic.uncertainty import laplace, nuts, prediction_band
from tests.uncertainty.test_laplace import SEM, Product, X, rows


def line(model, data):
    x = jnp.asarray(data.column("x"))
    return model.k + model.g * x


@pytest.fixture(scope="module")
def well_identified():
    """``y = k + g x`` on nine rows: two parameters the data pin down, a nearly Gaussian
    posterior well inside wide bounds (k on a linear interval, g on a log scale)."""
    rng = np.random.default_rng(5)
    y = 3.0 + 2.0 * X + SEM * rng.normal(size=X.size)
    objective = Objective(line, rows(y))
    design = np.stack([np.ones_like(X), X], axis=1)
    weights = 1.0 / SEM**2
    estimate = np.linalg.solve(design.T @ (weights[:, None] * design), design.T @ (weights * y))
    parameters = FitParameters(
        Product(*estimate),
        [Parameter("k", -50.0, 50.0), Parameter("g", 0.01, 100.0, log=True)],
    )
    approx = laplace(objective, parameters)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a well-identified problem must mix without warnings
        posterior = nuts(objective, approx, jax.random.key(0), n_warmup=300, n_samples=1000)
    return objective, approx, posterior


def exact_posterior(objective):
    """Mean and standard deviation of k and g by quadrature on a fine grid: the likelihood of
    the data times the prior (uniform in k, uniform in log g)."""
    k = np.linspace(0.0, 6.0, 601)[:, None]
    log_g = np.linspace(np.log(0.5), np.log(5.0), 601)[None, :]
    g = np.exp(log_g)
    x = np.asarray(objective.data.column("x"))[:, None, None]
    mean, sem = np.asarray(objective.data.mean)[:, None, None], SEM[:, None, None]
    chi_square = np.sum(((k + g * x - mean) / sem) ** 2, axis=0)
    weight = np.exp(-0.5 * (chi_square - chi_square.min()))  # on a grid uniform in log g
    weight /= weight.sum()
    moments = []
    for value in (k + 0 * g, g + 0 * k):
        first = np.sum(weight * value)
        moments.append((first, np.sqrt(np.sum(weight * (value - first) ** 2))))
    return np.array(moments).T


def test_nuts_matches_the_exact_posterior_and_laplace(well_identified):
    objective, approx, posterior = well_identified
    mean, sd = posterior.mean(), posterior.standard_deviation()
    exact_mean, exact_sd = exact_posterior(objective)
    # The prior, flat in log g, pulls the mean of g below the maximum of the likelihood by
    # about sd^2 / g: NUTS must see it (0.14 sd here), Laplace at the optimum does not.
    assert np.all(np.abs(mean - exact_mean) < 0.05 * exact_sd)
    np.testing.assert_allclose(sd, exact_sd, rtol=0.05)
    # Against Laplace: means and standard deviations within 10 %.
    np.testing.assert_allclose(mean, approx.values, rtol=0.1)
    np.testing.assert_allclose(sd, approx.value_standard_error, rtol=0.1)
    assert np.all(np.asarray(posterior.r_hat) < 1.01)
    assert np.all(np.asarray(posterior.effective_sample_size) > 400)
    assert int(np.sum(posterior.divergences)) == 0 and posterior.problems() == []


def test_posterior_draws_feed_a_prediction_band(well_identified):
    _, approx, posterior = well_identified

    def at_zero(model):
        return jnp.stack([model.k, model.k + model.g])

    band = prediction_band(approx, at_zero, jax.random.key(0), draws=posterior.pooled())
    low, high = posterior.interval()
    np.testing.assert_allclose(band.low[0], low[0], rtol=1e-12)
    np.testing.assert_allclose(band.high[0], high[0], rtol=1e-12)


def test_chains_that_have_not_mixed_are_warned_about():
    """A product the data cannot split: k g = 2 on log scales, a long curved ridge."""
    objective = Objective(lambda m, d: m.k * m.g * jnp.asarray(d.column("x")), rows(2.0 * X))
    parameters = FitParameters(
        Product(2.0**0.5, 2.0**0.5),
        [Parameter("k", 1e-3, 1e3, log=True), Parameter("g", 1e-3, 1e3, log=True)],
    )
    with pytest.warns(UserWarning, match="nuts: .*(R-hat|effective draws)"):
        posterior = nuts(
            objective, laplace(objective, parameters), jax.random.key(1), n_warmup=50,
            n_samples=20,
        )  # fmt: skip
    assert posterior.problems()


def test_bad_arguments_are_named(well_identified):
    objective, approx, _ = well_identified
    with pytest.raises(ValueError, match="n_chains"):
        nuts(objective, approx, jax.random.key(0), n_chains=1)
    with pytest.raises(ValueError, match="n_warmup"):
        nuts(objective, approx, jax.random.key(0), n_warmup=10)


def test_the_posterior_is_written_with_its_diagnostics(well_identified, tmp_path):
    import json

    from plastic.uncertainty import write_uncertainty

    _, approx, posterior = well_identified
    paths = write_uncertainty(approx, tmp_path, posterior=posterior)
    record = json.loads(paths["uncertainty"].read_text())
    assert record["method"] == "laplace+nuts" and record["nuts"]["n_chains"] == 4
    for i, name in enumerate(approx.names):
        entry = record["parameters"][name]["nuts"]
        assert entry["mean"] == pytest.approx(float(posterior.mean()[i]), rel=1e-12)
        assert entry["r_hat"] < 1.01
    saved = np.load(paths["posterior"])
    np.testing.assert_allclose(saved["values"], np.asarray(posterior.values), rtol=1e-15)
    assert list(saved["names"]) == list(approx.names) and paths["pairs"].stat().st_size
