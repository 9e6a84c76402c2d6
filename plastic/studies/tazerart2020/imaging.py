"""The calcium imaging of Figs. 6-8 as the paper measured it: each imaged induction protocol run
with a calcium indicator loaded (Fluo-4, 300 uM, by default: the imaging pipette's), read as
Delta G / R just before and 4 ms after each pairing in the activated spine head and in the
dendrite under it, and each of the paper's calcium findings judged from that.

The imaged conditions come from the findings themselves (`paper_findings`, observables
``calcium_before`` and ``calcium_after``): their delta_t, number of uncaged spines, distance
class (`row_distance`) and drug.

Indices, 1 for no change over the repetitions, from the means over repetitions `LATE_PAIRINGS`
and `EARLY_PAIRINGS` (`plastic.experiment.delta_g_over_r_index`, also a readout of any pairing
experiment, `plastic.experiment.IndicatorIndex`):

- after each pairing (``calcium_after``): the mean Delta G / R of the late repetitions over that
  of the early ones.
- before each pairing (``calcium_before``): Delta G / R there is 0 at the first repetition by
  construction (its baseline is the first image), so a ratio of it is undefined; the index is 1 +
  the rise of the before-pairing Delta G / R (late minus early mean) over the early
  after-pairing Delta G / R: the build-up between pairings as a fraction of one pairing's signal.

An "increase" needs an index of at least `INCREASE_INDEX`, "no change" one below
`NO_CHANGE_INDEX` (issue 21's thresholds); a "decrease" an index at most 1 / `INCREASE_INDEX`.
"""

import math

import equinox as eqx
import numpy as np
from jaxtyping import Array

from plastic.biophysics import AbstractCalciumIndicator, CalciumIndicator
from plastic.experiment import (
    CALCIUM_PER_PAIRING,
    INDICATOR_PER_PAIRING,
    DataSet,
    dataset_from_records,
    delta_g_over_r_index,
)
from plastic.model import SpineModel
from plastic.simulate import SolverSettings, simulate_each
from plastic.studies.tazerart2020.comparison import EARLY_PAIRINGS, LATE_PAIRINGS
from plastic.studies.tazerart2020.data import row_distance
from plastic.studies.tazerart2020.findings import Finding
from plastic.studies.tazerart2020.protocol import (
    DRUG_NAMES,
    induction_protocol,
    model_in_condition,
)
from plastic.studies.tazerart2020.record import paper_findings

ORDERINGS = (
    ("single +13 ms", "single +7 ms", "calcium_before_13_minus_7_ms"),
    ("clustered -15 ms", "single -15 ms", "calcium_before_two_minus_one_spine"),
)
"""The paper's orderings of the build-up (`ACCUMULATION_ORDER`) between conditions that differ
in one field, each as (more, less, the `ImagingContrast` that compares them). Clustered +7 ms
against single +13 ms differs in two and is not a row."""
INCREASE_INDEX = 1.10
NO_CHANGE_INDEX = 1.05
IMAGED_OBSERVABLES = ("calcium_before", "calcium_after")


def imaged_conditions(findings: tuple[Finding, ...]) -> dict[str, dict]:
    """The conditions of the calcium ``findings`` (label -> a condition of the study:
    ``delta_t``, ``n_spines_uncaged``, ``distance``, ``drug`` index, ``temperature``), in the
    order they first appear."""
    conditions = {}
    for finding in findings:
        if finding.observable not in IMAGED_OBSERVABLES or finding.condition in conditions:
            continue
        conditions[finding.condition] = dict(
            delta_t=finding.delta_t,
            n_spines_uncaged=finding.n_spines_uncaged,
            distance=row_distance(
                finding.distance_min, finding.distance_max, finding.n_spines_uncaged
            ),
            drug=DRUG_NAMES.index(finding.drug),
            temperature=finding.temperature,
        )
    return conditions


def with_indicator(
    model: SpineModel, indicator: AbstractCalciumIndicator | None = None
) -> SpineModel:
    """``model`` with ``indicator`` loaded (default `CalciumIndicator()`: Fluo-4 at 300 uM)."""
    indicator = CalciumIndicator() if indicator is None else indicator
    return eqx.tree_at(lambda m: m.indicator, model, indicator, is_leaf=lambda x: x is None)


def imaged_signals(
    model: SpineModel,
    condition: dict,
    *,
    n_pairings: int = 40,
    settings: SolverSettings | None = None,
) -> dict[str, Array]:
    """The induction of ``condition`` on ``model`` (which must carry an indicator; its rule and
    expression, if any, run too), read at the activated spine: Delta G / R and free calcium (uM)
    in its head and the dendrite under it, before and after each pairing; each ``(n_pairings,)``,
    named like `IndicatorPerPairing` and `CalciumPerPairing`. Jit it with the condition's values
    as arrays to compile once for every condition."""
    if model.indicator is None:
        raise ValueError("imaged_signals needs a model with a calcium indicator (with_indicator)")
    model = model_in_condition(model, condition)
    protocol = induction_protocol(model, condition, n_pairings=n_pairings, quiet=0.0)
    readouts = (*INDICATOR_PER_PAIRING, *CALCIUM_PER_PAIRING)
    simulations = simulate_each(
        model, protocol, [readout.save_times(protocol) for readout in readouts], settings
    )
    return {
        readout.name: readout.read(model, protocol, simulation)[:, 0]
        for readout, simulation in zip(readouts, simulations)
    }


