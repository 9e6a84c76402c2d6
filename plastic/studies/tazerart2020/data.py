"""The paper's rows (`plastic.data.load_tazerart2020`, every mean +- SEM of the paper with its
source) as a `plastic.experiment.DataSet` of `TazerartExperiment` conditions.

The paper gives distance classes, not distances. A row's ``distance`` is the middle of its
``[distance_min, distance_max]`` class, ``distance_min + UNBOUNDED_DISTANCE_MARGIN`` for an
open class ("> 5 um"), and `NEIGHBOUR_DISTANCE` for single-spine conditions (where the other
spine is an unstimulated neighbour); each row's ``note`` says which. ``length_constant`` rows
have no distance: eq. 2 is fitted over pairs at `LENGTH_CONSTANT_DISTANCES`.
"""

import math

from plastic.data import load_tazerart2020
from plastic.experiment import DataSet, dataset_from_records
from plastic.studies.tazerart2020.model import NEIGHBOUR_DISTANCE

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
    """Every row of the paper as `TazerartExperiment` conditions (see the module doc)."""
    paper = load_tazerart2020()
    records = []
    for i in range(paper.n_rows):
        n_uncaged = int(paper.n_spines_uncaged[i])
        low, high = float(paper.distance_min[i]), float(paper.distance_max[i])
        notes = [paper.note[i]] if paper.note[i] else []
        record = dict(
            condition=paper.condition[i],
            readout=paper.readout[i],
            site=paper.site[i],
            delta_t=float(paper.delta_t[i]),
            n_spines_uncaged=n_uncaged,
            drug=paper.drug[i],
            temperature=float(paper.temperature[i]),
            mean=float(paper.mean[i]),
            sem=float(paper.sem[i]),
            n=float(paper.n[i]),
            unit=paper.unit[i],
            source=paper.source[i],
        )
        if paper.readout[i] == "length_constant":
            notes.append(f"eq. 2 over pairs {low:g}-{high:g} um apart")
        else:
            record["distance"] = row_distance(low, high, n_uncaged)
            notes.append(_distance_note(low, high, n_uncaged, record["distance"]))
        if paper.drug[i] != "none":
            notes.append(f"{paper.drug[i]} {float(paper.drug_concentration[i]):g} uM")
        if math.isfinite(float(paper.p_value[i])):
            notes.append(f"p = {float(paper.p_value[i]):g}")
        record["note"] = "; ".join(notes)
        records.append(record)
    return dataset_from_records(records, where="Tazerart et al. 2020")
