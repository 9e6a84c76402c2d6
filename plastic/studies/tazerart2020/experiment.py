"""The experiment of Tazerart et al. 2020 on the spine model: its condition fields, its readouts
(uEPSP by test uncaging, neck and head of the activated spine and its neighbour, calcium before
and after each pairing, the eq. 2 length constant across inter-spine distances), run coupled or
replayed."""

import dataclasses
import json

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic.biophysics import CalciumIndicator
from plastic.experiment import (
    AbstractAcrossConditions,
    AbstractExperiment,
    AbstractReadout,
    ConditionField,
    delta_g_over_r_index,
)
from plastic.model import SpineModel
from plastic.readouts import fit_length_constant
from plastic.replay import check_replay_parameters
from plastic.simulate import SolverSettings
from plastic.studies.tazerart2020.model import NEIGHBOUR_DISTANCE
from plastic.studies.tazerart2020.protocol import (
    DRUG_NAMES,
    EARLY_PAIRINGS,
    LATE_PAIRINGS,
    READOUT_DELAY,
    ConditionReadouts,
    model_in_condition,
    run_in_condition,
)
from plastic.studies.tazerart2020.replay import RECORDED, record_conditions, replay_condition

IMAGED_SITES = ("activated", "dendrite")
"""The sites of the imaging readouts: the activated spine's head and the dendrite under it."""
SITES = ("activated", "neighbour")
"""The sites of the structural readouts: the first uncaged spine, and the other spine (uncaged
too in two-spine conditions, an unstimulated neighbour otherwise)."""
LENGTH_CONSTANT_DISTANCES = (1.0, 3.0, 8.0, 20.0, 40.0, 80.0)
"""um: the inter-spine distances at which a ``length_constant`` row's pairs are simulated before
eq. 2 is fitted to their uEPSP changes. Dense below 10 um for lambda(+7 ms) = 5.7 um, out to 80
um for lambda(-15 ms) = 39.7 um (the paper's pairs lie 1-100 um apart); 3 and 20 um coincide
with the clustered and distributed +7 ms conditions, which are then simulated once."""

FIELDS = (
    ConditionField("delta_t", "ms", -1000.0, 1000.0,
                   description="onset of the somatic current minus onset of the first uncaging"),
    ConditionField("n_spines_uncaged", "", 1.0, 2.0, integer=True,
                   description="1, or 2 with the second spine uncaged 2.1 ms after the first"),
    ConditionField("distance", "um", 0.0, 150.0, default=NEIGHBOUR_DISTANCE,
                   description="between the two spines (uncaged pair, or uncaged spine and its "
                   "neighbour); 0: both necks on one point of the dendrite, the limit of a "
                   "clustered pair"),
    ConditionField("drug", choices=DRUG_NAMES, default="none",
                   description="a full block of NMDA receptors, GluR1 insertion or actin"),
    ConditionField("temperature", "degC", 0.0, 45.0, default=21.0),
    ConditionField("indicator", "uM", 0.0, 5000.0, default=0.0,
                   description="calcium indicator (Fluo-4) loaded through the pipette, for the "
                   "imaging readouts; 0: none, as in the plasticity experiments"),
)  # fmt: skip
"""The condition fields of `TazerartExperiment`."""


class Measured(AbstractReadout):
    """A readout of `ConditionReadouts`, the attribute of its name."""

    name: str = eqx.field(static=True)
    unit: str = eqx.field(static=True)
    dims: tuple[str, ...] = eqx.field(static=True, default=())
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def __call__(self, model, condition, result: ConditionReadouts) -> Array:
        return getattr(result, self.name)


class PairingCalcium(AbstractReadout):
    """Free calcium during induction, one value per pairing and site (`ImagedCalcium`): in the
    spine head (``head_...``) or the dendrite under it (``dendrite_...``), just before each
    pairing (``..._before``) or 4 ms after its end (``..._after``). A trace, not a number a row
    reads: read it with `plastic.experiment.Predictor.condition_values` or sweep it. Coupled
    mode only."""

    name: str = eqx.field(static=True)
    unit: str = eqx.field(static=True, default="uM")
    dims: tuple[str, ...] = eqx.field(static=True, default=("pairing", "site"))
    sites: tuple[str, ...] = eqx.field(static=True, default=SITES)

    def __call__(self, model, condition, result: ConditionReadouts) -> Array:
        if result.calcium is None:
            raise ValueError(
                f"readout {self.name!r}: a replay does not solve the calcium of the dendrite; "
                "use TazerartExperiment(mode='coupled')"
            )
        return getattr(result.calcium, self.name.replace("_calcium", ""))


