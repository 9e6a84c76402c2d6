"""Replay: a spine model's rule and expression driven by its recorded biophysics.

A fit of rate constants and thresholds moves only the plasticity (rule, coupling, expression,
their Q10); the stiff biophysics (60 states for two spines, microsecond time constants) need not
be solved again for every step. `record_signals` runs the biophysics once and records, per
spine, what the rule reads (`SynapseSignals`: head calcium and voltage, glutamate, soma
voltage) as a piecewise-cubic `HermiteSignals` trace with the model's own time derivatives at
the nodes. `replay` integrates the plasticity alone (every spine's rule and expression, and the
coupling between spines), driven by that trace: a small non-stiff solve.

What it neglects: the expression acting back on the biophysics *during* the recording (the PSD
scales the AMPA conductance, the neck its resistance). Record from the model without plasticity
(`SpineModel.without_plasticity`) and the replay is exact for an expression that moves little
during induction; the readouts after induction still see the full expressed model. Compare with
the coupled solve (`plastic.simulate`) to see what the feedback changes (the Tazerart predictor
reports both).

Periodic protocols: without plasticity the biophysics is back at rest long before the next
pairing (2 s at 0.5 Hz), so one pairing period is recorded and repeated (`RepeatedSignals`).
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

from plastic.expression import ExpressionState
from plastic.model import SpineModel
from plastic.protocols import Protocol
from plastic.rules.base import SynapseSignals
from plastic.rules.standalone import HermiteSignals
from plastic.simulate import Simulation, SolverSettings, simulate

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
    states = simulation.states
    # One-sided derivatives at an interval's two ends use the drive inside the interval.
    drives = jax.vmap(protocol.drive)(0.5 * (nodes[1:] + nodes[:-1]))
    first = jax.tree.map(lambda x: x[:-1], states)
    last = jax.tree.map(lambda x: x[1:], states)
    d_first = jax.vmap(model.derivative)(first, drives)
    d_last = jax.vmap(model.derivative)(last, drives)
    glutamate = drives.glutamate  # (n - 1, n_spines)

    def per_spine(s, glutamate):
        # (n - 1, n_spines) leaves -> (n_spines, n - 1)
        soma = jnp.broadcast_to(s.soma_voltage[:, None], s.head_voltage.shape)
        return SynapseSignals(s.head_calcium.T, s.head_voltage.T, glutamate.T, soma.T)

    zero = jnp.zeros_like(glutamate)
    signals = HermiteSignals(
        jnp.broadcast_to(nodes, (model.n_spines,) + nodes.shape),
        start=per_spine(first, glutamate),
        end=per_spine(last, glutamate),
        start_slope=per_spine(d_first, zero),
        end_slope=per_spine(d_last, zero),
    )
    return signals, simulation


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
            ``(n_spines,)`` axis, as `record_signals` returns it.
        period: ms.
        n_repeats: how many periods (static).
    """

    signals: HermiteSignals
    period: _Scalar
    n_repeats: int = eqx.field(static=True)

    def __call__(self, t) -> SynapseSignals:
        """Every spine's signals at ``t`` (ms): leaves ``(n_spines,)``."""
        repeat = jnp.clip(jnp.floor(t / self.period), 0, self.n_repeats - 1)
        local = t - repeat * self.period
        return jax.vmap(lambda spine: spine(local))(self.signals)


class ReplayState(eqx.Module):
    """Rule and expression state of every spine (leaves ``(n_spines,)``)."""

    rule: PyTree[Float[Array, " n_spines"]]
    expression: ExpressionState


def replay(
    model: SpineModel,
    signals,
    t1,
    *,
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
    Explicit (Tsit5, adaptive): the rule and expression are not stiff. Pass the pulse edges as
    ``jump_ts``. Jittable, vmappable (over conditions, parameters) and differentiable: reverse
    mode stores ``checkpoints`` states (default: diffrax's, about log ``max_steps``); more
    trade memory (a few hundred bytes each) for less recomputation.

    Returns:
        The final `ReplayState`.
    """
    if model.rule is None or model.expression is None:
        raise ValueError("replay needs a model with a rule and an expression model")

    def vector_field(t, state: ReplayState, args):
        d_rule, d_expression = model.plasticity_derivative(state.rule, state.expression, signals(t))
        return ReplayState(d_rule, d_expression)

    controller = diffrax.PIDController(rtol=rtol, atol=atol)
    if jump_ts is not None:
        controller = diffrax.ClipStepSizeController(controller, jump_ts=jump_ts)
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(vector_field),
        diffrax.Tsit5(),
        t0=0.0,
        t1=t1,
        dt0=None,
        y0=ReplayState(*model.initial_plasticity_state()),
        stepsize_controller=controller,
        max_steps=max_steps,
        adjoint=diffrax.RecursiveCheckpointAdjoint(checkpoints),
    )
    return jax.tree.map(lambda x: x[-1], solution.ys)
