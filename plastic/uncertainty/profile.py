"""Profile likelihood: the best chi-square with one parameter held at each value of a grid.

For a fitted scalar ``theta`` the profile is ``chi2_p(theta) = min over the others of chi2``.
Its likelihood-ratio interval at ``level`` is where ``chi2_p(theta) - chi2_min`` stays below the
chi-square quantile with one degree of freedom (3.84 for 95 %), which does not lean on the
quadratic approximation of `laplace`. A profile that stays flat to a bound is how a parameter the
data do not identify shows itself.

The others are re-optimised by Levenberg-Marquardt (`optimistix`) on the SEM-weighted residuals,
from the fit's optimum, all grid points at once under `jax.vmap`.
"""

from statistics import NormalDist

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from plastic._validation import check_range
from plastic.fit.objective import Objective
from plastic.uncertainty.laplace import Laplace
from plastic.uncertainty.polish import gauss_newton_gain

PROFILE_GAIN = 0.01
"""A profile point counts as converged when one more Gauss-Newton step would lower its
chi-square by less than this: far below the interval's threshold (3.84 at 95 %)."""


class Profile(eqx.Module):
    """The profile of one fitted scalar.

    Attributes:
        name: the scalar (`FlatParameters.names`), ``unit`` its unit and ``log`` whether it is
            fitted on a log scale.
        values: the grid, ascending, in its unit, shape ``(n_points,)``.
        chi_square: the profiled chi-square at each value, shape ``(n_points,)``: the
            chi-square where the re-optimisation stopped (NaN if not finite there): an upper
            bound of the profile where it did not converge.
        converged: whether each re-optimisation ended where one more Gauss-Newton step would
            gain less than `PROFILE_GAIN` in chi-square, shape ``(n_points,)``; where one did
            not, its chi-square may be too high and the interval too narrow.
        optimum_value, optimum_chi_square: the fit's value and chi-square.
        level: the interval's probability.
        low, high: the likelihood-ratio interval; a bound of the grid where the profile does
            not rise to the threshold on that side (see ``open_low`` / ``open_high``).
        open_low, open_high: the profile stays below the threshold to that end of the grid:
            the data do not bound the parameter on that side (within the grid).
    """

    name: str = eqx.field(static=True)
    unit: str = eqx.field(static=True)
    log: bool = eqx.field(static=True)
    values: np.ndarray
    chi_square: np.ndarray
    converged: np.ndarray
    optimum_value: float
    optimum_chi_square: float
    level: float = eqx.field(static=True)
    low: float
    high: float
    open_low: bool
    open_high: bool

    @property
    def threshold(self) -> float:
        """The rise of chi-square that bounds the interval: the ``level`` quantile of a
        chi-square with one degree of freedom."""
        return NormalDist().inv_cdf(0.5 + self.level / 2) ** 2


