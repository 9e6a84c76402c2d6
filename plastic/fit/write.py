"""A fit's results on disk: parameters (JSON and equinox), predictions vs data (CSV), loss plot.

`write_fit` writes into one folder:

- ``parameters.json``: for each parameter its path, fitted value, unit, bounds, scale and first
  value, with the best loss, the number of rows and the starts' losses and rejections; how the
  fit was made (`plastic.provenance.provenance`: versions, command line, date; the caller's
  ``settings``); and the whole fitted model, leaf by leaf with units; read the values back with
  `read_parameters`.
- ``model.eqx``: the fitted model, `equinox.tree_serialise_leaves`; read it back with
  `load_model` and a template of the same structure (e.g. the model the fit started from).
- ``predictions.csv``: per data row its labels, the data's mean and SEM, the prediction, the
  residual in SEMs and the row's chi-square.
- ``loss.png``: the loss of every start against the step.
"""

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path

import equinox as eqx
import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from jaxtyping import PyTree  # noqa: E402

from plastic.fit.result import FitResult  # noqa: E402
from plastic.provenance import model_parameters, provenance  # noqa: E402

PREDICTION_COLUMNS = ("mean", "sem", "prediction", "residual_sem", "chi_square")
"""Columns of ``predictions.csv`` after the data rows' labels (`DataSet.label_columns`: the
condition label, readout, site, condition columns and unit): the data's ``mean``, the ``sem``
the fit weighted the row with, the fitted model's ``prediction``, ``residual_sem`` = (prediction
- mean) / sem (0 where a row's bound is met: `plastic.fit.Objective`), and ``chi_square`` =
residual_sem ** 2."""


def write_fit(
    result: FitResult, directory: str | Path, settings: Mapping[str, object] | None = None
) -> dict[str, Path]:
    """Write ``parameters.json``, ``model.eqx``, ``predictions.csv`` and ``loss.png``.

    Args:
        result: what `fit` returned.
        directory: the output folder, created if needed; existing files are overwritten.
        settings: how the fit was set up beyond ``result.settings`` (which records the seed,
            starts, steps and optimiser): data file and its hash, selection, mode, protocol,
            ...; JSON values, recorded as given (over ``result.settings`` where both name one).

    Returns:
        The path of each file, by name without extension.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        name: directory / file
        for name, file in (
            ("parameters", "parameters.json"),
            ("model", "model.eqx"),
            ("predictions", "predictions.csv"),
            ("loss", "loss.png"),
        )
    }
    model = result.model
    record = _parameters_record(result, {**result.settings, **(settings or {})})
    paths["parameters"].write_text(json.dumps(record, indent=2) + "\n")
    eqx.tree_serialise_leaves(paths["model"], model)
    _write_predictions(result, model, paths["predictions"])
    _plot_loss(result, paths["loss"])
    return paths


def read_parameters(path: str | Path) -> dict[str, np.ndarray]:
    """The fitted values in a ``parameters.json``, path -> array of the leaf's shape."""
    record = json.loads(Path(path).read_text())
    return {name: np.asarray(entry["value"]) for name, entry in record["parameters"].items()}


def load_model(path: str | Path, template: PyTree) -> PyTree:
    """The model saved in a ``model.eqx``; ``template`` is any model of the same structure.

    Raises:
        ValueError: naming ``path`` when its leaves do not fit ``template`` (a model with other
            fields, e.g. written by an earlier version of plastic). The ``parameters.json``
            beside it holds the fitted values by path, which outlive such changes:
            `read_parameters`, then `FitParameters.with_values`.
    """
    try:
        return eqx.tree_deserialise_leaves(path, template)
    except Exception as error:  # equinox reports a mismatch in several ways (or as EOF)
        raise ValueError(
            f"load_model: {str(path)!r} does not hold a model shaped like the template "
            f"({len(jax.tree.leaves(template))} leaves): it was written for a model with other "
            "fields. Read the fitted values from the parameters.json beside it "
            f"(read_parameters) instead. ({type(error).__name__}: {error})"
        ) from error


def _parameters_record(result: FitResult, settings: dict) -> dict:
    best = result.best_start
    leaves = model_parameters(result.model)
    units = result.parameters.units()

    n_rows = result.objective.n_rows
    n_values = sum(int(np.size(v)) for v in result.best_values.values())
    return {
        "loss": float(result.best_loss[best]),
        "loss_kind": "chi-square: sum over data rows of ((prediction - mean) / sem) ** 2 "
        "(of the shortfall only, for a row that states a bound)",
        "n_rows": n_rows,
        "n_fitted_values": n_values,
        "best_start": best,
        "n_starts": result.n_starts,
        "n_steps": result.n_steps,
        "sem_floor": result.objective.sem_floor,
        "start_losses": [_number(x) for x in np.asarray(result.best_loss)],
        "start_rejections": np.asarray(result.rejections).tolist(),
        "parameters": {
            p.path: {
                "value": np.asarray(result.best_values[p.path]).tolist(),
                "unit": unit,
                "lower": p.lower,
                "upper": p.upper,
                "scale": "log" if p.log else "linear",
                "first_value": np.asarray(result.start_values[p.path][best]).tolist(),
            }
            for p, unit in zip(result.parameters.parameters, units)
        },
        "provenance": provenance(),
        "settings": settings,
        "model_parameters": leaves,
    }


def _number(x: float) -> float | None:
    # JSON has no infinity or NaN: a start that never had a finite loss is written as null.
    return float(x) if math.isfinite(x) else None


def _write_predictions(result: FitResult, model: PyTree, path: Path) -> None:
    objective = result.objective
    data = objective.data
    columns = dict(data.label_columns())
    columns["mean"] = data.mean
    columns["sem"] = objective.sem
    columns["prediction"] = objective.predictions(model)
    columns["residual_sem"] = objective.residuals(model)
    columns["chi_square"] = objective.chi_square_per_row(model)
    columns = {
        name: value if isinstance(value, tuple) else np.asarray(value).tolist()
        for name, value in columns.items()
    }
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(list(columns))
        for i in range(data.n_rows):
            writer.writerow([_cell(values[i]) for values in columns.values()])


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def _plot_loss(result: FitResult, path: Path) -> None:
    history = np.asarray(result.loss_history)
    steps = np.arange(history.shape[0])
    best = result.best_start
    rejections = np.asarray(result.rejections)
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    for i in range(result.n_starts):
        label = f"start {i}" + (f" ({rejections[i]} rejected)" if rejections[i] else "")
        is_best = i == best
        ax.plot(
            steps,
            history[:, i],
            color="k" if is_best else None,
            lw=2.0 if is_best else 0.8,
            alpha=1.0 if is_best else 0.6,
            zorder=3 if is_best else 2,
            label=(label + " (best)") if is_best else label if result.n_starts <= 10 else None,
        )
    n_rows = result.objective.n_rows
    n_values = sum(int(np.size(v)) for v in result.best_values.values())
    if n_rows > n_values:
        # The expected chi-square of a correct model with Gaussian errors of the given SEMs.
        ax.axhline(
            n_rows - n_values,
            color="grey",
            ls="--",
            lw=1,
            label=f"degrees of freedom ({n_rows} rows - {n_values} values)",
        )
    positive = history[np.isfinite(history) & (history > 0)]
    ax.set(
        xlabel="step",
        ylabel="loss (chi-square)",
        yscale="log" if positive.size else "linear",
        title=f"best loss {float(result.best_loss[best]):.4g} at start {best} of {result.n_starts}",
    )
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
