"""Model and data side by side for the figures of Tazerart et al. 2020 (seed 000).

One command::

    python experiments/tazerart_figures.py --model out/fit/model.eqx --out out/tazerart_figures

Every plasticity readout comes from the full coupled model (`run_condition` of
`plastic.studies.tazerart2020`: biophysics, rule and expression solved together through
``--n-pairings`` pairings at 0.5 Hz and ``--readout-min`` minutes of quiet), with
`tazerart_model()` (its fitted defaults) or, given ``--model``, the fitted model in that
``model.eqx``. All conditions of all panels are pooled, deduplicated and run in chunks of
``--chunk`` conditions (`jax.vmap` inside one `equinox.filter_jit`, so one compilation serves
every chunk).

Panels under ``--out`` (one PNG each; every number plotted is also in ``summary.json``):

1. ``fig2g_single_spine.png``: uEPSP, neck length and head volume (% of baseline) of the
   activated spine after single-spine pairings at +13, +7, -15 and -23 ms.
2. ``fig3e_5e_distance.png``: uEPSP (%) against the distance between two co-activated spines
   at +7 ms and -15 ms, with eq. 2 (``alpha exp(-x / lambda) + beta``) fitted to the model's
   curve, and the clustered / distributed data and the paper's lambda.
3. ``fig9_heatmap.png``: uEPSP (%) of two spines over delta-t x distance.
4. ``fig6_8_calcium.png``: head and dendrite calcium of the activated spine just before and
   just after each pairing for the five imaged protocols, and the accumulation index.
5. ``drugs.png``: clustered +7 ms under PEP1-TGL and latrunculin-A, single -15 ms under AP5.

It also prints a markdown table of every data row against the model, the fraction of uEPSP
rows within 1 and 2 SEM and the chi-square per point of the uEPSP and neck-length rows.

Conditions and distances are those of `tazerart2020_data`: a data row's distance class is
represented by its middle (``distance_min + UNBOUNDED_DISTANCE_MARGIN`` for an open class);
single-spine conditions keep the unstimulated neighbour at `NEIGHBOUR_DISTANCE`.
"""

import argparse
import json
import math
import pathlib
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

import plastic  # noqa: E402, F401  (float64)
from plastic.cli import parse_values  # noqa: E402
from plastic.data import load_tazerart2020, load_tazerart2020_findings  # noqa: E402
from plastic.experiment import Condition, DataSet  # noqa: E402
from plastic.fit.write import load_model  # noqa: E402
from plastic.protocols import MINUTE  # noqa: E402
from plastic.readouts import fit_length_constant  # noqa: E402
from plastic.simulate import simulate  # noqa: E402
from plastic.studies.tazerart2020 import (  # noqa: E402
    DRUG_NAMES,
    NEIGHBOUR_DISTANCE,
    TazerartExperiment,
    induction_protocol,
    model_in_condition,
    row_distance,
    run_condition,
    tazerart2020_data,
    tazerart_model,
)

ROOM_TEMPERATURE = 21.0  # degC, the data set's "~20-22 degC"
SINGLE_SPINE_DELTA_TS = (13.0, 7.0, -15.0, -23.0)  # ms, Figs. 1-2
DISTANCE_DELTA_TS = (7.0, -15.0)  # ms, Figs. 3e and 5e
PAPER_LAMBDA_LABELS = {7.0: "two spines +7 ms", -15.0: "two spines -15 ms"}
PLASTICITY_READOUTS = ("uepsp", "neck_length", "head_volume")
READOUT_LABELS = {
    "uepsp": "uEPSP (% of baseline)",
    "neck_length": "neck length (% of baseline)",
    "head_volume": "head volume (% of baseline)",
    "uepsp_initial": "initial uEPSP (mV)",
    "length_constant": "lambda (um)",
}
# The five imaged protocols of Figs. 6-8: label, delta_t (ms), the data condition whose distance
# class the clustered pair takes (None: one spine).
CALCIUM_PROTOCOLS = (
    ("single +7 ms", 7.0, None),
    ("clustered +7 ms", 7.0, "clustered +7 ms"),
    ("single +13 ms", 13.0, None),
    ("single -15 ms", -15.0, None),
    ("clustered -15 ms", -15.0, "clustered -15 ms"),
)
# Accumulation index: before-pairing head calcium of repetitions 35-40 over that of 1-5 (1-based,
# inclusive), the windows of the paper's Fig. 8g comparison.
EARLY_PAIRINGS = (1, 5)
LATE_PAIRINGS = (35, 40)
# The paper's ordering of the accumulation (Figs. 6-8): each pair is (more, less).
ACCUMULATION_ORDER = (
    ("clustered +7 ms", "single +13 ms"),
    ("single +13 ms", "single +7 ms"),
    ("clustered -15 ms", "single -15 ms"),
)
DRUG_CONDITIONS = ("clustered +7 ms", "clustered +7 ms PEP1-TGL", "clustered +7 ms Lat-A")


