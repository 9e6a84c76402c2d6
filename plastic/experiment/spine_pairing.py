"""The pairing protocol (`plastic.protocols.pairing_protocol`) on a `SpineModel`: uncaging at
one or two spine heads paired with a somatic current, ``delta_t`` ms apart, read out by
`AbstractSpineReadout`s (calcium, efficacy).

Every numeric argument of `pairing_protocol` is a condition field, with the function's own
default, so that a grid or a data set may vary any of them; the counts that set array shapes
(``n_pairings``, ``uncaged_spines``) are static settings of the experiment. The inter-spine
``distance`` is a condition field too.
"""

import dataclasses
import inspect
import json

import equinox as eqx

from plastic._validation import is_concrete
from plastic.experiment.experiment import AbstractExperiment, ConditionField
from plastic.experiment.indicator_readouts import INDICATOR_PER_PAIRING
from plastic.experiment.spine_readouts import (
    CALCIUM_PER_PAIRING,
    AbstractSpineReadout,
    DendriteCalciumAfter,
    FinalEfficacy,
    HeadCalciumAfter,
    PairingSimulation,
    PeakHeadCalcium,
)
from plastic.model import SpineModel
from plastic.protocols import Protocol, pairing_protocol
from plastic.simulate import SolverSettings, simulate_each

_ARGUMENTS = inspect.signature(pairing_protocol).parameters

DEFAULT_DISTANCE = 2.0
"""um: the default ``distance`` of spine 1 from spine 0 (also of ``plastic simulate`` and
``plastic sweep``)."""


def _argument(name: str, unit: str, lower: float | None, description: str) -> ConditionField:
    """The condition field of `pairing_protocol`'s argument ``name``, with its default."""
    return ConditionField(
        name, unit, lower, None, default=_ARGUMENTS[name].default, description=description
    )


SPINE_PAIRING_FIELDS = (
    ConditionField(
        "delta_t",
        "ms",
        description="onset of the somatic current minus onset of the first uncaging; the "
        "pairing must fit inside its period",
    ),
    _argument("period", "ms", 0.0, "from the start of one pairing to the start of the next"),
    _argument(
        "second_spine_delay", "ms", 0.0, "onset of each further uncaged spine after the one before"
    ),
    _argument("uncaging_duration", "ms", 0.0, "of each uncaging pulse"),
    _argument("current_duration", "ms", 0.0, "of the somatic current pulse"),
    _argument("current_amplitude", "pA", None, "of the somatic current (positive depolarises)"),
    _argument("first_pairing", "ms", 0.0, "onset of the first pairing"),
    _argument("quiet", "ms", 0.0, "without input after the last pairing"),
    ConditionField(
        "distance",
        "um",
        default=DEFAULT_DISTANCE,
        description="position of spine 1 minus position of spine 0 (spine 0 stays where the "
        "model has it; the model's own position of spine 1 is not used)",
    ),
)
"""The condition fields of `SpinePairingExperiment`: ``delta_t`` (no default), the other
numeric arguments of `pairing_protocol` (each with its default there; lower bounds 0 where it
needs a positive value: exactly 0 is refused by `SpinePairingExperiment.sized_for`, naming the
argument), and ``distance`` (default `DEFAULT_DISTANCE`)."""

_PROTOCOL_FIELDS = tuple(
    field.name for field in SPINE_PAIRING_FIELDS if field.name not in ("delta_t", "distance")
)


