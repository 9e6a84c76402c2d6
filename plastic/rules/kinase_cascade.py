"""The kinase algorithm of Axon: a cascade of three exponential integrators of calcium.

(Reference section 2; seed 003.) Calcium drives ``CaM``, which drives ``CaP`` (the CaMKII-like,
plus-phase integrator), which drives ``CaD`` (the DAPK1-like, minus-phase integrator)::

    tau_M dCaM/dt = Ca - CaM,   tau_P dCaP/dt = CaM - CaP,   tau_D dCaD/dt = CaP - CaD

and the weight change read out at the end of a trial is ``dW = CaP - CaD`` (or XCAL(CaP, CaD)).
Since ``CaP - CaD = tau_D dCaD/dt`` exactly, dW is a band-pass temporal derivative of calcium:
constant activity gives dW -> 0, rising activity dW > 0 and falling activity dW < 0, and its time
integral over any episode that returns to rest is zero. The algorithm therefore *commits* dW at
chosen times (trial ends) instead of integrating it; `KinaseCascade.efficacy` is the efficacy that
a commit at this instant would give, and `spike_weight_changes` returns the commits of a protocol.

Two drives:
- in the spine model (`KinaseCascade.vector_field`), the cascade reads spine calcium above rest
  (uM);
- standalone (`spike_weight_changes`), from padded pre- and postsynaptic spike trains, either at
  the synapse ("average of products": the product of the two neurons' spike traces ``CaSyn``
  drives one cascade) or at the neurons ("product of averages": each neuron's spikes drive its own
  cascade and ``dW = CaP_pre CaP_post - CaD_pre CaD_post``).
"""

from typing import Literal

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.rules._validation import check_range
from plastic.rules.base import AbstractRule, SynapseSignals
from plastic.rules.xcal import Xcal
from plastic.solver_status import diffeqsolve, nan_where_failed, raise_if_concrete

_Scalar = Float[Array, ""]

SPIKE_CYCLE = 1.0
"""Duration (ms) of the one simulation cycle a spike occupies in Axon: spikes are 1 ms pulses."""


class KinaseCascadeState(eqx.Module):
    """The three integrators (shape ``()``, in the units of the drive: uM above rest in the spine
    model, arbitrary spike-calcium units standalone).

    Attributes:
        cam: first stage (calmodulin).
        cap: second stage (CaMKII, LTP, plus phase).
        cad: third stage (DAPK1, LTD, minus phase).
    """

    cam: _Scalar
    cap: _Scalar
    cad: _Scalar


class KinaseCascade(AbstractRule):
    """The kinase cascade as a rule: CaM -> CaP -> CaD, ``dW = CaP - CaD`` or ``XCAL(CaP, CaD)``.

    Attributes:
        tau_m: CaM time constant, ms [Axon: 5 for spikes, 2 for NMDA-based calcium].
        tau_p: CaP time constant, ms [Axon 2022: 40; 39 in 2023].
        tau_d: CaD time constant, ms [Axon 2022: 40; 41 in 2023].
        calcium_rest: calcium subtracted from ``signals.calcium`` before the cascade, uM.
        learning_rate: efficacy change per unit of dW, per unit of the drive.
        xcal: if given, ``dW = xcal(CaP, CaD)`` (Axon early 2022) instead of ``CaP - CaD``.
    """

    tau_m: _Scalar = eqx.field(converter=jnp.asarray, default=5.0)
    tau_p: _Scalar = eqx.field(converter=jnp.asarray, default=40.0)
    tau_d: _Scalar = eqx.field(converter=jnp.asarray, default=40.0)
    calcium_rest: _Scalar = eqx.field(converter=jnp.asarray, default=0.05)
    learning_rate: _Scalar = eqx.field(converter=jnp.asarray, default=1.0)
    xcal: Xcal | None = None

    def __check_init__(self):
        name = type(self).__name__
        for field in ("tau_m", "tau_p", "tau_d"):
            check_range(name, field, getattr(self, field), lower=0.0, lower_open=True, units="ms")
        check_range(name, "calcium_rest", self.calcium_rest, lower=0.0, units="uM")
        check_range(name, "learning_rate", self.learning_rate)

    def initial_state(self) -> KinaseCascadeState:
        zero = jnp.zeros_like(self.tau_m)
        return KinaseCascadeState(cam=zero, cap=zero, cad=zero)

    def cascade(self, state: KinaseCascadeState, drive) -> KinaseCascadeState:
        """d(state)/dt (per ms) under ``drive`` (the first stage's input, shape ``()``)."""
        return KinaseCascadeState(
            cam=(drive - state.cam) / self.tau_m,
            cap=(state.cam - state.cap) / self.tau_p,
            cad=(state.cap - state.cad) / self.tau_d,
        )

    def vector_field(
        self, t, state: KinaseCascadeState, signals: SynapseSignals
    ) -> KinaseCascadeState:
        return self.cascade(state, signals.calcium - self.calcium_rest)

    def weight_change(self, state: KinaseCascadeState):
        """The dW a commit would give now: ``CaP - CaD``, or ``xcal(CaP, CaD)``."""
        if self.xcal is None:
            return state.cap - state.cad
        return self.xcal(state.cap, state.cad)

    def efficacy(self, state: KinaseCascadeState):
        return 1.0 + self.learning_rate * self.weight_change(state)


