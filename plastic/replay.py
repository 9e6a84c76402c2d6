"""Replay: a spine model's rule and expression driven by its recorded biophysics.

A fit of rate constants and thresholds moves only the plasticity (rule, coupling, expression,
their Q10); the stiff biophysics (60 states for two spines, microsecond time constants) need not
be solved again for every step. `record_signals` runs the biophysics once and records, per
spine, what the rule reads (`SynapseSignals`: head calcium and voltage, glutamate, soma
voltage) as a piecewise-cubic `HermiteSignals` trace with the model's own time derivatives at
the nodes. `replay` integrates the plasticity alone (every spine's rule and expression, and the
coupling between spines), driven by that trace: a small non-stiff solve.

A model with a calcium store (`SpineModel.calcium_store`) carries calcium from one pairing to the
next, so its head calcium cannot be recorded once and repeated. Calcium does not act back on
the electrics, though: the influx through NMDA receptors and VGCCs depends on voltages and gates
only. `record_calcium_drive` records each head's influx and the dendritic calcium at its neck;
`replay` then integrates every head's calcium balance and store
(`SpineModel.head_calcium_derivative`, the equations of the full model) with the plasticity,
and the rule reads that calcium. Exact but for the store's small effect on the dendrite (the
neck carries ~2 % of a head's calcium), so the store's parameters can be fitted by replay too.

What it neglects: the expression acting back on the biophysics *during* the recording (the PSD
scales the AMPA conductance, the neck its resistance). Record from the model without plasticity
(`SpineModel.without_plasticity`) and the replay is exact for an expression that moves little
during induction; the readouts after induction still see the full expressed model. Compare with
the coupled solve (`plastic.simulate`) to see what the feedback changes (the Tazerart predictor
reports both).

Periodic protocols: without plasticity the electrics are back at rest long before the next
pairing (2 s at 0.5 Hz), so one pairing period is recorded and repeated (`RepeatedSignals`).
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, Int, PyTree

from plastic.expression import ExpressionState
from plastic.model import SpineModel
from plastic.protocols import Protocol
from plastic.rosenbrock import Rodas5
from plastic.rules.base import SynapseSignals
from plastic.rules.standalone import HermiteSignals
from plastic.simulate import Simulation, SolverSettings, simulate
from plastic.solver_status import combined, diffeqsolve, raise_if_concrete

_Scalar = Float[Array, ""]


def record_signals(
    model: SpineModel,
    protocol: Protocol,
    nodes: Float[Array, " n"],
    settings: SolverSettings | None = None,
) -> tuple[HermiteSignals, Simulation]:
    """Simulate ``model`` under ``protocol`` and record each spine's `SynapseSignals` at ``nodes``.

    Args:
        model: the spine model to record from (usually `SpineModel.without_plasticity`).
        protocol: the stimulation.
        nodes: increasing times, ms, within the protocol; every pulse edge must be one of them
            (see `pairing_nodes`): the drive is taken as constant on each interval.
        settings: solver settings of the recording.

    Returns:
        The trace, every leaf with a leading ``(n_spines,)`` axis (``ts`` too), and the
        `Simulation` (states at ``nodes``).
    """
    simulation = simulate(model, protocol, nodes, settings)

    def signals(state, drive):
        soma = jnp.broadcast_to(state.soma_voltage, state.head_voltage.shape)
        return SynapseSignals(state.head_calcium, state.head_voltage, drive.glutamate, soma)

    return _hermite_trace(model, protocol, simulation, signals), simulation


class HeadCalciumDrive(eqx.Module):
    """What drives a spine head's calcium balance from outside (scalars per spine).

    Attributes:
        influx: calcium entering through NMDA receptors and VGCCs, uM/ms of total calcium in
            the head volume (`SpineModel.head_calcium_influx`).
        parent_calcium: free calcium in the dendrite at the base of the neck, uM.
    """

    influx: _Scalar
    parent_calcium: _Scalar


def record_calcium_drive(
    model: SpineModel, protocol: Protocol, simulation: Simulation
) -> HermiteSignals:
    """Each head's `HeadCalciumDrive` at the save times of ``simulation`` (a `record_signals`
    recording of ``model`` under ``protocol``), as a trace like `record_signals`'s: what
    `replay` integrates a model's head calcium and calcium store on."""

    def drive(state, _):
        node_calcium = jnp.concatenate(
            [model.calcium.resting_calcium[None], state.dendrite_calcium]
        )
        weights = model.geometry.attachment_weights(model.geometry.spines.position)
        return HeadCalciumDrive(model.head_calcium_influx(state), weights @ node_calcium)

    return _hermite_trace(model, protocol, simulation, drive)


