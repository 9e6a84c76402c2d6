"""What `SpinePairingExperiment` reads from a condition's simulation: spine-head and shaft
calcium before and after each pairing or after the last one, the peak head calcium during the
last pairing, the rule's final efficacy. A loaded indicator's readouts: `indicator_readouts`."""

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_range
from plastic.experiment.experiment import AbstractReadout
from plastic.model import SpineModel, SpineState
from plastic.protocols import Protocol
from plastic.simulate import Simulation

AFTER_PAIRING_DELAY = 4.0
"""ms after the end of a pairing at which the "after" calcium is read by default (the seed
images 4 ms after the stimulation)."""


def dendrite_calcium_at_spines(model: SpineModel, states: SpineState) -> Array:
    """Shaft calcium under each spine (uM; linear interpolation between compartments), for
    states with any leading axes: shape ``(..., n_spines)``."""
    return shaft_at_spines(model, states.dendrite_calcium, model.calcium.resting_calcium)


def shaft_at_spines(model: SpineModel, shaft, soma_value) -> Array:
    # ``shaft`` (..., n_compartments) interpolated under each spine; the soma node (the first
    # of the cable) holds ``soma_value``.
    geo = model.geometry
    weights = geo.attachment_weights(geo.spines.position)
    soma = jnp.broadcast_to(soma_value, shaft.shape[:-1])[..., None]
    return jnp.concatenate([soma, shaft], axis=-1) @ weights.T


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


class CalciumPerPairing(AbstractSpineReadout):
    """Free calcium at each spine at one moment of every pairing, uM; shape
    ``(n_pairings, n_spines)``.

    At the start of each pairing (``moment="before"``) or ``delay`` ms after its end
    (``"after"``); in each spine head (``compartment="head"``) or in the shaft under each spine
    (``"dendrite"``, `dendrite_calcium_at_spines`). Named
    ``{compartment}_calcium_{moment}_per_pairing``.

    Attributes:
        compartment: "head" or "dendrite".
        moment: "before" or "after".
        delay: ms from the end of a pairing to the "after" reading, >= 0 (not read "before").
    """

    compartment: str = eqx.field(static=True, default="head")
    moment: str = eqx.field(static=True, default="after")
    delay: float = AFTER_PAIRING_DELAY
    unit: str = eqx.field(static=True, default="uM")
    dims: tuple[str, ...] = eqx.field(static=True, default=("pairing", "spine"))
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def __check_init__(self):
        if self.compartment not in ("head", "dendrite"):
            raise ValueError(
                f"CalciumPerPairing.compartment must be 'head' or 'dendrite'; got "
                f"{self.compartment!r}"
            )
        if self.moment not in ("before", "after"):
            raise ValueError(
                f"CalciumPerPairing.moment must be 'before' or 'after'; got {self.moment!r}"
            )
        check_range(
            f"{type(self).__name__}.delay", self.delay, lower=0.0, lower_inclusive=True, unit="ms"
        )

    @property
    def name(self) -> str:
        return f"{self.compartment}_calcium_{self.moment}_per_pairing"

    def save_times(self, protocol):
        if self.moment == "before":
            return protocol.pairing_start
        return protocol.pairing_end + self.delay

    def read(self, model, protocol, simulation):
        if self.compartment == "head":
            return simulation.states.head_calcium
        return dendrite_calcium_at_spines(model, simulation.states)


class AbstractCalciumAfterLastPairing(AbstractSpineReadout):
    """The last row of `CalciumPerPairing` after each pairing in ``compartment``: calcium
    ``delay`` ms after the last pairing, uM; shape ``(n_spines,)``. Saved at that one time."""

    compartment: eqx.AbstractClassVar[str]
    delay: eqx.AbstractVar[float]

    def __check_init__(self):
        check_range(
            f"{type(self).__name__}.delay", self.delay, lower=0.0, lower_inclusive=True, unit="ms"
        )

    def per_pairing(self) -> CalciumPerPairing:
        """The readout of every pairing this one reads the last of."""
        return CalciumPerPairing(self.compartment, "after", self.delay)

    def save_times(self, protocol):
        return self.per_pairing().save_times(protocol)[-1:]

    def read(self, model, protocol, simulation):
        return self.per_pairing().read(model, protocol, simulation)[-1]


class HeadCalciumAfter(AbstractCalciumAfterLastPairing):
    """Free calcium in each spine head ``delay`` ms after the last pairing, uM; shape
    ``(n_spines,)``.

    Attributes:
        delay: ms, >= 0.
    """

    compartment: ClassVar[str] = "head"
    delay: float = AFTER_PAIRING_DELAY
    name: str = eqx.field(static=True, default="head_calcium_after")
    unit: str = eqx.field(static=True, default="uM")
    dims: tuple[str, ...] = eqx.field(static=True, default=("spine",))
    sites: tuple[str, ...] = eqx.field(static=True, default=())


class DendriteCalciumAfter(AbstractCalciumAfterLastPairing):
    """Shaft calcium under each spine ``delay`` ms after the last pairing, uM; shape
    ``(n_spines,)``.

    Attributes:
        delay: ms, >= 0.
    """

    compartment: ClassVar[str] = "dendrite"
    delay: float = AFTER_PAIRING_DELAY
    name: str = eqx.field(static=True, default="dendrite_calcium_after")
    unit: str = eqx.field(static=True, default="uM")
    dims: tuple[str, ...] = eqx.field(static=True, default=("spine",))
    sites: tuple[str, ...] = eqx.field(static=True, default=())


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


CALCIUM_PER_PAIRING = tuple(
    CalciumPerPairing(compartment, moment)
    for compartment in ("head", "dendrite")
    for moment in ("before", "after")
)
"""Head and shaft calcium before and after each pairing (`CalciumPerPairing`, the default
delay)."""
