"""The kinase algorithm as Axon runs it: one update per 1 ms cycle, for long spike protocols.

Axon advances its neurons and synapses in 1 ms cycles; the kinase cascade and the spike calcium
are updated once per cycle, in order (reference ``urakubo_and_kinase.md``, section "kinase
algorithm")::

    CaSyn += (spike_gain spike - CaSyn) / tau_syn       (each neuron; spike: 1 in its cycle)
    Ca     = synapse_gain CaSyn_pre CaSyn_post           (average of products)
    CaM   += (Ca - CaM) / tau_M;  CaP += (CaM - CaP) / tau_P;  CaD += (CaP - CaD) / tau_D

with each line reading the values the lines above it just wrote, and a weight change committed
at the end of every trial. `KinaseCascadeSynapse` integrates the continuous-time limit of these
updates adaptively (Tsit5), which needs steps at every 1 ms pulse edge; these cycles cost one
fixed, tiny update per millisecond instead, so a 100 s protocol of a few hundred spikes is
about a hundred times cheaper, vmapped over conditions, and differentiable with memory bounded
by checkpointing every `BLOCK` cycles. Spike ``t`` falls in cycle ``floor(t)`` (`spike_counts`).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int8

from plastic.protocols.spike_trains import SpikeTrains
from plastic.rules._validation import check_range
from plastic.rules.kinase_cascade import KinaseCascade, KinaseCascadeState, SpikeCalcium
from plastic.rules.spike_driven import AbstractSpikeDrivenSynapse

BLOCK = 1000
"""Cycles per checkpointed block: reverse mode stores one state per block and recomputes
inside it."""


def spike_counts(spikes: Float[Array, " n"], n_cycles: int) -> Int8[Array, " n_cycles"]:
    """Spikes per 1 ms cycle: spike ``t`` (ms; ``+inf`` padding, and times at or beyond
    ``n_cycles``, dropped) counts in cycle ``floor(t)``; at most 127 per cycle."""
    cycle = jnp.where(jnp.isfinite(spikes), jnp.floor(spikes), n_cycles).astype(int)
    return jnp.zeros(n_cycles, jnp.int8).at[cycle].add(1, mode="drop")


def _advance(rule: KinaseCascade, state: KinaseCascadeState, drive) -> KinaseCascadeState:
    cam = state.cam + (drive - state.cam) / rule.tau_m
    cap = state.cap + (cam - state.cap) / rule.tau_p
    cad = state.cad + (cap - state.cad) / rule.tau_d
    return KinaseCascadeState(cam, cap, cad)


class KinaseCycleSynapse(AbstractSpikeDrivenSynapse):
    """The kinase cascade on spike calcium, updated once per 1 ms cycle as in Axon, its weight
    changes committed at the end of every ``trial`` ms; efficacy 1 + the sum of the commits up
    to ``trains.duration``.

    Attributes:
        rule: the cascade (``xcal`` set for XCAL); time constants in ms, at least 1 (one cycle).
        calcium: how spikes make calcium (``tau_syn`` in ms, at least 1).
        mode: ``"average_of_products"`` (one synaptic cascade on ``synapse_gain CaSyn_pre
            CaSyn_post``) or ``"product_of_averages"`` (a cascade per neuron on its spikes;
            ``dW`` of ``CaP_pre CaP_post`` and ``CaD_pre CaD_post``).
        trial: ms between commits (whole cycles: rounded down).
        max_cycles: the longest protocol, ms (static: it sets the loop length; a multiple of
            `BLOCK`). Longer trains give NaN.
    """

    rule: KinaseCascade
    calcium: SpikeCalcium = eqx.field(default_factory=SpikeCalcium)
    mode: str = eqx.field(static=True, default="average_of_products")
    trial: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=200.0)
    max_cycles: int = eqx.field(static=True, default=128 * BLOCK)

    def __check_init__(self):
        name = "KinaseCycleSynapse"
        check_range(name, "trial", self.trial, lower=1.0, units="ms")
        for owner, field in (
            (self.rule, "tau_m"),
            (self.rule, "tau_p"),
            (self.rule, "tau_d"),
            (self.calcium, "tau_syn"),
        ):
            # Below one cycle an update overshoots: the discrete cascade is unstable at < 0.5.
            check_range(name, field, getattr(owner, field), lower=1.0, units="ms")
        if self.mode not in ("average_of_products", "product_of_averages"):
            raise ValueError(
                "KinaseCycleSynapse.mode must be 'average_of_products' or "
                f"'product_of_averages'; got {self.mode!r}"
            )
        if self.max_cycles < BLOCK or self.max_cycles % BLOCK:
            raise ValueError(
                f"KinaseCycleSynapse.max_cycles must be a positive multiple of {BLOCK}; got "
                f"{self.max_cycles}"
            )

    def commits(self, trains: SpikeTrains) -> Float[Array, " max_cycles"]:
        """The weight change committed at the end of each cycle (``learning_rate dW`` at the
        end of every trial up to ``trains.duration``, 0 elsewhere)."""
        rule, calcium = self.rule, self.calcium
        pre = spike_counts(trains.pre, self.max_cycles).reshape(-1, BLOCK)
        post = spike_counts(trains.post, self.max_cycles).reshape(-1, BLOCK)
        trial = jnp.floor(self.trial)
        zero = jnp.zeros_like(rule.tau_m)
        rest = KinaseCascadeState(zero, zero, zero)
        if self.mode == "average_of_products":
            start = (zero, zero, rest)
        else:
            start = (rest, rest)

        def cycle(state, inputs):
            n, pre_count, post_count = inputs
            n = n.astype(float)
            pre_pulse = calcium.spike_gain * pre_count.astype(float)
            post_pulse = calcium.spike_gain * post_count.astype(float)
            if self.mode == "average_of_products":
                casyn_pre, casyn_post, synapse = state
                casyn_pre = casyn_pre + (pre_pulse - casyn_pre) / calcium.tau_syn
                casyn_post = casyn_post + (post_pulse - casyn_post) / calcium.tau_syn
                drive = calcium.synapse_gain * casyn_pre * casyn_post
                synapse = _advance(rule, synapse, drive)
                state = (casyn_pre, casyn_post, synapse)
                dw = rule.weight_change(synapse)
            else:
                state = (_advance(rule, state[0], pre_pulse), _advance(rule, state[1], post_pulse))
                plus, minus = state[0].cap * state[1].cap, state[0].cad * state[1].cad
                dw = plus - minus if rule.xcal is None else rule.xcal(plus, minus)
            end = n + 1.0
            committed = (jnp.mod(end, trial) == 0.0) & (end <= trains.duration)
            return state, jnp.where(committed, rule.learning_rate * dw, 0.0)

        @jax.checkpoint
        def block(state, inputs):
            first, pre_counts, post_counts = inputs
            return jax.lax.scan(cycle, state, (first + jnp.arange(BLOCK), pre_counts, post_counts))

        firsts = BLOCK * jnp.arange(self.max_cycles // BLOCK)
        _, commits = jax.lax.scan(block, start, (firsts, pre, post))
        return commits.reshape(-1)

    def efficacy(self, trains: SpikeTrains) -> Float[Array, ""]:
        total = 1.0 + jnp.sum(self.commits(trains))
        return jnp.where(trains.duration <= self.max_cycles, total, jnp.nan)
