"""The Laplace approximation, profiles and bands against closed forms and finite differences.

A model linear in its parameters with Gaussian errors has an exact Gaussian posterior under a
flat prior: mean the weighted least-squares estimate, covariance ``(X^T W X)^-1``; its profile
chi-square is exactly quadratic. Those are the references here.
"""

from statistics import NormalDist

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (enables float64)
from plastic.experiment import DataSet
from plastic.fit import FitParameters, Objective, Parameter
from plastic.uncertainty import FlatParameters, laplace, polish, prediction_band, profile

X = np.linspace(-1.0, 2.0, 9)
SEM = np.linspace(0.5, 1.5, 9)


class Quadratic(eqx.Module):
    """``y = a + b x + c x^2``: linear in ``(a, b, c)``."""

    coefficients: jax.Array = eqx.field(converter=jnp.asarray)


class Product(eqx.Module):
    """``y = k g x``: only the product ``k g`` reaches the data."""

    k: jax.Array = eqx.field(converter=jnp.asarray)
    g: jax.Array = eqx.field(converter=jnp.asarray)


def rows(mean, sem=SEM, x=X) -> DataSet:
    n = len(mean)
    return DataSet(
        condition=tuple(f"x={value:g}" for value in x),
        readout=("y",) * n,
        site=("",) * n,
        columns=(("x", tuple(map(float, x))),),
        mean=tuple(map(float, mean)),
        sem=tuple(map(float, sem)),
        n=(5.0,) * n,
        unit=("",) * n,
        source=("synthetic",) * n,
        note=("",) * n,
    )


def quadratic(model, data):
    x = jnp.asarray(data.column("x"))
    a, b, c = model.coefficients
    return a + b * x + c * x**2


def design() -> np.ndarray:
    return np.stack([np.ones_like(X), X, X**2], axis=1)


@pytest.fixture(scope="module")
def linear_fit():
    """The exact weighted least-squares optimum of noisy quadratic data, and its Laplace."""
    rng = np.random.default_rng(3)
    y = 1.0 - 0.5 * X + 0.8 * X**2 + SEM * rng.normal(size=X.size)
    weights = 1.0 / SEM**2
    precision = design().T @ (weights[:, None] * design())
    estimate = np.linalg.solve(precision, design().T @ (weights * y))
    objective = Objective(quadratic, rows(y))
    # No bounds: the identity transform, a flat prior; the posterior is exactly Gaussian.
    parameters = FitParameters(Quadratic(estimate), [Parameter("coefficients")])
    return objective, parameters, estimate, np.linalg.inv(precision), laplace(objective, parameters)


def test_laplace_is_the_exact_posterior_of_a_linear_gaussian_model(linear_fit):
    objective, _, estimate, covariance, approx = linear_fit
    assert approx.names == ("coefficients[0]", "coefficients[1]", "coefficients[2]")
    np.testing.assert_allclose(approx.values, estimate, rtol=1e-12)
    np.testing.assert_allclose(approx.covariance, covariance, rtol=1e-6, atol=1e-12)
    sd = np.sqrt(np.diag(covariance))
    np.testing.assert_allclose(approx.standard_error, sd, rtol=1e-6)
    np.testing.assert_allclose(approx.correlation, covariance / np.outer(sd, sd), atol=1e-6)
    low, high = approx.interval(0.9)
    z = NormalDist().inv_cdf(0.95)
    np.testing.assert_allclose(low, estimate - z * sd, rtol=1e-6)
    np.testing.assert_allclose(high, estimate + z * sd, rtol=1e-6)
    assert approx.chi_square == pytest.approx(float(objective(Quadratic(estimate))), rel=1e-12)
    assert approx.unconstrained_parameters() == () and approx.sloppy_directions() == []


