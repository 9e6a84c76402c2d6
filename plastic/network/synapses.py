"""A plastic synapse layer: a weight matrix whose synapses each run a plasticity rule.

Any `plastic.rules.AbstractRule` runs at every synapse between a presynaptic and a postsynaptic
population, driven by the `SynapseSignals` that an `AbstractSpikeSignals` makes from the two
populations' spikes (and the postsynaptic voltage). The weight of synapse ``(i, j)`` is
``baseline_weight[i, j] * efficacy_ij``: the rule's efficacy scales a baseline.

Numerics. The layer advances at a fixed step ``dt``, as a step function for `jax.lax.scan`.
Spikes arrive at the start of a step. The signals' linear parts are exact: the spike-evoked
calcium decays exponentially in closed form, pulses are sampled at the middle of the step. The
rule's state is advanced by the classical fourth-order Runge-Kutta method, with the exact signals
at its stage times. Hence the global error against the continuous-time solution with the same
spikes is O(dt^4) for rules that are smooth in the signals, when pulse durations are whole
numbers of steps and the postsynaptic voltage is constant over a step; it is O(dt) for rules with
thresholds in calcium (Graupner-Brunel: a crossing inside a step is resolved only at the stage
times) and for rules that read a voltage that varies within the step (the voltage is held at its
value at the start of the step). ``tests/test_network.py`` measures both against diffrax.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

from plastic._validation import check_range
from plastic.network.scan import checkpointed_scan
from plastic.network.signals import AbstractSpikeSignals, SpikeSignals, SpikeTraces
from plastic.rules.base import AbstractRule, SynapseSignals

RESTING_VOLTAGE = -65.0
"""mV: the postsynaptic voltage handed to the rule when none is given."""


class PlasticSynapsesState(eqx.Module):
    """State of a plastic synapse layer.

    Attributes:
        rule: the rule's state, each leaf of shape ``(n_post, n_pre)``.
        traces: the per-neuron signal traces.
        time: ms since the start.
    """

    rule: PyTree[Float[Array, "n_post n_pre"]]
    traces: SpikeTraces
    time: Float[Array, ""]


class SynapsesRun(eqx.Module):
    """What `PlasticSynapses.run` returns.

    Attributes:
        times: ``(n_segments,)`` ends of the segments, ms from the start of the run.
        weights: ``(n_segments, n_post, n_pre)`` weights at those times.
        final_state: the layer's state at the end.
    """

    times: Float[Array, " n_segments"]
    weights: Float[Array, "n_segments n_post n_pre"]
    final_state: PlasticSynapsesState


def _tree_axpy(a, x, y):
    # y + a * x, leaf by leaf.
    return jax.tree.map(lambda xi, yi: yi + a * xi, x, y)


def default_segment_steps(n_steps: int) -> int:
    """The divisor of ``n_steps`` nearest ``sqrt(n_steps)``: the checkpointing segment that
    needs the least memory in the backward pass."""
    root = math.sqrt(n_steps)
    divisors = [d for d in range(1, math.isqrt(n_steps) + 1) if n_steps % d == 0]
    candidates = divisors + [n_steps // d for d in divisors]
    return min(candidates, key=lambda d: (abs(d - root), d))


class PlasticSynapses(eqx.Module):
    """A weight matrix from ``n_pre`` to ``n_post`` neurons whose synapses learn by ``rule``.

    Attributes:
        rule: the plasticity rule, one parameter set shared by every synapse.
        baseline_weight: ``(n_post, n_pre)`` weight at efficacy 1, in the units the caller uses
            (mV of PSP peak for `plastic.network.LIFNeurons`).
        signals: makes each synapse's `SynapseSignals` from the spikes (default `SpikeSignals`).
        dt: the time step, ms (static).
    """

    rule: AbstractRule
    baseline_weight: Float[Array, "n_post n_pre"] = eqx.field(converter=jnp.asarray)
    signals: AbstractSpikeSignals = eqx.field(default_factory=SpikeSignals)
    dt: float = eqx.field(static=True, default=0.5)

    def __check_init__(self):
        if self.baseline_weight.ndim != 2:
            raise ValueError(
                "PlasticSynapses.baseline_weight must have shape (n_post, n_pre); got shape "
                f"{self.baseline_weight.shape}"
            )
        check_range("PlasticSynapses.dt", self.dt, lower=0.0, unit="ms")

    @property
    def n_pre(self) -> int:
        return self.baseline_weight.shape[-1]

    @property
    def n_post(self) -> int:
        return self.baseline_weight.shape[-2]

    def initial_state(self) -> PlasticSynapsesState:
        """Every synapse at the rule's initial state, no spikes yet, time 0."""
        shape = (self.n_post, self.n_pre)
        rule_state = jax.tree.map(
            lambda x: jnp.broadcast_to(x, shape + jnp.shape(x)), self.rule.initial_state()
        )
        traces = self.signals.initial_traces(self.n_pre, self.n_post)
        return PlasticSynapsesState(rule_state, traces, jnp.zeros((), traces.pre_calcium.dtype))

    def efficacy(self, state: PlasticSynapsesState) -> Float[Array, "n_post n_pre"]:
        """The rule's efficacy at every synapse (1 = baseline)."""
        return jax.vmap(jax.vmap(self.rule.efficacy))(state.rule)

    def weights(self, state: PlasticSynapsesState) -> Float[Array, "n_post n_pre"]:
        """``baseline_weight * efficacy``, in the units of ``baseline_weight``."""
        return self.baseline_weight * self.efficacy(state)

    def _rule_derivative(self, t, rule_state, signals: SynapseSignals):
        per_synapse = jax.vmap(self.rule.vector_field, in_axes=(None, 0, 0))
        return jax.vmap(per_synapse, in_axes=(None, 0, 0))(t, rule_state, signals)

    def step(
        self,
        state: PlasticSynapsesState,
        pre_spikes: Float[Array, " n_pre"],
        post_spikes: Float[Array, " n_post"],
        post_voltage: Float[Array, " n_post"] | None = None,
    ) -> PlasticSynapsesState:
        """Advance by ``dt`` ms.

        Args:
            state: the state at time ``t``.
            pre_spikes, post_spikes: spike counts (0 or 1) of each neuron at time ``t``, shapes
                ``(n_pre,)`` and ``(n_post,)``.
            post_voltage: ``(n_post,)`` postsynaptic voltage at ``t``, mV, held over the step;
                default `RESTING_VOLTAGE`.

        Returns:
            The state at ``t + dt``: the rule advanced by one RK4 step with the exact signals.
        """
        dt = self.dt
        half = 0.5 * dt
        if post_voltage is None:
            post_voltage = jnp.full(self.n_post, RESTING_VOLTAGE)
        traces = self.signals.add_spikes(state.traces, pre_spikes, post_spikes)
        zero = jnp.zeros_like(state.time)
        start, middle, end = (
            self.signals.signals(traces, zero + offset, dt, post_voltage)
            for offset in (0.0, half, dt)
        )
        t, y = state.time, state.rule
        k1 = self._rule_derivative(t, y, start)
        k2 = self._rule_derivative(t + half, _tree_axpy(half, k1, y), middle)
        k3 = self._rule_derivative(t + half, _tree_axpy(half, k2, y), middle)
        k4 = self._rule_derivative(t + dt, _tree_axpy(dt, k3, y), end)
        rule_state = jax.tree.map(
            lambda yi, a, b, c, d: yi + (dt / 6.0) * (a + 2.0 * b + 2.0 * c + d), y, k1, k2, k3, k4
        )
        return PlasticSynapsesState(rule_state, self.signals.advance(traces, dt), t + dt)

    def run(
        self,
        pre_spikes: Float[Array, "n_steps n_pre"],
        post_spikes: Float[Array, "n_steps n_post"],
        post_voltage: Float[Array, "n_steps n_post"] | None = None,
        *,
        segment_steps: int | None = None,
        initial_state: PlasticSynapsesState | None = None,
    ) -> SynapsesRun:
        """Run the layer on prescribed spike trains, one row per step.

        Args:
            pre_spikes, post_spikes: spike counts per step (row ``n`` at time ``n dt``).
            post_voltage: postsynaptic voltage per step, mV; default `RESTING_VOLTAGE`.
            segment_steps: weights are recorded, and the state checkpointed for the backward
                pass, every ``segment_steps`` steps (a divisor of ``n_steps``); default
                `default_segment_steps`.
            initial_state: default `initial_state`.
        """
        n_steps = pre_spikes.shape[0]
        if segment_steps is None:
            segment_steps = default_segment_steps(n_steps)
        if post_voltage is None:
            post_voltage = jnp.full((n_steps, self.n_post), RESTING_VOLTAGE)
        state = self.initial_state() if initial_state is None else initial_state

        def step(state, inputs):
            return self.step(state, *inputs), None

        final, (_, states) = checkpointed_scan(
            step, state, (pre_spikes, post_spikes, post_voltage), segment_steps
        )
        weights = jax.vmap(self.weights)(states)
        return SynapsesRun(states.time, weights, final)