# ---------------------------------------------------------------------------------------------
# Conditions and the batched run


def make_condition(
    delta_t, n_spines_uncaged, distance, drug="none", temperature=ROOM_TEMPERATURE
) -> Condition:
    """One condition of `TazerartExperiment`: delta_t in ms, 1 or 2 spines uncaged, distance in
    um (for one spine, that of the unstimulated neighbour), drug a `DRUG_NAMES` label,
    temperature in degC."""
    return dict(
        delta_t=float(delta_t),
        n_spines_uncaged=float(n_spines_uncaged),
        distance=float(distance),
        drug=float(DRUG_NAMES.index(drug)),
        temperature=float(temperature),
    )


def condition_key(condition: Condition) -> tuple[float, ...]:
    """Hashable identity of an unbatched condition (its values by field name, rounded to 1e-9)."""
    return tuple(round(float(condition[name]), 9) for name in sorted(condition))


def stack(conditions: list[Condition]) -> dict[str, jax.Array]:
    """The conditions batched along a leading axis, as float64 arrays without JAX's weak type
    (a weakly typed batch is another jit cache entry, i.e. a second minute-long compilation)."""
    return {
        name: jnp.asarray([c[name] for c in conditions], dtype=jnp.float64)
        for name in conditions[0]
    }


class ConditionPool:
    """The distinct conditions every panel needs, run once each."""

    def __init__(self):
        self.conditions: dict[tuple, Condition] = {}
        self.results: dict[tuple, dict[str, np.ndarray]] = {}

    def add(self, condition: Condition) -> tuple:
        """Register ``condition``; returns its key."""
        key = condition_key(condition)
        self.conditions.setdefault(key, condition)
        return key

    def __getitem__(self, key):
        return self.results[key]

    def run(self, model, *, n_pairings: int, readout_delay: float, chunk: int) -> None:
        """Run every pending condition, ``chunk`` at a time; readout_delay in ms."""
        pending = [key for key in self.conditions if key not in self.results]
        chunk = max(1, min(chunk, len(pending)))
        n_chunks = math.ceil(len(pending) / chunk)
        print(
            f"running {len(pending)} conditions in {n_chunks} chunks of {chunk} "
            f"({n_pairings} pairings + {readout_delay / MINUTE:g} min); the first chunk compiles",
            flush=True,
        )
        started = time.perf_counter()
        for c in range(n_chunks):
            keys = pending[c * chunk : (c + 1) * chunk]
            # Pad with the last condition so every chunk has one shape (one compilation).
            batch = [self.conditions[k] for k in keys]
            batch += [batch[-1]] * (chunk - len(batch))
            tic = time.perf_counter()
            out = _run_chunk(model, stack(batch), n_pairings, readout_delay)
            out = {name: np.asarray(value) for name, value in out.items()}
            for i, key in enumerate(keys):
                self.results[key] = {name: value[i] for name, value in out.items()}
            print(
                f"  chunk {c + 1}/{n_chunks}: {len(keys)} conditions in "
                f"{time.perf_counter() - tic:.1f} s (total {time.perf_counter() - started:.0f} s)",
                flush=True,
            )


@eqx.filter_jit
def _run_chunk(model, conditions: Condition, n_pairings: int, readout_delay: float):
    """`run_condition` vmapped over a batch of conditions; the readouts only (uEPSP in %,
    initial uEPSP in mV, neck and head ``(n, n_spines)`` in %)."""

    def one(condition):
        readouts = run_condition(
            model, condition, n_pairings=n_pairings, readout_delay=readout_delay
        )
        return dict(
            uepsp=readouts.uepsp,
            uepsp_initial=readouts.uepsp_initial,
            neck_length=readouts.neck_length,
            head_volume=readouts.head_volume,
        )

    return jax.vmap(one)(conditions)


# ---------------------------------------------------------------------------------------------
# Calcium during the induction (Figs. 6-8)


