"""The diffrax solve of a `SpineModel` under a `Protocol`.

Numerics. Spine heads (~0.01 pF behind ~100 MOhm necks) and short dendritic compartments charge
in microseconds while the protocol lasts half an hour, so the system is stiff: it is integrated
whole, as one flat state vector, with an L-stable Rosenbrock method (`plastic.rosenbrock.Rodas5`:
one forward-mode Jacobian, one LU factorisation and eight linear solves per step, no Newton
iterations) under a PID step-size controller with per-state absolute tolerances (mV for
voltages, uM for calcium). Every pulse onset and offset is declared to the controller as a jump
time, so no step can straddle an edge: the step ends just before it and the next starts just
after it. In the quiet period after the last pairing nothing forces small steps and they grow to
seconds.

`simulate` is pure: it can be jitted, vmapped (over model parameters, geometry and protocols) and
differentiated (diffrax's recursive checkpointing bounds the memory of the backward pass).

A solve that fails (its step limit, a vanishing step size) raises no error inside the compiled
program, which would be a host callback (see `plastic.solver_status`): `Simulation.solver_result`
carries the outcome out; an eager call raises at once, and a jitted caller checks it with
`Simulation.raise_if_failed`. Unreached save times hold ``inf``.
"""

import dataclasses
import operator
from collections.abc import Sequence

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, Int

from plastic._validation import check_range
from plastic.model import SpineModel, SpineState
from plastic.protocols import Protocol
from plastic.rosenbrock import Rodas5
from plastic.solver_status import diffeqsolve, raise_if_concrete, raise_if_failed


