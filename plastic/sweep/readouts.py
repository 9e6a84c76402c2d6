"""What a spine-model sweep keeps of each condition's simulation."""

import abc
from types import MappingProxyType

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_range
from plastic.model import SpineModel
from plastic.protocols import Protocol
from plastic.simulate import Simulation

# Readouts: what is kept of each condition's simulation.


class AbstractReadout(eqx.Module):
    """A named function of (model, protocol, `Simulation`) giving an array with named dims.

    A readout that needs the full state at some times returns them from `save_times`; its call
    then sees exactly those times in ``simulation.save_times`` and ``simulation.states``.
    """

    name: eqx.AbstractClassVar[str]
    dims: eqx.AbstractClassVar[tuple[str, ...]]
    unit: eqx.AbstractClassVar[str]

    def save_times(self, protocol: Protocol) -> Float[Array, " n_save"]:
        """Times (ms) at which this readout needs the full state; none by default."""
        return jnp.zeros((0,))

    def check(self, model: SpineModel) -> None:
        """Raise ``ValueError`` if ``model`` lacks what this readout reads."""

    @abc.abstractmethod
    def __call__(self, model: SpineModel, protocol: Protocol, simulation: Simulation) -> Array:
        """The readout, with one axis per name in ``dims``."""


class HeadCalciumAfter(AbstractReadout):
    """Free calcium in each spine head `AFTER_PAIRING_DELAY` ms after the last pairing, uM;
    shape ``(n_spines,)``."""

    name = "head_calcium_after"
    dims = ("spine",)
    unit = "uM"

    def __call__(self, model, protocol, simulation):
        return simulation.head_calcium_after[-1]


class DendriteCalciumAfter(AbstractReadout):
    """Shaft calcium under each spine `AFTER_PAIRING_DELAY` ms after the last pairing, uM;
    shape ``(n_spines,)``."""

    name = "dendrite_calcium_after"
    dims = ("spine",)
    unit = "uM"

    def __call__(self, model, protocol, simulation):
        return simulation.dendrite_calcium_after[-1]


class PeakHeadCalcium(AbstractReadout):
    """Peak free calcium in each spine head during the last pairing, uM; shape ``(n_spines,)``.

    The maximum over samples every ``resolution`` ms from the start of the last pairing over
    ``window`` ms (clipped to the protocol's end).

    Attributes:
        window: ms. resolution: ms.
    """

    window: float = 100.0
    resolution: float = 0.1

    name = "peak_head_calcium"
    dims = ("spine",)
    unit = "uM"

    def __check_init__(self):
        check_range("PeakHeadCalcium.window", self.window, lower=0.0, unit="ms")
        check_range("PeakHeadCalcium.resolution", self.resolution, lower=0.0, unit="ms")

    def save_times(self, protocol):
        n_samples = int(round(self.window / self.resolution)) + 1
        times = protocol.pairing_start[-1] + self.resolution * jnp.arange(n_samples)
        return jnp.minimum(times, protocol.duration)

    def __call__(self, model, protocol, simulation):
        return simulation.states.head_calcium.max(axis=0)


class FinalEfficacy(AbstractReadout):
    """The rule's efficacy at each spine at the end of the protocol (1 = unchanged);
    shape ``(n_spines,)``. Needs a model with a rule."""

    name = "efficacy"
    dims = ("spine",)
    unit = "1"

    def check(self, model):
        if model.rule is None:
            raise ValueError(
                "readout 'efficacy' needs a model with a plasticity rule; SpineModel.rule is None"
            )

    def __call__(self, model, protocol, simulation):
        return jax.vmap(model.rule.efficacy)(simulation.final_state.rule)


READOUTS = MappingProxyType(
    {r.name: r for r in (HeadCalciumAfter, PeakHeadCalcium, DendriteCalciumAfter, FinalEfficacy)}
)
"""The built-in readouts by name."""