class ImagingIndex(AbstractReadout):
    """What Figs. 6-8 say of each imaged condition: how much Delta G / R of the indicator
    (condition field ``indicator``) changes over the repetitions, before (``calcium_before``)
    or after (``calcium_after``) each pairing, in the activated spine's head (site
    ``activated``) and the dendrite under it (``dendrite``): 1 = no change
    (`plastic.experiment.delta_g_over_r_index` over repetitions `EARLY_PAIRINGS` and
    `LATE_PAIRINGS`). The paper states these as directions: data rows bound them (``relation``
    ``>=`` 1.10 for an increase, ``<=`` 1.05 for no change; `imaging_data`). Coupled mode, at
    least 40 pairings."""

    name: str = eqx.field(static=True)
    unit: str = eqx.field(static=True, default="1")
    dims: tuple[str, ...] = eqx.field(static=True, default=("site",))
    sites: tuple[str, ...] = eqx.field(static=True, default=IMAGED_SITES)

    def __call__(self, model, condition, result: ConditionReadouts) -> Array:
        if result.calcium is None or result.calcium.imaged is None:
            raise ValueError(
                f"readout {self.name!r} needs the imaged calcium of a coupled run with an "
                "indicator (TazerartExperiment(mode='coupled'), through a Predictor)"
            )
        moment = self.name.removeprefix("calcium_")
        head_before, head_after, dendrite_before, dendrite_after = (
            signal[:, 0] for signal in result.calcium.imaged
        )
        windows = (EARLY_PAIRINGS, LATE_PAIRINGS)
        return jnp.stack(
            [
                delta_g_over_r_index(head_before, head_after, moment, *windows),
                delta_g_over_r_index(dendrite_before, dendrite_after, moment, *windows),
            ]
        )


IMAGING_READOUTS = (ImagingIndex("calcium_before"), ImagingIndex("calcium_after"))
"""The two `ImagingIndex` readouts, named like the paper's findings' observables."""


class ImagingContrast(AbstractAcrossConditions):
    """An `ImagingIndex` (``of``) at the second of ``values`` of the condition field ``field``
    minus that at the first, the row's other fields kept: how the paper's orderings between
    imaged conditions (more accumulation for two clustered spines than one, for +13 than for
    +7 ms) enter a fit, as a row bounded below by 0 (`imaging_data`)."""

    name: str = eqx.field(static=True)
    field: str = eqx.field(static=True)
    values: tuple[float, ...] = eqx.field(static=True)
    of: str = eqx.field(static=True, default="calcium_before")
    unit: str = eqx.field(static=True, default="1")
    dims: tuple[str, ...] = eqx.field(static=True, default=("site",))
    sites: tuple[str, ...] = eqx.field(static=True, default=IMAGED_SITES)

    def combine(self, values: Float[Array, " n_values"]) -> Float[Array, ""]:
        return values[1] - values[0]


IMAGING_CONTRASTS = (
    ImagingContrast("calcium_before_two_minus_one_spine", "n_spines_uncaged", (1.0, 2.0)),
    ImagingContrast("calcium_before_13_minus_7_ms", "delta_t", (7.0, 13.0)),
)
"""The before-pairing build-up of two uncaged spines minus one, and of +13 minus +7 ms."""

CALCIUM_READOUTS = tuple(
    PairingCalcium(f"{where}_calcium_{when}")
    for where in ("head", "dendrite")
    for when in ("before", "after")
)
"""The four `PairingCalcium` traces of Figs. 6-8."""


