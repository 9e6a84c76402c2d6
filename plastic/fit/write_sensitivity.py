"""A `Sensitivity` on disk: ``sensitivity.csv`` (one line per data row and parameter: value,
prediction, derivative and log-log slope) and ``sensitivity.png`` (the slopes as a heatmap, the
parameters any row is sensitive to)."""

import csv
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from plastic.fit.sensitivity import Sensitivity

SHOWN_SLOPE = 1e-3
"""Parameters whose |d log prediction / d log parameter| stays below this for every row are
left out of the heatmap (they are still in the CSV)."""


def write_sensitivity(result: Sensitivity, out: str | Path) -> dict[str, Path]:
    """Write ``result`` under the folder ``out``; returns the paths by kind."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = out / "sensitivity.csv"
    slopes = result.normalised
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["row", "parameter", "unit", "value", "prediction", "derivative", "log_slope"]
        )
        for i, row in enumerate(result.rows):
            for j, name in enumerate(result.names):
                writer.writerow(
                    [
                        row,
                        name,
                        result.units[j],
                        f"{result.values[j]:.10g}",
                        f"{result.predictions[i]:.10g}",
                        f"{result.derivative[i, j]:.10g}",
                        f"{slopes[i, j]:.6g}",
                    ]
                )
    figure = out / "sensitivity.png"
    plot_sensitivity(result, figure)
    return {"table": table, "figure": figure}


def plot_sensitivity(result: Sensitivity, path: str | Path | None = None) -> Figure:
    """The log-log slopes, data rows by parameters (those any row is sensitive to, by
    `SHOWN_SLOPE`), on a symmetric colour scale clipped at the 99th percentile of |S|."""
    slopes = result.normalised
    magnitude = np.nan_to_num(np.abs(slopes), nan=0.0)
    shown = np.flatnonzero(magnitude.max(axis=0) >= SHOWN_SLOPE)
    if shown.size == 0:
        shown = np.arange(len(result.names))
    slopes = slopes[:, shown]
    limit = float(np.nanpercentile(np.abs(slopes), 99)) if np.isfinite(slopes).any() else 1.0
    limit = limit if limit > 0 else 1.0
    n_rows, n_columns = slopes.shape
    figure = Figure(figsize=(max(6.0, 0.28 * n_columns + 4.0), max(3.0, 0.25 * n_rows + 2.0)))
    ax = figure.add_subplot()
    image = ax.imshow(slopes, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(n_columns), [result.names[j] for j in shown], rotation=90, fontsize=7)
    ax.set_yticks(range(n_rows), result.rows, fontsize=7)
    colourbar = figure.colorbar(image, ax=ax)
    colourbar.set_label("d log prediction / d log parameter")
    left_out = len(result.names) - len(shown)
    ax.set_title(
        f"Sensitivity of each prediction ({left_out} parameters below {SHOWN_SLOPE:g} left out)",
        fontsize=9,
    )
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure
