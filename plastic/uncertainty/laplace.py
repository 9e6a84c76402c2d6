"""The Laplace (Gauss-Newton) approximation of a fit's uncertainty at its optimum.

With SEM-weighted residuals ``r(u) = (prediction(u) - mean) / sem`` of the unconstrained
parameters ``u``, ``chi2 = |r|^2 = -2 log L + const`` for independent Gaussian errors of the
given SEMs. Near the optimum ``u*``, ``chi2(u) ~ chi2(u*) + (u - u*)^T F (u - u*)`` with the Fisher
information ``F = J^T J``, ``J = dr/du`` (the Gauss-Newton Hessian of ``chi2 / 2``), so that the
data alone give ``u ~ N(u*, F^-1)``. With the prior that is uniform between each parameter's two
bounds, the posterior precision adds that prior's curvature (`FlatParameters.
log_prior_curvature`), which keeps a parameter the data do not constrain inside its bounds.

Everything is computed in the unconstrained coordinates, where the approximation is best (a
log-scaled parameter is near-Gaussian in its log); intervals are mapped back through the
transforms, so that they are asymmetric and inside the bounds.

Which parameters the data constrain is read from ``F`` alone: its eigenvalues (the stiff and the
sloppy directions of parameter space) and each parameter's data-only standard deviation in
``u``. A direction whose data-only standard deviation exceeds ``sloppy_sd`` unconstrained units
(default 1: a factor e for a log parameter, most of the range for one with two bounds) is
"not constrained by the data".
"""

import math
from statistics import NormalDist

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from plastic._validation import check_range
from plastic.fit.objective import Objective
from plastic.fit.parameters import FitParameters
from plastic.uncertainty.flat import FlatParameters

_NULL = 1e-12
"""Eigenvalues of a precision below this fraction of its largest are treated as zero: their
directions have no finite standard deviation."""