class SpikeCalcium(eqx.Module):
    """Calcium from spikes, as in Axon: each spike is a 1 ms pulse of ``spike_gain``.

    Each neuron low-passes its pulses into ``CaSyn`` (``tau_syn dCaSyn/dt = spike_gain pulse -
    CaSyn``, the continuous-time form of Axon's ``CaSyn += (8 spike - CaSyn) / 30``); the synapse's
    calcium is ``synapse_gain CaSyn_pre CaSyn_post``.

    Attributes:
        spike_gain: calcium per spike cycle, dimensionless [Axon: 8; 12 in larger models].
        tau_syn: CaSyn time constant, ms [Axon: 30].
        synapse_gain: gain of the synaptic product, dimensionless [kinasesim: 8; axon 2022-23: 12].
    """

    spike_gain: _Scalar = eqx.field(converter=jnp.asarray, default=8.0)
    tau_syn: _Scalar = eqx.field(converter=jnp.asarray, default=30.0)
    synapse_gain: _Scalar = eqx.field(converter=jnp.asarray, default=8.0)

    def __check_init__(self):
        name = type(self).__name__
        check_range(name, "spike_gain", self.spike_gain, lower=0.0)
        check_range(name, "tau_syn", self.tau_syn, lower=0.0, lower_open=True, units="ms")
        check_range(name, "synapse_gain", self.synapse_gain, lower=0.0)

    def pulses(self, t, spike_times):
        """``spike_gain`` times the number of spikes whose 1 ms cycle contains ``t`` (ms).

        ``spike_times`` (ms), shape ``(n,)``, ascending, may be padded with ``+inf``: two
        binary searches, so that a long padded train costs ``log n`` per evaluation, not ``n``.
        """
        started = jnp.searchsorted(spike_times, t, side="right")
        ended = jnp.searchsorted(spike_times, t - SPIKE_CYCLE, side="right")
        return self.spike_gain * (started - ended).astype(jnp.result_type(t, float))


class SynapticSpikeState(eqx.Module):
    """Average of products: the neurons' spike traces and the one synaptic cascade.

    Attributes:
        casyn_pre, casyn_post: the pre- and postsynaptic ``CaSyn`` traces (shape ``()``).
        cascade: the synaptic cascade, driven by ``synapse_gain casyn_pre casyn_post``.
    """

    casyn_pre: _Scalar
    casyn_post: _Scalar
    cascade: KinaseCascadeState


class NeuronalSpikeState(eqx.Module):
    """Product of averages: one cascade per neuron, each driven by its own spike pulses.

    Attributes:
        pre, post: the pre- and postsynaptic neuron's cascades.
    """

    pre: KinaseCascadeState
    post: KinaseCascadeState


_Mode = Literal["average_of_products", "product_of_averages"]


