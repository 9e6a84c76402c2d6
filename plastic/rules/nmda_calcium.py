"""Spine calcium from presynaptic spikes through NMDA receptors, with the membrane held at a
potential (a voltage clamp) or depolarised by back-propagating action potentials, and any
calcium rule read by it: the calcium model of Shouval, Bear & Cooper 2002, for voltage-clamp
pairing (Ngezahayo et al. 2000) and spike timing alike.

Each presynaptic spike opens NMDA receptors whose conductance decays in two exponentials
(fast and slow); each postsynaptic spike adds a back-propagating AP ``bap_delay`` ms later::

    V(t) = V_held + bap_amplitude sum_j [b e^{-(t - t_j)/tau_bap_fast}
                                         + (1 - b) e^{-(t - t_j)/tau_bap_slow}]
    dCa/dt = -(Ca - rest) / tau_calcium
             + amplitude B(V) (reversal - V) sum_i [f e^{-(t - t_i)/tau_fast}
                                                   + (1 - f) e^{-(t - t_i)/tau_slow}]

with B the Jahr-Stevens magnesium block. Calcium and the rule's state are integrated together
(Tsit5), every spike and AP onset declared to the step-size controller. Under a voltage clamp
(``bap_amplitude = 0``, or no postsynaptic spikes) V is the held potential.
"""

import dataclasses

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.protocols.spike_trains import SpikeTrains
from plastic.rules._validation import check_range
from plastic.rules.base import AbstractRule, SynapseSignals
from plastic.rules.spike_driven import AbstractSpikeDrivenSynapse
from plastic.solver_status import diffeqsolve, nan_where_failed

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
        bap_amplitude: peak depolarisation of a back-propagating AP at the spine, mV (Shouval
            2002: 100 mV); tau_bap_fast, tau_bap_slow: its two decays, ms (3 and 25, the slow
            one the after-depolarisation behind their LTD at pre-after-post);
            bap_fraction_fast: the fast share (0.75); bap_delay: from the somatic spike, ms.
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
    bap_amplitude: _Scalar = eqx.field(converter=jnp.asarray, default=100.0)
    tau_bap_fast: _Scalar = eqx.field(converter=jnp.asarray, default=3.0)
    tau_bap_slow: _Scalar = eqx.field(converter=jnp.asarray, default=25.0)
    bap_fraction_fast: _Scalar = eqx.field(converter=jnp.asarray, default=0.75)
    bap_delay: _Scalar = eqx.field(converter=jnp.asarray, default=2.0)

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
        check_range(name, "bap_amplitude", self.bap_amplitude, lower=0.0, units="mV")
        for field in ("tau_bap_fast", "tau_bap_slow"):
            check_range(name, field, getattr(self, field), **positive, units="ms")
        check_range(name, "bap_fraction_fast", self.bap_fraction_fast, lower=0.0, upper=1.0)
        check_range(name, "bap_delay", self.bap_delay, lower=0.0, units="ms")

    def block(self, voltage) -> Float[Array, ""]:
        """The Jahr-Stevens magnesium block at ``voltage`` (mV), in [0, 1]."""
        scale = self.magnesium / self.mg_block_kd
        return 1.0 / (1.0 + jnp.exp(-self.mg_block_slope * voltage) * scale)

    def voltage(self, t, post_times, held) -> Float[Array, ""]:
        """Spine voltage (mV) at ``t`` (ms): ``held`` plus the APs of the postsynaptic spikes at
        ``post_times`` (ms, ``+inf``-padded)."""
        since = t - (post_times + self.bap_delay)
        after = since >= 0
        since = jnp.where(after, since, 0.0)
        shape = self.bap_fraction_fast * jnp.exp(-since / self.tau_bap_fast) + (
            1.0 - self.bap_fraction_fast
        ) * jnp.exp(-since / self.tau_bap_slow)
        return held + self.bap_amplitude * jnp.sum(jnp.where(after, shape, 0.0))

    def influx(self, t, pre_times, voltage) -> Float[Array, ""]:
        """Calcium influx (uM/ms) at ``t`` (ms) through the receptors opened by the spikes at
        ``pre_times`` (ms, ``+inf``-padded), the spine at ``voltage`` (mV)."""
        since = t - pre_times
        after = since >= 0
        since = jnp.where(after, since, 0.0)  # padding and later spikes open nothing
        open_ = self.fraction_fast * jnp.exp(-since / self.tau_fast) + (
            1.0 - self.fraction_fast
        ) * jnp.exp(-since / self.tau_slow)
        conductance = jnp.sum(jnp.where(after, open_, 0.0))
        return self.amplitude * conductance * self.block(voltage) * (self.reversal - voltage)


