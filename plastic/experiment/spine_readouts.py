"""What `SpinePairingExperiment` reads from a condition's simulation: spine-head and shaft
calcium after the last pairing, the peak head calcium during it, the rule's final efficacy."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_range
from plastic.experiment.experiment import AbstractReadout
from plastic.model import SpineModel
from plastic.protocols import Protocol
from plastic.simulate import Simulation


class PairingSimulation(eqx.Module):
    """What `SpinePairingExperiment.run` returns for one condition.

    Attributes:
        model: the model in the condition (its second spine moved to the condition's distance).
        protocol: the condition's pairing protocol.
        simulations: per readout name, the one simulation seen at that readout's own
            `AbstractSpineReadout.save_times` (``save_times`` and ``states`` cut to them).
    """

    model: SpineModel
    protocol: Protocol
    simulations: dict[str, Simulation]


class AbstractSpineReadout(AbstractReadout):
    """A readout of a `SpineModel`'s simulation of a protocol: `read` of (model, protocol,
    `Simulation`), an array with one axis per name in ``dims``.

    A readout that needs the full state at some times returns them from `save_times`; `read`
    then sees exactly those times in ``simulation.save_times`` and ``simulation.states``.
    """

    def save_times(self, protocol: Protocol) -> Float[Array, " n_save"]:
        """Times (ms) at which this readout needs the full state; none by default."""
        del protocol
        return jnp.zeros((0,))

    def check(self, model: SpineModel) -> None:
        """Raise ``ValueError`` if ``model`` lacks what this readout reads (default: accept)."""

    @abc.abstractmethod
    def read(self, model: SpineModel, protocol: Protocol, simulation: Simulation) -> Array:
        """The readout, with one axis per name in ``dims``."""

    def __call__(self, model, condition, result: PairingSimulation) -> Array:
        del model, condition  # the model in its condition is the result's
        return self.read(result.model, result.protocol, result.simulations[self.name])


class HeadCalciumAfter(AbstractSpineReadout):
    """Free calcium in each spine head `AFTER_PAIRING_DELAY` ms after the last pairing, uM;
    shape ``(n_spines,)``."""

    name: str = eqx.field(static=True, default="head_calcium_after")
    unit: str = eqx.field(static=True, default="uM")
    dims: tuple[str, ...] = eqx.field(static=True, default=("spine",))
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def read(self, model, protocol, simulation):
        return simulation.head_calcium_after[-1]


class DendriteCalciumAfter(AbstractSpineReadout):
    """Shaft calcium under each spine `AFTER_PAIRING_DELAY` ms after the last pairing, uM;
    shape ``(n_spines,)``."""

    name: str = eqx.field(static=True, default="dendrite_calcium_after")
    unit: str = eqx.field(static=True, default="uM")
    dims: tuple[str, ...] = eqx.field(static=True, default=("spine",))
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def read(self, model, protocol, simulation):
        return simulation.dendrite_calcium_after[-1]


class PeakHeadCalcium(AbstractSpineReadout):
    """Peak free calcium in each spine head during the last pairing, uM; shape ``(n_spines,)``.

    The maximum over samples every ``resolution`` ms from the start of the last pairing over
    ``window`` ms (clipped to the protocol's end).

    Attributes:
        window: ms. resolution: ms.
    """

    window: float = 100.0
    resolution: float = 0.1
    name: str = eqx.field(static=True, default="peak_head_calcium")
    unit: str = eqx.field(static=True, default="uM")
    dims: tuple[str, ...] = eqx.field(static=True, default=("spine",))
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def __check_init__(self):
        check_range("PeakHeadCalcium.window", self.window, lower=0.0, unit="ms")
        check_range("PeakHeadCalcium.resolution", self.resolution, lower=0.0, unit="ms")

    def save_times(self, protocol):
        n_samples = int(round(self.window / self.resolution)) + 1
        times = protocol.pairing_start[-1] + self.resolution * jnp.arange(n_samples)
        return jnp.minimum(times, protocol.duration)

    def read(self, model, protocol, simulation):
        return simulation.states.head_calcium.max(axis=0)


class FinalEfficacy(AbstractSpineReadout):
    """The rule's efficacy at each spine at the end of the protocol (1 = unchanged);
    shape ``(n_spines,)``. Needs a model with a rule."""

    name: str = eqx.field(static=True, default="efficacy")
    unit: str = eqx.field(static=True, default="1")
    dims: tuple[str, ...] = eqx.field(static=True, default=("spine",))
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def check(self, model):
        if model.rule is None:
            raise ValueError(
                "readout 'efficacy' needs a model with a plasticity rule; SpineModel.rule is None"
            )

    def read(self, model, protocol, simulation):
        return jax.vmap(model.rule.efficacy)(simulation.final_state.rule)


SPINE_READOUTS = (HeadCalciumAfter(), PeakHeadCalcium(), DendriteCalciumAfter(), FinalEfficacy())
"""Every built-in `AbstractSpineReadout`, with its defaults (the command line's ``--readout``
names)."""
