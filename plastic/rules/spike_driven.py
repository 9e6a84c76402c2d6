"""Rules driven by spike trains: a rule together with what turns spikes into what it reads.

`AbstractSpikeDrivenSynapse.efficacy(trains)` is the relative efficacy (1 = no change) of one
synapse at the end of `plastic.protocols.SpikeTrains`, from the rule's initial state. It is pure,
jittable, vmappable over trains and differentiable in the parameters, so a spike-driven rule can
be fitted and swept like the spine model.

- `GraupnerBrunelSynapse`: the Graupner-Brunel rule on its linear spike-driven calcium, solved
  exactly between calcium jumps and threshold crossings (`graupner_brunel_simulate`), noise-free.
- `STDPSynapse`: the pair or triplet STDP rule, event by event (`TripletSTDP.weight_change`):
  efficacy = 1 + the additive weight change.
- `KinaseCascadeSynapse`: the kinase algorithm's cascade (with or without XCAL) on spike
  calcium, its weight changes committed at the end of every trial.
- `NMDACalciumSynapse` (`plastic.rules.nmda_calcium`): any calcium rule on NMDA calcium.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.protocols.spike_trains import SpikeTrains
from plastic.rules._validation import check_range
from plastic.rules.graupner_brunel import GraupnerBrunel, GraupnerBrunelCalcium
from plastic.rules.graupner_brunel_simulate import _calcium_segments, solve_rho
from plastic.rules.kinase_cascade import KinaseCascade, SpikeCalcium, spike_weight_changes
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


class KinaseCascadeSynapse(AbstractSpikeDrivenSynapse):
    """The kinase algorithm on spike calcium (`spike_weight_changes`): its dW is a band-pass
    derivative of calcium that returns to zero after activity, so it is committed at the end
    of every ``trial`` ms (Axon's theta cycle), and the efficacy is 1 + the sum of the commits
    up to ``trains.duration`` (trains should last a whole number of trials).

    Attributes:
        rule: the cascade (``xcal`` set for XCAL).
        calcium: how spikes make calcium.
        mode: ``"average_of_products"`` (one synaptic cascade) or ``"product_of_averages"``
            (static).
        trial: ms between commits.
        max_trials: the most commits a protocol may have (static: it sets array shapes);
            commits after ``trains.duration`` are dropped.
    """

    rule: KinaseCascade
    calcium: SpikeCalcium = eqx.field(default_factory=SpikeCalcium)
    mode: str = eqx.field(static=True, default="average_of_products")
    trial: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=200.0)
    max_trials: int = eqx.field(static=True, default=1024)

    def __check_init__(self):
        check_range(
            "KinaseCascadeSynapse", "trial", self.trial, lower=0.0, lower_open=True, units="ms"
        )
        if self.mode not in ("average_of_products", "product_of_averages"):
            raise ValueError(
                "KinaseCascadeSynapse.mode must be 'average_of_products' or "
                f"'product_of_averages'; got {self.mode!r}"
            )
        if self.max_trials < 1:
            raise ValueError(f"KinaseCascadeSynapse.max_trials must be >= 1; got {self.max_trials}")

    def efficacy(self, trains: SpikeTrains) -> Float[Array, ""]:
        ends = self.trial * jnp.arange(1, self.max_trials + 1)
        within = ends <= trains.duration
        # Trial ends past the protocol are saved at its end (no integration beyond it) and
        # their commits dropped.
        commits = spike_weight_changes(
            self.rule,
            self.calcium,
            trains.pre,
            trains.post,
            jnp.minimum(ends, trains.duration),
            mode=self.mode,
        )
        return 1.0 + jnp.sum(jnp.where(within, commits, 0.0))
