"""Presynaptic stimulation while the postsynaptic membrane is held at a potential (Ngezahayo et
al. 2000; Artola, Brocher & Singer 1990): plasticity against the holding potential, on any
spike-driven synapse that has a membrane to hold (`AbstractSpikeDrivenSynapse.held_at`: a
calcium rule on `NMDACalciumSynapse`, or the spine model through `SpineSynapse`)."""

import dataclasses

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from plastic.experiment.experiment import AbstractExperiment, AbstractReadout, ConditionField
from plastic.experiment.spike_pairing import Efficacy
from plastic.protocols.spike_trains import SpikeTrains, presynaptic_train
from plastic.rules.spike_driven import AbstractSpikeDrivenSynapse

VOLTAGE_CLAMP_FIELDS = (
    ConditionField("v_clamp", "mV", -120.0, 60.0, description="the holding potential"),
    ConditionField("n_pulses", "", 1.0, 10000.0, integer=True,
                   description="presynaptic stimuli during the clamp"),
    ConditionField("frequency", "Hz", 1e-3, 1000.0, description="of the stimuli"),
)  # fmt: skip


class VoltageClampExperiment(AbstractExperiment):
    """``n_pulses`` presynaptic stimuli at ``frequency`` Hz with the membrane held at
    ``v_clamp`` mV, on a synapse that can be held (`AbstractSpikeDrivenSynapse.held_at`);
    readout ``weight`` (ratio) at the end of the stimulation plus ``tail`` ms.

    Attributes:
        fields: `VOLTAGE_CLAMP_FIELDS`.
        readouts: ``(Efficacy(),)``.
        tail: ms between the last stimulus period and the readout.
        max_pulses: the count trains are padded to (set by `sized_for`).
    """

    fields: tuple[ConditionField, ...] = eqx.field(static=True, default=VOLTAGE_CLAMP_FIELDS)
    readouts: tuple[AbstractReadout, ...] = (Efficacy(),)
    tail: float = eqx.field(static=True, default=0.0)
    max_pulses: int = eqx.field(static=True, default=1)

    def check_model(self, model):
        holds = isinstance(model, AbstractSpikeDrivenSynapse) and (
            type(model).held_at is not AbstractSpikeDrivenSynapse.held_at
        )
        if not holds:
            raise ValueError(
                "VoltageClampExperiment runs a spike-driven synapse with a membrane to hold "
                "(plastic.rules.NMDACalciumSynapse, or plastic.experiment.SpineSynapse); got "
                f"{type(model).__name__}"
            )

    def sized_for(self, conditions):
        return dataclasses.replace(self, max_pulses=int(np.max(conditions["n_pulses"])))

    def trains(self, condition) -> SpikeTrains:
        full = presynaptic_train(
            frequency=condition["frequency"], n_spikes=self.max_pulses, tail=self.tail
        )
        used = jnp.arange(self.max_pulses) < condition["n_pulses"]
        duration = condition["n_pulses"] * 1000.0 / condition["frequency"] + self.tail
        return SpikeTrains(jnp.where(used, full.pre, jnp.inf), full.post, duration)

    def run(self, model: AbstractSpikeDrivenSynapse, condition):
        return model.held_at(condition["v_clamp"]).efficacy(self.trains(condition))