@eqx.filter_jit
def _calcium_chunk(model, conditions: Condition, n_pairings: int):
    """Head and dendrite calcium (uM) at each spine just before and just after each pairing,
    ``(n_conditions, n_pairings, n_spines)`` each, for the induction protocol of
    `run_condition` (without the quiet period, which does not change the pairings)."""

    def one(condition):
        in_condition = model_in_condition(model, condition)
        protocol = induction_protocol(in_condition, condition, n_pairings=n_pairings, quiet=0.0)
        sim = simulate(in_condition, protocol)
        return dict(
            head_before=sim.head_calcium_before,
            head_after=sim.head_calcium_after,
            dendrite_before=sim.dendrite_calcium_before,
            dendrite_after=sim.dendrite_calcium_after,
        )

    return jax.vmap(one)(conditions)


def accumulation_index(before, early=EARLY_PAIRINGS, late=LATE_PAIRINGS) -> float:
    """Mean before-pairing calcium of pairings ``late`` over that of ``early`` (1-based,
    inclusive; clipped to the pairings there are). ``before``: ``(n_pairings,)`` uM."""
    before = np.asarray(before)
    n = before.shape[0]
    first = before[max(early[0] - 1, 0) : min(early[1], n)]
    last = before[max(min(late[0], n) - 1, 0) : min(late[1], n)]
    return float(np.mean(last) / np.mean(first))


ORDERING_TOLERANCE = 1e-3
"""Accumulation indices closer than this are a tie: 0.1 % of the early before-pairing calcium
is far below what calcium imaging resolves."""


def ordering_verdict(more: float, less: float) -> str:
    """ "holds" if index ``more`` exceeds ``less`` by more than `ORDERING_TOLERANCE`, "tie"
    within it, "FAILS" otherwise."""
    if abs(more - less) <= ORDERING_TOLERANCE:
        return "tie"
    return "holds" if more > less else "FAILS"


def calcium_conditions(data: DataSet) -> dict[str, Condition]:
    """The five imaged protocols as conditions; a clustered pair sits at the distance of its
    `tazerart2020_data` uEPSP row (um: the middle of the paper's distance class)."""
    out = {}
    for label, delta_t, distance_from in CALCIUM_PROTOCOLS:
        if distance_from is None:
            out[label] = make_condition(delta_t, 1, NEIGHBOUR_DISTANCE)
        else:
            row = data.select(condition=distance_from, readout="uepsp")
            out[label] = make_condition(delta_t, 2, row.column("distance")[0])
    return out


def run_calcium(model, conditions: dict[str, Condition], n_pairings: int) -> dict:
    """Calcium traces of the activated spine (index 0) per protocol, uM, and its accumulation
    index."""
    tic = time.perf_counter()
    batch = stack(list(conditions.values()))
    out = {k: np.asarray(v) for k, v in _calcium_chunk(model, batch, n_pairings).items()}
    print(
        f"calcium of the {len(conditions)} imaged protocols: {time.perf_counter() - tic:.1f} s",
        flush=True,
    )
    traces = {}
    for i, label in enumerate(conditions):
        trace = {name: value[i, :, 0] for name, value in out.items()}
        trace["accumulation_index"] = accumulation_index(trace["head_before"])
        trace["dendrite_accumulation_index"] = accumulation_index(trace["dendrite_before"])
        traces[label] = trace
    return traces


# ---------------------------------------------------------------------------------------------
# Data rows against the model


def data_predictions(data: DataSet, pool: ConditionPool) -> list[dict]:
    """One record per row of ``data`` (`tazerart2020_data`; all readouts but
    ``length_constant``, which comes from the distance fits): labels, mean, SEM (NaN if not
    given) and the key of its condition in ``pool``."""
    rows = data.select(readout=(*PLASTICITY_READOUTS, "uepsp_initial"))
    conditions, row_cells, _ = TazerartExperiment().conditions_of(rows)
    keys = [pool.add(dict(zip(conditions, values))) for values in zip(*conditions.values())]
    records = []
    for i in range(rows.n_rows):
        records.append(
            dict(
                condition=rows.condition[i],
                readout=rows.readout[i],
                site=rows.site[i],
                unit=rows.unit[i],
                mean=float(rows.mean[i]),
                sem=float(rows.sem[i]),
                key=keys[row_cells[i][0][0]],
            )
        )
    return records


def fill_predictions(records: list[dict], pool: ConditionPool) -> None:
    """Set each record's ``prediction`` from the pool's results (the readout of the activated
    spine, index 0, or of its neighbour, index 1)."""
    for record in records:
        result = pool[record.pop("key")]
        value = result[record["readout"]]
        if np.ndim(value) > 0:
            value = value[1 if record["site"] == "neighbour" else 0]
        record["prediction"] = float(value)


