"""The model-vs-data figures of Tazerart et al. 2020 (``experiments/tazerart_figures.py``): one
PNG a panel, from what `plastic.studies.tazerart2020.panels.Panels.read` gives. The single-spine
and drug panels return the numbers they plot (for ``summary.json``)."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from plastic.studies.tazerart2020.comparison import (  # noqa: E402
    EARLY_PAIRINGS,
    LATE_PAIRINGS,
    lookup,
)
from plastic.studies.tazerart2020.panels import (  # noqa: E402
    DISTANCE_DELTA_TS,
    DRUG_CONDITIONS,
    PLASTICITY_READOUTS,
    SINGLE_SPINE_DELTA_TS,
)

READOUT_LABELS = {
    "uepsp": "uEPSP (% of baseline)",
    "neck_length": "neck length (% of baseline)",
    "head_volume": "head volume (% of baseline)",
    "uepsp_initial": "initial uEPSP (mV)",
    "length_constant": "lambda (um)",
}


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


def _band_bars(ax, x, band):
    # The model's band (a record's "band": low, high over parameter draws) as a bracket.
    low, high = np.asarray(band, float).reshape(-1, 2).T
    shown = np.isfinite(low) & np.isfinite(high)
    if shown.any():
        x = np.asarray(x, float)[shown]
        ax.vlines(x + 0.18, low[shown], high[shown], color="C0", lw=3, alpha=0.7,
                  label="model, band of the fit's draws")  # fmt: skip


def plot_single_spine(records, n_pairings, path) -> dict:
    """Fig. 2g: model bars and data mean +- SEM per delta_t and readout; a record with a
    ``band`` (low, high) gets the model's band beside its bar."""
    fig, axes = plt.subplots(1, 3, figsize=(12.0, 3.8), constrained_layout=True)
    shown = {}
    labels = [f"{d:+g}" for d in SINGLE_SPINE_DELTA_TS]
    x = np.arange(len(labels))
    for ax, readout in zip(axes, PLASTICITY_READOUTS, strict=True):
        model, data_mean, data_sem, band = [], [], [], []
        for i, delta_t in enumerate(SINGLE_SPINE_DELTA_TS):
            record = lookup(records, f"single {delta_t:+g} ms", readout)
            model.append(record["prediction"] if record else math.nan)
            data_mean.append(record["mean"] if record else math.nan)
            data_sem.append(record["sem"] if record else math.nan)
            band.append(record.get("band", (math.nan, math.nan)) if record else (math.nan,) * 2)
            _data_errorbar(ax, i, record, label="data (mean +- SEM)" if i == 0 else None)
        _bars_from_baseline(ax, x, model, "C0")
        _band_bars(ax, x, band)
        ax.set_xticks(x, labels)
        ax.set(xlabel="delta-t (ms), one spine", ylabel=READOUT_LABELS[readout])
        shown[readout] = dict(model=model, data_mean=data_mean, data_sem=data_sem)
        if np.isfinite(band).any():
            shown[readout]["model_band"] = band
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"One spine: the activated spine after {n_pairings} pairings (Figs. 1-2)")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return dict(delta_t_ms=list(SINGLE_SPINE_DELTA_TS), **shown)


def _distance_class(point) -> str:
    low, high = point["distance_min"], point["distance_max"]
    return f"> {low:g} um" if math.isinf(high) else f"{low:g}-{high:g} um"


def plot_distance(distances, curves, fits, data_points, lambdas, single, path, bands=None) -> None:
    """Figs. 3e and 5e: model uEPSP against inter-spine distance, eq. 2 fit, data classes; with
    ``bands`` (`Panels.read_bands`, plus ``length_constant``: delta_t -> (low, high) um), the
    model's band over the fit's parameter draws."""
    fig, axes = plt.subplots(1, 2, figsize=(12.0, 4.4), constrained_layout=True)
    dense = np.linspace(0.0, float(np.max(distances)), 300)
    for ax, delta_t in zip(axes, DISTANCE_DELTA_TS, strict=True):
        curve, fit = curves[delta_t], fits[delta_t]
        if bands is not None:
            low, high = bands["curves"][delta_t]
            lam_low, lam_high = bands["length_constant"][delta_t]
            ax.fill_between(
                distances, low, high, color="C0", alpha=0.2, lw=0,
                label=f"model band ({bands['level']:.0%} of the fit's draws; lambda "
                f"{lam_low:.1f}-{lam_high:.1f} um)",
            )  # fmt: skip
            single_low, single_high = bands["single"][delta_t]
            ax.axhspan(single_low, single_high, color="C1", alpha=0.12, lw=0)
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
