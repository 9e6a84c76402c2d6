"""The diffrax solve of a `SpineModel` under a `Protocol`.

Numerics. Spine heads (~0.01 pF behind ~100 MOhm necks) and short dendritic compartments charge
in microseconds while the protocol lasts half an hour, so the system is stiff: it is integrated
whole with an L-stable implicit Runge-Kutta method (Kvaerno5, ESDIRK; one Jacobian and one LU
factorisation per step) under a PID step-size controller. Every pulse onset and offset is
declared to the controller as a jump time, so no step can straddle an edge: the step ends just
before it and the next starts just after it with a fresh first-same-as-last stage. In the quiet
period after the last pairing nothing forces small steps and they grow to seconds.

`simulate` is pure: it can be jitted, vmapped (over model parameters, geometry and protocols) and
differentiated (diffrax's recursive checkpointing bounds the memory of the backward pass).
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from plastic.model import SpineModel, SpineState
from plastic.protocols import Protocol

AFTER_PAIRING_DELAY = 4.0
"""ms after the end of a pairing at which the "after" calcium is read (the seed images 4 ms
after the stimulation)."""


class SolverSettings(eqx.Module):
    """How the ODE is solved. float64 is assumed; see the README for where float32 holds.

    Attributes:
        rtol, atol: tolerances of the PID controller (atol in the units of each state).
        dt0: first step, ms. dtmax: largest step, ms.
        max_steps: bound on the number of steps (static: it sizes the checkpoints).
        declare_pulse_edges: tell the controller about every pulse edge (only ever turned off to
            show what goes wrong without it).
    """

    rtol: float = 1e-6
    atol: float = 1e-6
    dt0: float = 1e-3
    dtmax: float = 60_000.0
    max_steps: int = eqx.field(static=True, default=200_000)
    declare_pulse_edges: bool = eqx.field(static=True, default=True)
    solver: diffrax.AbstractSolver = eqx.field(static=True, default=diffrax.Kvaerno5())


class Simulation(eqx.Module):
    """What `simulate` returns.

    Attributes:
        save_times: ``(n_save,)`` ms. states: `SpineState` with a leading ``(n_save,)`` axis.
        head_calcium_before, head_calcium_after: ``(n_pairings, n_spines)`` free calcium in each
            spine head at the start of each pairing and `AFTER_PAIRING_DELAY` ms after its end, uM.
        dendrite_calcium_before, dendrite_calcium_after: the same in the shaft at each spine's
            position (linear interpolation between compartments), uM.
        final_state: `SpineState` at the end of the protocol.
        num_steps: accepted solver steps.
    """

    save_times: Float[Array, " n_save"]
    states: SpineState
    head_calcium_before: Float[Array, "n_pairings n_spines"]
    head_calcium_after: Float[Array, "n_pairings n_spines"]
    dendrite_calcium_before: Float[Array, "n_pairings n_spines"]
    dendrite_calcium_after: Float[Array, "n_pairings n_spines"]
    final_state: SpineState
    num_steps: Int[Array, ""]


def dendrite_calcium_at_spines(model: SpineModel, states: SpineState) -> Array:
    """Shaft calcium under each spine (uM), for states with any leading axes."""
    geo = model.geometry
    weights = geo.attachment_weights(geo.spines.position)
    node_calcium = jnp.concatenate(
        [
            jnp.broadcast_to(model.calcium.resting_calcium, states.dendrite_calcium.shape[:-1])[
                ..., None
            ],
            states.dendrite_calcium,
        ],
        axis=-1,
    )
    return node_calcium @ weights.T


def simulate(
    model: SpineModel,
    protocol: Protocol,
    save_times: Float[Array, " n_save"] | None = None,
    settings: SolverSettings | None = None,
) -> Simulation:
    """Run ``protocol`` on ``model`` from its resting state.

    Args:
        model: the spine model.
        protocol: the stimulation (unbatched; vmap this function to batch).
        save_times: times (ms, within the protocol's duration, any order) at which to save the
            full state.
        settings: tolerances and solver (default `SolverSettings()`).
    """
    if settings is None:
        settings = SolverSettings()
    if save_times is None:
        save_times = jnp.zeros((0,))
    save_times = jnp.asarray(save_times, dtype=float)
    n_pairings = protocol.n_pairings
    wanted = jnp.concatenate(
        [
            protocol.pairing_start,
            protocol.pairing_end + AFTER_PAIRING_DELAY,
            save_times,
            protocol.duration[None],
        ]
    )
    order = jnp.argsort(wanted)
    inverse = jnp.argsort(order)

    controller = diffrax.PIDController(
        rtol=settings.rtol, atol=settings.atol, pcoeff=0.3, icoeff=0.4, dtmax=settings.dtmax
    )
    if settings.declare_pulse_edges:
        controller = diffrax.ClipStepSizeController(controller, jump_ts=protocol.pulse_edges())
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(model.vector_field),
        settings.solver,
        t0=0.0,
        t1=protocol.duration,
        dt0=settings.dt0,
        y0=model.resting_state(),
        args=protocol,
        saveat=diffrax.SaveAt(ts=wanted[order]),
        stepsize_controller=controller,
        max_steps=settings.max_steps,
    )
    states = jax.tree.map(lambda x: x[inverse], solution.ys)

    def take(start, stop):
        return jax.tree.map(lambda x: x[start:stop], states)

    before = take(0, n_pairings)
    after = take(n_pairings, 2 * n_pairings)
    n_save = save_times.shape[0]
    return Simulation(
        save_times=save_times,
        states=take(2 * n_pairings, 2 * n_pairings + n_save),
        head_calcium_before=before.head_calcium,
        head_calcium_after=after.head_calcium,
        dendrite_calcium_before=dendrite_calcium_at_spines(model, before),
        dendrite_calcium_after=dendrite_calcium_at_spines(model, after),
        final_state=jax.tree.map(lambda x: x[-1], states),
        num_steps=solution.stats["num_accepted_steps"],
    )