def add_residuals(records: list[dict]) -> None:
    """(prediction - mean) / sem per record (NaN without an SEM)."""
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
    """The data-vs-model table, one line per data row."""

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


# ---------------------------------------------------------------------------------------------
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


def distance_data(paper, delta_t) -> list[dict]:
    """The two-spine uEPSP rows of ``paper`` (`load_tazerart2020`) at ``delta_t`` (no drug,
    room temperature): mean, SEM, the distance class (um) and its model distance."""
    rows = paper.select(
        readout="uepsp",
        n_spines_uncaged=2,
        delta_t=delta_t,
        drug="none",
        temperature=ROOM_TEMPERATURE,
    )
    return [
        dict(
            condition=rows.condition[i],
            mean=float(rows.mean[i]),
            sem=float(rows.sem[i]),
            distance_min=float(rows.distance_min[i]),
            distance_max=float(rows.distance_max[i]),
            distance=row_distance(float(rows.distance_min[i]), float(rows.distance_max[i]), 2),
        )
        for i in range(rows.n_rows)
    ]


def paper_lambda(paper, delta_t) -> float:
    """The paper's length constant at ``delta_t`` (um), from its length_constant row."""
    rows = paper.select(readout="length_constant", delta_t=delta_t)
    return float(rows.mean[0]) if rows.n_rows else math.nan


# ---------------------------------------------------------------------------------------------
# Figures


def _bars_from_baseline(ax, x, values, color, label="model"):
    # Bars start at 100 % (no change), so a change of a few % is visible next to the data.
    values = np.asarray(values, dtype=float)
    bars = ax.bar(x, values - 100.0, bottom=100.0, width=0.6, color=color, alpha=0.5)
    for bar in bars:  # bars pin the axis limit to their ends; let it keep a margin
        bar.sticky_edges.y.clear()
    # A thick tick at the model's value, visible even when it hardly moves from 100 %.
    ax.plot(x, values, "_", ms=28, mew=2.5, color=color, label=label)
    ax.axhline(100.0, color="0.4", lw=0.8, ls="--")


def _data_errorbar(ax, x, record, **kwargs):
    if record is None:
        return
    sem = record["sem"] if math.isfinite(record["sem"]) else 0.0
    ax.errorbar(x, record["mean"], yerr=sem, fmt="o", color="k", capsize=3, zorder=3, **kwargs)


def plot_single_spine(records, n_pairings, path) -> dict:
    """Fig. 2g: model bars and data mean +- SEM per delta_t and readout."""
    fig, axes = plt.subplots(1, 3, figsize=(12.0, 3.8), constrained_layout=True)
    shown = {}
    labels = [f"{d:+g}" for d in SINGLE_SPINE_DELTA_TS]
    x = np.arange(len(labels))
    for ax, readout in zip(axes, PLASTICITY_READOUTS, strict=True):
        model, data_mean, data_sem = [], [], []
        for i, delta_t in enumerate(SINGLE_SPINE_DELTA_TS):
            record = lookup(records, f"single {delta_t:+g} ms", readout)
            model.append(record["prediction"] if record else math.nan)
            data_mean.append(record["mean"] if record else math.nan)
            data_sem.append(record["sem"] if record else math.nan)
            _data_errorbar(ax, i, record, label="data (mean +- SEM)" if i == 0 else None)
        _bars_from_baseline(ax, x, model, "C0")
        ax.set_xticks(x, labels)
        ax.set(xlabel="delta-t (ms), one spine", ylabel=READOUT_LABELS[readout])
        shown[readout] = dict(model=model, data_mean=data_mean, data_sem=data_sem)
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"One spine: the activated spine after {n_pairings} pairings (Figs. 1-2)")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return dict(delta_t_ms=list(SINGLE_SPINE_DELTA_TS), **shown)


def _distance_class(point) -> str:
    low, high = point["distance_min"], point["distance_max"]
    return f"> {low:g} um" if math.isinf(high) else f"{low:g}-{high:g} um"