def profile(
    objective: Objective,
    laplace: Laplace,
    name: str,
    *,
    n_points: int = 13,
    span: float = 4.0,
    level: float = 0.95,
    max_steps: int = 64,
) -> Profile:
    """The profile likelihood of the fitted scalar ``name``.

    Args:
        objective: the fit's chi-square.
        laplace: the fit's `laplace` approximation: its optimum, and its data-only standard
            error, which sets the grid.
        name: one of ``laplace.names``.
        n_points: grid points, >= 3, spread evenly in the unconstrained coordinate over
            ``optimum +- span`` standard errors (``+- span`` units where the standard error is
            infinite or larger than 1).
        span: the grid's half-width in standard errors, > 0.
        level: the interval's probability, in (0, 1).
        max_steps: Levenberg-Marquardt steps per grid point.

    Returns:
        A `Profile`.
    """
    if name not in laplace.names:
        raise ValueError(
            f"name must be one of the fitted scalars {list(laplace.names)}; got {name!r}"
        )
    check_range("n_points", n_points, lower=3.0, lower_inclusive=True)
    check_range("span", span, lower=0.0)
    check_range("level", level, lower=0.0, upper=1.0, upper_inclusive=False)
    check_range("max_steps", max_steps, lower=1.0, lower_inclusive=True)
    index = laplace.names.index(name)
    sd = float(laplace.data_standard_error[index])
    width = span * (sd if sd <= 1.0 else 1.0)
    optimum = laplace.optimum
    grid = optimum[index] + jnp.linspace(-width, width, int(n_points))
    chi_square, converged = _profile(objective, laplace, jnp.asarray(index), grid, int(max_steps))
    chi_square = np.asarray(chi_square)
    points = np.broadcast_to(np.asarray(optimum), (len(grid), optimum.size)).copy()
    points[:, index] = np.asarray(grid)
    values = np.asarray(laplace.flat.to_constrained(jnp.asarray(points)))[:, index]

    finite = chi_square[np.isfinite(chi_square)]
    best = min([laplace.chi_square, *finite.tolist()])
    threshold = NormalDist().inv_cdf(0.5 + level / 2) ** 2
    centre = int(np.argmin(np.abs(np.asarray(grid) - optimum[index])))
    low, open_low = _crossing(values, chi_square - best, threshold, centre, -1)
    high, open_high = _crossing(values, chi_square - best, threshold, centre, +1)
    return Profile(
        name=name,
        unit=laplace.flat.units[index],
        log=laplace.flat.parameters.parameters[laplace.flat.leaf_index[index]].log,
        values=values,
        chi_square=chi_square,
        converged=np.asarray(converged),
        optimum_value=float(laplace.values[index]),
        optimum_chi_square=laplace.chi_square,
        level=float(level),
        low=low,
        high=high,
        open_low=open_low,
        open_high=open_high,
    )


@eqx.filter_jit
def _profile(objective, laplace, held_index, grid, max_steps):
    optimum = laplace.optimum
    n = optimum.size
    # The held scalar's position enters as data, not as a static index: one compiled program
    # serves the profiles of every scalar of a fit.
    held_axis = jax.nn.one_hot(held_index, n)
    keep = jnp.argsort(held_axis, stable=True)[: n - 1]  # the other scalars, in order
    embed = jnp.eye(n)[:, keep]
    others = optimum[keep]

    def residuals(rest, held):
        return objective.residuals(laplace.flat.to_model(embed @ rest + held_axis * held))

    def one(held):
        if n == 1:
            return jnp.sum(residuals(others, held) ** 2), jnp.array(True)
        solver = optx.LevenbergMarquardt(rtol=1e-5, atol=1e-5)
        solution = optx.least_squares(
            residuals,
            solver,
            others,
            args=held,
            options={"jac": "bwd"},
            max_steps=max_steps,
            throw=False,
        )
        gain = gauss_newton_gain(lambda rest: residuals(rest, held), solution.value)
        return jnp.sum(residuals(solution.value, held) ** 2), gain < PROFILE_GAIN

    return jax.vmap(one)(grid)


def _crossing(values, rise, threshold, centre: int, side: int) -> tuple[float, bool]:
    """Where the profile's rise crosses ``threshold`` going from ``centre`` towards ``side``,
    interpolated linearly in the root of the rise; the last grid value (and True) if it does
    not."""
    indices = range(centre, -1, -1) if side < 0 else range(centre, len(values))
    previous = centre
    for i in indices:
        if np.isfinite(rise[i]) and rise[i] >= threshold:
            # In the root of the rise, which is linear in the value where the profile is
            # quadratic: exact there, and closer elsewhere than the rise itself.
            r0, r1 = np.sqrt(max(rise[previous], 0.0)), np.sqrt(rise[i])
            level = np.sqrt(threshold)
            fraction = (level - r0) / (r1 - r0) if r1 != r0 else 1.0
            return float(values[previous] + fraction * (values[i] - values[previous])), False
        if np.isfinite(rise[i]):
            previous = i
    return float(values[indices[-1]]), True
