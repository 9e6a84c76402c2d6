import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import curve_fit

import plastic  # noqa: F401  (enables float64)
from plastic.readouts import fit_length_constant, percent_change


def eq2(x, alpha, length_constant, beta):
    return alpha * np.exp(-x / length_constant) + beta


def eq2_jacobian(x, alpha, length_constant, beta):
    decay = np.exp(-x / length_constant)
    return np.stack([decay, alpha * x * decay / length_constant**2, np.ones_like(x)], axis=-1)


# Every fit below has this many points, so that they share one compilation.
N_POINTS = 20


def synthetic(seed, alpha, length_constant, beta, noise):
    """Noisy eq. 2 data: distances (um), values (%), SEMs (%)."""
    rng = np.random.default_rng(seed)
    distance = np.sort(rng.uniform(0.5, 80.0, N_POINTS))
    sem = noise * rng.uniform(2.0, 6.0, N_POINTS)
    values = eq2(distance, alpha, length_constant, beta) + sem * rng.standard_normal(N_POINTS)
    return distance, values, sem


# (alpha, lambda, beta, noise): like Fig. 3e (+7 ms, lambda 5.7 um) and Fig. 5e (-15 ms, 39.7 um),
# and lambdas below the closest pair and beyond the distance range (there with less noise, or the
# data could not tell the exponential from a straight line).
CASES = [
    (25.0, 5.7, 100.0, 0.5),
    (-16.0, 39.7, 100.0, 0.5),
    (30.0, 1.2, 90.0, 0.5),
    (40.0, 150.0, 80.0, 0.05),
]


