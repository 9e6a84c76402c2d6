"""Figures of a fit's uncertainty, each returned as a matplotlib `Figure` and saved to ``path``
when one is given."""

import math
import textwrap
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
from matplotlib.figure import Figure

from plastic.experiment.dataset import DataSet
from plastic.uncertainty.bands import PredictionBand
from plastic.uncertainty.laplace import Laplace
from plastic.uncertainty.profile import Profile

_UNCONSTRAINED = "tab:red"


def plot_intervals(laplace: Laplace, level: float = 0.95, path: str | None = None) -> Figure:
    """Left: each fitted scalar's ``level`` interval in the fit's unconstrained coordinate
    (centred on the optimum; a log parameter's unit is a factor e), the data-only interval
    lighter behind it, red where the data do not constrain the scalar; its value and interval in
    its own unit beside it. Right: the posterior correlation matrix."""
    names = laplace.names
    n = len(names)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    posterior = z * np.asarray(laplace.standard_error)
    data_only = z * np.asarray(laplace.data_standard_error)
    low, high = (np.asarray(x) for x in laplace.interval(level))
    values = np.asarray(laplace.values)
    unconstrained = set(laplace.unconstrained_parameters())
    figure = Figure(figsize=(12, max(3.5, 1.2 + 0.32 * n)), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=(1.6, 1))
    rows = np.arange(n)[::-1]
    reach = 3.0 * z * laplace.sloppy_sd
    for row, name, half, data_half in zip(rows, names, posterior, data_only):
        colour = _UNCONSTRAINED if name in unconstrained else "k"
        shown = min(data_half, reach)
        left.plot(
            [-shown, shown], [row, row], color=colour, alpha=0.25, lw=7, solid_capstyle="butt"
        )
        shown = min(half, reach)
        left.plot([-shown, shown], [row, row], color=colour, lw=2)
        if half > reach or data_half > reach:
            left.annotate("→", (reach, row), color=colour, va="center", fontsize=8)
    for row, i in zip(rows, range(n)):
        unit = f" {laplace.flat.units[i]}" if laplace.flat.units[i] else ""
        left.annotate(
            f"{values[i]:.3g} [{low[i]:.3g}, {high[i]:.3g}]{unit}",
            (1.02, row),
            xycoords=("axes fraction", "data"),
            va="center",
            fontsize=7,
        )
    left.axvline(0.0, color="0.6", lw=0.8)
    left.set(
        yticks=rows,
        yticklabels=names,
        xlim=(-1.05 * reach, 1.05 * reach),
        xlabel=f"{level:.0%} interval, unconstrained units (log parameters: ln of the ratio)",
        title=(
            f"{level:.0%} intervals: posterior (line; bounds as prior), data only (band); "
            "red: not constrained by the data"
        ),
    )
    left.title.set_fontsize(8)
    left.tick_params(axis="y", labelsize=7)
    correlation = np.asarray(laplace.correlation)
    image = right.imshow(correlation, vmin=-1, vmax=1, cmap="RdBu_r")
    right.set_xticks(range(n), names, rotation=90, fontsize=6)
    right.set_yticks(range(n), names, fontsize=6)
    right.set_title("posterior correlation", fontsize=9)
    figure.colorbar(image, ax=right, shrink=0.5, label="correlation (1)")
    figure.suptitle(
        f"Laplace approximation: chi-square {laplace.chi_square:.4g} over {laplace.n_rows} rows, "
        f"{laplace.flat.size} fitted values",
        fontsize=10,
    )
    if path is not None:
        figure.savefig(path, dpi=130)
    return figure


