"""Spike-timing-dependent plasticity: the pair rule and the Pfister & Gerstner 2006 triplet rule.

Trace formulation (Pfister & Gerstner 2006, J Neurosci 26:9673): presynaptic traces ``r1``
(tau_plus) and ``r2`` (tau_x), postsynaptic traces ``o1`` (tau_minus) and ``o2`` (tau_y), each
decaying exponentially. At a presynaptic spike ``w -= o1 (A2- + A3- r2(t - eps))`` and then r1, r2
are incremented; at a postsynaptic spike ``w += r1 (A2+ + A3+ o2(t - eps))`` and then o1, o2 are
incremented. Increments are ``+1`` (all-to-all interaction) or a reset to 1 (nearest-spike). The
pair rule is the triplet rule with ``A3+ = A3- = 0``: ``dw = A+ exp(-dt/tau_plus)`` for
``dt = t_post - t_pre > 0`` and ``-A- exp(dt/tau_minus)`` for ``dt < 0``.

`weight_change` is exact and event-driven (the reference). Inside the spine model the traces are
ODE states driven by the glutamate pulse (pre) and a somatic spike detector (post); see
`SpikeDetector`.
"""

import math
import types

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.rules._validation import check_range
from plastic.rules.base import AbstractRule, SynapseSignals

_Scalar = Float[Array, ""]
_INTERACTIONS = ("all_to_all", "nearest")


class SpikeDetector(eqx.Module):
    """Turns `SynapseSignals` into pre- and postsynaptic spike rates for the in-model traces.

    Each rate integrates to about 1 per spike, so that a trace driven by it gains 1 per spike.

    Attributes:
        glutamate_pulse_duration: duration of one presynaptic glutamate pulse, ms; the pre rate
            is ``glutamate / glutamate_pulse_duration`` per ms.
        spike_threshold: somatic voltage at which the detector is half on, mV.
        spike_slope: voltage scale of the detector's sigmoid, mV.
        spike_duration: time an action potential keeps the detector on, ms (its width at
            ``spike_threshold``); the post rate is ``sigmoid((V - threshold)/slope)`` divided by it.
    """

    glutamate_pulse_duration: _Scalar = eqx.field(converter=jnp.asarray, default=2.0)
    spike_threshold: _Scalar = eqx.field(converter=jnp.asarray, default=0.0)
    spike_slope: _Scalar = eqx.field(converter=jnp.asarray, default=2.0)
    spike_duration: _Scalar = eqx.field(converter=jnp.asarray, default=1.0)

    def __check_init__(self):
        name = type(self).__name__
        positive = dict(lower=0.0, lower_open=True)
        check_range(name, "glutamate_pulse_duration", self.glutamate_pulse_duration, **positive)
        check_range(name, "spike_threshold", self.spike_threshold, units="mV")
        check_range(name, "spike_slope", self.spike_slope, **positive, units="mV")
        check_range(name, "spike_duration", self.spike_duration, **positive, units="ms")

    def pre_rate(self, signals: SynapseSignals):
        """Presynaptic spike rate, per ms."""
        return signals.glutamate / self.glutamate_pulse_duration

    def post_rate(self, signals: SynapseSignals):
        """Postsynaptic spike rate, per ms."""
        on = jax.nn.sigmoid((signals.soma_voltage - self.spike_threshold) / self.spike_slope)
        return on / self.spike_duration


class STDPState(eqx.Module):
    """Traces (dimensionless) and the relative weight, all shape ``()``.

    Attributes:
        r1, r2: presynaptic traces (tau_plus, tau_x).
        o1, o2: postsynaptic traces (tau_minus, tau_y).
        weight: relative weight, 1 before any plasticity.
    """

    r1: _Scalar
    r2: _Scalar
    o1: _Scalar
    o2: _Scalar
    weight: _Scalar


