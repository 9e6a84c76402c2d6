"""The paper's rows (`plastic.studies.tazerart2020.record.paper_results`, every mean +- SEM of
the paper with its source) as a `plastic.experiment.DataSet` of `TazerartExperiment` conditions.

The paper gives distance classes, not distances. A row's ``distance`` is the middle of its
``[distance_min, distance_max]`` class, ``distance_min + UNBOUNDED_DISTANCE_MARGIN`` for an
open class ("> 5 um"), and `NEIGHBOUR_DISTANCE` for single-spine conditions (where the other
spine is an unstimulated neighbour); each row's ``note`` says which. ``length_constant`` rows
have no distance: eq. 2 is fitted over pairs at `LENGTH_CONSTANT_DISTANCES`.
"""

import math

from plastic.experiment import DataSet, dataset_from_records
from plastic.studies.tazerart2020.model import NEIGHBOUR_DISTANCE
from plastic.studies.tazerart2020.record import paper_results

UNBOUNDED_DISTANCE_MARGIN = 15.0
"""um added to ``distance_min`` for an open-ended distance class ("> 5 um")."""


def row_distance(distance_min: float, distance_max: float, n_spines_uncaged: int) -> float:
    """The distance (um) that stands for a paper row's distance class (see the module doc)."""
    if n_spines_uncaged < 2:
        return NEIGHBOUR_DISTANCE
    if math.isfinite(distance_max):
        return 0.5 * (distance_min + distance_max)
    return distance_min + UNBOUNDED_DISTANCE_MARGIN


def _distance_note(distance_min, distance_max, n_spines_uncaged, distance) -> str:
    if n_spines_uncaged < 2:
        return f"distance: the unstimulated neighbour taken {distance:g} um away"
    return f"distance class [{distance_min:g}, {distance_max:g}] um represented by {distance:g} um"


def tazerart2020_data() -> DataSet:
    """Every row of the paper (`paper_results`) as `TazerartExperiment` conditions (see the
    module doc)."""
    records = []
    for result in paper_results():
        low, high = result.distance_min, result.distance_max
        notes = [result.note] if result.note else []
        record = dict(
            condition=result.condition,
            readout=result.readout,
            site=result.site,
            delta_t=result.delta_t,
            n_spines_uncaged=result.n_spines_uncaged,
            drug=result.drug,
            temperature=result.temperature,
            mean=result.mean,
            sem=result.sem,
            n=result.n,
            unit=result.unit,
            source=result.source,
        )
        if result.readout == "length_constant":
            notes.append(f"eq. 2 over pairs {low:g}-{high:g} um apart")
        else:
            record["distance"] = row_distance(low, high, result.n_spines_uncaged)
            notes.append(_distance_note(low, high, result.n_spines_uncaged, record["distance"]))
        if result.drug != "none":
            notes.append(f"{result.drug} {result.drug_concentration:g} uM")
        if math.isfinite(result.p_value):
            notes.append(f"p = {result.p_value:g}")
        record["note"] = "; ".join(notes)
        records.append(record)
    return dataset_from_records(records, where="Tazerart et al. 2020")