def spike_driven_states(
    rule: KinaseCascade,
    calcium: SpikeCalcium,
    pre_spikes: Float[Array, " n_pre"],
    post_spikes: Float[Array, " n_post"],
    save_ts: Float[Array, " n_save"],
    *,
    mode: _Mode = "average_of_products",
    t0: float = 0.0,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 65_536,
) -> SynapticSpikeState | NeuronalSpikeState:
    """Integrate the spike-driven cascade from rest at ``t0`` and return its state at ``save_ts``.

    Args:
        rule: the cascade (its ``calcium_rest`` is not used: spike calcium rests at 0).
        calcium: how spikes make calcium.
        pre_spikes, post_spikes: spike times, ms, in any order, padded with ``+inf`` (or any
            time after the last save time, such as `plastic.protocols.NEVER`).
        save_ts: increasing times (ms) > ``t0`` at which to return the state.
        mode: ``"average_of_products"`` (a `SynapticSpikeState`) or ``"product_of_averages"``
            (a `NeuronalSpikeState`).
        t0: start, ms.
        rtol, atol, max_steps: PID controller tolerances and step cap (Tsit5).

    Returns:
        The state, each leaf with a leading axis of length ``n_save``; NaN if the solve failed.

    Raises:
        plastic.solver_status.SolveFailedError: called eagerly, if the solve fails.
    """
    zero = jnp.zeros_like(rule.tau_m)
    rest = KinaseCascadeState(zero, zero, zero)
    pre_spikes, post_spikes = jnp.sort(pre_spikes), jnp.sort(post_spikes)
    if mode == "average_of_products":
        y0 = SynapticSpikeState(zero, zero, rest)

        def vector_field(t, y, args):
            drive = calcium.synapse_gain * y.casyn_pre * y.casyn_post
            return SynapticSpikeState(
                casyn_pre=(calcium.pulses(t, pre_spikes) - y.casyn_pre) / calcium.tau_syn,
                casyn_post=(calcium.pulses(t, post_spikes) - y.casyn_post) / calcium.tau_syn,
                cascade=rule.cascade(y.cascade, drive),
            )

    elif mode == "product_of_averages":
        y0 = NeuronalSpikeState(rest, rest)

        def vector_field(t, y, args):
            return NeuronalSpikeState(
                pre=rule.cascade(y.pre, calcium.pulses(t, pre_spikes)),
                post=rule.cascade(y.post, calcium.pulses(t, post_spikes)),
            )

    else:
        raise ValueError(f"mode must be 'average_of_products' or 'product_of_averages'; got {mode}")
    spikes = jnp.concatenate([pre_spikes, post_spikes])
    # Pulse edges are discontinuities of the drive; padding (+inf) edges are never reached.
    edges = jnp.concatenate([spikes, spikes + SPIKE_CYCLE])
    save_ts = jnp.asarray(save_ts)
    solution, result = diffeqsolve(
        diffrax.ODETerm(vector_field),
        diffrax.Tsit5(),
        t0=t0,
        t1=save_ts[-1],
        dt0=None,
        y0=y0,
        saveat=diffrax.SaveAt(ts=save_ts),
        stepsize_controller=diffrax.ClipStepSizeController(
            diffrax.PIDController(rtol=rtol, atol=atol), jump_ts=edges
        ),
        max_steps=max_steps,
    )
    raise_if_concrete(result, "spike_driven_states")
    # Under jit or vmap nothing can raise: a failed solve's numbers become NaN.
    return nan_where_failed(solution.ys, result)


def spike_weight_changes(
    rule: KinaseCascade,
    calcium: SpikeCalcium,
    pre_spikes: Float[Array, " n_pre"],
    post_spikes: Float[Array, " n_post"],
    commit_ts: Float[Array, " n_commit"],
    *,
    mode: _Mode = "average_of_products",
    **solve_kwargs,
) -> Float[Array, " n_commit"]:
    """The weight changes ``learning_rate dW`` committed at ``commit_ts`` (ms, increasing).

    Their sum is the protocol's efficacy change. ``dW = CaP - CaD`` of the synaptic cascade
    (average of products) or ``CaP_pre CaP_post - CaD_pre CaD_post`` (product of averages); with
    ``rule.xcal`` set, the synaptic dW is ``xcal(CaP, CaD)`` and the neuronal one
    ``xcal(CaP_pre CaP_post, CaD_pre CaD_post)``. Arguments as in `spike_driven_states`.
    """
    states = spike_driven_states(
        rule, calcium, pre_spikes, post_spikes, commit_ts, mode=mode, **solve_kwargs
    )
    if mode == "average_of_products":
        return rule.learning_rate * jax.vmap(rule.weight_change)(states.cascade)
    plus = states.pre.cap * states.post.cap
    minus = states.pre.cad * states.post.cad
    dw = plus - minus if rule.xcal is None else rule.xcal(plus, minus)
    return rule.learning_rate * dw