class Laplace(eqx.Module):
    """A Gaussian approximation of a fit's uncertainty in the unconstrained coordinates.

    ``n`` is the number of fitted scalars (`FlatParameters.names`), ``n_rows`` the data rows.

    Attributes:
        flat: the fitted scalars, their names and units.
        optimum: the unconstrained point, shape ``(n,)``.
        residuals: ``(prediction - mean) / sem`` at the optimum, shape ``(n_rows,)``.
        jacobian: ``d residual / d u`` at the optimum, shape ``(n_rows, n)``.
        chi_square: at the optimum.
        n_rows: data rows.
        prior_precision: the curvature of the prior from the bounds per scalar, shape ``(n,)``
            (zero with ``prior="none"``, and for parameters with fewer than two bounds).
        covariance_scale: 1, or the reduced chi-square if the covariance was scaled by it.
        sloppy_sd: the data-only standard deviation in ``u`` above which a direction or
            parameter counts as not constrained by the data.
    """

    flat: FlatParameters
    optimum: Float[Array, " n"]
    residuals: Float[Array, " n_rows"]
    jacobian: Float[Array, "n_rows n"]
    chi_square: float
    n_rows: int = eqx.field(static=True)
    prior_precision: Float[Array, " n"]
    covariance_scale: float
    sloppy_sd: float = eqx.field(static=True)

    @property
    def names(self) -> tuple[str, ...]:
        return self.flat.names

    @property
    def degrees_of_freedom(self) -> int:
        return self.n_rows - self.flat.size

    @property
    def fisher(self) -> Float[Array, "n n"]:
        """``J^T J``: the information the data carry about ``u``."""
        return self.jacobian.T @ self.jacobian / self.covariance_scale

    @property
    def precision(self) -> Float[Array, "n n"]:
        """The posterior precision: ``fisher`` plus the prior's curvature."""
        return self.fisher + jnp.diag(self.prior_precision)

    @property
    def covariance(self) -> Float[Array, "n n"]:
        """The posterior covariance of ``u``; ``inf`` on the diagonal of a scalar in a direction
        neither the data nor the prior constrain (and NaN off it)."""
        return _inverse(self.precision)

    @property
    def data_covariance(self) -> Float[Array, "n n"]:
        """``fisher^-1``, the data alone (``inf`` where they do not constrain)."""
        return _inverse(self.fisher)

    @property
    def standard_error(self) -> Float[Array, " n"]:
        """Posterior standard deviation of each scalar in ``u``."""
        return jnp.sqrt(jnp.diag(self.covariance))

    @property
    def data_standard_error(self) -> Float[Array, " n"]:
        """Data-only standard deviation of each scalar in ``u``."""
        return jnp.sqrt(jnp.diag(self.data_covariance))

    @property
    def correlation(self) -> Float[Array, "n n"]:
        """The posterior correlation matrix (NaN for a scalar with no finite variance)."""
        sd = self.standard_error
        return self.covariance / jnp.outer(sd, sd)

    @property
    def values(self) -> Float[Array, " n"]:
        """The fitted value of each scalar, in its unit."""
        return self.flat.to_constrained(self.optimum)

    @property
    def value_standard_error(self) -> Float[Array, " n"]:
        """Each scalar's standard deviation in its own unit, to first order (delta method);
        prefer `interval`, which follows the transform."""
        return jnp.abs(self.flat.derivative(self.optimum)) * self.standard_error

    def interval(self, level: float = 0.95) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
        """``(low, high)`` of each scalar's central ``level`` interval, in its unit: the Gaussian
        interval in ``u`` mapped through the transform (a bound where the variance is infinite).
        """
        check_range("level", level, lower=0.0, upper=1.0, upper_inclusive=False)
        z = NormalDist().inv_cdf(0.5 + level / 2)
        half = z * self.standard_error
        low = self.flat.to_constrained(self.optimum - half)
        high = self.flat.to_constrained(self.optimum + half)
        return low, high

    def distance_to_optimum(self) -> Float[Array, " n"]:
        """How far the Gauss-Newton step from this point moves each scalar, in its posterior
        standard deviations: near 0 at an optimum of chi-square. A fit stopped early (a few
        Adam steps) can sit several standard deviations away, and intervals around it are
        misplaced; `polish` it first."""
        gradient = self.jacobian.T @ self.residuals / self.covariance_scale
        eigenvalues, vectors, null = _eigen(self.precision)
        inverse = jnp.where(null, 0.0, 1.0 / jnp.where(null, 1.0, eigenvalues))
        step = -(vectors * inverse) @ (vectors.T @ gradient)
        sd = self.standard_error
        return jnp.where(jnp.isfinite(sd), jnp.abs(step) / sd, 0.0)

    def spectrum(self) -> tuple[Float[Array, " n"], Float[Array, "n n"]]:
        """Eigenvalues of `fisher`, ascending, and its eigenvectors (columns): the sloppiest
        direction first."""
        return _eigen(self.fisher)[:2]

    def sloppy_directions(self) -> list[dict]:
        """The directions the data do not constrain (data-only standard deviation above
        ``sloppy_sd``), sloppiest first: each its standard deviation in ``u`` and the scalars
        that make it up (loadings of magnitude 0.1 or more, largest first)."""
        eigenvalues, vectors, null = (np.asarray(x) for x in _eigen(self.fisher))
        directions = []
        for value, vector, is_null in zip(eigenvalues, vectors.T, null):
            sd = math.inf if is_null else 1.0 / math.sqrt(value)
            if sd <= self.sloppy_sd:
                continue
            order = np.argsort(-np.abs(vector))
            loadings = {self.names[i]: float(vector[i]) for i in order if abs(vector[i]) >= 0.1}
            directions.append({"eigenvalue": float(value), "sd": sd, "loadings": loadings})
        return directions

    def unconstrained_parameters(self) -> tuple[str, ...]:
        """The scalars whose data-only standard deviation in ``u`` exceeds ``sloppy_sd``."""
        sd = np.asarray(self.data_standard_error)
        return tuple(name for name, s in zip(self.names, sd) if not s <= self.sloppy_sd)

    def sample(self, key: PRNGKeyArray, n_draws: int) -> Float[Array, "n_draws n"]:
        """``n_draws`` unconstrained points from ``N(optimum, covariance)``.

        Raises:
            ValueError: if a direction has no finite variance (give the parameters two bounds,
                or fix those the data do not constrain).
        """
        check_range("n_draws", n_draws, lower=1.0, lower_inclusive=True)
        eigenvalues, vectors, null = _eigen(self.precision)
        if bool(jnp.any(null)):
            raise ValueError(
                "cannot draw from the Laplace approximation: some direction has no finite "
                f"variance (parameters {list(self.unconstrained_parameters())}); bound them "
                "on both sides or fix them"
            )
        normal = jax.random.normal(key, (n_draws, self.flat.size))
        return self.optimum + (normal / jnp.sqrt(eigenvalues)) @ vectors.T

    def models(self, draws: Float[Array, "n_draws n"]) -> PyTree:
        """The template model at each draw, stacked on a leading axis (for `jax.vmap`)."""
        return jax.vmap(self.flat.to_model)(draws)