class NMDACalciumSynapse(AbstractSpikeDrivenSynapse):
    """Any calcium rule on `NMDACalcium`: spike pairs, bursts and voltage-clamp pairing.

    Attributes:
        rule: an `AbstractRule` that reads calcium (e.g. `ShouvalBearCooper`,
            `KinaseCompetition`, `GraupnerBrunel` with ``calcium_scale`` in uM).
        calcium: the spike-driven calcium and spine voltage.
        voltage: the potential the membrane rests or is held at, mV (-65 mV: rest).
        clamped: the voltage is held: postsynaptic spikes give no AP (a voltage clamp).
        rtol, atol: tolerances of the solve (calcium uM, the rule's state).
        max_steps: cap on the solver's steps.
    """

    rule: AbstractRule
    calcium: NMDACalcium
    voltage: _Scalar = eqx.field(converter=jnp.asarray, default=-65.0)
    clamped: bool = eqx.field(static=True, default=False)
    rtol: float = eqx.field(static=True, default=1e-7)
    atol: float = eqx.field(static=True, default=1e-9)
    max_steps: int = eqx.field(static=True, default=65_536)

    def solve(self, trains: SpikeTrains, save_ts=None) -> diffrax.Solution:
        """Calcium (uM) and the rule's state from 0 to ``trains.duration`` (ms), as the pytree
        ``(calcium, rule state)``, saved at ``save_ts`` (ms) and at the end; NaN everywhere if
        the solve failed (``max_steps`` reached)."""
        calcium = self.calcium
        post = jnp.full_like(trains.post, jnp.inf) if self.clamped else trains.post

        def vector_field(t, state, args):
            ca, rule_state = state
            voltage = calcium.voltage(t, post, self.voltage)
            d_ca = (
                calcium.influx(t, trains.pre, voltage) - (ca - calcium.rest) / calcium.tau_calcium
            )
            local = SynapseSignals(
                calcium=ca, voltage=voltage, glutamate=jnp.zeros_like(ca), soma_voltage=voltage
            )
            return d_ca, self.rule.vector_field(t, rule_state, local)

        # Spikes and AP onsets are kinks of the drive: step edges (padding lies beyond the end).
        edges = jnp.minimum(
            jnp.concatenate([trains.pre, post + calcium.bap_delay]), trains.duration
        )
        controller = diffrax.ClipStepSizeController(
            diffrax.PIDController(rtol=self.rtol, atol=self.atol), jump_ts=edges
        )
        saveat = diffrax.SaveAt(t1=True) if save_ts is None else diffrax.SaveAt(ts=save_ts, t1=True)
        state0 = (jnp.asarray(calcium.rest, float), self.rule.initial_state())
        solution, result = diffeqsolve(
            diffrax.ODETerm(vector_field),
            diffrax.Tsit5(),
            0.0,
            trains.duration,
            None,
            state0,
            saveat=saveat,
            stepsize_controller=controller,
            max_steps=self.max_steps,
        )
        # A solve that failed (its step limit, at parameters where calcium is too stiff) gives
        # NaN, not numbers: a fit rejects the step and a sampler the proposal, where an error
        # raised inside the compiled program would end either.
        return eqx.tree_at(lambda s: s.ys, solution, nan_where_failed(solution.ys, result))

    def held_at(self, voltage):
        # Held: postsynaptic spikes give no AP (`clamped`).
        return dataclasses.replace(self, voltage=voltage, clamped=True)

    def efficacy(self, trains: SpikeTrains) -> Float[Array, ""]:
        _, rule_state = jax.tree.map(lambda x: x[-1], self.solve(trains).ys)
        return self.rule.efficacy(rule_state)