def test_the_jacobian_matches_finite_differences():
    """A nonlinear model with log and interval transforms: eq. 2 of Tazerart 2020."""
    from tests.test_fit import PARAMETERS, Decay, measurements, predict

    objective = Objective(predict, measurements(np.linspace(130.0, 100.0, 12)))
    model = Decay(25.0, 7.0, 101.0)
    approx = laplace(objective, PARAMETERS, model)
    flat = FlatParameters(PARAMETERS)
    u = np.asarray(flat.unconstrained(model))
    step = 1e-6
    numeric = np.stack(
        [
            (
                np.asarray(objective.residuals(flat.to_model(jnp.asarray(u + step * e))))
                - np.asarray(objective.residuals(flat.to_model(jnp.asarray(u - step * e))))
            )
            / (2 * step)
            for e in np.eye(u.size)
        ],
        axis=1,
    )
    np.testing.assert_allclose(approx.jacobian, numeric, rtol=1e-6, atol=1e-8)
    # The interval follows the length constant's transform (an interval in log space):
    # asymmetric around the value.
    low, high = (np.asarray(x) for x in approx.interval())
    index = approx.names.index("length_constant")
    transform = PARAMETERS.parameters[index].transform
    half = NormalDist().inv_cdf(0.975) * float(approx.standard_error[index])
    assert low[index] == pytest.approx(float(transform.to_constrained(u[index] - half)), rel=1e-9)
    assert high[index] == pytest.approx(float(transform.to_constrained(u[index] + half)), rel=1e-9)
    assert high[index] - 7.0 > 7.0 - low[index] > 0


def test_what_the_data_do_not_constrain_is_named():
    objective = Objective(lambda m, d: m.k * m.g * jnp.asarray(d.column("x")), rows(2.0 * X))
    parameters = FitParameters(
        Product(2.0**0.5, 2.0**0.5),  # the same place in both transforms: a symmetric valley
        [Parameter("k", 0.01, 100.0, log=True), Parameter("g", 0.01, 100.0, log=True)],
    )
    with_prior = laplace(objective, parameters)
    assert set(with_prior.unconstrained_parameters()) == {"k", "g"}
    (sloppy,) = with_prior.sloppy_directions()
    # Along k g = constant: equal and opposite in log k and log g.
    assert sloppy["loadings"]["k"] == pytest.approx(-sloppy["loadings"]["g"], rel=1e-6)
    assert abs(sloppy["loadings"]["k"]) == pytest.approx(2**-0.5, rel=1e-6)
    # The prior of the bounds keeps both inside them, with a finite variance.
    assert np.all(np.isfinite(with_prior.standard_error))
    low, high = with_prior.interval()
    assert np.all(low > 0.01) and np.all(high < 100.0)
    # Without it, no finite variance: the interval is the whole allowed range.
    without = laplace(objective, parameters, prior="none")
    assert np.all(np.isinf(without.standard_error))
    low, high = without.interval()
    np.testing.assert_allclose(low, 0.01, rtol=1e-9)
    np.testing.assert_allclose(high, 100.0, rtol=1e-9)
    with pytest.raises(ValueError, match="no finite variance.*'k'"):
        without.sample(jax.random.key(0), 10)


def test_the_profile_of_a_linear_model_is_the_exact_quadratic(linear_fit):
    objective, _, estimate, covariance, approx = linear_fit
    result = profile(objective, approx, "coefficients[1]", n_points=9, span=3.0)
    variance = covariance[1, 1]
    rise = result.chi_square - approx.chi_square
    np.testing.assert_allclose(rise, (result.values - estimate[1]) ** 2 / variance, atol=1e-6)
    assert result.converged.all() and not (result.open_low or result.open_high)
    z = NormalDist().inv_cdf(0.975)
    # The root of a parabola's rise is linear: the interpolated crossings are exact.
    assert result.low == pytest.approx(estimate[1] - z * variance**0.5, rel=1e-6)
    assert result.high == pytest.approx(estimate[1] + z * variance**0.5, rel=1e-6)
    assert result.threshold == pytest.approx(3.841459, rel=1e-6)