def _hermite_trace(model, protocol, simulation, signals) -> HermiteSignals:
    # ``signals(state, drive)`` (per-spine leaves) at the save times, as a per-spine Hermite
    # trace whose slopes are the model's own time derivatives of those signals (forward mode
    # along the state's derivative). One-sided derivatives at an interval's two ends use the
    # drive inside the interval, and the drive is constant on each interval.
    nodes, states = simulation.save_times, simulation.states
    drives = jax.vmap(protocol.drive)(0.5 * (nodes[1:] + nodes[:-1]))
    first = jax.tree.map(lambda x: x[:-1], states)
    last = jax.tree.map(lambda x: x[1:], states)

    def value_and_slope(state, drive):
        d_state = model.derivative(state, drive)
        return jax.jvp(lambda s: signals(s, drive), (state,), (d_state,))

    start, start_slope = jax.vmap(value_and_slope)(first, drives)
    end, end_slope = jax.vmap(value_and_slope)(last, drives)
    per_spine = lambda tree: jax.tree.map(lambda x: x.T, tree)  # noqa: E731  (n - 1, n_spines)
    return HermiteSignals(
        jnp.broadcast_to(nodes, (model.n_spines,) + nodes.shape),
        start=per_spine(start),
        end=per_spine(end),
        start_slope=per_spine(start_slope),
        end_slope=per_spine(end_slope),
    )


def pairing_nodes(
    edges: Float[Array, " n_edges"],
    period: float,
    *,
    fine_step: float = 1.0 / 16.0,
    fine_before: float = 20.0,
    fine_after: float = 250.0,
    coarse_step: float = 5.0,
) -> Float[Array, " n"]:
    """Nodes for recording one pairing period ``[0, period]`` (ms): every ``fine_step`` ms from
    ``fine_before`` ms before the first pulse edge to ``fine_after`` ms after the last, every
    ``coarse_step`` ms elsewhere, and every pulse edge in ``edges`` (sorted together; the shape
    depends only on the arguments' shapes and the static steps, so it can be vmapped)."""
    first, last = jnp.min(edges), jnp.max(edges)
    n_fine = int(round((fine_before + fine_after + 60.0) / fine_step)) + 1
    fine = jnp.clip(first - fine_before + fine_step * jnp.arange(n_fine), 0.0, period)
    fine = jnp.where(fine <= last + fine_after, fine, period)
    coarse = jnp.linspace(0.0, period, int(round(period / coarse_step)) + 1)
    return jnp.sort(jnp.concatenate([coarse, fine, jnp.clip(edges, 0.0, period)]))


def repeat_times(
    times: Float[Array, " n"], period, n_repeats: int
) -> Float[Array, " n_repeats_times_n"]:
    """``times`` (ms, within one period, e.g. its pulse edges) in each of ``n_repeats``
    periods, flattened: the ``jump_ts`` of a `RepeatedSignals` replay."""
    return (times[None, :] + period * jnp.arange(n_repeats)[:, None]).ravel()


class RepeatedSignals(eqx.Module):
    """A one-period trace repeated ``n_repeats`` times, then held at its value at ``period``.

    Attributes:
        signals: the trace over ``[0, period]``, ms: `HermiteSignals` with a leading
            ``(n_spines,)`` axis, as `record_signals` (or `record_calcium_drive`) returns it.
        period: ms.
        n_repeats: how many periods (static).
    """

    signals: HermiteSignals
    period: _Scalar
    n_repeats: int = eqx.field(static=True)

    def __call__(self, t) -> PyTree[Float[Array, " n_spines"]]:
        """Every spine's signals at ``t`` (ms): leaves ``(n_spines,)``."""
        repeat = jnp.clip(jnp.floor(t / self.period), 0, self.n_repeats - 1)
        local = t - repeat * self.period
        return jax.vmap(lambda spine: spine(local))(self.signals)


class ReplayState(eqx.Module):
    """Rule and expression state of every spine (leaves ``(n_spines,)``), and, for a model with
    a calcium store, each head's free calcium (uM) and store fill (None otherwise).

    ``solver_result``: in what `replay` returns, diffrax's result code of its solves (0 on
    success, `plastic.solver_status`); None in the state being integrated."""

    rule: PyTree[Float[Array, " n_spines"]]
    expression: ExpressionState
    head_calcium: Float[Array, " n_spines"] | None = None
    store: Float[Array, " n_spines"] | None = None
    solver_result: Int[Array, ""] | None = None


