"""Tazerart et al. 2020 against the model, in numbers: the table of data rows and predictions
with residuals and agreement statistics, eq. 2 fitted to a model's distance curve beside the
paper's two-spine rows and length constants, and the calcium accumulation index with the
paper's orderings and statements (Figs. 6-8, AP5).

A record is one data row against the model: a dict with ``condition``, ``readout``, ``site``,
``unit``, ``mean``, ``sem`` (NaN if not given) and ``prediction`` (what
`plastic.studies.tazerart2020.panels.Panels.read` gives).
"""

import math
from collections.abc import Sequence

import numpy as np

from plastic.readouts import fit_length_constant
from plastic.studies.tazerart2020.data import row_distance
from plastic.studies.tazerart2020.protocol import EARLY_PAIRINGS, LATE_PAIRINGS
from plastic.studies.tazerart2020.record import paper_findings
from plastic.studies.tazerart2020.results import PaperResult

ROOM_TEMPERATURE = 21.0
"""degC, the data set's "~20-22 degC"."""
ACCUMULATION_ORDER = (
    ("clustered +7 ms", "single +13 ms"),
    ("single +13 ms", "single +7 ms"),
    ("clustered -15 ms", "single -15 ms"),
)
"""The paper's ordering of the accumulation (Figs. 6-8): each pair is (more, less)."""
ORDERING_TOLERANCE = 1e-3
"""Accumulation indices closer than this are a tie: 0.1 % of the early before-pairing calcium
is far below what calcium imaging resolves."""


def add_residuals(records: list[dict]) -> None:
    """Set each record's ``residual_sem``, (prediction - mean) / sem (NaN without an SEM)."""
    for record in records:
        sem = record["sem"]
        ok = math.isfinite(sem) and sem > 0 and math.isfinite(record["prediction"])
        record["residual_sem"] = (record["prediction"] - record["mean"]) / sem if ok else math.nan


def agreement(records: list[dict]) -> dict:
    """Fraction of uEPSP rows within 1 and 2 SEM, and chi-square per point over the uEPSP and
    neck-length rows (rows without an SEM are left out)."""
    uepsp = [r["residual_sem"] for r in records if r["readout"] == "uepsp"]
    uepsp = np.asarray([z for z in uepsp if math.isfinite(z)])
    chi = [
        r["residual_sem"] ** 2
        for r in records
        if r["readout"] in ("uepsp", "neck_length") and math.isfinite(r["residual_sem"])
    ]
    return dict(
        n_uepsp_rows=int(uepsp.size),
        uepsp_within_1_sem=float(np.mean(np.abs(uepsp) <= 1.0)) if uepsp.size else math.nan,
        uepsp_within_2_sem=float(np.mean(np.abs(uepsp) <= 2.0)) if uepsp.size else math.nan,
        n_chi_square_rows=len(chi),
        chi_square_per_point=float(np.mean(chi)) if chi else math.nan,
    )


