"""Pairs and bursts of pairs of pre- and postsynaptic spikes, for any spike-driven synapse.

One experiment covers the classic spike-timing protocols: ``n_bursts`` bursts every
``burst_period`` ms, each of ``n_per_burst`` presynaptic spikes at ``frequency`` Hz, each paired
with a postsynaptic spike at ``delta_t = t_post - t_pre`` (Markram et al. 1997: 5 pairs at 2-40
Hz, 10 bursts every 4 s; Sjostrom et al. 2001). One pair per burst is the regular pairing
protocol (Bi & Poo 1998: 60 pairs at 1 Hz is ``n_bursts = 60``, ``burst_period = 1000``). Counts
may differ between conditions: trains are padded to the largest counts of the batch.
"""

import dataclasses

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic.experiment.experiment import AbstractExperiment, AbstractReadout, ConditionField
from plastic.protocols.spike_trains import SpikeTrains, burst_pairs
from plastic.rules.spike_driven import AbstractSpikeDrivenSynapse


class Efficacy(AbstractReadout):
    """The synapse's relative efficacy at the end of the protocol (EPSP or weight after over
    before; 1 = no change)."""

    name: str = eqx.field(static=True, default="weight")
    unit: str = eqx.field(static=True, default="ratio")
    dims: tuple[str, ...] = eqx.field(static=True, default=())
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def __call__(self, model, condition, result):
        return result


SPIKE_PAIRING_FIELDS = (
    ConditionField(
        "delta_t",
        "ms",
        -1000.0,
        1000.0,
        description="t_post - t_pre of each pair; positive: pre before post",
    ),
    ConditionField(
        "frequency",
        "Hz",
        1e-3,
        1000.0,
        default=1.0,
        description="of the pairs within a burst (no role with one pair a burst)",
    ),
    ConditionField(
        "n_per_burst", "", 1.0, 1000.0, default=1.0, integer=True, description="pairs in a burst"
    ),
    ConditionField(
        "n_bursts",
        "",
        1.0,
        10000.0,
        integer=True,
        description="bursts (pairings, with one pair a burst)",
    ),
    ConditionField(
        "burst_period",
        "ms",
        1e-3,
        None,
        description="from the start of one burst to the start of the next",
    ),
)


class SpikePairingExperiment(AbstractExperiment):
    """Bursts of pre/post pairs on an `AbstractSpikeDrivenSynapse`; readout ``weight`` (ratio),
    read ``tail`` ms after the last burst period ends.

    Attributes:
        fields: `SPIKE_PAIRING_FIELDS`.
        readouts: ``(Efficacy(),)``.
        tail: ms between the end of the last burst period and the readout.
        max_per_burst, max_bursts: the counts trains are padded to (set by `sized_for`).
    """

    fields: tuple[ConditionField, ...] = eqx.field(static=True, default=SPIKE_PAIRING_FIELDS)
    readouts: tuple[AbstractReadout, ...] = (Efficacy(),)
    tail: float = eqx.field(static=True, default=0.0)
    max_per_burst: int = eqx.field(static=True, default=1)
    max_bursts: int = eqx.field(static=True, default=1)

    def check_model(self, model):
        if not isinstance(model, AbstractSpikeDrivenSynapse):
            raise ValueError(
                "SpikePairingExperiment runs a spike-driven synapse "
                f"(plastic.rules.AbstractSpikeDrivenSynapse); got {type(model).__name__}"
            )

    def sized_for(self, conditions):
        # Each condition's protocol is built once, concretely, so that a pairing that does not
        # fit its period is refused here, naming the argument, before anything is compiled.
        for i in range(len(conditions["delta_t"])):
            values = {name: float(column[i]) for name, column in conditions.items()}
            try:
                self.trains(values, int(values["n_per_burst"]), int(values["n_bursts"]))
            except ValueError as error:
                raise ValueError(f"condition {values}: {error}") from None
        return dataclasses.replace(
            self,
            max_per_burst=int(np.max(conditions["n_per_burst"])),
            max_bursts=int(np.max(conditions["n_bursts"])),
        )

    def trains(self, condition, n_per_burst: int, n_bursts: int) -> SpikeTrains:
        """The trains of ``condition`` padded to ``n_per_burst`` x ``n_bursts`` pairs."""
        full = burst_pairs(
            condition["delta_t"],
            frequency=condition["frequency"],
            n_per_burst=n_per_burst,
            n_bursts=n_bursts,
            burst_period=condition["burst_period"],
            tail=self.tail,
        )
        burst = jnp.repeat(jnp.arange(n_bursts), n_per_burst)
        pair = jnp.tile(jnp.arange(n_per_burst), n_bursts)
        used = (burst < condition["n_bursts"]) & (pair < condition["n_per_burst"])

        def padded(times):
            return jnp.sort(jnp.where(used, times, jnp.inf))

        duration = condition["n_bursts"] * condition["burst_period"] + self.tail
        return SpikeTrains(padded(full.pre), padded(full.post), duration)

    def run(self, model: AbstractSpikeDrivenSynapse, condition) -> Float[Array, ""]:
        return model.efficacy(self.trains(condition, self.max_per_burst, self.max_bursts))