def plot_distance(distances, curves, fits, data_points, lambdas, single, path) -> None:
    """Figs. 3e and 5e: model uEPSP against inter-spine distance, eq. 2 fit, data classes."""
    fig, axes = plt.subplots(1, 2, figsize=(12.0, 4.4), constrained_layout=True)
    dense = np.linspace(0.0, float(np.max(distances)), 300)
    for ax, delta_t in zip(axes, DISTANCE_DELTA_TS, strict=True):
        curve, fit = curves[delta_t], fits[delta_t]
        ax.plot(distances, curve, "o", color="C0", ms=4, label="model, two spines")
        fitted = fit["alpha"] * np.exp(-dense / fit["length_constant"]) + fit["beta"]
        label = (
            f"eq. 2 fit: lambda = {fit['length_constant']:.1f} +- "
            f"{fit['length_constant_se']:.1f} um"
            if fit["converged"]
            else "eq. 2 fit: no finite lambda (no distance dependence)"
        )
        ax.plot(dense, fitted, color="C0", label=label)
        for point in data_points[delta_t]:
            # An open class ("> 5 um") is drawn to the edge of the plotted range.
            high = min(point["distance_max"], max(float(np.max(distances)), point["distance"]))
            ax.errorbar(
                point["distance"],
                point["mean"],
                yerr=point["sem"],
                xerr=[[point["distance"] - point["distance_min"]], [high - point["distance"]]],
                fmt="s",
                color="k",
                capsize=3,
                label=f"data: {point['condition']} ({_distance_class(point)})",
            )
        if math.isfinite(single[delta_t]):
            ax.axhline(single[delta_t], color="C1", ls=":", label="model, one spine (same delta-t)")
        ax.axhline(100.0, color="0.4", lw=0.8, ls="--")
        ax.set(
            xlabel="distance between the two spines (um)",
            ylabel=READOUT_LABELS["uepsp"],
            title=f"delta-t {delta_t:+g} ms; paper: lambda = {lambdas[delta_t]:g} um "
            "(its alpha, beta not published)",
        )
        ax.title.set_fontsize(9)
        ax.legend(fontsize=7)
    fig.suptitle("Distance dependence of two co-activated spines (Figs. 3e, 5e)")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_heatmap(delta_ts, distances, uepsp, n_pairings, path) -> None:
    """Fig. 9: uEPSP (%) of two spines over delta-t x distance, diverging around 100 %."""
    fig, ax = plt.subplots(figsize=(9.0, 4.6), constrained_layout=True)
    # At least +-5 %, so that a map without plasticity does not look saturated.
    spread = max(float(np.max(np.abs(uepsp - 100.0))), 5.0)
    norm = mcolors.TwoSlopeNorm(vmin=100.0 - spread, vcenter=100.0, vmax=100.0 + spread)
    # Distances are uneven: one row per distance, labelled.
    mesh = ax.pcolormesh(
        delta_ts, np.arange(len(distances)), uepsp, cmap="RdBu_r", norm=norm, shading="nearest"
    )
    for j in range(len(distances)):
        for i in range(len(delta_ts)):
            ax.text(delta_ts[i], j, f"{uepsp[j, i]:.0f}", ha="center", va="center", fontsize=6)
    ax.set_yticks(np.arange(len(distances)), [f"{d:g}" for d in distances])
    ax.set(
        xlabel="delta-t = current onset - uncaging onset (ms)",
        ylabel="distance between the two spines (um)",
        title=f"Two co-activated spines: uEPSP after {n_pairings} pairings (Fig. 9)",
    )
    bar = fig.colorbar(mesh, label=READOUT_LABELS["uepsp"])
    bar.formatter.set_useOffset(False)
    bar.update_ticks()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def calcium_findings() -> dict[tuple[str, str, str], str]:
    """The paper's calcium results without drugs: (condition, observable, site) -> outcome
    with its P value, e.g. ``("clustered +7 ms", "calcium_before", "activated")``."""
    return {
        (f.condition, f.observable, f.site): f"{f.outcome}"
        + (f", P {f.p_value}" if f.p_value else "")
        for f in load_tazerart2020_findings()
        if f.observable.startswith("calcium") and f.drug == "none"
    }