class SpinePairingExperiment(AbstractExperiment):
    """`pairing_protocol` on a `SpineModel`, one simulation a condition, saved at the times its
    readouts need.

    Attributes:
        fields: `SPINE_PAIRING_FIELDS`.
        readouts: what `run` computes (default: head calcium after and peak head calcium
            during the last pairing, shaft calcium after it; `FinalEfficacy` needs a rule).
        n_pairings: pairings (static: it sets array shapes).
        uncaged_spines: indices of the spines uncaged in each pairing, in order of onset.
        settings: how the model is solved.
    """

    fields: tuple[ConditionField, ...] = eqx.field(static=True, default=SPINE_PAIRING_FIELDS)
    readouts: tuple[AbstractSpineReadout, ...] = (
        HeadCalciumAfter(),
        PeakHeadCalcium(),
        DendriteCalciumAfter(),
    )
    n_pairings: int = eqx.field(static=True, default=_ARGUMENTS["n_pairings"].default)
    uncaged_spines: tuple[int, ...] = eqx.field(
        static=True, default=_ARGUMENTS["uncaged_spines"].default
    )
    settings: SolverSettings = eqx.field(default_factory=SolverSettings)

    def __check_init__(self):
        if not isinstance(self.n_pairings, int) or self.n_pairings < 1:
            raise ValueError(f"n_pairings must be an integer >= 1; got {self.n_pairings!r}")
        spines = tuple(self.uncaged_spines)
        if not spines or len(set(spines)) != len(spines) or min(spines) < 0:
            raise ValueError(f"uncaged_spines must be distinct indices >= 0; got {spines}")
        names = [readout.name for readout in self.readouts]
        if not all(isinstance(r, AbstractSpineReadout) for r in self.readouts):
            raise ValueError("readouts must be AbstractSpineReadouts (they read a Simulation)")
        if len(set(names)) != len(names):
            raise ValueError(f"readout names must be distinct; got {names}")

    def check_model(self, model):
        if not isinstance(model, SpineModel):
            kind = type(model).__name__
            raise ValueError(f"SpinePairingExperiment runs a SpineModel; got {kind}")
        if max(self.uncaged_spines) >= model.n_spines:
            raise ValueError(
                f"uncaged_spines {tuple(self.uncaged_spines)} needs a model of more than "
                f"{max(self.uncaged_spines)} spines; it has {model.n_spines}"
            )
        for readout in self.readouts:
            readout.check(model)

    def protocol(self, condition, n_spines: int) -> Protocol:
        """The pairing protocol of ``condition`` for a model of ``n_spines`` spines."""
        arguments = {name: condition[name] for name in _PROTOCOL_FIELDS}
        return pairing_protocol(
            condition["delta_t"],
            n_pairings=self.n_pairings,
            uncaged_spines=tuple(self.uncaged_spines),
            n_spines=n_spines,
            **arguments,
        )

    def model_in_condition(self, model: SpineModel, condition) -> SpineModel:
        """``model`` with spine 1 ``condition["distance"]`` um from spine 0. A one-spine model
        has no spine 1: it takes only the default distance (another is refused where the value
        is concrete) and stays as it is."""
        distance = condition["distance"]
        if model.n_spines < 2:
            if is_concrete(distance) and float(distance) != DEFAULT_DISTANCE:
                raise ValueError(
                    f"distance {float(distance):g} um needs a model of >= 2 spines; it has "
                    f"{model.n_spines} (leave distance at its default, {DEFAULT_DISTANCE:g} um)"
                )
            return model
        return model.with_spine_distance(distance)

    def configure(self, model: SpineModel, condition) -> tuple[SpineModel, Protocol]:
        """The model and the protocol of ``condition``."""
        model = self.model_in_condition(model, condition)
        return model, self.protocol(condition, model.n_spines)

    def sized_for(self, conditions):
        # Each condition's protocol is built with concrete values, so that a pairing that does
        # not fit its period (or a period, duration or delay out of range) is refused here,
        # naming the argument, before anything is compiled. In a sweep these are the grid's
        # corners: the limits are linear in the values, so the corners bound the grid.
        n_spines = max(self.uncaged_spines) + 1
        for i in range(len(conditions["delta_t"])):
            values = {name: float(column[i]) for name, column in conditions.items()}
            try:
                self.protocol(values, n_spines)
            except ValueError as error:
                raise ValueError(f"condition {values}: {error}") from None
        return self

    def attributes(self):
        settings = dict(n_pairings=self.n_pairings, uncaged_spines=list(self.uncaged_spines))
        return {
            "protocol_arguments": json.dumps(settings),
            "solver": json.dumps(self.settings.describe()),
        }

    def run(self, model: SpineModel, condition) -> PairingSimulation:
        model, protocol = self.configure(model, condition)
        requested = [readout.save_times(protocol) for readout in self.readouts]
        simulations = simulate_each(model, protocol, requested, self.settings)
        names = [readout.name for readout in self.readouts]
        return PairingSimulation(model, protocol, dict(zip(names, simulations)))

    def measure(self, model, condition, names):
        """The readouts ``names`` and the solve's result code, from one simulation saved only
        where they need it."""
        asked = dataclasses.replace(self, readouts=tuple(self.readout(name) for name in names))
        return AbstractExperiment.measure(asked, model, condition, names)


SPINE_READOUTS = (
    HeadCalciumAfter(),
    PeakHeadCalcium(),
    DendriteCalciumAfter(),
    FinalEfficacy(),
    *CALCIUM_PER_PAIRING,
    *INDICATOR_PER_PAIRING,
)
"""Every built-in `AbstractSpineReadout`, with its defaults (the command line's ``--readout``
names)."""