class LengthConstant(AbstractAcrossConditions):
    """lambda of eq. 2, ``y = alpha exp(-distance / lambda) + beta``, fitted to the uEPSP
    change of pairs of spines at `LENGTH_CONSTANT_DISTANCES` (um)."""

    name: str = eqx.field(static=True, default="length_constant")
    unit: str = eqx.field(static=True, default="um")
    dims: tuple[str, ...] = eqx.field(static=True, default=())
    sites: tuple[str, ...] = eqx.field(static=True, default=())
    field: str = eqx.field(static=True, default="distance")
    values: tuple[float, ...] = eqx.field(static=True, default=LENGTH_CONSTANT_DISTANCES)
    of: str = eqx.field(static=True, default="uepsp")

    def combine(self, values: Float[Array, " n_values"]) -> Float[Array, ""]:
        return fit_length_constant(jnp.asarray(self.values), values).length_constant


READOUTS = (
    Measured("uepsp", "%"),
    Measured("uepsp_initial", "mV"),
    Measured("neck_length", "%", ("site",), SITES),
    Measured("head_volume", "%", ("site",), SITES),
    *CALCIUM_READOUTS,
    *IMAGING_READOUTS,
    *IMAGING_CONTRASTS,
    LengthConstant(),
)
"""uEPSP after induction (% of baseline) and before it (mV); neck length and head volume (% of
baseline) at `SITES`; head and dendrite calcium before and after each pairing (uM; traces, read
per condition); the change of the imaged Delta G / R over the repetitions (`ImagingIndex`) and
its contrasts between conditions (`ImagingContrast`); the eq. 2 length constant (um)."""