class TripletSTDP(AbstractRule):
    """The Pfister-Gerstner triplet rule (additive, unbounded weight change).

    Attributes:
        a2_plus, a3_plus: pair and triplet potentiation amplitudes, dimensionless.
        a2_minus, a3_minus: pair and triplet depression amplitudes (magnitudes, >= 0).
        tau_plus, tau_minus: pair trace time constants, ms.
        tau_x, tau_y: triplet trace time constants (pre, post), ms.
        detector: reads pre and post spikes from `SynapseSignals` (in-model use only).
        interaction: "all_to_all" (traces += 1) or "nearest" (traces reset to 1); static.
        saturation: in-model nearest-spike traces relax to 1 at ``saturation`` times the spike
            rate, so a spike leaves ``exp(-saturation)`` of the distance to 1; static.

    In-model (`vector_field`), the traces obey ``dx/dt = -x/tau + rate`` (all-to-all) or
    ``-x/tau + saturation * rate * (1 - x)`` (nearest), and the weight
    ``dw/dt = post_rate r1 (A2+ + A3+ o2~) - pre_rate o1 (A2- + A3- r2~)``. A spike's own trace
    rises while it is being counted, so the triplet terms use ``o2~ = a + c o2`` with constants that
    remove that self-contribution exactly for any pulse shape: ``a = -1/2, c = 1`` (all-to-all) and
    ``c = s/(1 - e^-s), a = 1 - c`` (nearest, ``s = saturation``); this is the eps-ordering of the
    event-driven rule. The remaining error is of order (pulse width / trace time constant), and of
    order one where pre and post pulses overlap in time.
    """

    a2_plus: _Scalar = eqx.field(converter=jnp.asarray)
    a3_plus: _Scalar = eqx.field(converter=jnp.asarray)
    a2_minus: _Scalar = eqx.field(converter=jnp.asarray)
    a3_minus: _Scalar = eqx.field(converter=jnp.asarray)
    tau_plus: _Scalar = eqx.field(converter=jnp.asarray)
    tau_minus: _Scalar = eqx.field(converter=jnp.asarray)
    tau_x: _Scalar = eqx.field(converter=jnp.asarray)
    tau_y: _Scalar = eqx.field(converter=jnp.asarray)
    detector: SpikeDetector = eqx.field(default_factory=SpikeDetector)
    interaction: str = eqx.field(static=True, default="all_to_all")
    saturation: float = eqx.field(static=True, default=20.0)

    def __check_init__(self):
        name = type(self).__name__
        if self.interaction not in _INTERACTIONS:
            raise ValueError(
                f"{name}.interaction must be one of {_INTERACTIONS}; got {self.interaction!r}"
            )
        if not self.saturation > 0:
            raise ValueError(f"{name}.saturation must be > 0; got {self.saturation}")
        for field in ("a2_plus", "a3_plus", "a2_minus", "a3_minus"):
            check_range(name, field, getattr(self, field), lower=0.0)
        for field in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            check_range(name, field, getattr(self, field), lower=0.0, lower_open=True, units="ms")

    @classmethod
    def from_published(cls, name: str, **overrides) -> "TripletSTDP":
        """The rule of row ``name`` of `TRIPLET_STDP_PARAMETER_SETS`; ``overrides`` (e.g. a
        ``detector``) replace fields."""
        return cls(**{**TRIPLET_STDP_PARAMETER_SETS[name], **overrides})

    @eqx.filter_jit
    def weight_change(self, pre_times, post_times):
        """Total weight change for spike trains, exact and event-driven.

        Args:
            pre_times, post_times: spike times, ms, shapes ``(n_pre,)`` and ``(n_post,)``, in any
                order; pad with ``+inf`` so that trains of different lengths batch under `vmap`.

        A presynaptic and a postsynaptic spike at the same time are processed pre first (the
        pair counts as ``dt = 0+``, potentiation).
        """
        times = jnp.concatenate([pre_times, post_times])
        is_pre = jnp.arange(times.shape[0]) < pre_times.shape[0]
        order = jnp.argsort(times)  # stable: pre before post at equal times
        times, is_pre = times[order], is_pre[order]
        taus = jnp.stack([self.tau_plus, self.tau_x, self.tau_minus, self.tau_y])
        nearest = self.interaction == "nearest"

        def event(carry, spike):
            last_time, traces, change = carry
            time, pre = spike
            valid = jnp.isfinite(time)
            time = jnp.where(valid, time, last_time)  # padding: no decay, no update
            traces = traces * jnp.exp(-(time - last_time) / taus)
            r1, r2, o1, o2 = traces
            # Updates read the traces before this spike's own increment (t - eps).
            depression = o1 * (self.a2_minus + self.a3_minus * r2)
            potentiation = r1 * (self.a2_plus + self.a3_plus * o2)
            change = change + jnp.where(valid, jnp.where(pre, -depression, potentiation), 0.0)
            # The spiking side's two traces: (r1, r2) for pre, (o1, o2) for post.
            hit = valid & jnp.where(pre, jnp.arange(4) < 2, jnp.arange(4) >= 2)
            bumped = jnp.ones_like(traces) if nearest else traces + 1.0
            return (time, jnp.where(hit, bumped, traces), change), None

        start = jnp.where(jnp.isfinite(times[0]), times[0], 0.0)
        init = (start, jnp.zeros_like(taus), jnp.zeros_like(self.a2_plus))
        (_, _, change), _ = jax.lax.scan(event, init, (times, is_pre))
        return change

    def initial_state(self) -> STDPState:
        zero = jnp.zeros_like(self.tau_plus)
        return STDPState(r1=zero, r2=zero, o1=zero, o2=zero, weight=zero + 1.0)

    def _self_correction(self):
        # Constants (a, c) with a + c * (integral of rate * own trace over a spike) = trace before.
        if self.interaction == "all_to_all":
            return -0.5, 1.0
        gain = self.saturation / -math.expm1(-self.saturation)
        return 1.0 - gain, gain

    def vector_field(self, t, state: STDPState, signals: SynapseSignals) -> STDPState:
        pre = self.detector.pre_rate(signals)
        post = self.detector.post_rate(signals)

        def trace(x, tau, rate):
            if self.interaction == "all_to_all":
                return -x / tau + rate
            return -x / tau + self.saturation * rate * (1.0 - x)

        offset, gain = self._self_correction()
        r2_before = offset + gain * state.r2
        o2_before = offset + gain * state.o2
        potentiation = post * state.r1 * (self.a2_plus + self.a3_plus * o2_before)
        depression = pre * state.o1 * (self.a2_minus + self.a3_minus * r2_before)
        return STDPState(
            r1=trace(state.r1, self.tau_plus, pre),
            r2=trace(state.r2, self.tau_x, pre),
            o1=trace(state.o1, self.tau_minus, post),
            o2=trace(state.o2, self.tau_y, post),
            weight=potentiation - depression,
        )

    def efficacy(self, state: STDPState):
        return state.weight


