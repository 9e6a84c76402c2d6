"""Polishing a fit: Levenberg-Marquardt on the SEM-weighted residuals from where a fit stopped.

A first-order optimiser (Adam) run for a fixed number of steps stops near, not at, an optimum of
chi-square; the `laplace` approximation and the profiles assume the optimum. Gauss-Newton steps,
which use the residuals' Jacobian, close the last gap in a few iterations.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, PyTree

from plastic._validation import check_range
from plastic.fit.objective import Objective
from plastic.fit.parameters import FitParameters
from plastic.uncertainty.flat import FlatParameters


def gauss_newton_gain(residuals: Callable[[Array], Array], point: Array) -> Array:
    """How much chi-square a Gauss-Newton step of about unit length in the unconstrained
    coordinates could still remove from ``point``: ``sum_k s_k^2 / (s_k^2 + 1) (u_k . r)^2``
    over the singular values ``s_k`` and left singular vectors ``u_k`` of the residuals'
    Jacobian (a Levenberg step with damping 1). Zero at an optimum; a flat direction, where
    any gain would take an unbounded step, adds nothing. A convergence test in chi-square units
    that does not wait for the steps along flat directions to shrink."""
    value = residuals(point)
    jacobian = jax.jacrev(residuals)(point)
    left, singular, _ = jnp.linalg.svd(jacobian, full_matrices=False)
    along = left.T @ value
    return jnp.sum(singular**2 / (singular**2 + 1.0) * along**2)


class Polished(eqx.Module):
    """The outcome of `polish`.

    Attributes:
        model: the template model at the polished point.
        chi_square_before, chi_square: chi-square at the start and at the polished point.
        converged: whether another Gauss-Newton step would gain less than ``tolerance`` in
            chi-square (`gauss_newton_gain`).
        steps: the steps it took.
    """

    model: PyTree
    chi_square_before: float
    chi_square: float
    converged: bool
    steps: int


def polish(
    objective: Objective,
    parameters: FitParameters,
    model: PyTree | None = None,
    *,
    max_steps: int = 50,
    tolerance: float = 1e-6,
) -> Polished:
    """Levenberg-Marquardt on the fit's residuals, from ``model`` (default
    ``parameters.model``), inside the bounds (it works on the unconstrained parameters).

    Args:
        objective: the fit's chi-square.
        parameters: the fitted parameters and their bounds.
        model: where to start, e.g. `FitResult.model`.
        max_steps: Levenberg-Marquardt steps, >= 1 (each one Jacobian of the residuals: a
            reverse pass per data row).
        tolerance: the chi-square gain of one more Gauss-Newton step (`gauss_newton_gain`) below
            which the point counts as converged, > 0; Levenberg-Marquardt stops on its own
            tolerance of 1e-8 or at ``max_steps``.

    Returns:
        A `Polished`; its chi-square is never above the start's (the start is kept if the
        steps made it worse, e.g. a solve that failed).
    """
    check_range("max_steps", max_steps, lower=1.0, lower_inclusive=True)
    check_range("tolerance", tolerance, lower=0.0)
    flat = FlatParameters(parameters)
    start = flat.unconstrained(parameters.model if model is None else model)
    point, before, after, converged, steps = _polish(
        objective, flat, start, int(max_steps), float(tolerance)
    )
    if not float(after) <= float(before):  # NaN included: keep the start
        point, after, converged = start, before, False
    return Polished(
        model=flat.to_model(point),
        chi_square_before=float(before),
        chi_square=float(after),
        converged=bool(converged),
        steps=int(steps),
    )


@eqx.filter_jit
def _polish(objective, flat, start, max_steps, tolerance):
    def residuals(u, _):
        return objective.residuals(flat.to_model(u))

    solution = optx.least_squares(
        residuals,
        optx.LevenbergMarquardt(rtol=1e-8, atol=1e-8),
        start,
        options={"jac": "bwd"},
        max_steps=max_steps,
        throw=False,
    )
    before = jnp.sum(residuals(start, None) ** 2)
    after = jnp.sum(residuals(solution.value, None) ** 2)
    gain = gauss_newton_gain(lambda u: residuals(u, None), solution.value)
    return solution.value, before, after, gain < tolerance, solution.stats["num_steps"]
