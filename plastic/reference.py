"""A float64 scipy solve of the same equations, for validation and benchmarks.

The model's vector field (jitted) and its Jacobian (forward-mode, jitted) are handed to
`scipy.integrate.solve_ivp`. The protocol's inputs are piecewise constant, so the solve is split
at every pulse edge and each piece sees the input of its interior: scipy's steppers never
straddle a discontinuity either. Needs scipy (the ``test`` extra).
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from plastic.model import SpineModel, SpineState
from plastic.protocols import Protocol


def solve_with_scipy(
    model: SpineModel,
    protocol: Protocol,
    save_times,
    *,
    method: str = "Radau",
    rtol: float = 1e-10,
    atol=1e-10,
) -> tuple[SpineState, dict]:
    """Solve ``protocol`` on ``model`` with scipy; return the states at ``save_times`` (sorted,
    ms) as a `SpineState` with a leading time axis, and solver statistics (``nfev``, ``njev``,
    ``nlu``, ``n_pieces``).

    ``atol`` is one absolute tolerance for every state, or a `SpineState` of per-state
    tolerances (e.g. `plastic.simulate.SolverSettings.absolute_tolerances`)."""
    from scipy.integrate import solve_ivp

    initial = model.resting_state()
    y0, unravel = ravel_pytree(initial)
    if isinstance(atol, SpineState):
        atol = np.asarray(ravel_pytree(atol)[0])
    save_times = np.sort(np.asarray(save_times, dtype=float))
    duration = float(protocol.duration)

    @jax.jit
    def rhs(y, drive_time):
        return ravel_pytree(model.derivative(unravel(y), protocol.drive(drive_time)))[0]

    jac = jax.jit(jax.jacfwd(rhs))
    edges = np.asarray(protocol.pulse_edges())
    edges = np.unique(edges[(edges > 0.0) & (edges < duration)])
    bounds = np.concatenate([[0.0], edges, [duration]])
    y = np.asarray(y0)
    saved = np.empty((save_times.size, y.size))
    stats = {"nfev": 0, "njev": 0, "nlu": 0, "n_pieces": len(bounds) - 1}
    for start, stop in zip(bounds[:-1], bounds[1:]):
        interior = jnp.asarray(0.5 * (start + stop))
        in_piece = (save_times >= start) & (save_times < stop)
        solution = solve_ivp(
            lambda t, y, interior=interior: np.asarray(rhs(y, interior)),
            (start, stop),
            y,
            method=method,
            jac=lambda t, y, interior=interior: np.asarray(jac(y, interior)),
            rtol=rtol,
            atol=atol,
            t_eval=np.append(save_times[in_piece], stop),
        )
        if not solution.success:
            raise RuntimeError(f"scipy {method} failed on [{start}, {stop}] ms: {solution.message}")
        saved[in_piece] = solution.y[:, :-1].T
        y = solution.y[:, -1]
        for key in ("nfev", "njev", "nlu"):
            stats[key] += getattr(solution, key)
    saved[save_times >= duration] = y
    states = jax.vmap(unravel)(jnp.asarray(saved))
    return states, stats