def test_a_flat_profile_is_open():
    objective = Objective(lambda m, d: m.k * m.g * jnp.asarray(d.column("x")), rows(2.0 * X))
    parameters = FitParameters(
        Product(1.0, 2.0),
        [Parameter("k", 0.01, 100.0, log=True), Parameter("g", 0.01, 100.0, log=True)],
    )
    # k from 0.03 to 3.3 (2 unconstrained units each side): g makes up for every k on the
    # grid, and chi-square stays at its minimum.
    result = profile(objective, laplace(objective, parameters), "k", n_points=5, span=2.0)
    np.testing.assert_allclose(result.chi_square, result.optimum_chi_square, atol=1e-6)
    assert result.open_low and result.open_high


def test_a_prediction_band_matches_the_gaussian_of_a_linear_prediction(linear_fit):
    _, _, estimate, covariance, approx = linear_fit
    at = np.array([0.0, 1.5, 3.0])
    features = np.stack([np.ones_like(at), at, at**2], axis=1)

    def curve(model):
        a, b, c = model.coefficients
        return a + b * at + c * at**2

    band = prediction_band(approx, curve, jax.random.key(1), n_draws=4000, level=0.9)
    sd = np.sqrt(np.einsum("ij,jk,ik->i", features, covariance, features))
    mean = features @ estimate
    z = NormalDist().inv_cdf(0.95)
    np.testing.assert_allclose(band.at_optimum, mean, rtol=1e-12)
    # Monte Carlo quantiles of 4000 draws: within 5 % of a standard deviation or so.
    np.testing.assert_allclose(band.median, mean, atol=0.06 * sd.max())
    np.testing.assert_allclose(band.low, mean - z * sd, atol=0.08 * sd.max())
    np.testing.assert_allclose(band.high, mean + z * sd, atol=0.08 * sd.max())
    assert band.n_failed == 0 and band.n_draws == 4000
    # Batched evaluation gives the same draws' predictions.
    again = prediction_band(
        approx, curve, jax.random.key(1), n_draws=4000, level=0.9, batch_size=500
    )
    np.testing.assert_allclose(again.low, band.low, rtol=1e-12)


def test_bad_arguments_are_named(linear_fit):
    objective, parameters, _, _, approx = linear_fit
    with pytest.raises(ValueError, match="prior must be"):
        laplace(objective, parameters, prior="flat")
    with pytest.raises(ValueError, match="sloppy_sd"):
        laplace(objective, parameters, sloppy_sd=0.0)
    with pytest.raises(ValueError, match="level"):
        approx.interval(1.0)
    with pytest.raises(ValueError, match="fitted scalars"):
        profile(objective, approx, "coefficients")
    with pytest.raises(ValueError, match="n_points"):
        profile(objective, approx, "coefficients[0]", n_points=2)
    with pytest.raises(ValueError, match="n_draws"):
        prediction_band(approx, lambda m: m.coefficients, jax.random.key(0), n_draws=5)
    with pytest.raises(ValueError, match="more rows"):
        laplace(
            Objective(quadratic, rows(X[:3], SEM[:3], X[:3])), parameters, scale_by_chi_square=True
        )


def test_polish_reaches_the_optimum_and_the_distance_to_it_says_so(linear_fit):
    objective, parameters, estimate, covariance, _ = linear_fit
    away = Quadratic(estimate + 2.0 * np.sqrt(np.diag(covariance)))
    before = laplace(objective, parameters, away)
    # A Gauss-Newton step from there moves each coefficient back by its offset, in sds.
    assert float(before.distance_to_optimum().max()) > 1.0
    polished = polish(objective, parameters, away, max_steps=50)
    assert polished.converged and polished.chi_square < polished.chi_square_before
    np.testing.assert_allclose(polished.model.coefficients, estimate, rtol=1e-8, atol=1e-10)
    after = laplace(objective, parameters, polished.model)
    assert float(after.distance_to_optimum().max()) < 1e-6