def laplace(
    objective: Objective,
    parameters: FitParameters,
    model: PyTree | None = None,
    *,
    prior: str = "bounds",
    scale_by_chi_square: bool = False,
    sloppy_sd: float = 1.0,
) -> Laplace:
    """The Laplace approximation of the fit of ``parameters`` to ``objective`` at ``model``.

    Args:
        objective: the chi-square that was minimised.
        parameters: the fitted parameters and their bounds.
        model: the fitted model (default ``parameters.model``); take `FitResult.model`.
        prior: ``"bounds"``, uniform between each parameter's two bounds (in ``log x`` for a
            ``log`` parameter; improper, adding nothing, with fewer bounds), or ``"none"``.
        scale_by_chi_square: multiply the covariance by ``chi2 / (n_rows - n)``, for data whose
            SEMs are not trusted (their scatter is then estimated from the misfit).
        sloppy_sd: data-only standard deviation in ``u`` above which a parameter or direction
            is named as not constrained by the data, > 0.

    Returns:
        A `Laplace`.

    Raises:
        ValueError: for a bad argument, a non-finite Jacobian, or (with ``scale_by_chi_square``)
            no degrees of freedom.
    """
    if prior not in ("bounds", "none"):
        raise ValueError(f"prior must be 'bounds' or 'none'; got {prior!r}")
    check_range("sloppy_sd", sloppy_sd, lower=0.0)
    flat = FlatParameters(parameters)
    optimum = flat.unconstrained(parameters.model if model is None else model)
    if not bool(jnp.all(jnp.isfinite(optimum))):
        raise ValueError("the model's parameter values must lie strictly inside their bounds")
    residuals, jacobian = _residuals_and_jacobian(objective, flat, optimum)
    if not bool(jnp.all(jnp.isfinite(jacobian))):
        bad = sorted({flat.names[j] for j in np.flatnonzero(~np.isfinite(jacobian).all(0))})
        raise ValueError(f"the Jacobian of the residuals is not finite for {bad}")
    chi_square = float(jnp.sum(residuals**2))
    scale = 1.0
    if scale_by_chi_square:
        dof = objective.n_rows - flat.size
        if dof < 1:
            raise ValueError(
                f"scale_by_chi_square needs more rows ({objective.n_rows}) than fitted "
                f"values ({flat.size})"
            )
        scale = chi_square / dof
    curvature = flat.log_prior_curvature(optimum) if prior == "bounds" else jnp.zeros_like(optimum)
    return Laplace(
        flat=flat,
        optimum=optimum,
        residuals=residuals,
        jacobian=jacobian,
        chi_square=chi_square,
        n_rows=objective.n_rows,
        prior_precision=curvature,
        covariance_scale=scale,
        sloppy_sd=float(sloppy_sd),
    )


@eqx.filter_jit
def _residuals_and_jacobian(objective: Objective, flat: FlatParameters, optimum):
    def residuals(u):
        return objective.residuals(flat.to_model(u))

    # Reverse mode: the solvers' adjoints support it (forward mode through a checkpointed
    # solve does not), and it costs one batched pass per data row.
    return residuals(optimum), jax.jacrev(residuals)(optimum)


def _eigen(matrix: Float[Array, "n n"]):
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric positive
    semi-definite matrix, and which eigenvalues count as zero (at most `_NULL` of the
    largest): directions without a finite variance."""
    eigenvalues, vectors = jnp.linalg.eigh(matrix)
    return eigenvalues, vectors, eigenvalues <= _NULL * jnp.maximum(eigenvalues[-1], 0.0)


def _inverse(precision: Float[Array, "n n"]) -> Float[Array, "n n"]:
    """The inverse of a symmetric positive semi-definite matrix, with infinite variance along
    its null directions."""
    eigenvalues, vectors, null = _eigen(precision)
    inverse = jnp.where(null, jnp.inf, 1.0 / jnp.where(null, 1.0, eigenvalues))
    # A scalar touched by a null direction gets inf; one orthogonal to all of them keeps its
    # finite variance (0 * inf would be NaN).
    weights = vectors**2
    diagonal = jnp.sum(jnp.where(weights > 1e-20, weights * inverse, 0.0), axis=1)
    finite = jnp.where(null, 0.0, inverse)
    covariance = (vectors * finite) @ vectors.T
    touched = jnp.isinf(diagonal)
    covariance = jnp.where(touched[:, None] | touched[None, :], jnp.nan, covariance)
    return covariance.at[jnp.diag_indices_from(covariance)].set(diagonal)
