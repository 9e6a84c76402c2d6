"""Solves of the Urakubo model: Rodas5 with every release and voltage knot a step boundary, the
forward-Euler reference scheme, and the resting state."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp

from plastic.rosenbrock import Rodas5
from plastic.rules.standalone import RuleSolution, solve_rule
from plastic.rules.urakubo.drive import UrakuboDrive, resting_drive
from plastic.rules.urakubo.model import REST_VOLTAGE, Urakubo2008


def solve_urakubo(
    rule: Urakubo2008,
    drive: UrakuboDrive,
    t0,
    t1,
    *,
    initial_state=None,
    save_ts=None,
    rtol: float = 1e-6,
    atol: float = 1e-10,
    max_steps: int = 100_000,
    jump_ts=None,
    solver: diffrax.AbstractSolver | None = None,
) -> RuleSolution:
    """Integrate ``rule`` from ``t0`` to ``t1`` (ms) under ``drive`` with Rodas5.

    Every kink of the voltage trace and every release edge is a step boundary: an adaptive
    step would otherwise step over a 0.1 ms release pulse and miss it.

    Args:
        rule: the model.
        drive: voltage and presynaptic spikes.
        t0, t1: ms.
        initial_state: default ``rule.initial_state()``.
        save_ts: times (ms) at which to return the state.
        rtol, atol: step-size controller tolerances (atol in uM).
        max_steps: cap on the number of steps.
        jump_ts: further step boundaries, ms, added to ``drive.edges()``.
        solver: default `Rodas5` (dense Jacobian).
    """
    edges = drive.edges()
    if jump_ts is not None:
        edges = jnp.concatenate([edges, jnp.asarray(jump_ts, edges.dtype)])
    return solve_rule(
        rule,
        drive,
        t0,
        t1,
        initial_state=initial_state,
        jump_ts=edges,
        save_ts=save_ts,
        solver=Rodas5() if solver is None else solver,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
    )


def euler_solve(
    rule: Urakubo2008,
    drive: UrakuboDrive,
    t0,
    n_saves: int,
    save_every: int,
    *,
    dt=0.005,
    initial_state=None,
):
    """The reference scheme of the Go re-implementation: forward Euler at ``dt`` ms (5 us) in
    `jax.lax.scan`, on the same vector field (without the Go code's clamping at zero, which
    would break the conservation laws).

    Returns ``(ts, states)``: ``n_saves`` states, every ``save_every`` steps after ``t0``.
    """
    if n_saves < 1 or save_every < 1:
        raise ValueError(
            f"euler_solve: n_saves and save_every must be >= 1; got {n_saves}, {save_every}"
        )
    y0 = rule.initial_state() if initial_state is None else initial_state

    def step(carry, _):
        t, y = carry
        return (t + dt, y + dt * rule.vector_field(t, y, drive(t))), None

    def block(carry, _):
        carry, _ = jax.lax.scan(step, carry, None, length=save_every)
        return carry, carry

    _, (ts, ys) = jax.lax.scan(block, (jnp.asarray(t0, float), y0), None, length=n_saves)
    return ts, ys


@eqx.filter_jit
def _settle(rule, drive, duration, **solve_kwargs):
    return solve_urakubo(rule, drive, 0.0, duration, **solve_kwargs).final_state


def equilibrate(rule: Urakubo2008, duration=500_000.0, voltage=REST_VOLTAGE, **solve_kwargs):
    """``rule`` with its rest state replaced by the state after ``duration`` ms at constant
    ``voltage`` (mV) without release, and the trapped AMPAR there as the efficacy reference.

    The GENESIS runs rest 500 s (the default) from the paper's initial conditions; AMPAR
    trafficking (time constants up to 30 min) is not at steady state after it, as in GENESIS.
    """
    rest = _settle(rule, resting_drive(duration, voltage), duration, **solve_kwargs)
    return eqx.tree_at(
        lambda r: (r.rest_state, r.reference_trapped), rule, (rest, rule.trapped(rest))
    )