class SolverSettings(eqx.Module):
    """How the ODE is solved. float64 is assumed; see the README for where float32 holds.

    A step is accepted when the root-mean-square of each state's error estimate divided by
    ``atol + rtol * |state|`` is below one.

    Attributes:
        rtol: relative tolerance.
        voltage_atol: absolute tolerance of the membrane potentials, mV.
        calcium_atol: absolute tolerance of the free calcium concentrations, uM.
        gating_atol: absolute tolerance of gates, receptor states and the rule's state.
        atol: if given, one absolute tolerance for every state (overrides the three above).
        dt0: first step, ms. dtmax: largest step, ms.
        max_steps: bound on the number of steps (static).
        checkpoints: states kept for reverse-mode differentiation (static; diffrax's recursive
            checkpointing). More checkpoints, less recomputation in the backward pass: with at
            least as many as the solve takes steps, nothing is recomputed. Memory: about 10 kB
            per checkpoint per condition for the two-spine model (measured), allocated only when
            differentiated. The seed protocol takes ~5,700 steps; with 4096 the gradient of a
            16-condition loss cost 2.5x its forward pass (`experiments/bench_spine.py`).
            Diffrax's default (None, about log2(``max_steps``)) needs the least memory and
            recomputes the most.
        declare_pulse_edges: tell the controller about every pulse edge (only ever turned off to
            show what goes wrong without it).
        solver: any diffrax solver for a 1-D state (default `Rodas5`; `diffrax.Kvaerno5()` also
            works, at several times the cost).
    """

    rtol: float = 1e-6
    voltage_atol: float = 1e-3
    calcium_atol: float = 1e-6
    gating_atol: float = 1e-6
    atol: float | None = None
    dt0: float = 1e-3
    dtmax: float = 60_000.0
    max_steps: int = eqx.field(static=True, default=200_000)
    checkpoints: int | None = eqx.field(static=True, default=4096)
    declare_pulse_edges: bool = eqx.field(static=True, default=True)
    solver: diffrax.AbstractSolver = eqx.field(static=True, default=Rodas5())

    def __check_init__(self):
        # A negative tolerance is not an error to diffrax: it silently takes far too few steps.
        check_range("SolverSettings.rtol", self.rtol, lower=0.0, upper=1.0, upper_inclusive=False)
        for name in ("voltage_atol", "calcium_atol", "gating_atol"):
            check_range(f"SolverSettings.{name}", getattr(self, name), lower=0.0)
        if self.atol is not None:
            check_range("SolverSettings.atol", self.atol, lower=0.0)
        check_range("SolverSettings.dt0", self.dt0, lower=0.0, unit="ms")
        check_range("SolverSettings.dtmax", self.dtmax, lower=0.0, unit="ms")
        for name in ("max_steps", "checkpoints"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
                raise ValueError(f"SolverSettings.{name} must be an integer >= 1; got {value!r}")

    def describe(self) -> dict[str, object]:
        """Every setting by name, the solver as its class name (and whether its Jacobian is
        sparse): a result file's record of how it was solved."""
        record = {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name != "solver"
        }
        record["solver"] = type(self.solver).__name__
        if hasattr(self.solver, "sparse"):
            record["sparse_jacobian"] = bool(self.solver.sparse)
        return {
            name: float(value) if isinstance(value, (np.floating, jax.Array)) else value
            for name, value in record.items()
        }

    def absolute_tolerances(self, state: SpineState) -> SpineState:
        """The absolute tolerance of every entry of ``state`` (same structure)."""
        if self.atol is not None:
            return jax.tree.map(lambda x: jnp.full_like(x, self.atol), state)
        tolerances = jax.tree.map(lambda x: jnp.full_like(x, self.gating_atol), state)
        voltage = jnp.asarray(self.voltage_atol)
        calcium = jnp.asarray(self.calcium_atol)
        return eqx.tree_at(
            lambda s: (
                s.soma_voltage,
                s.dendrite_voltage,
                s.head_voltage,
                s.dendrite_calcium,
                s.head_calcium,
            ),
            tolerances,
            (
                jnp.full_like(state.soma_voltage, voltage),
                jnp.full_like(state.dendrite_voltage, voltage),
                jnp.full_like(state.head_voltage, voltage),
                jnp.full_like(state.dendrite_calcium, calcium),
                jnp.full_like(state.head_calcium, calcium),
            ),
        )


class Simulation(eqx.Module):
    """What `simulate` returns.

    Attributes:
        save_times: ``(n_save,)`` ms. states: `SpineState` with a leading ``(n_save,)`` axis.
        final_state: `SpineState` at the end of the protocol.
        num_steps: accepted solver steps.
        solver_result: diffrax's result code, 0 on success (`plastic.solver_status`); after a
            failure the states are not the protocol's (unreached ones are ``inf``).
    """

    save_times: Float[Array, " n_save"]
    states: SpineState
    final_state: SpineState
    num_steps: Int[Array, ""]
    solver_result: Int[Array, ""]

    def raise_if_failed(self, what: str = "simulate") -> None:
        """Raise `plastic.solver_status.SolveFailedError` if the solve (any of a batch) failed;
        call it on the result of a jitted or vmapped `simulate`."""
        raise_if_failed(self.solver_result, what, hint=_MAX_STEPS_HINT)


_MAX_STEPS_HINT = "a larger SolverSettings.max_steps, or looser tolerances, may help"


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

    Raises:
        ValueError: if the protocol stimulates another number of spines than the model has.
        plastic.solver_status.SolveFailedError: called eagerly, if the solve fails (under
            `jax.jit` or `jax.vmap`, check `Simulation.solver_result` instead).
    """
    if protocol.n_spines != model.n_spines:
        raise ValueError(
            f"the protocol stimulates {protocol.n_spines} spines (uncaging_onset has "
            f"{protocol.n_spines} rows) but the model has {model.n_spines}; build the protocol "
            f"with n_spines={model.n_spines}"
        )
    if settings is None:
        settings = SolverSettings()
    if save_times is None:
        save_times = jnp.zeros((0,))
    save_times = jnp.asarray(save_times, dtype=float)
    wanted = jnp.concatenate([save_times, protocol.duration[None]])
    order = jnp.argsort(wanted)
    inverse = jnp.argsort(order)

    initial = model.resting_state()
    y0, unravel = ravel_pytree(initial)
    atol, _ = ravel_pytree(settings.absolute_tolerances(initial))

    def vector_field(t, y, protocol):
        return ravel_pytree(model.vector_field(t, unravel(y), protocol))[0]

    # diffrax scales the error by ``atol + rtol * |y|`` leaf by leaf: an array atol of the flat
    # state's shape gives every state its own tolerance.
    controller = diffrax.PIDController(
        rtol=settings.rtol, atol=atol, pcoeff=0.3, icoeff=0.4, dtmax=settings.dtmax
    )
    if settings.declare_pulse_edges:
        controller = diffrax.ClipStepSizeController(controller, jump_ts=protocol.pulse_edges())
    solution, result = diffeqsolve(
        diffrax.ODETerm(vector_field),
        settings.solver,
        t0=0.0,
        t1=protocol.duration,
        dt0=settings.dt0,
        y0=y0,
        args=protocol,
        saveat=diffrax.SaveAt(ts=wanted[order]),
        stepsize_controller=controller,
        max_steps=settings.max_steps,
        adjoint=diffrax.RecursiveCheckpointAdjoint(settings.checkpoints),
    )
    states = jax.vmap(unravel)(solution.ys[inverse])
    raise_if_concrete(result, "simulate")
    return Simulation(
        save_times=save_times,
        states=jax.tree.map(lambda x: x[:-1], states),
        final_state=jax.tree.map(lambda x: x[-1], states),
        num_steps=solution.stats["num_accepted_steps"],
        solver_result=result,
    )


def simulate_each(
    model: SpineModel,
    protocol: Protocol,
    save_times: Sequence[Float[Array, " n_save"]],
    settings: SolverSettings | None = None,
) -> list[Simulation]:
    """One `simulate` of ``protocol`` on ``model``, saved at every array of ``save_times``, seen
    at each of them: one `Simulation` per array, its ``save_times`` and ``states`` cut to that
    array (``final_state``, ``num_steps`` and ``solver_result`` those of the one solve).

    For several readouts of one solve, each at the times it needs.
    """
    save_times = [jnp.asarray(times, dtype=float) for times in save_times]
    every = jnp.concatenate([jnp.zeros((0,)), *save_times])
    simulation = simulate(model, protocol, every, settings)
    bounds = np.cumsum([0] + [times.shape[0] for times in save_times])
    return [
        eqx.tree_at(
            lambda s: (s.save_times, s.states),
            simulation,
            (times, jax.tree.map(operator.itemgetter(slice(start, stop)), simulation.states)),
        )
        for times, start, stop in zip(save_times, bounds, bounds[1:])
    ]
