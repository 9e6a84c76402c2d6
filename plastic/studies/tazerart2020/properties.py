"""Properties of an experimental preparation and protocol: head volumes, resting potential, ...

They calibrate the biophysics rather than the plasticity rule: a model of the Tazerart et al.
2020 experiment should reproduce the uEPSP kinetics, the action-potential amplitude and the spine
geometry listed here.
"""

import dataclasses
import math
from pathlib import Path

from plastic.data import Row, check_cell, read_table

COLUMNS = (
    "quantity",
    "condition",
    "mean",
    "sem",
    "n",
    "minimum",
    "maximum",
    "unit",
    "source",
    "note",
)


@dataclasses.dataclass(frozen=True)
class Property:
    """One stated property; NaN means "not given".

    Attributes:
        quantity: name, e.g. ``"head_volume"``.
        condition: what it was measured in or applies to, e.g. ``"activated spines"``.
        mean: the value, in ``unit`` (NaN where only a range is stated).
        sem: its standard error. n: number of measurements.
        minimum, maximum: the stated range.
        unit: e.g. ``"fL"``, ``"mV"``, ``"ms"``; empty for a count or a correlation.
        source: figure panel or section. note: anything else needed to read the value.
    """

    quantity: str
    condition: str
    mean: float
    sem: float
    n: float
    minimum: float
    maximum: float
    unit: str
    source: str
    note: str


def _parse(row: Row) -> Property:
    prop = Property(
        quantity=row.text("quantity"),
        condition=row.text("condition"),
        mean=row.number("mean", required=False),
        sem=row.number("sem", required=False),
        n=row.integer("n", required=False),
        minimum=row.number("minimum", required=False),
        maximum=row.number("maximum", required=False),
        unit=row.text("unit", required=False),
        source=row.text("source"),
        note=row.text("note", required=False),
    )
    where = row.where
    if math.isnan(prop.mean) and (math.isnan(prop.minimum) or math.isnan(prop.maximum)):
        raise ValueError(f"{where}: give a mean, or a minimum and a maximum")
    if not math.isnan(prop.sem):
        check_cell(where, "sem (or empty)", prop.sem, lower=0.0, lower_inclusive=True)
    if not math.isnan(prop.n):
        check_cell(where, "n (or empty)", prop.n, lower=1.0, lower_inclusive=True)
    if not (math.isnan(prop.minimum) or math.isnan(prop.maximum)):
        check_cell(
            where,
            "maximum",
            prop.maximum,
            lower=prop.minimum,
            lower_inclusive=True,
            unit="(at least minimum)",
        )
    return prop


def read_properties(path: str | Path) -> tuple[Property, ...]:
    """The properties in the CSV file at ``path`` (columns `COLUMNS`, ``#`` lines are comments).

    Raises:
        ValueError: naming the file, line and column, for a missing column, a non-number or a
            number out of range.
    """
    return tuple(_parse(row) for row in read_table(path, required=COLUMNS))
