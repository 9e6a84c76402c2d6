"""Rules driven by spike trains: a rule together with what turns spikes into what it reads.

`AbstractSpikeDrivenSynapse.efficacy(trains)` is the relative efficacy (1 = no change) of one
synapse at the end of `plastic.protocols.SpikeTrains`, from the rule's initial state. It is pure,
jittable, vmappable over trains and differentiable in the parameters, so a spike-driven rule can
be fitted and swept like the spine model.

- `GraupnerBrunelSynapse`: the Graupner-Brunel rule on its linear spike-driven calcium, solved
  exactly between calcium jumps and threshold crossings (`graupner_brunel_simulate`), noise-free.
- `STDPSynapse`: the pair or triplet STDP rule, event by event (`TripletSTDP.weight_change`):
  efficacy = 1 + the additive weight change.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.protocols.spike_trains import SpikeTrains
from plastic.rules.graupner_brunel import GraupnerBrunel, GraupnerBrunelCalcium
from plastic.rules.graupner_brunel_simulate import _calcium_segments, solve_rho
from plastic.rules.stdp import PairSTDP, TripletSTDP


class AbstractSpikeDrivenSynapse(eqx.Module):
    """A plasticity rule with its spike-to-signal model."""

    @abc.abstractmethod
    def efficacy(self, trains: SpikeTrains) -> Float[Array, ""]:
        """Relative efficacy (dimensionless, 1 = no change) at ``trains.duration``."""

    def held_at(self, voltage: Float[Array, ""]) -> "AbstractSpikeDrivenSynapse":
        """This synapse with its postsynaptic membrane voltage-clamped at ``voltage`` (mV);
        traceable. Default: refused, for a synapse that has no membrane potential."""
        del voltage
        raise ValueError(
            f"{type(self).__name__} has no membrane potential to hold: a voltage clamp needs "
            "a synapse with one (NMDACalciumSynapse, or a SpineModel through SpineSynapse)"
        )


class GraupnerBrunelSynapse(AbstractSpikeDrivenSynapse):
    """Graupner & Brunel 2012, deterministic, on spike-driven calcium.

    The efficacy is the rule's (`GraupnerBrunel.efficacy`: DOWN and UP synapses in proportion
    ``beta``, weights 1 and ``b``) at the end of the trains, with rho integrated adaptively
    between the exact calcium events (`solve_rho`): NaN where a segment would need more than its
    step budget, never a silently wrong value.

    Attributes:
        rule: the rule (thresholds in the calcium's dimensionless units).
        calcium: the spike-driven calcium.
    """

    rule: GraupnerBrunel
    calcium: GraupnerBrunelCalcium

    @classmethod
    def from_published(cls, name: str) -> "GraupnerBrunelSynapse":
        """Rule and calcium of a published set (`GRAUPNER_BRUNEL_PARAMETER_SETS`)."""
        return cls(GraupnerBrunel.from_published(name), GraupnerBrunelCalcium.from_published(name))

    def efficacy(self, trains: SpikeTrains) -> Float[Array, ""]:
        segments = _calcium_segments(
            self.rule, self.calcium, trains.pre, trains.post, jnp.asarray(trains.duration, float)
        )
        return self.rule.efficacy(solve_rho(self.rule, segments).rho)


class STDPSynapse(AbstractSpikeDrivenSynapse):
    """Pair or triplet STDP, exact and event-driven; efficacy = 1 + weight change.

    Attributes:
        rule: a `TripletSTDP` or `PairSTDP`.
    """

    rule: TripletSTDP | PairSTDP

    def efficacy(self, trains: SpikeTrains) -> Float[Array, ""]:
        return 1.0 + self.rule.weight_change(trains.pre, trains.post)
