"""Qualitative findings: what a paper states about a condition without a mean +- SEM.

The calcium results of Tazerart et al. 2020 (Figs. 6-8) are of this kind: whether the spine and
dendrite calcium just before (or after) each pairing rises over the 40 repetitions, with the
repeated-measures ANOVA P value where given. So are the drug and control experiments the paper
reports only as "no change". A fit can use them as sign constraints; a figure as annotations.
"""

import dataclasses
import math
from pathlib import Path

from plastic.data import Row, check_cell, read_table
from plastic.studies.tazerart2020.results import RECORD_DRUGS

PROTOCOLS = ("pairing", "uncaging only", "bAP only", "none")
"""``pairing``: the STDP protocol (40 pairings at 0.5 Hz); ``uncaging only`` and ``bAP only``: one
half of it; ``none``: the readouts monitored without any protocol."""

OBSERVABLES = ("uepsp", "neck_length", "head_volume", "calcium_before", "calcium_after")
"""``uepsp``, ``neck_length``, ``head_volume``: 15-25 min after induction against baseline.
``calcium_before`` / ``calcium_after``: Delta G / R just before / just after each of the 40
pairings, across the repetitions; a rise of ``calcium_before`` is calcium accumulation."""

FINDING_SITES = ("activated", "dendrite")
"""``activated``: the uncaged spine; ``dendrite``: its parent dendrite."""

OUTCOMES = ("increase", "decrease", "no change")

COLUMNS = (
    "condition",
    "protocol",
    "delta_t",
    "n_spines_uncaged",
    "distance_min",
    "distance_max",
    "drug",
    "drug_concentration",
    "temperature",
    "observable",
    "site",
    "outcome",
    "p_value",
    "n",
    "source",
    "statement",
)


@dataclasses.dataclass(frozen=True)
class Finding:
    """One qualitative result. Units as in `PaperResult`; NaN means "not given".

    Attributes:
        condition: label, e.g. ``"clustered +7 ms"``.
        protocol: one of `PROTOCOLS`.
        delta_t: post onset minus pre onset, ms (NaN unless ``protocol == "pairing"``).
        n_spines_uncaged: spines uncaged (0 for ``bAP only`` and a bare dendrite).
        distance_min, distance_max: inter-spine distance range, um.
        drug: one of `RECORD_DRUGS`. drug_concentration: uM. temperature: degC.
        observable: one of `OBSERVABLES`. site: one of `FINDING_SITES`.
        outcome: one of `OUTCOMES`: the significant change (or none) the paper reports.
        p_value: as printed, e.g. ``"<0.0001"`` or ``"0.03"``; empty if not given.
        n: number of spines (or dendrites, or spine pairs) in the test.
        source: figure panel or section. statement: the paper's words, quoted.
    """

    condition: str
    protocol: str
    delta_t: float
    n_spines_uncaged: int
    distance_min: float
    distance_max: float
    drug: str
    drug_concentration: float
    temperature: float
    observable: str
    site: str
    outcome: str
    p_value: str
    n: float
    source: str
    statement: str


def _check_p_value(where: str, printed: str) -> None:
    if not printed:
        return
    number = printed.removeprefix("<").strip()
    try:
        value = float(number)
    except ValueError:
        raise ValueError(
            f"{where}: column 'p_value' must be empty, a number or '<' and a number; "
            f"got {printed!r}"
        ) from None
    check_cell(where, "p_value", value, lower=0.0, lower_inclusive=True, upper=1.0)


def _parse(row: Row) -> Finding:
    protocol = row.choice("protocol", PROTOCOLS)
    finding = Finding(
        condition=row.text("condition"),
        protocol=protocol,
        delta_t=row.number("delta_t", required=protocol == "pairing"),
        n_spines_uncaged=int(row.integer("n_spines_uncaged")),
        distance_min=row.number("distance_min", required=False),
        distance_max=row.number("distance_max", required=False),
        drug=row.choice("drug", RECORD_DRUGS),
        drug_concentration=row.number("drug_concentration"),
        temperature=row.number("temperature"),
        observable=row.choice("observable", OBSERVABLES),
        site=row.choice("site", FINDING_SITES),
        outcome=row.choice("outcome", OUTCOMES),
        p_value=row.text("p_value", required=False),
        n=row.integer("n", required=False),
        source=row.text("source"),
        statement=row.text("statement"),
    )
    where = row.where
    if protocol != "pairing" and not math.isnan(finding.delta_t):
        raise ValueError(f"{where}: delta_t must be empty for protocol {protocol!r}")
    check_cell(where, "n_spines_uncaged", finding.n_spines_uncaged, lower=0.0, lower_inclusive=True)
    if finding.n_spines_uncaged >= 2:
        check_cell(where, "distance_min", finding.distance_min, lower=0.0, lower_inclusive=True)
        check_cell(
            where,
            "distance_max",
            finding.distance_max,
            lower=finding.distance_min,
            lower_inclusive=True,
            upper=math.inf,
            unit="um (at least distance_min; inf: no upper bound)",
            finite=False,
        )
    check_cell(
        where, "drug_concentration", finding.drug_concentration, lower=0.0, lower_inclusive=True
    )
    check_cell(where, "temperature", finding.temperature, lower=0.0, upper=45.0, unit="degC")
    if not math.isnan(finding.n):
        check_cell(where, "n (or empty)", finding.n, lower=1.0, lower_inclusive=True)
    _check_p_value(where, finding.p_value)
    return finding


def read_findings(path: str | Path) -> tuple[Finding, ...]:
    """The findings in the CSV file at ``path`` (columns `COLUMNS`, ``#`` lines are comments).

    Raises:
        ValueError: naming the file, line and column, for a missing column, an unknown label,
            a non-number or a number out of range.
    """
    return tuple(_parse(row) for row in read_table(path, required=COLUMNS))