def plot_calcium(traces, findings, path) -> None:
    """Figs. 6-8: calcium of the activated spine head and its dendrite before/after each
    pairing, per imaged protocol; each legend gives the paper's result for that panel."""
    fig, axes = plt.subplots(2, 2, figsize=(12.0, 7.5), constrained_layout=True, sharex=True)
    panels = (
        ("head_before", "spine head, just before each pairing"),
        ("head_after", "spine head, 4 ms after the end of each pairing"),
        ("dendrite_before", "dendrite under the spine, just before each pairing"),
        ("dendrite_after", "dendrite under the spine, 4 ms after the end of each pairing"),
    )
    # The findings' names of each panel's observable and site.
    finding_of = {
        "head_before": ("calcium_before", "activated"),
        "head_after": ("calcium_after", "activated"),
        "dendrite_before": ("calcium_before", "dendrite"),
        "dendrite_after": ("calcium_after", "dendrite"),
    }
    styles = {"single": "-", "clustered": "--"}
    for ax, (name, title) in zip(axes.ravel(), panels, strict=True):
        for k, (label, trace) in enumerate(traces.items()):
            pairing = np.arange(1, trace[name].shape[0] + 1)
            legend = label
            if name == "head_before":
                legend += f", model index {trace['accumulation_index']:.2f}"
            paper = findings.get((label, *finding_of[name]))
            legend += f"; paper: {paper}" if paper else "; paper: not stated"
            ax.plot(
                pairing,
                trace[name],
                styles[label.split()[0]],
                marker=".",
                color=f"C{k}",
                label=legend,
            )
        ax.set(title=title, ylabel="free calcium (uM)")
        ax.title.set_fontsize(9)
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.legend(fontsize=6)
    for ax in axes[1]:
        ax.set_xlabel("pairing (0.5 Hz)")
    fig.suptitle(
        "Calcium of the activated spine during induction (Figs. 6-8); accumulation = "
        f"before-pairing head calcium, pairings {LATE_PAIRINGS[0]}-{LATE_PAIRINGS[1]} / "
        f"{EARLY_PAIRINGS[0]}-{EARLY_PAIRINGS[1]}",
        fontsize=10,
    )
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_drugs(records, ap5_model, ap5_finding, path) -> dict:
    """Clustered +7 ms under PEP1-TGL and latrunculin-A (uEPSP, neck, head), single -15 ms
    under AP5 (uEPSP): model bars, data mean +- SEM, and the paper's statement where it gives
    no number."""
    fig, axes = plt.subplots(
        1, 4, figsize=(15.0, 4.0), constrained_layout=True, width_ratios=(3, 3, 3, 2)
    )
    labels = ["control", "PEP1-TGL", "Lat-A"]
    shown = {}
    for ax, readout in zip(axes[:3], PLASTICITY_READOUTS, strict=True):
        model, means, sems = [], [], []
        for i, condition in enumerate(DRUG_CONDITIONS):
            record = lookup(records, condition, readout)
            model.append(record["prediction"] if record else math.nan)
            means.append(record["mean"] if record else math.nan)
            sems.append(record["sem"] if record else math.nan)
            _data_errorbar(ax, i, record, label="data (mean +- SEM)" if i == 0 else None)
        _bars_from_baseline(ax, np.arange(3), model, "C2")
        ax.set_xticks(np.arange(3), labels)
        ax.set(ylabel=READOUT_LABELS[readout], title="clustered +7 ms")
        shown[f"clustered_+7_{readout}"] = dict(
            labels=labels, model=model, data_mean=means, data_sem=sems
        )
    axes[0].legend(fontsize=8, loc="lower left")
    ax = axes[3]
    control = lookup(records, "single -15 ms", "uepsp")
    _bars_from_baseline(ax, [0, 1], [control["prediction"], ap5_model], "C3")
    _data_errorbar(ax, 0, control)
    if ap5_finding is not None:
        # The paper states the AP5 result without a number: written, not plotted.
        ax.text(
            1,
            0.04,
            f"paper: {ap5_finding.split(' (')[0]}\n(no number given)",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=7,
            bbox=dict(facecolor="white", edgecolor="0.7", lw=0.5),
        )
    ax.set_xticks([0, 1], ["control", "AP5"])
    ax.set(ylabel=READOUT_LABELS["uepsp"], title="single -15 ms")
    fig.suptitle("Drugs: model (bars) vs data (points)")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    shown["single_-15_uepsp"] = dict(
        labels=["control", "AP5"],
        model=[control["prediction"], ap5_model],
        data_mean=[control["mean"], None],
        data_sem=[control["sem"], None],
        ap5_finding=ap5_finding,
    )
    return shown


def ap5_statement() -> str | None:
    """The paper's AP5 result at -15 ms (a finding without a number), or None."""
    for finding in load_tazerart2020_findings():
        if finding.drug == "AP5" and finding.observable == "uepsp" and finding.delta_t == -15.0:
            return f"{finding.outcome} ({finding.source})"
    return None


# ---------------------------------------------------------------------------------------------