def markdown_table(records: list[dict]) -> str:
    """The data-vs-model table, one line per record (with its ``residual_sem``)."""

    def number(x, fmt):
        return "" if not math.isfinite(x) else format(x, fmt)

    lines = [
        "| condition | readout | site | unit | data mean | SEM | model | (model - mean)/SEM |",
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    for r in records:
        lines.append(
            f"| {r['condition']} | {r['readout']} | {r['site']} | {r['unit']} | "
            f"{number(r['mean'], '.2f')} | {number(r['sem'], '.2f')} | "
            f"{number(r['prediction'], '.2f')} | {number(r['residual_sem'], '+.2f')} |"
        )
    return "\n".join(lines)


def lookup(records, condition, readout, site="activated"):
    """The record of one data row, or None."""
    for r in records:
        if (r["condition"], r["readout"], r["site"]) == (condition, readout, site):
            return r
    return None


# Distance dependence (Figs. 3e, 5e)


def length_constant_fit(distances, uepsp) -> dict:
    """Eq. 2 fitted to a model curve (uEPSP % against distance, um), equal weights; the SE is
    scaled by the residual variance (inf with 3 distances, NaN for a flat curve)."""
    fit = fit_length_constant(np.asarray(distances), np.asarray(uepsp))
    return dict(
        alpha=float(fit.alpha),
        length_constant=float(fit.length_constant),
        length_constant_se=float(fit.length_constant_se),
        beta=float(fit.beta),
        converged=bool(fit.converged),
    )


def length_constant_band(distances, curves, level: float = 0.95) -> tuple[tuple, int]:
    """The central ``level`` interval (um) of eq. 2's lambda over model curves, ``curves`` of
    shape ``(n_draws, n_distances)`` (one per parameter draw), and how many of them have a
    finite lambda (the interval is over those; NaN if none)."""
    found = []
    for curve in np.asarray(curves, float):
        if np.all(np.isfinite(curve)):
            fit = length_constant_fit(distances, curve)
            if fit["converged"]:
                found.append(fit["length_constant"])
    if not found:
        return (math.nan, math.nan), 0
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(found, [tail, 100.0 - tail])
    return (float(low), float(high)), len(found)


def length_constant_records(paper: Sequence[PaperResult], delta_t: float, fit: dict) -> list[dict]:
    """The paper's length-constant rows at ``delta_t`` (of `paper_results`) as records, with
    the lambda of ``fit`` (`length_constant_fit`) as the prediction: NaN when the fit did not
    converge (a flat model curve has no finite lambda; the search ends at its edge)."""
    return [
        dict(
            condition=row.condition,
            readout="length_constant",
            site=row.site,
            unit=row.unit,
            mean=row.mean,
            sem=row.sem,
            prediction=fit["length_constant"] if fit["converged"] else math.nan,
        )
        for row in _length_constants(paper, delta_t)
    ]


def distance_data(paper: Sequence[PaperResult], delta_t: float) -> list[dict]:
    """The two-spine uEPSP rows of ``paper`` (`paper_results`) at ``delta_t`` (no drug, room
    temperature): mean, SEM, the distance class (um) and its model distance."""
    return [
        dict(
            condition=row.condition,
            mean=row.mean,
            sem=row.sem,
            distance_min=row.distance_min,
            distance_max=row.distance_max,
            distance=row_distance(row.distance_min, row.distance_max, 2),
        )
        for row in paper
        if row.readout == "uepsp"
        and row.n_spines_uncaged == 2
        and row.delta_t == delta_t
        and row.drug == "none"
        and row.temperature == ROOM_TEMPERATURE
    ]


def paper_lambda(paper: Sequence[PaperResult], delta_t: float) -> float:
    """The paper's length constant at ``delta_t`` (um), from its length_constant row."""
    rows = _length_constants(paper, delta_t)
    return rows[0].mean if rows else math.nan


def _length_constants(paper: Sequence[PaperResult], delta_t: float) -> list[PaperResult]:
    return [row for row in paper if row.readout == "length_constant" and row.delta_t == delta_t]


# Calcium during the induction (Figs. 6-8) and the drugs


def accumulation_index(before, early=EARLY_PAIRINGS, late=LATE_PAIRINGS) -> float:
    """Mean before-pairing calcium of pairings ``late`` over that of ``early`` (1-based,
    inclusive; clipped to the pairings there are). ``before``: ``(n_pairings,)`` uM."""
    before = np.asarray(before)
    n = before.shape[0]
    first = before[max(early[0] - 1, 0) : min(early[1], n)]
    last = before[max(min(late[0], n) - 1, 0) : min(late[1], n)]
    return float(np.mean(last) / np.mean(first))


def ordering_verdict(more: float, less: float) -> str:
    """ "holds" if index ``more`` exceeds ``less`` by more than `ORDERING_TOLERANCE`, "tie"
    within it, "FAILS" otherwise."""
    if abs(more - less) <= ORDERING_TOLERANCE:
        return "tie"
    return "holds" if more > less else "FAILS"


def calcium_findings() -> dict[tuple[str, str, str], str]:
    """The paper's calcium results without drugs: (condition, observable, site) -> outcome
    with its P value, e.g. ``("clustered +7 ms", "calcium_before", "activated")``."""
    return {
        (f.condition, f.observable, f.site): f"{f.outcome}"
        + (f", P {f.p_value}" if f.p_value else "")
        for f in paper_findings()
        if f.observable.startswith("calcium") and f.drug == "none"
    }


def ap5_statement() -> str | None:
    """The paper's AP5 result at -15 ms (a finding without a number), or None."""
    for finding in paper_findings():
        if finding.drug == "AP5" and finding.observable == "uepsp" and finding.delta_t == -15.0:
            return f"{finding.outcome} ({finding.source})"
    return None