class PairSTDP(AbstractRule):
    """The pair-based STDP rule: the triplet rule without triplet terms (additive, unbounded).

    Attributes:
        a_plus: potentiation amplitude, dimensionless.
        a_minus: depression amplitude (a magnitude, >= 0).
        tau_plus, tau_minus: time constants of the potentiation and depression windows, ms.
        detector: reads pre and post spikes from `SynapseSignals` (in-model use only).
        interaction: "all_to_all" or "nearest" (each spike pairs with the latest spike of the
            other side only); static.

    Everything delegates to the equivalent `TripletSTDP`, whose state it shares.
    """

    a_plus: _Scalar = eqx.field(converter=jnp.asarray)
    a_minus: _Scalar = eqx.field(converter=jnp.asarray)
    tau_plus: _Scalar = eqx.field(converter=jnp.asarray)
    tau_minus: _Scalar = eqx.field(converter=jnp.asarray)
    detector: SpikeDetector = eqx.field(default_factory=SpikeDetector)
    interaction: str = eqx.field(static=True, default="all_to_all")

    def __check_init__(self):
        self.as_triplet()  # one set of checks, with this class's field names

    @classmethod
    def song_miller_abbott(cls, g_max: float = 1.0, **overrides) -> "PairSTDP":
        """Song, Miller & Abbott 2000: tau = 20 ms both sides, A+ = 0.005 g_max, A-/A+ = 1.05.

        ``overrides`` (e.g. a ``detector``) replace fields.
        """
        a_plus = 0.005 * g_max
        fields = dict(a_plus=a_plus, a_minus=1.05 * a_plus, tau_plus=20.0, tau_minus=20.0)
        return cls(**{**fields, **overrides})

    @classmethod
    def bi_poo(cls, n_pairings: int = 60, **overrides) -> "PairSTDP":
        """Bi & Poo 2001 exponential fit: tau_plus = 16.8 ms, tau_minus = 33.7 ms.

        The often-quoted amplitudes 0.777 and 0.273 (not verified against the source; treat them
        as approximate) are the fractional change after a whole protocol of ``n_pairings`` pairs
        at 1 Hz (60 in Bi & Poo 1998), not per pair: the rule's per-pair amplitudes are those
        divided by ``n_pairings``, so that the protocol, added up pair by pair, gives the quoted
        change. ``overrides`` replace fields.
        """
        if isinstance(n_pairings, bool) or not isinstance(n_pairings, int) or n_pairings < 1:
            raise ValueError(f"n_pairings must be an integer >= 1; got {n_pairings!r}")
        fields = dict(
            a_plus=0.777 / n_pairings, a_minus=0.273 / n_pairings, tau_plus=16.8, tau_minus=33.7
        )
        return cls(**{**fields, **overrides})

    def as_triplet(self) -> TripletSTDP:
        """The equivalent `TripletSTDP` (triplet amplitudes 0; tau_x, tau_y then play no role)."""
        zero = jnp.zeros_like(self.a_plus)
        try:
            return TripletSTDP(
                a2_plus=self.a_plus,
                a3_plus=zero,
                a2_minus=self.a_minus,
                a3_minus=zero,
                tau_plus=self.tau_plus,
                tau_minus=self.tau_minus,
                tau_x=self.tau_plus,
                tau_y=self.tau_minus,
                detector=self.detector,
                interaction=self.interaction,
            )
        except ValueError as error:
            message = str(error).replace("TripletSTDP", "PairSTDP")
            for pair, triplet in (("a_plus", "a2_plus"), ("a_minus", "a2_minus")):
                message = message.replace(triplet, pair)
            raise ValueError(message) from None

    def weight_change(self, pre_times, post_times):
        """Total weight change for spike trains (ms, ``+inf``-padded); see `TripletSTDP`."""
        return self.as_triplet().weight_change(pre_times, post_times)

    def initial_state(self) -> STDPState:
        return self.as_triplet().initial_state()

    def vector_field(self, t, state: STDPState, signals: SynapseSignals) -> STDPState:
        return self.as_triplet().vector_field(t, state, signals)

    def efficacy(self, state: STDPState):
        return state.weight


