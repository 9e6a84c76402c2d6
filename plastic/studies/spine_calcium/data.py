"""The published spine-head calcium physiology (`plastic/data/spine_calcium_physiology.csv`) as
`PhysiologyRow` records: each number with its condition, source and preparation."""

import dataclasses
import functools
import math
from importlib import resources
from pathlib import Path

from plastic.data import read_table
from plastic.experiment.spine_calcium import STIMULI

PARAMETER_READOUTS = ("endogenous_buffer_capacity",)
"""Rows that give a parameter of the model rather than a readout of `SpineCalciumExperiment`."""

_COLUMNS = (
    "condition",
    "stimulus",
    "delta_t",
    "readout",
    "mean",
    "sem",
    "n",
    "lower",
    "upper",
    "unit",
    "source",
    "preparation",
    "note",
)


@dataclasses.dataclass(frozen=True)
class PhysiologyRow:
    """One published number.

    Attributes:
        condition: a label of the row, in words.
        stimulus: one of `plastic.experiment.spine_calcium.STIMULI`.
        delta_t: ms, for a pairing (NaN otherwise).
        readout: a `SpineCalciumExperiment` readout name, or one of `PARAMETER_READOUTS`.
        mean: the value the source gives (NaN where it states only a bound).
        sem: as the source gives it (NaN: not given). n: experiments (NaN: not given).
        lower, upper: the range or bound the source gives (NaN: none).
        unit: of mean, sem, lower and upper.
        source: the full citation. preparation: species, region, cells, method.
        note: how the number was read; "second-hand" where quoted from another text.
    """

    condition: str
    stimulus: str
    delta_t: float
    readout: str
    mean: float
    sem: float
    n: float
    lower: float
    upper: float
    unit: str
    source: str
    preparation: str
    note: str

    @property
    def second_hand(self) -> bool:
        return "second-hand" in self.note

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies within [lower, upper] (an absent bound does not limit)."""
        return (math.isnan(self.lower) or value >= self.lower) and (
            math.isnan(self.upper) or value <= self.upper
        )

    def describe(self) -> str:
        """The number in words: mean and range or bound, with the unit."""
        parts = [] if math.isnan(self.mean) else [f"{self.mean:g}"]
        if not math.isnan(self.lower) and not math.isnan(self.upper):
            parts.append(f"[{self.lower:g}, {self.upper:g}]")
        elif not math.isnan(self.lower):
            parts.append(f">= {self.lower:g}")
        elif not math.isnan(self.upper):
            parts.append(f"<= {self.upper:g}")
        return " ".join(parts) + (f" {self.unit}" if self.unit not in ("", "1") else "")


def read_physiology(path: str | Path) -> tuple[PhysiologyRow, ...]:
    """The rows of a physiology table at ``path``.

    Raises:
        ValueError: naming the line, for a missing column, an unknown stimulus, a row without a
            source or preparation, a row with neither a mean nor a bound, or lower > upper.
    """
    rows = []
    for row in read_table(path, required=_COLUMNS):
        numbers = {
            name: row.number(name, required=False)
            for name in ("delta_t", "mean", "sem", "n", "lower", "upper")
        }
        record = PhysiologyRow(
            condition=row.text("condition"),
            stimulus=row.choice("stimulus", STIMULI),
            readout=row.text("readout"),
            unit=row.text("unit"),
            source=row.text("source"),
            preparation=row.text("preparation"),
            note=row.text("note", required=False),
            **numbers,
        )
        if all(math.isnan(numbers[name]) for name in ("mean", "lower", "upper")):
            raise ValueError(f"{row.where}: a row needs a mean, a lower or an upper bound")
        if numbers["lower"] > numbers["upper"]:
            raise ValueError(f"{row.where}: lower {numbers['lower']} > upper {numbers['upper']}")
        if record.stimulus == "pairing" and math.isnan(record.delta_t):
            raise ValueError(f"{row.where}: a pairing row needs its delta_t")
        rows.append(record)
    if not rows:
        raise ValueError(f"{path}: the table has a header but no data rows")
    return tuple(rows)


@functools.cache
def spine_calcium_physiology() -> tuple[PhysiologyRow, ...]:
    """The shipped table, `plastic/data/spine_calcium_physiology.csv`."""
    shipped = resources.files("plastic.data").joinpath("spine_calcium_physiology.csv")
    with resources.as_file(shipped) as path:
        return read_physiology(path)