def imaging_index(signals: dict, observable: str, site: str) -> float:
    """The index of ``observable`` (`IMAGED_OBSERVABLES`) at ``site`` ("activated" or
    "dendrite") from `imaged_signals`: `plastic.experiment.delta_g_over_r_index` over the
    paper's windows."""
    if observable not in IMAGED_OBSERVABLES:
        raise ValueError(f"observable must be one of {IMAGED_OBSERVABLES}; got {observable!r}")
    compartment = {"activated": "head", "dendrite": "dendrite"}[site]
    before = np.asarray(signals[f"{compartment}_delta_g_over_r_before_per_pairing"])
    after = np.asarray(signals[f"{compartment}_delta_g_over_r_after_per_pairing"])
    if len(after) < LATE_PAIRINGS[1]:
        raise ValueError(
            f"imaging_index compares repetitions {LATE_PAIRINGS} with {EARLY_PAIRINGS}: it needs "
            f"at least {LATE_PAIRINGS[1]} pairings; got {len(after)}"
        )
    moment = observable.removeprefix("calcium_")
    return float(delta_g_over_r_index(before, after, moment, EARLY_PAIRINGS, LATE_PAIRINGS))


def index_verdict(index: float, outcome: str) -> str:
    """ "in direction", "against" or "unclear" (between the thresholds) for a finding of
    ``outcome`` ("increase", "no change" or "decrease")."""
    if not math.isfinite(index):
        return "against"
    if outcome == "increase":
        return _three_way(index >= INCREASE_INDEX, index < NO_CHANGE_INDEX)
    if outcome == "decrease":
        return _three_way(index <= 1.0 / INCREASE_INDEX, index > 1.0 / NO_CHANGE_INDEX)
    if outcome == "no change":
        inside = 1.0 / NO_CHANGE_INDEX < index < NO_CHANGE_INDEX
        outside = index >= INCREASE_INDEX or index <= 1.0 / INCREASE_INDEX
        return _three_way(inside, outside)
    raise ValueError(f"outcome must be increase, decrease or no change; got {outcome!r}")


def _three_way(holds: bool, fails: bool) -> str:
    return "in direction" if holds else ("against" if fails else "unclear")


def imaging_table(signals: dict[str, dict], findings: tuple[Finding, ...]) -> list[dict]:
    """One record per calcium finding whose condition is in ``signals`` (label ->
    `imaged_signals`): condition, observable, site, the paper's outcome and P value, the
    model's index and verdict."""
    records = []
    for finding in findings:
        if finding.observable not in IMAGED_OBSERVABLES or finding.condition not in signals:
            continue
        index = imaging_index(signals[finding.condition], finding.observable, finding.site)
        records.append(
            dict(
                condition=finding.condition,
                observable=finding.observable,
                site=finding.site,
                outcome=finding.outcome,
                p_value=finding.p_value,
                source=finding.source,
                model_index=index,
                verdict=index_verdict(index, finding.outcome),
            )
        )
    return records


def imaging_data(
    findings: tuple[Finding, ...] | None = None,
    *,
    concentration: float = 300.0,
    sem: float = 0.02,
) -> DataSet:
    """The calcium findings (default `paper_findings`) as rows a fit sees: readout
    ``calcium_before`` or ``calcium_after`` (`ImagingIndex`) at site ``activated`` or
    ``dendrite``, bounded by its direction (an increase: at least `INCREASE_INDEX`; no change:
    at most `NO_CHANGE_INDEX`; a decrease: at most 1 / `INCREASE_INDEX`), with ``concentration``
    uM of indicator loaded (the seed's Fluo-4: 300) and ``sem`` the shortfall of one standard
    error (an index has no SEM in the paper). Condition labels end in " imaged". Then the
    paper's `ORDERINGS` as rows of their contrast at least 0 (the activated spine's head)."""
    findings = paper_findings() if findings is None else findings
    bounds = {
        "increase": (">=", INCREASE_INDEX),
        "no change": ("<=", NO_CHANGE_INDEX),
        "decrease": ("<=", 1.0 / INCREASE_INDEX),
    }
    records = []
    for label, condition in imaged_conditions(findings).items():
        for finding in findings:
            if finding.condition != label or finding.observable not in IMAGED_OBSERVABLES:
                continue
            relation, bound = bounds[finding.outcome]
            p_value = f", P {finding.p_value}" if finding.p_value else ""
            records.append(
                dict(
                    condition=f"{label} imaged",
                    readout=finding.observable,
                    site=finding.site,
                    relation=relation,
                    mean=bound,
                    sem=sem,
                    n=finding.n,
                    unit="1",
                    source=finding.source,
                    note=f"{finding.outcome}{p_value}: Delta G / R index (ImagingIndex)",
                    **{**condition, "drug": DRUG_NAMES[condition["drug"]]},
                    indicator=concentration,
                )
            )
    conditions = imaged_conditions(findings)
    for more, less, readout in ORDERINGS:
        if more not in conditions or less not in conditions:
            continue
        condition = conditions[more]
        records.append(
            dict(
                condition=f"{more} > {less} imaged",
                readout=readout,
                site="activated",
                relation=">=",
                mean=0.0,
                sem=sem,
                n=math.nan,
                unit="1",
                source="Results (Figs. 6-8)",
                note=f"the paper's ordering of the before-pairing build-up: {more} > {less}",
                **{**condition, "drug": DRUG_NAMES[condition["drug"]]},
                indicator=concentration,
            )
        )
    return dataset_from_records(records, where="imaging_data")