def _json(value):
    """JSON-safe: NaN and inf as None, numpy as lists/floats."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json(value.tolist())
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


VALUE_OPTIONS = ("--distances", "--delta-ts", "--heatmap-distances")


def _attach_negative_values(argv: list[str]) -> list[str]:
    """``--delta-ts -30:30:5`` as ``--delta-ts=-30:30:5``: argparse would otherwise take a
    range starting with a minus sign for an option."""
    out = []
    for i, token in enumerate(argv):
        previous = argv[i - 1] if i > 0 else ""
        if previous in VALUE_OPTIONS and token.startswith("-") and token[1:2].isdigit():
            out[-1] = f"{previous}={token}"
        else:
            out.append(token)
    return out


def main(argv=None):
    """Run the experiment; ``argv`` are the command-line arguments (default ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=pathlib.Path, help="a fitted model.eqx (default: none)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/tazerart_figures"))
    parser.add_argument("--n-pairings", type=int, default=40)
    parser.add_argument("--readout-min", type=float, default=20.0, help="quiet before readout")
    parser.add_argument(
        "--distances",
        type=parse_values,
        default=parse_values("0,1,2,3,4,6,8,10,15,20,30,40,60,80,100"),
        help="um, for the distance curves (comma list or START:STOP:STEP)",
    )
    parser.add_argument(
        "--delta-ts", type=parse_values, default=parse_values("-30:30:5"), help="ms, heatmap"
    )
    parser.add_argument(
        "--heatmap-distances",
        type=parse_values,
        default=parse_values("0,2,5,10,20,40,80"),
        help="um, heatmap",
    )
    parser.add_argument("--chunk", type=int, default=16, help="conditions per vmapped batch")
    args = parser.parse_args(_attach_negative_values(sys.argv[1:] if argv is None else argv))
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    model = tazerart_model()
    if args.model is not None:
        model = load_model(args.model, model)
    print(f"model: {args.model or 'tazerart_model() (fitted defaults)'}", flush=True)
    paper = load_tazerart2020()  # with the distance classes
    data = tazerart2020_data()  # the same rows as conditions of TazerartExperiment
    readout_delay = args.readout_min * MINUTE

    # Every condition of every panel, deduplicated.
    pool = ConditionPool()
    records = data_predictions(data, pool)
    curve_keys = {
        delta_t: [pool.add(make_condition(delta_t, 2, d)) for d in args.distances]
        for delta_t in DISTANCE_DELTA_TS
    }
    single_keys = {
        delta_t: pool.add(make_condition(delta_t, 1, NEIGHBOUR_DISTANCE))
        for delta_t in DISTANCE_DELTA_TS
    }
    heatmap_keys = [
        [pool.add(make_condition(delta_t, 2, d)) for delta_t in args.delta_ts]
        for d in args.heatmap_distances
    ]
    ap5_key = pool.add(make_condition(-15.0, 1, NEIGHBOUR_DISTANCE, drug="AP5"))
    pool.run(model, n_pairings=args.n_pairings, readout_delay=readout_delay, chunk=args.chunk)
    fill_predictions(records, pool)

    summary = dict(
        model=str(args.model) if args.model else None,
        n_pairings=args.n_pairings,
        readout_min=args.readout_min,
    )

    # 1. Single spine.
    summary["fig2g_single_spine"] = plot_single_spine(
        records, args.n_pairings, args.out / "fig2g_single_spine.png"
    )

    # 2. Distance dependence and the length constants.
    distances = np.asarray(args.distances)
    curves = {d: np.array([pool[k]["uepsp"] for k in keys]) for d, keys in curve_keys.items()}
    fits = {d: length_constant_fit(distances, curves[d]) for d in DISTANCE_DELTA_TS}
    lambdas = {d: paper_lambda(paper, d) for d in DISTANCE_DELTA_TS}
    points = {d: distance_data(paper, d) for d in DISTANCE_DELTA_TS}
    single = {d: float(pool[k]["uepsp"]) for d, k in single_keys.items()}
    plot_distance(
        distances, curves, fits, points, lambdas, single, args.out / "fig3e_5e_distance.png"
    )
    summary["fig3e_5e_distance"] = {
        f"{d:+g}": dict(
            distance_um=distances,
            model_uepsp=curves[d],
            model_one_spine_uepsp=single[d],
            fit=fits[d],
            paper_lambda_um=lambdas[d],
            data=points[d],
        )
        for d in DISTANCE_DELTA_TS
    }
    print("\nLength constants (eq. 2 fitted to the model's uEPSP-vs-distance curve):")
    for d in DISTANCE_DELTA_TS:
        fit = fits[d]
        found = (
            f"{fit['length_constant']:.2f} +- {fit['length_constant_se']:.2f} um"
            if fit["converged"]
            else "no finite lambda (flat curve)"
        )
        print(
            f"  {d:+g} ms: model lambda = {found} (alpha {fit['alpha']:+.2f} %, beta "
            f"{fit['beta']:.2f} %); paper {lambdas[d]:g} um"
        )
    # The length-constant rows join the table with the model's fitted lambda.
    for d in DISTANCE_DELTA_TS:
        rows = paper.select(readout="length_constant", delta_t=d)
        for i in range(rows.n_rows):
            records.append(
                dict(
                    condition=rows.condition[i],
                    readout="length_constant",
                    site=rows.site[i],
                    unit=rows.unit[i],
                    mean=float(rows.mean[i]),
                    sem=float(rows.sem[i]),
                    # A flat model curve has no finite lambda (the search ends at its edge).
                    prediction=fits[d]["length_constant"] if fits[d]["converged"] else math.nan,
                )
            )

    # 3. Heatmap.
    heatmap = np.array([[pool[k]["uepsp"] for k in row] for row in heatmap_keys])
    plot_heatmap(
        np.asarray(args.delta_ts),
        args.heatmap_distances,
        heatmap,
        args.n_pairings,
        args.out / "fig9_heatmap.png",
    )
    summary["fig9_heatmap"] = dict(
        delta_t_ms=args.delta_ts, distance_um=args.heatmap_distances, uepsp_percent=heatmap
    )

    # 4. Calcium during induction.
    traces = run_calcium(model, calcium_conditions(data), args.n_pairings)
    findings = calcium_findings()
    plot_calcium(traces, findings, args.out / "fig6_8_calcium.png")
    summary["fig6_8_calcium_uM"] = traces
    summary["fig6_8_paper_findings"] = {" / ".join(k): v for k, v in findings.items()}
    print(
        f"\nAccumulation index (before-pairing head calcium, pairings "
        f"{LATE_PAIRINGS[0]}-{LATE_PAIRINGS[1]} / {EARLY_PAIRINGS[0]}-{EARLY_PAIRINGS[1]}):"
    )
    for label, trace in traces.items():
        print(
            f"  {label:18s} head {trace['accumulation_index']:.6f}, dendrite "
            f"{trace['dendrite_accumulation_index']:.6f}  (head before pairing 1: "
            f"{trace['head_before'][0]:.5f} uM, last: {trace['head_before'][-1]:.5f} uM)"
        )
    order = {}
    for more, less in ACCUMULATION_ORDER:
        order[f"{more} > {less}"] = verdict = ordering_verdict(
            traces[more]["accumulation_index"], traces[less]["accumulation_index"]
        )
        print(
            f"  paper's ordering {more} ({traces[more]['accumulation_index']:.6f}) > {less} "
            f"({traces[less]['accumulation_index']:.6f}): {verdict}"
        )
    summary["accumulation_order"] = order

    # 5. Drugs.
    finding = ap5_statement()
    summary["drugs"] = plot_drugs(
        records, float(pool[ap5_key]["uepsp"]), finding, args.out / "drugs.png"
    )
    print(f"\nAP5 at -15 ms: model uEPSP {float(pool[ap5_key]['uepsp']):.1f} %; paper: {finding}")

    # The table and the agreement.
    add_residuals(records)
    stats = agreement(records)
    print("\nData vs model, every data row:\n")
    print(markdown_table(records))
    print(
        f"\nuEPSP rows within 1 SEM: {stats['uepsp_within_1_sem']:.2f}, within 2 SEM: "
        f"{stats['uepsp_within_2_sem']:.2f} (of {stats['n_uepsp_rows']}); chi-square per point "
        f"over uEPSP and neck rows: {stats['chi_square_per_point']:.2f} "
        f"({stats['n_chi_square_rows']} rows)"
    )
    summary["data_vs_model"] = records
    summary["agreement"] = stats
    summary["wall_time_s"] = time.perf_counter() - started
    (args.out / "summary.json").write_text(json.dumps(_json(summary), indent=1))
    print(
        f"\nWrote fig2g_single_spine.png, fig3e_5e_distance.png, fig9_heatmap.png, "
        f"fig6_8_calcium.png, drugs.png and summary.json to {args.out} "
        f"({summary['wall_time_s']:.0f} s)"
    )


if __name__ == "__main__":
    main()
