"""Spine calcium from presynaptic spikes through NMDA receptors at a held membrane potential, and
any calcium rule read by it: the pairing of presynaptic stimulation with a voltage clamp
(Ngezahayo et al. 2000; the calcium of Shouval, Bear & Cooper 2002).

Each presynaptic spike opens NMDA receptors whose calcium current decays in two exponentials
(fast and slow) and is scaled by the Jahr-Stevens magnesium block and the driving force at the
held potential ``V``::

    dCa/dt = -(Ca - rest) / tau_calcium
             + amplitude B(V) (reversal - V) sum_i [f e^{-(t - t_i)/tau_fast}
                                                   + (1 - f) e^{-(t - t_i)/tau_slow}]

Linear in the spikes, so calcium is a sum of closed-form kernels (no solve); the rule is
integrated on it by `solve_rule` with every spike time declared to the step-size controller.
Postsynaptic spikes play no role: the voltage is held.
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.protocols.spike_trains import SpikeTrains
from plastic.rules._validation import check_range
from plastic.rules.base import AbstractRule
from plastic.rules.spike_driven import AbstractSpikeDrivenSynapse
from plastic.rules.standalone import solve_rule

_Scalar = Float[Array, ""]


class NMDACalcium(eqx.Module):
    """Spine calcium (uM) driven by presynaptic spikes through NMDA receptors at a held voltage.

    Defaults follow Shouval, Bear & Cooper 2002 (NMDA calcium current decaying with 50 and
    200 ms in equal parts, reversal 130 mV, calcium decay 50 ms, 1 mM Mg); with the default
    ``amplitude`` one spike raises calcium by 0.06 uM at -65 mV and 0.49 uM at 0 mV.

    Attributes:
        amplitude: calcium influx per unit of open receptors and mV of driving force,
            uM / (ms mV).
        tau_fast, tau_slow: decay of the two NMDA components, ms.
        fraction_fast: share of the fast component, in [0, 1].
        tau_calcium: decay of calcium to rest, ms.
        rest: resting calcium, uM.
        reversal: reversal potential of the calcium current, mV.
        magnesium: extracellular Mg, mM; mg_block_slope (1/mV) and mg_block_kd (mM) of the
            Jahr-Stevens block ``1 / (1 + exp(-slope V) [Mg] / kd)``.
    """

    amplitude: _Scalar = eqx.field(converter=jnp.asarray, default=2e-4)
    tau_fast: _Scalar = eqx.field(converter=jnp.asarray, default=50.0)
    tau_slow: _Scalar = eqx.field(converter=jnp.asarray, default=200.0)
    fraction_fast: _Scalar = eqx.field(converter=jnp.asarray, default=0.5)
    tau_calcium: _Scalar = eqx.field(converter=jnp.asarray, default=50.0)
    rest: _Scalar = eqx.field(converter=jnp.asarray, default=0.05)
    reversal: _Scalar = eqx.field(converter=jnp.asarray, default=130.0)
    magnesium: _Scalar = eqx.field(converter=jnp.asarray, default=1.0)
    mg_block_slope: _Scalar = eqx.field(converter=jnp.asarray, default=0.062)
    mg_block_kd: _Scalar = eqx.field(converter=jnp.asarray, default=3.57)

    def __check_init__(self):
        name = type(self).__name__
        positive = dict(lower=0.0, lower_open=True)
        check_range(name, "amplitude", self.amplitude, lower=0.0, units="uM/(ms mV)")
        for field in ("tau_fast", "tau_slow", "tau_calcium"):
            check_range(name, field, getattr(self, field), **positive, units="ms")
        check_range(name, "fraction_fast", self.fraction_fast, lower=0.0, upper=1.0)
        check_range(name, "rest", self.rest, lower=0.0, units="uM")
        check_range(name, "reversal", self.reversal, units="mV")
        check_range(name, "magnesium", self.magnesium, lower=0.0, units="mM")
        check_range(name, "mg_block_slope", self.mg_block_slope, lower=0.0, units="1/mV")
        check_range(name, "mg_block_kd", self.mg_block_kd, **positive, units="mM")

    def drive(self, voltage) -> Float[Array, ""]:
        """``amplitude B(V) (reversal - V)``, uM/ms per unit kernel, at ``voltage`` (mV)."""
        block = 1.0 / (
            1.0 + jnp.exp(-self.mg_block_slope * voltage) * self.magnesium / self.mg_block_kd
        )
        return self.amplitude * block * (self.reversal - voltage)

    def __call__(self, t, pre_times, voltage) -> Float[Array, ""]:
        """Calcium (uM) at time ``t`` (ms) after spikes at ``pre_times`` (ms, ``+inf``-padded),
        the membrane held at ``voltage`` (mV)."""
        since = t - pre_times
        after = since > 0
        since = jnp.where(after, since, 0.0)  # padding and future spikes add nothing

        def kernel(tau):
            # Calcium from a unit current e^{-s/tau} decaying with tau_calcium.
            same = jnp.abs(tau - self.tau_calcium) < 1e-9 * tau
            safe = jnp.where(same, tau + 1.0, tau)
            distinct = (
                safe
                * self.tau_calcium
                / (safe - self.tau_calcium)
                * (jnp.exp(-since / safe) - jnp.exp(-since / self.tau_calcium))
            )
            return jnp.where(same, since * jnp.exp(-since / tau), distinct)

        shape = self.fraction_fast * kernel(self.tau_fast)
        shape = shape + (1.0 - self.fraction_fast) * kernel(self.tau_slow)
        return self.rest + self.drive(voltage) * jnp.sum(jnp.where(after, shape, 0.0))


class HeldVoltageSignal(eqx.Module):
    """The calcium of `NMDACalcium` as a function of time, for `solve_rule`."""

    calcium: NMDACalcium
    pre_times: Float[Array, " n_pre"]
    voltage: _Scalar

    def __call__(self, t):
        return self.calcium(t, self.pre_times, self.voltage)


class NMDACalciumSynapse(AbstractSpikeDrivenSynapse):
    """Any calcium rule on `NMDACalcium` at a held voltage.

    Attributes:
        rule: an `AbstractRule` that reads calcium (e.g. `ShouvalBearCooper`,
            `KinaseCompetition`, `GraupnerBrunel` with ``calcium_scale`` in uM).
        calcium: the spike-driven calcium.
        voltage: the potential the membrane is held at, mV (a voltage clamp; -65 mV without).
        rtol, atol: tolerances of the rule's solve.
    """

    rule: AbstractRule
    calcium: NMDACalcium
    voltage: _Scalar = eqx.field(converter=jnp.asarray, default=-65.0)
    rtol: float = eqx.field(static=True, default=1e-7)
    atol: float = eqx.field(static=True, default=1e-9)

    def efficacy(self, trains: SpikeTrains) -> Float[Array, ""]:
        signal = HeldVoltageSignal(self.calcium, trains.pre, self.voltage)
        # Spike times are kinks of the calcium: every one is a step edge (padding lies beyond).
        edges = jnp.minimum(trains.pre, trains.duration)
        return solve_rule(
            self.rule,
            signal,
            0.0,
            trains.duration,
            jump_ts=edges,
            rtol=self.rtol,
            atol=self.atol,
            voltage=self.voltage,
        ).efficacy