def _row(a2_plus, a3_plus, a2_minus, a3_minus, tau_x, tau_y, interaction):
    return types.MappingProxyType(
        dict(
            a2_plus=a2_plus,
            a3_plus=a3_plus,
            a2_minus=a2_minus,
            a3_minus=a3_minus,
            tau_plus=16.8,
            tau_minus=33.7,
            tau_x=tau_x,
            tau_y=tau_y,
            interaction=interaction,
        )
    )


TRIPLET_STDP_PARAMETER_SETS = types.MappingProxyType(
    {
        # Pfister & Gerstner 2006 fits. Minimal models have A3- = 0, so tau_x plays no role:
        # it is set to the full model's value.
        "visual_cortex_all_to_all_minimal": _row(
            0.0, 6.5e-3, 7.1e-3, 0.0, 101.0, 114.0, "all_to_all"
        ),
        "visual_cortex_all_to_all_full": _row(
            5e-10, 6.2e-3, 7e-3, 2.3e-4, 101.0, 125.0, "all_to_all"
        ),
        "visual_cortex_nearest_minimal": _row(0.0, 5e-2, 8e-3, 0.0, 714.0, 40.0, "nearest"),
        "visual_cortex_nearest_full": _row(8.8e-11, 5.3e-2, 6.6e-3, 3.1e-3, 714.0, 40.0, "nearest"),
        "hippocampal_all_to_all_minimal": _row(
            5.3e-3, 8e-3, 3.5e-3, 0.0, 946.0, 40.0, "all_to_all"
        ),
        "hippocampal_all_to_all_full": _row(
            6.1e-3, 6.7e-3, 1.6e-3, 1.4e-3, 946.0, 27.0, "all_to_all"
        ),
        "hippocampal_nearest_full": _row(4.6e-3, 9.1e-3, 3e-3, 7.5e-9, 575.0, 47.0, "nearest"),
    }
)
"""Published triplet-rule parameter sets (Pfister & Gerstner 2006), tau_plus = 16.8 ms and
tau_minus = 33.7 ms (Bi & Poo 2001) in every row; time constants in ms."""