def test_percent_change_is_after_over_before_in_percent():
    np.testing.assert_allclose(percent_change(1.21, 1.0), 121.0)
    np.testing.assert_allclose(
        percent_change(jnp.array([[0.5], [0.9]]), jnp.array([0.5, 1.0, 2.0])),
        [[100.0, 50.0, 25.0], [180.0, 90.0, 45.0]],
    )
    with pytest.raises(ValueError, match=r"before must be a number in \(0, inf\)"):
        percent_change(1.0, jnp.array([1.0, 0.0]))


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("weighting", ["absolute sem", "relative sem", "no sem"])
def test_fit_matches_scipy_curve_fit(case, weighting):
    *truth, noise = CASES[case]
    distance, values, sem = synthetic(case, *truth, noise)
    if weighting == "no sem":
        fit = fit_length_constant(distance, values)
        sigma = None
    else:
        absolute = weighting == "absolute sem"
        fit = fit_length_constant(distance, values, sem, absolute_sem=absolute)
        sigma = sem
    # MINPACK Levenberg-Marquardt from the true parameters, at tight tolerances.
    params, covariance = curve_fit(
        eq2,
        distance,
        values,
        p0=truth,
        sigma=sigma,
        absolute_sigma=weighting == "absolute sem",
        jac=eq2_jacobian,
        ftol=1e-15,
        xtol=1e-15,
        gtol=1e-15,
        maxfev=100_000,
    )
    assert bool(fit.converged)
    np.testing.assert_allclose([fit.alpha, fit.length_constant, fit.beta], params, rtol=1e-6)
    np.testing.assert_allclose(
        [fit.alpha_se, fit.length_constant_se, fit.beta_se],
        np.sqrt(np.diag(covariance)),
        rtol=1e-5,
    )
    weights = 1.0 if sigma is None else 1.0 / sigma
    chi_squared = np.sum(((eq2(distance, *params) - values) * weights) ** 2)
    np.testing.assert_allclose(fit.chi_squared, chi_squared, rtol=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_fit_recovers_exact_data(case):
    truth = case[:3]
    distance = np.geomspace(0.1, 100.0, N_POINTS)
    values = eq2(distance, *truth)
    fit = fit_length_constant(distance, values, np.full_like(values, 3.0))
    assert bool(fit.converged)
    np.testing.assert_allclose([fit.alpha, fit.length_constant, fit.beta], truth, rtol=1e-7)
    np.testing.assert_allclose(fit(distance), values, rtol=1e-9)


def test_vmap_matches_a_loop_and_standard_errors_cover_the_truth():
    truth = (25.0, 10.0, 100.0)
    distance = np.linspace(0.5, 60.0, N_POINTS)
    sem = np.full(N_POINTS, 2.0)
    noise = np.random.default_rng(7).standard_normal((300, N_POINTS))
    values = eq2(distance, *truth) + sem * noise
    fits = jax.vmap(lambda v: fit_length_constant(distance, v, sem))(values)
    for i in range(3):
        one = fit_length_constant(distance, values[i], sem)
        for name in ("alpha", "length_constant", "beta", "covariance", "chi_squared"):
            np.testing.assert_allclose(getattr(fits, name)[i], getattr(one, name), rtol=1e-9)
    assert bool(jnp.all(fits.converged))
    estimates = np.stack([fits.alpha, fits.length_constant, fits.beta], axis=-1)
    errors = np.stack([fits.alpha_se, fits.length_constant_se, fits.beta_se], axis=-1)
    # 95% intervals from the standard errors contain the truth ~95% of the time (binomial
    # standard deviation 1.3% over 300 data sets).
    covered = np.mean(np.abs(estimates - np.array(truth)) < 1.96 * errors, axis=0)
    assert np.all((covered > 0.91) & (covered < 0.985)), covered


def test_gradient_matches_finite_differences():
    distance, values, sem = synthetic(11, 25.0, 5.7, 100.0, 0.5)

    def summary(distance, values, sem):
        fit = fit_length_constant(distance, values, sem)
        return fit.length_constant + 0.1 * fit.alpha - 0.2 * fit.beta + fit.length_constant_se

    gradients = jax.grad(summary, argnums=(0, 1, 2))(distance, values, sem)
    # Directional derivatives along random directions in (distance, values, sem), and along
    # each argument alone; central differences of refits, step 1e-5 of each argument's scale.
    rng = np.random.default_rng(3)
    directions = [rng.standard_normal((3, N_POINTS)) for _ in range(3)]
    directions += [np.eye(3)[k][:, None] * rng.standard_normal(N_POINTS) for k in range(3)]
    scales = [1e-5 * np.abs(a).mean() for a in (distance, values, sem)]
    for direction in directions:
        steps = [scale * d for scale, d in zip(scales, direction)]
        plus = summary(*(a + h for a, h in zip((distance, values, sem), steps)))
        minus = summary(*(a - h for a, h in zip((distance, values, sem), steps)))
        finite_difference = (float(plus) - float(minus)) / 2
        analytic = sum(float(jnp.dot(g, h)) for g, h in zip(gradients, steps))
        np.testing.assert_allclose(analytic, finite_difference, rtol=1e-6)


def test_data_without_distance_dependence_do_not_converge():
    distance = np.linspace(0.0, 50.0, N_POINTS)
    assert not bool(fit_length_constant(distance, np.full(N_POINTS, 100.0)).converged)
    assert not bool(fit_length_constant(distance, 100.0 - 0.2 * distance).converged)


@pytest.mark.parametrize(
    "distance, values, sem, message",
    [
        ([1.0, 2.0], [1.0, 2.0], None, r"same length >= 3"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], None, r"same length >= 3"),
        ([-1.0, 2.0, 3.0], [1.0, 2.0, 3.0], None, r"distance must be a number in \[0, inf\) um"),
        ([1.0, 2.0, 3.0], [1.0, np.nan, 3.0], None, r"values must be a number"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 0.0, 1.0], r"sem must be a number in \(0"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 1.0], r"sem must have the shape of values"),
        ([1.0, 1.0, 3.0, 3.0], [1.0, 2.0, 3.0, 4.0], None, r"at least 3 distinct values"),
    ],
)
def test_fit_rejects_bad_input(distance, values, sem, message):
    with pytest.raises(ValueError, match=message):
        fit_length_constant(distance, values, sem)