def replay(
    model: SpineModel,
    signals,
    t1,
    *,
    calcium_drive=None,
    quiet_from=None,
    jump_ts: Float[Array, " jumps"] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int = 16_384,
    checkpoints: int | None = None,
) -> ReplayState:
    """Integrate the plasticity of ``model`` (its rule and expression at every spine, its
    coupling between spines, its drugs) from the initial states over ``[0, t1]`` (ms), driven
    by ``signals(t)`` (every spine's `SynapseSignals`, leaves ``(n_spines,)``, e.g.
    `RepeatedSignals`): the same equations as inside the model (`SpineModel.plasticity_derivative`).
    For a model with a calcium store, every head's calcium and store are integrated too, driven
    by ``calcium_drive(t)`` (every head's `HeadCalciumDrive`, e.g. a `RepeatedSignals` of
    `record_calcium_drive`), and the rule reads that calcium instead of the recorded one.
    Explicit (Tsit5, adaptive): the plasticity is not stiff, and while pairings drive it a
    head's calcium balance (13 ms) is not either. In minutes of quiet it is: give the time from
    which the drive is constant as ``quiet_from`` (ms; e.g. the end of the last repeated
    period) and the replay of a model with a store continues from there implicitly (`Rodas5`),
    in a few dozen steps where an explicit solver would need one per ~40 ms. Pass the pulse
    edges as ``jump_ts``. Jittable, vmappable (over conditions,
    parameters) and differentiable: reverse mode stores ``checkpoints`` states (default:
    diffrax's, about log ``max_steps``); more trade memory (a few hundred bytes each) for less
    recomputation.

    Returns:
        The final `ReplayState`, with its ``solver_result``.

    Raises:
        plastic.solver_status.SolveFailedError: called eagerly, if a solve fails (under
            `jax.jit` or `jax.vmap`, check the returned ``solver_result`` instead).
    """
    if model.rule is None or model.expression is None:
        raise ValueError("replay needs a model with a rule and an expression model")
    if model.indicator is not None:
        # The head calcium balance replayed below has no dye in it.
        raise ValueError(
            "replay: the model has a calcium indicator (SpineModel.indicator); replay the "
            "plasticity of a model without one, or simulate it coupled"
        )
    # The biophysics as recorded: without the expression acting back (see the module doc).
    biophysics = model.without_plasticity()
    with_store = model.calcium_store is not None
    if with_store and calcium_drive is None:
        raise ValueError(
            "replay: the model has a calcium store, whose calcium carries over between pairings: "
            "pass calcium_drive (record_calcium_drive) so that the head calcium is integrated"
        )

    def vector_field(t, state: ReplayState, args):
        synapse = signals(t)
        d_calcium = d_store = None
        if with_store:
            drive = calcium_drive(t)
            d_calcium, d_store, _ = biophysics.head_calcium_derivative(
                state.head_calcium, state.store, drive.influx, drive.parent_calcium
            )
            synapse = eqx.tree_at(lambda s: s.calcium, synapse, state.head_calcium)
        d_rule, d_expression = model.plasticity_derivative(state.rule, state.expression, synapse)
        return ReplayState(d_rule, d_expression, d_calcium, d_store)

    rule, expression = model.initial_plasticity_state()
    if with_store:
        initial = ReplayState(rule, expression, signals(0.0).calcium, model.resting_store_fill())
    else:
        initial = ReplayState(rule, expression)

    def solve(solver, t0, t_end, y0, jumps, unravel=None):
        # ``unravel``: y0 is the flat state of this pytree (for a solver of 1-D states).
        def field(t, y, args):
            if unravel is None:
                return vector_field(t, y, args)
            return ravel_pytree(vector_field(t, unravel(y), args))[0]

        controller = diffrax.PIDController(rtol=rtol, atol=atol)
        if jumps is not None:
            controller = diffrax.ClipStepSizeController(controller, jump_ts=jumps)
        solution, result = diffeqsolve(
            diffrax.ODETerm(field),
            solver,
            t0=t0,
            t1=t_end,
            dt0=None,
            y0=y0,
            stepsize_controller=controller,
            max_steps=max_steps,
            adjoint=diffrax.RecursiveCheckpointAdjoint(checkpoints),
        )
        return jax.tree.map(lambda x: x[-1], solution.ys), result

    if not with_store or quiet_from is None:
        final, result = solve(diffrax.Tsit5(), 0.0, t1, initial, jump_ts)
    else:
        driven, driven_result = solve(diffrax.Tsit5(), 0.0, quiet_from, initial, jump_ts)
        # plastic's Rodas5 (one LU per step, jax.lax.linalg) rather than diffrax's Kvaerno5:
        # the gradient of Kvaerno5's lineax solves holds a host callback (lineax throws in
        # their transpose unconditionally), which no compile cache or export accepts.
        flat, unravel = ravel_pytree(driven)
        quiet, quiet_result = solve(Rodas5(), quiet_from, t1, flat, None, unravel)
        final = unravel(quiet)
        result = combined((driven_result, quiet_result))
    raise_if_concrete(result, "replay")
    return eqx.tree_at(lambda s: s.solver_result, final, result, is_leaf=lambda x: x is None)


REPLAY_FITTABLE = (
    "calcium_store.",
    "rule.",
    "expression.",
    "coupling.",
    "plasticity_q10",
    "calcium_sensitivity_q10",
)
"""Path prefixes of the `SpineModel` leaves a replay may move: those the recorded biophysics
does not depend on."""


def check_replay_parameters(paths) -> None:
    """Raise a ValueError naming any path a replay cannot move (see `REPLAY_FITTABLE`)."""
    bad = [path for path in paths if not path.startswith(REPLAY_FITTABLE)]
    if bad:
        fittable = ", ".join(p + "*" if p.endswith(".") else p for p in REPLAY_FITTABLE)
        raise ValueError(
            f"a replay moves only {fittable} (the biophysics is recorded once); got {bad}: "
            "use --mode coupled to fit them"
        )
