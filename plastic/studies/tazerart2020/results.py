"""The paper's mean +- SEM results as transcribed in ``plastic/data/tazerart2020.csv``: one row
a number, with the paper's own condition columns (distance classes, drug concentrations, P
values), read and checked row by row. `plastic.studies.tazerart2020.data` maps them to the
`plastic.experiment.DataSet` the study fits; this is the record it is mapped from.
"""

import dataclasses
import math
from pathlib import Path

from plastic.data import Row, check_cell, read_table
from plastic.studies.tazerart2020.experiment import SITES

READOUT_UNITS = {
    "uepsp": "%",
    "neck_length": "%",
    "head_volume": "%",
    "uepsp_initial": "mV",
    "length_constant": "um",
}
"""The readouts of the record and the unit each must be given in.

``uepsp``, ``neck_length``, ``head_volume``: percent of baseline after induction (100 = no change).
``uepsp_initial``: baseline uEPSP amplitude at the soma, mV. ``length_constant``: lambda of the
exponential fit of the uEPSP change against inter-spine distance (eq. 2 of the paper), um.
"""

RECORD_DRUGS = ("none", "AP5", "PEP1-TGL", "latrunculin-A", "latrunculin-A (ACSF)")
"""The drugs the record names. AP5 blocks NMDA receptors; PEP1-TGL blocks GluR1 insertion;
latrunculin-A blocks actin polymerisation (dissolved in DMSO, it enters the cell;
``latrunculin-A (ACSF)`` does not, and the model has no condition for it: the model's drugs are
`plastic.studies.tazerart2020.protocol.DRUGS`)."""

COLUMNS = (
    "condition",
    "readout",
    "site",
    "delta_t",
    "n_spines_uncaged",
    "distance_min",
    "distance_max",
    "drug",
    "drug_concentration",
    "temperature",
    "mean",
    "sem",
    "n",
    "unit",
    "p_value",
    "source",
    "note",
)
"""The columns of the results CSV."""

_MAX_TEMPERATURE = 45.0
_MAX_DELTA_T = 1000.0


@dataclasses.dataclass(frozen=True)
class PaperResult:
    """One mean +- SEM of the paper; NaN means "not given".

    Attributes:
        condition: label of the experimental condition, e.g. ``"clustered +7 ms"``.
        readout: one of `READOUT_UNITS`.
        site: one of `plastic.studies.tazerart2020.SITES`.
        delta_t: onset of the somatic current (post) minus onset of the first uncaging pulse
            (pre), ms; positive = pre before post.
        n_spines_uncaged: spines uncaged in each pairing (1 or more).
        distance_min, distance_max: range of inter-spine distances of the group, um (NaN for one
            spine; ``inf`` for no stated upper bound; equal for a single pair).
        drug: one of `RECORD_DRUGS`. drug_concentration: uM (0 without a drug).
        temperature: degC.
        mean: the readout, in ``unit``. sem: its standard error, in ``unit``.
        n: number of experiments (spines, or spine pairs when two are uncaged).
        unit: the unit of ``mean`` and ``sem``, fixed by the readout (`READOUT_UNITS`).
        p_value: of the published test of the row (see the file's notes).
        source: where the number comes from (figure panel, section).
        note: anything else the number needs to be read correctly.
    """

    condition: str
    readout: str
    site: str
    delta_t: float
    n_spines_uncaged: int
    distance_min: float
    distance_max: float
    drug: str
    drug_concentration: float
    temperature: float
    mean: float
    sem: float
    n: float
    unit: str
    p_value: float
    source: str
    note: str


def _check(where: str, result: PaperResult) -> None:
    """Raise ``ValueError`` naming ``where``, the column and the allowed range or set."""
    expected_unit = READOUT_UNITS[result.readout]
    if result.unit != expected_unit:
        raise ValueError(
            f"{where}: readout {result.readout!r} must be given in unit {expected_unit!r}; "
            f"got unit {result.unit!r}"
        )
    check_cell(where, "delta_t", result.delta_t, lower=-_MAX_DELTA_T, upper=_MAX_DELTA_T, unit="ms")
    check_cell(where, "n_spines_uncaged", result.n_spines_uncaged, lower=1.0, lower_inclusive=True)
    distance_min, distance_max = result.distance_min, result.distance_max
    if result.n_spines_uncaged == 1:
        if not (math.isnan(distance_min) and math.isnan(distance_max)):
            raise ValueError(
                f"{where}: distance_min and distance_max must be empty (NaN) when one spine is "
                f"uncaged; got {distance_min}, {distance_max}"
            )
    else:
        check_cell(where, "distance_min", distance_min, lower=0.0, lower_inclusive=True, unit="um")
        check_cell(
            where,
            "distance_max",
            distance_max,
            lower=distance_min,
            lower_inclusive=True,
            upper=math.inf,
            unit="um (at least distance_min; inf: no upper bound)",
            finite=False,
        )
    if result.drug == "none":
        check_cell(
            where,
            "drug_concentration",
            result.drug_concentration,
            lower=0.0,
            lower_inclusive=True,
            upper=0.0,
            unit="uM (no drug)",
        )
    else:
        check_cell(where, "drug_concentration", result.drug_concentration, lower=0.0, unit="uM")
    check_cell(
        where, "temperature", result.temperature, lower=0.0, upper=_MAX_TEMPERATURE, unit="degC"
    )
    check_cell(where, "mean", result.mean, lower=0.0, lower_inclusive=True, upper=None)
    for column, lower, upper in (("sem", 0.0, None), ("n", 1.0, None), ("p_value", 0.0, 1.0)):
        value = getattr(result, column)
        if not math.isnan(value):
            check_cell(
                where, column + " (or empty)", value, lower=lower, lower_inclusive=True, upper=upper
            )


def _parse(row: Row) -> PaperResult:
    result = PaperResult(
        condition=row.text("condition"),
        readout=row.choice("readout", tuple(READOUT_UNITS)),
        site=row.choice("site", SITES),
        delta_t=row.number("delta_t"),
        n_spines_uncaged=int(row.integer("n_spines_uncaged")),
        distance_min=row.number("distance_min", required=False),
        distance_max=row.number("distance_max", required=False),
        drug=row.choice("drug", RECORD_DRUGS),
        drug_concentration=row.number("drug_concentration"),
        temperature=row.number("temperature"),
        mean=row.number("mean"),
        sem=row.number("sem", required=False),
        n=row.integer("n", required=False),
        unit=row.text("unit"),
        p_value=row.number("p_value", required=False),
        source=row.text("source"),
        note=row.text("note", required=False),
    )
    _check(row.where, result)
    return result


def read_results(path: str | Path) -> tuple[PaperResult, ...]:
    """The results in the CSV file at ``path`` (columns `COLUMNS`; ``#`` lines are comments).

    Empty ``sem``, ``n``, ``p_value``, ``distance_min``, ``distance_max`` and ``note`` cells
    mean "not given".

    Raises:
        ValueError: naming the file, the line and the column, for a missing or unknown column,
            an empty required cell, a cell that is not a number, a label outside its known set,
            a unit that does not match the readout, or a number outside its allowed range
            (``sem >= 0``, ``n`` a whole number >= 1, ``0 <= p_value <= 1``, ``mean >= 0``, ...).
    """
    results = tuple(_parse(row) for row in read_table(path, required=COLUMNS))
    if not results:
        raise ValueError(f"{path}: the table has a header but no data rows")
    return results
