"""Readouts, computed as Tazerart et al. 2020 compute them from their recordings.

- `percent_change`: a readout after induction as a percentage of its baseline (100 = no change),
  the form of every uEPSP, neck-length and head-volume result of the paper.
- `fit_length_constant`: eq. 2 of the paper, ``y = alpha exp(-x / lambda) + beta``, fitted to the
  plasticity of two co-activated spines against their distance x (um); lambda = 5.7 um at +7 ms
  (Fig. 3e) and 39.7 um at -15 ms (Fig. 5e).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from plastic._validation import check_range, is_concrete

# ---------------------------------------------------------------------------------------------
# Relative change


def percent_change(after, before) -> Array:
    """``100 * after / before``: a readout after induction as a percentage of its baseline.

    The paper's convention: 121% is a 21% increase, 100% no change. Works elementwise with
    broadcasting, in any unit shared by ``after`` and ``before`` (mV for uEPSP amplitudes, um for
    neck lengths, fL for head volumes).

    Raises:
        ValueError: if a baseline ``before`` is not positive.
    """
    check_range("before", before, lower=0.0, upper=None)
    return 100.0 * jnp.asarray(after, dtype=float) / jnp.asarray(before, dtype=float)


# ---------------------------------------------------------------------------------------------
# Length constant of the distance dependence (eq. 2)

# For a fixed lambda, eq. 2 is linear in (alpha, beta), so the fit is a search over lambda alone
# (variable projection): a log grid of lambda from 1e-3 to 1e3 times the span of the distances,
# then golden-section search between the grid neighbours of the best point.
_GRID_DECADES = 3.0
_N_GRID = 97
_N_GOLDEN = 64  # shrinks the bracket (0.29 in log lambda) by 0.618^64 ~ 1e-13
_INVERSE_GOLDEN_RATIO = (np.sqrt(5.0) - 1.0) / 2.0
_CONVERGED_STEP = 1e-6  # log lambda; the last Newton step is ~1e-12 at a true minimum


class LengthConstantFit(eqx.Module):
    """The least-squares fit of ``y = alpha exp(-distance / length_constant) + beta``.

    Attributes:
        alpha: amplitude of the distance-dependent part, in the unit of the values (e.g. %).
        length_constant: lambda, um.
        beta: value far away, in the unit of the values.
        covariance: ``(3, 3)`` covariance of ``(alpha, length_constant, beta)``, from the
            Jacobian at the optimum (as `scipy.optimize.curve_fit` computes it).
        chi_squared: sum of squared residuals divided by the SEMs (by 1 without SEMs).
        converged: whether a minimum was found with lambda inside the searched range (1e-3 to
            1e3 times the span of the distances); False, e.g., for data without a distance
            dependence, whose best lambda is infinite.
    """

    alpha: Float[Array, ""]
    length_constant: Float[Array, ""]
    beta: Float[Array, ""]
    covariance: Float[Array, "3 3"]
    chi_squared: Float[Array, ""]
    converged: Bool[Array, ""]

    def _standard_errors(self) -> Float[Array, "*batch 3"]:
        # Indexing from the end keeps the properties right for a vmapped (batched) fit.
        return jnp.sqrt(jnp.diagonal(self.covariance, axis1=-2, axis2=-1))

    @property
    def alpha_se(self) -> Float[Array, ""]:
        """Standard error of ``alpha``."""
        return self._standard_errors()[..., 0]

    @property
    def length_constant_se(self) -> Float[Array, ""]:
        """Standard error of ``length_constant``, um."""
        return self._standard_errors()[..., 1]

    @property
    def beta_se(self) -> Float[Array, ""]:
        """Standard error of ``beta``."""
        return self._standard_errors()[..., 2]

    def __call__(self, distance) -> Array:
        """The fitted curve at ``distance`` (um, any shape; for an unbatched fit)."""
        return self.alpha * jnp.exp(-jnp.asarray(distance) / self.length_constant) + self.beta


def _linear_part(log_length_constant, distance, values, weights):
    """(alpha, beta, chi_squared) of the best fit at a fixed lambda = exp(log_length_constant).

    A weighted regression of the values on exp(-distance / lambda), written in centred form so
    that it stays accurate when the exponential is nearly constant (lambda >> distances).
    """
    decay = jnp.exp(-distance * jnp.exp(-log_length_constant))
    total = jnp.sum(weights)
    decay_mean = jnp.sum(weights * decay) / total
    values_mean = jnp.sum(weights * values) / total
    decay_centred = decay - decay_mean
    values_centred = values - values_mean
    spread = jnp.sum(weights * decay_centred**2)
    # Where the exponential is 0 (or 1) at every distance only a constant can be fitted.
    defined = spread > 0
    alpha = jnp.where(
        defined,
        jnp.sum(weights * decay_centred * values_centred) / jnp.where(defined, spread, 1.0),
        0.0,
    )
    beta = values_mean - alpha * decay_mean
    chi_squared = jnp.sum(weights * (alpha * decay_centred - values_centred) ** 2)
    return alpha, beta, chi_squared


@jax.jit
def _minimise_chi_squared(distance, values, weights):
    """The best log(lambda), to ~1e-13, and whether it lies inside the searched range."""

    def chi_squared(log_length_constant):
        return _linear_part(log_length_constant, distance, values, weights)[2]

    span = jnp.max(distance) - jnp.min(distance)
    grid = jnp.log(span) + jnp.log(10.0) * jnp.linspace(-_GRID_DECADES, _GRID_DECADES, _N_GRID)
    on_grid = jax.vmap(chi_squared)(grid)
    best = jnp.argmin(jnp.where(jnp.isnan(on_grid), jnp.inf, on_grid))

    def golden_step(_, bracket):
        low, high = bracket
        left = high - _INVERSE_GOLDEN_RATIO * (high - low)
        right = low + _INVERSE_GOLDEN_RATIO * (high - low)
        go_left = chi_squared(left) < chi_squared(right)
        return jnp.where(go_left, low, left), jnp.where(go_left, right, high)

    low, high = jax.lax.fori_loop(
        0,
        _N_GOLDEN,
        golden_step,
        (grid[jnp.maximum(best - 1, 0)], grid[jnp.minimum(best + 1, _N_GRID - 1)]),
    )
    return (low + high) / 2, (best > 0) & (best < _N_GRID - 1)


@jax.jit
def _polish(found, interior, distance, values, sem, scale_by_residuals) -> LengthConstantFit:
    """The fit from the minimiser ``found`` (log lambda) of the search, differentiably.

    One Newton step from the minimum barely moves the value, and the step's derivative with
    respect to the data is exactly the implicit-function-theorem derivative of the minimiser,
    since the slope is 0 there; so the curvature's own derivative (multiplied by that 0) is not
    needed either.
    """
    weights = 1.0 / sem**2

    def chi_squared(log_length_constant):
        return _linear_part(log_length_constant, distance, values, weights)[2]

    def slope_of(log_length_constant):
        return jax.jvp(chi_squared, (log_length_constant,), (jnp.ones_like(found),))[1]

    # Forward over forward: the cheapest to compile for a function of one variable.
    slope, curvature = jax.jvp(slope_of, (found,), (jnp.ones_like(found),))
    curvature = jax.lax.stop_gradient(curvature)
    step = slope / jnp.where(curvature > 0, curvature, 1.0)
    log_length_constant = found - jnp.where(curvature > 0, step, 0.0)
    alpha, beta, chi_min = _linear_part(log_length_constant, distance, values, weights)
    length_constant = jnp.exp(log_length_constant)

    decay = jnp.exp(-distance / length_constant)
    jacobian = (
        jnp.stack(
            [decay, alpha * distance * decay / length_constant**2, jnp.ones_like(decay)], axis=-1
        )
        / sem[:, None]
    )
    covariance = jnp.linalg.inv(jacobian.T @ jacobian)
    # A traced flag rather than a static one, so that both kinds of fit share one compilation.
    dof = distance.shape[0] - 3
    residual_variance = chi_min / dof if dof > 0 else jnp.inf
    covariance = covariance * jnp.where(scale_by_residuals, residual_variance, 1.0)
    return LengthConstantFit(
        alpha=alpha,
        length_constant=length_constant,
        beta=beta,
        covariance=covariance,
        chi_squared=chi_min,
        converged=interior & (curvature > 0) & (jnp.abs(step) < _CONVERGED_STEP),
    )


def fit_length_constant(distance, values, sem=None, *, absolute_sem: bool = True):
    """Fit eq. 2 of Tazerart et al., ``values = alpha exp(-distance / lambda) + beta``.

    Weighted nonlinear least squares (residuals divided by ``sem``), solved robustly: for a fixed
    lambda, alpha and beta follow from a linear regression, so only lambda is searched (a log
    grid over six decades, then golden-section search to ~1e-13). Jittable and vmappable (batch
    over data sets with `jax.vmap`); gradients with respect to the data are those of the exact
    minimiser (implicit function theorem). Check ``converged``.

    Args:
        distance: ``(n_points,)`` inter-spine distances, um, >= 0, at least 3 distinct values.
        values: ``(n_points,)`` the readout of each pair, e.g. the uEPSP change in %.
        sem: ``(n_points,)`` standard errors of ``values``, > 0; ``None`` weights all equally.
        absolute_sem: the covariance takes ``sem`` as absolute (True, `curve_fit`'s
            ``absolute_sigma=True``) or as relative weights scaled by the residual variance
            (False). Without ``sem`` the covariance is always scaled by the residual variance,
            which needs more than 3 points (with exactly 3 the standard errors are inf).

    Returns:
        A `LengthConstantFit` with alpha, length_constant (um), beta and their standard errors.

    Raises:
        ValueError: for arrays that are not 1-D of one length with at least 3 points, a negative
            or NaN distance, NaN values, a non-positive sem, or fewer than 3 distinct distances.
    """
    distance = jnp.asarray(distance, dtype=float)
    values = jnp.asarray(values, dtype=float)
    if distance.ndim != 1 or values.shape != distance.shape or distance.shape[0] < 3:
        raise ValueError(
            "distance and values must be 1-D arrays of the same length >= 3 (eq. 2 has 3 "
            f"parameters); got shapes {distance.shape} and {values.shape}"
        )
    check_range("distance", distance, lower=0.0, lower_inclusive=True, upper=None, unit="um")
    check_range("values", values, lower=None, upper=None)
    scale_by_residuals = sem is None or not absolute_sem
    if sem is None:
        sem = jnp.ones_like(values)
    else:
        sem = jnp.asarray(sem, dtype=float)
        if sem.shape != values.shape:
            raise ValueError(f"sem must have the shape of values {values.shape}; got {sem.shape}")
        check_range("sem", sem, lower=0.0, upper=None)
    if is_concrete(distance) and np.unique(np.asarray(distance)).size < 3:
        raise ValueError(
            "distance must hold at least 3 distinct values to determine alpha, lambda and beta; "
            f"got {np.unique(np.asarray(distance)).tolist()}"
        )
    # The search is a separate compilation that is never differentiated: gradients and batches
    # of fits only transform the cheap `_polish`.
    found, interior = _minimise_chi_squared(
        *jax.lax.stop_gradient((distance, values, 1.0 / sem**2))
    )
    return _polish(found, interior, distance, values, sem, jnp.asarray(scale_by_residuals))