def plot_profiles(profiles: Sequence[Profile], path: str | None = None) -> Figure:
    """Each profile: chi-square rise against the value, the threshold of its interval, and the
    interval (open ends marked)."""
    n = len(profiles)
    columns = min(n, 4)
    rows = math.ceil(n / columns)
    figure = Figure(figsize=(3.4 * columns, 2.8 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for ax, item in zip(axes, profiles):
        finite = item.chi_square[np.isfinite(item.chi_square)]
        rise = item.chi_square - min([item.optimum_chi_square, *finite.tolist()])
        ax.plot(item.values, rise, "o-", ms=3, color="k")
        ax.axhline(item.threshold, color="tab:blue", ls="--", lw=1)
        ax.axvline(item.optimum_value, color="0.6", lw=0.8)
        ax.axvspan(item.low, item.high, color="tab:blue", alpha=0.15)
        opened = " (open: " + ", ".join(
            side for side, is_open in (("low", item.open_low), ("high", item.open_high)) if is_open
        )
        title = item.name + (opened + ")" if item.open_low or item.open_high else "")
        ax.set_title(title, fontsize=8, color=_UNCONSTRAINED if "open" in title else "k")
        if item.log:
            ax.set_xscale("log")
        ax.set_xlabel(f"{item.name} ({item.unit})" if item.unit else item.name, fontsize=7)
        ax.set_ylabel("chi-square rise (1)", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    if profiles:
        figure.suptitle(
            f"profile likelihoods; dashed: the {profiles[0].level:.0%} threshold, band: the "
            "likelihood-ratio interval",
            fontsize=9,
        )
    if path is not None:
        figure.savefig(path, dpi=130)
    return figure


def plot_prediction_bands(
    data: DataSet, band: PredictionBand, path: str | None = None, title: str = ""
) -> Figure:
    """Every data row: its mean +- SEM, the fitted prediction and the band of the prediction,
    one panel per unit of the rows."""
    mean = np.asarray(data.mean, float)
    sem = np.asarray(data.sem, float)
    units = list(dict.fromkeys(data.unit))
    figure = Figure(
        figsize=(max(6.0, 0.35 * data.n_rows + 2), 3.2 * len(units)), layout="constrained"
    )
    axes = np.atleast_1d(figure.subplots(len(units), 1)).ravel()
    for ax, unit in zip(axes, units):
        rows = np.flatnonzero(np.asarray(data.unit) == unit)
        x = np.arange(rows.size)
        ax.fill_between(
            x,
            band.low[rows],
            band.high[rows],
            step="mid",
            color="tab:blue",
            alpha=0.25,
            label=f"{band.level:.0%} band ({band.n_draws} draws)",
        )
        ax.plot(x, band.at_optimum[rows], "s", color="tab:blue", ms=4, label="fitted model")
        ax.errorbar(
            x, mean[rows], sem[rows], fmt="o", color="k", ms=3, capsize=2, label="data +- SEM"
        )
        labels = [f"{data.condition[i]} · {data.readout[i]}" for i in rows]
        ax.set_xticks(x, labels, rotation=70, ha="right", fontsize=6)
        ax.set_ylabel(f"value ({unit})" if unit else "value")
        ax.legend(fontsize=7)
    figure.suptitle(title or "predictions with their uncertainty", fontsize=9)
    if path is not None:
        figure.savefig(path, dpi=130)
    return figure


_MAX_PAIRS = 12


def plot_pairs(posterior, path: str | None = None, level: float = 0.95) -> Figure:
    """Posterior draws of `plastic.uncertainty.nuts`: histograms on the diagonal, pairs below
    it (each chain its colour), in each scalar's unit (log axes for log parameters whose draws
    span more than a decade); the first 12 scalars of a larger fit."""
    values = np.asarray(posterior.values)
    n = min(values.shape[-1], _MAX_PAIRS)
    # A log axis where the draws span decades; a narrow one reads better on a linear axis.
    spans = values.reshape(-1, values.shape[-1])
    logs = [
        posterior.flat.parameters.parameters[i].log and spans[:, k].max() / spans[:, k].min() > 10
        for k, i in enumerate(posterior.flat.leaf_index)
    ]
    size = 1.6 * n + 1
    figure = Figure(figsize=(size, size), layout="constrained")
    axes = np.asarray(figure.subplots(n, n, squeeze=False))
    thin = max(1, values.shape[1] // 300)
    low, high = posterior.interval(level)
    for row in range(n):
        for column in range(n):
            ax = axes[row, column]
            if column > row:
                ax.set_visible(False)
                continue
            if row == column:
                draws = values[..., row].ravel()
                bins = np.geomspace(draws.min(), draws.max(), 30) if logs[row] else 30
                ax.hist(draws, bins=bins, color="0.4")
                ax.axvspan(low[row], high[row], color="tab:blue", alpha=0.15)
            else:
                for chain in range(values.shape[0]):
                    ax.plot(
                        values[chain, ::thin, column],
                        values[chain, ::thin, row],
                        ".",
                        ms=1,
                        alpha=0.4,
                        color=f"C{chain % 10}",
                    )
                if logs[row]:
                    ax.set_yscale("log")
            if logs[column]:
                ax.set_xscale("log")
            ax.tick_params(labelsize=5)
            if row == n - 1:
                unit = posterior.flat.units[column]
                name = posterior.flat.names[column]
                ax.set_xlabel(f"{name} ({unit})" if unit else name, fontsize=6)
            if column == 0 and row > 0:
                unit = posterior.flat.units[row]
                name = posterior.flat.names[row]
                ax.set_ylabel(f"{name} ({unit})" if unit else name, fontsize=6)
    shown = "" if n == values.shape[-1] else f" (the first {n} of {values.shape[-1]} values)"
    figure.suptitle(
        f"NUTS posterior: {values.shape[0]} chains x {values.shape[1]} draws{shown}; band: the "
        f"{level:.0%} interval",
        fontsize=9,
    )
    if path is not None:
        figure.savefig(path, dpi=130)
    return figure


def plot_curve_bands(data: DataSet, curves, path: str | None = None) -> Figure:
    """One panel per `plastic.uncertainty.curves.ConditionCurve`: the data rows (mean +- SEM),
    the fitted model's curve and its band along the condition."""
    n = len(curves)
    columns = min(n, 3)
    rows = math.ceil(n / columns)
    figure = Figure(figsize=(4.2 * columns, 3.3 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    mean = np.asarray(data.mean, float)
    sem = np.asarray(data.sem, float)
    for ax, curve in zip(axes, curves):
        x = curve.values
        band = curve.band
        ax.fill_between(
            x, band.low, band.high, color="tab:blue", alpha=0.25,
            label=f"{band.level:.0%} band ({band.n_draws} draws)",
        )  # fmt: skip
        ax.plot(x, band.at_optimum, color="tab:blue", label="fitted model")
        rows_x = np.asarray([data.column(curve.column)[i] for i in curve.rows], float)
        rows = list(curve.rows)
        ax.errorbar(rows_x, mean[rows], sem[rows], fmt="o", color="k", ms=3, capsize=2,
                    label="data +- SEM")  # fmt: skip
        if curve.log_scale:
            ax.set_xscale("log")
        unit = data.unit[curve.rows[0]]
        ax.set_xlabel(f"{curve.column} ({curve.unit})" if curve.unit else curve.column)
        ax.set_ylabel(f"{data.readout[curve.rows[0]]} ({unit})" if unit else data.readout[0])
        # The fixed conditions can be long: wrapped, so that neighbouring titles do not overlap.
        ax.set_title(textwrap.fill(curve.fixed, 60), fontsize=7)
        ax.legend(fontsize=6)
    for ax in axes[n:]:
        ax.set_visible(False)
    figure.suptitle("the fitted model along the measured conditions, with its band", fontsize=9)
    if path is not None:
        figure.savefig(path, dpi=130)
    return figure
