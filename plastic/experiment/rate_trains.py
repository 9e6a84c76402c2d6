"""Pre- and postsynaptic trains at given rates, repeated, for any spike-driven synapse: the
frequency protocols (Poisson or regular out-of-phase trains) of BCM-like plasticity and of the
kinase algorithm's derivation from the Urakubo model (`plastic.protocols.rate_trains`).

A condition names its ``pattern`` and its ``seed``: the trains are drawn inside the simulation
from ``jax.random.PRNGKey(seed)``, so a condition is reproducible and batches under `jax.vmap`.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic.experiment.experiment import AbstractExperiment, AbstractReadout, ConditionField
from plastic.experiment.spike_pairing import Efficacy
from plastic.protocols.rate_trains import PATTERNS, rate_trains, spike_capacity
from plastic.protocols.spike_trains import SpikeTrains
from plastic.rules.spike_driven import AbstractSpikeDrivenSynapse

RATE_TRAIN_FIELDS = (
    ConditionField(
        "pattern",
        choices=PATTERNS,
        default="poisson",
        description="how spikes are placed (plastic.protocols.rate_trains.PATTERNS)",
    ),
    ConditionField("pre_rate", "Hz", 0.0, 1000.0, description="presynaptic firing rate"),
    ConditionField("post_rate", "Hz", 0.0, 1000.0, description="postsynaptic firing rate"),
    ConditionField("duration", "ms", 1.0, 1e6, description="of the trains in one repeat"),
    ConditionField("n_repeats", "", 1.0, 10000.0, default=1.0, integer=True, description="repeats"),
    ConditionField(
        "repeat_period",
        "ms",
        1.0,
        None,
        description="from the start of one repeat to the next (at least duration)",
    ),
    ConditionField(
        "post_delay",
        "ms",
        0.0,
        100.0,
        default=0.0,
        description="added to every postsynaptic spike (a stimulated spike's latency)",
    ),
    ConditionField(
        "seed", "", 0.0, 2.0**31 - 1, default=0.0, integer=True, description="of the trains"
    ),
    ConditionField(
        "late_fraction",
        "",
        0.0,
        1.0,
        default=0.0,
        description="of each repeat's duration, at its end, at the late rates (a rate step)",
    ),
    ConditionField(
        "late_pre_rate", "Hz", 0.0, 1000.0, default=0.0, description="presynaptic, after the step"
    ),
    ConditionField(
        "late_post_rate",
        "Hz",
        0.0,
        1000.0,
        default=0.0,
        description="postsynaptic, after the step",
    ),
)


class RateTrainExperiment(AbstractExperiment):
    """Repeated pre/post trains at given rates on an `AbstractSpikeDrivenSynapse`; readout
    ``weight`` (ratio), read ``tail`` ms after the last repeat's period ends.

    Attributes:
        fields: `RATE_TRAIN_FIELDS`.
        readouts: ``(Efficacy(),)``.
        tail: ms between the end of the last repeat period and the readout.
        max_repeats, max_pre, max_post: the shapes trains are padded to: repeats, and spikes
            per repeat (set by `sized_for`).
    """

    fields: tuple[ConditionField, ...] = eqx.field(static=True, default=RATE_TRAIN_FIELDS)
    readouts: tuple[AbstractReadout, ...] = (Efficacy(),)
    tail: float = eqx.field(static=True, default=0.0)
    max_repeats: int = eqx.field(static=True, default=1)
    max_pre: int = eqx.field(static=True, default=1)
    max_post: int = eqx.field(static=True, default=1)

    def check_model(self, model):
        if not isinstance(model, AbstractSpikeDrivenSynapse):
            raise ValueError(
                "RateTrainExperiment runs a spike-driven synapse "
                f"(plastic.rules.AbstractSpikeDrivenSynapse); got {type(model).__name__}"
            )

    def sized_for(self, conditions):
        short = np.asarray(conditions["repeat_period"]) < np.asarray(conditions["duration"])
        if np.any(short):
            i = int(np.argmax(short))
            raise ValueError(
                f"condition {i}: repeat_period ({conditions['repeat_period'][i]:g} ms) must be "
                f"at least duration ({conditions['duration'][i]:g} ms)"
            )
        sized = dataclasses.replace(
            self,
            max_repeats=int(np.max(conditions["n_repeats"])),
            max_pre=spike_capacity(
                np.maximum(conditions["pre_rate"], conditions["late_pre_rate"]),
                conditions["duration"],
            ),
            max_post=spike_capacity(
                np.maximum(conditions["post_rate"], conditions["late_post_rate"]),
                conditions["duration"],
            ),
        )
        # Drawn once, concretely, so that a train that outgrows its capacity is refused here,
        # naming its condition, rather than cut inside a compiled run.
        arrays = {name: jnp.asarray(values) for name, values in conditions.items()}
        fits = np.asarray(jax.vmap(lambda c: sized.trains(c)[1])(arrays))
        if not np.all(fits):
            i = int(np.argmin(fits))
            raise ValueError(
                f"condition {i}: its random train outgrew the {sized.max_pre}/{sized.max_post} "
                "spikes a repeat was sized for; report this with the condition"
            )
        return sized

    def trains(self, condition) -> tuple[SpikeTrains, Array]:
        """The trains of ``condition`` and whether they fitted their capacity."""
        return rate_trains(
            jax.random.PRNGKey(condition["seed"].astype(jnp.uint32)),
            pattern=condition["pattern"].astype(int),
            pre_rate=condition["pre_rate"],
            post_rate=condition["post_rate"],
            duration=condition["duration"],
            n_repeats=condition["n_repeats"],
            repeat_period=condition["repeat_period"],
            post_delay=condition["post_delay"],
            tail=self.tail,
            step_time=condition["duration"] * (1.0 - condition["late_fraction"]),
            late_pre_rate=condition["late_pre_rate"],
            late_post_rate=condition["late_post_rate"],
            max_repeats=self.max_repeats,
            max_pre=self.max_pre,
            max_post=self.max_post,
        )

    def run(self, model: AbstractSpikeDrivenSynapse, condition) -> Float[Array, ""]:
        """The efficacy; NaN for trains that outgrew their capacity (spikes would be cut:
        `sized_for` checks the corners of a grid, not every condition)."""
        trains, fits = self.trains(condition)
        return jnp.where(fits, model.efficacy(trains), jnp.nan)