class TazerartExperiment(AbstractExperiment):
    """The seed's pairing (``n_pairings`` at 0.5 Hz) and ``readout_delay`` ms of quiet on a
    two-spine `SpineModel`, then the paper's readouts: the uEPSP of a test uncaging of the
    spines the condition uncages, on the model as its expression leaves it, in % of the same
    test before induction; neck length and head volume in % of baseline.

    ``mode="coupled"`` solves biophysics, rule and expression together (any model leaf may be
    fitted); ``mode="replay"`` records each condition's biophysics once when the predictor is
    built (`plastic.studies.tazerart2020.replay`) and replays the plasticity on it (only the
    `plastic.replay.REPLAY_FITTABLE` leaves may move).

    Attributes:
        fields: `FIELDS`. readouts: `READOUTS`.
        mode: "coupled" or "replay".
        n_pairings: pairings of the induction (40 in the paper).
        readout_delay: ms of quiet before the readouts (the paper: 15-25 min).
        settings: the solver settings of the biophysics.
        rtol, atol: tolerances of the replay (rule and expression states are fractions).
            1e-5 and 1e-7: on the 24 neck and head rows of the seed data, with the fitted
            model, every prediction lies within 0.015 percentage points of the one at 1e-6
            and 1e-8 (the smallest SEM there is 2.6 %), and a value and gradient of 4 starts
            took 5.9 s instead of 7.8 s (before the calcium store).
        checkpoints: states each replay keeps for reverse mode (`plastic.replay.replay`;
            4096: a gradient over the 24 neck and head rows of the seed data, 11 conditions,
            took 3.9 s instead of 5.2 s with diffrax's default, before the calcium store).
        measure_uepsp: whether the uEPSP after induction is recorded (set by `prepare`: a fit
            of neck and head rows skips that stiff solve).
        imaging: whether every condition's model carries the indicator of its ``indicator``
            field (set by `prepare` when an imaging readout is asked for; conditions without
            dye then hold a trace of it, 1e-6 uM, so that one batch has one state).
    """

    fields: tuple[ConditionField, ...] = eqx.field(static=True, default=FIELDS)
    readouts: tuple[AbstractReadout, ...] = READOUTS
    mode: str = eqx.field(static=True, default="coupled")
    n_pairings: int = eqx.field(static=True, default=40)
    readout_delay: float = eqx.field(static=True, default=READOUT_DELAY)
    settings: SolverSettings | None = None
    rtol: float = eqx.field(static=True, default=1e-5)
    atol: float = eqx.field(static=True, default=1e-7)
    checkpoints: int | None = eqx.field(static=True, default=4096)
    measure_uepsp: bool = eqx.field(static=True, default=True)
    imaging: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if self.mode not in ("coupled", "replay"):
            raise ValueError(f"mode must be 'coupled' or 'replay'; got {self.mode!r}")
        if not isinstance(self.n_pairings, int) or self.n_pairings < 1:
            raise ValueError(f"n_pairings must be an integer >= 1; got {self.n_pairings!r}")
        if not self.readout_delay >= 0.0:
            raise ValueError(f"readout_delay must be >= 0 ms; got {self.readout_delay!r}")

    def check_model(self, model):
        if not isinstance(model, SpineModel):
            raise ValueError(f"TazerartExperiment runs a SpineModel; got {type(model).__name__}")
        if model.n_spines != 2 or model.rule is None or model.expression is None:
            raise ValueError(
                "TazerartExperiment runs a two-spine SpineModel with a rule and an expression "
                f"model; got {model.n_spines} spines, rule {type(model.rule).__name__}, "
                f"expression {type(model.expression).__name__}"
            )

    def model_in_condition(self, model: SpineModel, condition) -> SpineModel:
        """``model`` with the condition's inter-spine distance, drug and temperature
        (`plastic.studies.tazerart2020.protocol.model_in_condition`, what `run` solves and
        what `prepare` records for a replay), and its indicator when `imaging`."""
        model = model_in_condition(model, condition)
        if not self.imaging:
            return model
        concentration = jnp.maximum(jnp.asarray(condition["indicator"], dtype=float), 1e-6)
        indicator = CalciumIndicator(concentration=concentration)
        return eqx.tree_at(lambda m: m.indicator, model, indicator, is_leaf=lambda x: x is None)

    def attributes(self):
        solve = dict(rtol=self.rtol, atol=self.atol, checkpoints=self.checkpoints)
        if self.settings is not None:
            solve = self.settings.describe()
        protocol = dict(
            n_pairings=self.n_pairings,
            readout_delay_ms=self.readout_delay,
            measure_uepsp=self.measure_uepsp,
        )
        return {
            "runner": self.mode,  # not "mode": scipy's NetCDF writer keeps its own there
            "protocol_arguments": json.dumps(protocol),
            "solver": json.dumps(solve),
        }

    def check_parameters(self, paths) -> None:
        """Raise a ValueError for model paths this experiment's mode cannot fit."""
        if self.mode == "replay":
            check_replay_parameters(paths)

    def prepare(self, conditions, readouts, model):
        experiment, arrays = super().prepare(conditions, readouts, model)
        imaging = any(readout.name in readouts for readout in IMAGING_READOUTS)
        dyed = bool(np.any(np.asarray(conditions.get("indicator", 0.0)) > 0.0))
        if dyed and not imaging:
            raise ValueError(
                "conditions with an indicator are read only by the imaging readouts "
                f"{[r.name for r in IMAGING_READOUTS]}; the plasticity rows had no dye"
            )
        experiment = dataclasses.replace(
            experiment, measure_uepsp="uepsp" in readouts, imaging=imaging
        )
        if imaging and self.mode != "coupled":
            raise ValueError(
                f"the imaging readouts {[r.name for r in IMAGING_READOUTS]} need "
                "TazerartExperiment(mode='coupled'): a replay has no dye and no dendrite calcium"
            )
        if self.mode == "coupled":
            return experiment, arrays
        if model is None:
            raise ValueError("a replay records the biophysics of a model: pass model=")
        recorded = record_conditions(
            model, arrays, n_pairings=self.n_pairings, settings=self.settings
        )
        return experiment, {**arrays, **recorded}

    def run(self, model: SpineModel, condition) -> ConditionReadouts:
        model = self.model_in_condition(model, condition)
        if self.mode == "coupled":
            return run_in_condition(
                model,
                condition,
                n_pairings=self.n_pairings,
                readout_delay=self.readout_delay,
                settings=self.settings,
                uepsp=self.measure_uepsp,
            )
        missing = [name for name in RECORDED if name not in condition]
        if missing:
            raise ValueError(
                f"a replay runs conditions recorded by TazerartExperiment.prepare; {missing} "
                "are missing (build a Predictor with model=, or use mode='coupled')"
            )
        return replay_condition(
            model,
            condition,
            n_pairings=self.n_pairings,
            readout_delay=self.readout_delay,
            settings=self.settings,
            rtol=self.rtol,
            atol=self.atol,
            checkpoints=self.checkpoints,
            uepsp=self.measure_uepsp,
        )
