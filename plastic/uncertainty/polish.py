"""Polishing a fit: Levenberg-Marquardt on the SEM-weighted residuals from where a fit stopped.

A first-order optimiser (Adam) run for a fixed number of steps stops near, not at, an optimum of
chi-square; the `laplace` approximation and the profiles assume the optimum. Gauss-Newton steps,
which use the residuals' Jacobian, close the last gap in a few iterations.
"""

import equinox as eqx
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import PyTree

from plastic._validation import check_range
from plastic.fit.objective import Objective
from plastic.fit.parameters import FitParameters
from plastic.uncertainty.flat import FlatParameters


class Polished(eqx.Module):
    """The outcome of `polish`.

    Attributes:
        model: the template model at the polished point.
        chi_square_before, chi_square: chi-square at the start and at the polished point.
        converged: whether Levenberg-Marquardt met its tolerance within its steps.
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
    tolerance: float = 1e-8,
) -> Polished:
    """Levenberg-Marquardt on the fit's residuals, from ``model`` (default
    ``parameters.model``), inside the bounds (it works on the unconstrained parameters).

    Args:
        objective: the fit's chi-square.
        parameters: the fitted parameters and their bounds.
        model: where to start, e.g. `FitResult.model`.
        max_steps: Levenberg-Marquardt steps, >= 1 (each one Jacobian of the residuals: a
            reverse pass per data row).
        tolerance: relative and absolute tolerance on the parameters and the residuals, > 0.

    Returns:
        A `Polished`; its chi-square is never above the start's (the start is kept if the
        steps made it worse, e.g. a solve that failed).
    """
    check_range("max_steps", max_steps, lower=1.0, lower_inclusive=True)
    check_range("tolerance", tolerance, lower=0.0, upper=1.0)
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
        optx.LevenbergMarquardt(rtol=tolerance, atol=tolerance),
        start,
        options={"jac": "bwd"},
        max_steps=max_steps,
        throw=False,
    )
    before = jnp.sum(residuals(start, None) ** 2)
    after = jnp.sum(residuals(solution.value, None) ** 2)
    converged = solution.result == optx.RESULTS.successful
    return solution.value, before, after, converged, solution.stats["num_steps"]
