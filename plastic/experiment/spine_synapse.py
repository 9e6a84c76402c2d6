"""The spine model as a spike-driven synapse, so that every spike-train protocol (pairs, bursts,
triplets, quadruplets, Poisson trains, spike lists) and the voltage clamp run on it exactly as
on a standalone rule: `SpikePairingExperiment` and `VoltageClampExperiment` take a
`SpineSynapse` wherever they take a `plastic.rules.AbstractSpikeDrivenSynapse`."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.model import SpineModel
from plastic.protocols import Protocol, SpikeTrains
from plastic.protocols.spine_stimuli import (
    SPIKE_CURRENT_AMPLITUDE,
    SPIKE_CURRENT_DURATION,
    spike_train_protocol,
)
from plastic.protocols.voltage_clamp import VoltageClamp
from plastic.rules.spike_driven import AbstractSpikeDrivenSynapse
from plastic.simulate import SolverSettings, simulate


class SpineSynapse(AbstractSpikeDrivenSynapse):
    """A `SpineModel` with a rule, driven by spike trains (`spike_train_protocol`).

    The efficacy is the mean of the rule's efficacy over ``synapse_spines`` at the end of the
    trains: glutamate reaches those spines at every presynaptic spike; every postsynaptic
    spike is evoked by a somatic current pulse.

    Attributes:
        model: the spine model (needs a rule).
        synapse_spines: the spines the presynaptic neuron contacts (static).
        release_duration: glutamate pulse per presynaptic spike, ms.
        spike_current_duration, spike_current_amplitude: the pulse per postsynaptic spike, ms
            and pA.
        clamp: a `VoltageClamp` during the trains, or None (`held_at` sets one at the soma).
        pipette_blocks_spike_channels: `held_at` also blocks the soma's spike channels (the
            caesium and QX-314 of a voltage-clamp pipette; static). Without the block the
            model's somatic K+ conductance draws tens of nA at depolarised commands and its Na+
            channels escape the clamp: through 10 MOhm the soma sits at -14 mV for a 0 mV
            command, and fires near -30 mV.
        settings: how the model is solved.
    """

    model: SpineModel
    synapse_spines: tuple[int, ...] = eqx.field(static=True, default=(0,))
    release_duration: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    spike_current_duration: Float[Array, ""] = eqx.field(
        converter=jnp.asarray, default=SPIKE_CURRENT_DURATION
    )
    spike_current_amplitude: Float[Array, ""] = eqx.field(
        converter=jnp.asarray, default=SPIKE_CURRENT_AMPLITUDE
    )
    clamp: VoltageClamp | None = None
    pipette_blocks_spike_channels: bool = eqx.field(static=True, default=True)
    settings: SolverSettings = eqx.field(default_factory=SolverSettings)

    def __check_init__(self):
        if not isinstance(self.model, SpineModel):
            raise ValueError(f"SpineSynapse.model must be a SpineModel; got {type(self.model)}")
        if self.model.rule is None:
            raise ValueError("SpineSynapse reads the rule's efficacy; SpineModel.rule is None")
        if max(self.synapse_spines) >= self.model.n_spines:
            raise ValueError(
                f"SpineSynapse.synapse_spines {self.synapse_spines} needs a model of more than "
                f"{max(self.synapse_spines)} spines; it has {self.model.n_spines}"
            )

    def protocol(self, trains: SpikeTrains) -> Protocol:
        """The spine model's protocol of ``trains``."""
        return spike_train_protocol(
            trains,
            n_spines=self.model.n_spines,
            synapse_spines=self.synapse_spines,
            release_duration=self.release_duration,
            spike_current_duration=self.spike_current_duration,
            spike_current_amplitude=self.spike_current_amplitude,
            clamp=self.clamp,
        )

    def efficacy(self, trains: SpikeTrains) -> Float[Array, ""]:
        final = simulate(self.model, self.protocol(trains), settings=self.settings).final_state
        efficacies = jax.vmap(self.model.rule.efficacy)(final.rule)
        return efficacies[jnp.asarray(self.synapse_spines)].mean()

    def held_at(self, voltage) -> "SpineSynapse":
        """The soma clamped at ``voltage`` (mV) for the whole protocol, through this synapse's
        clamp (its series conductance and site) if it has one, and the soma's spike channels
        blocked if ``pipette_blocks_spike_channels``."""
        if self.clamp is None:
            held = VoltageClamp(voltage)
        else:
            held = eqx.tree_at(lambda c: c.voltage, self.clamp, jnp.asarray(voltage, float))
        synapse = eqx.tree_at(lambda s: s.clamp, self, held, is_leaf=lambda x: x is None)
        if not self.pipette_blocks_spike_channels:
            return synapse
        spike = self.model.spike
        return eqx.tree_at(
            lambda s: (s.model.spike.sodium_conductance, s.model.spike.potassium_conductance),
            synapse,
            (jnp.zeros_like(spike.sodium_conductance), jnp.zeros_like(spike.potassium_conductance)),
        )
