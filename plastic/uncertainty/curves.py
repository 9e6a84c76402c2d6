"""Prediction bands along a condition: the fitted model's curve between (and through) the data.

A data set measured at several values of one condition (delta-t for an STDP window, the stimulus
frequency, the holding potential, the inter-spine distance) with the other conditions fixed is a
curve. `condition_curves` finds such groups of rows and lays a dense grid of that condition over
each; `curve_bands` predicts the grid with the fitted model and with draws of its parameters, so
that the figure shows the model's curve and its band between the data points, not only at them.
"""

import math
from collections.abc import Sequence

import equinox as eqx
import numpy as np
from jaxtyping import PRNGKeyArray

from plastic._validation import check_range
from plastic.experiment.dataset import DataSet, dataset_from_records
from plastic.experiment.experiment import AbstractExperiment
from plastic.experiment.predictor import Predictor
from plastic.uncertainty.bands import PredictionBand, prediction_band
from plastic.uncertainty.laplace import Laplace


class ConditionCurve(eqx.Module):
    """A group of data rows along one condition, and a grid over it.

    Attributes:
        column: the condition that varies along the curve.
        rows: the data rows of the group, in ascending ``column``.
        fixed: the other conditions of the group (and its readout and site), for the title.
        grid: the grid's rows: the group's conditions with ``column`` on ``n_points`` values
            from the smallest to the largest in the data (geometric where they span a factor
            of 20 or more and are positive).
        band: the prediction band on the grid, once computed (`curve_bands`).
        unit: the unit of ``column`` (from the experiment's condition field, by `curve_bands`).
    """

    column: str = eqx.field(static=True)
    rows: tuple[int, ...] = eqx.field(static=True)
    fixed: str = eqx.field(static=True)
    grid: DataSet
    band: PredictionBand | None = None
    unit: str = eqx.field(static=True, default="")

    @property
    def values(self) -> np.ndarray:
        """The grid's values of ``column``."""
        return np.asarray(self.grid.column(self.column), float)

    @property
    def log_scale(self) -> bool:
        values = self.values
        return bool(values.min() > 0 and values.max() / values.min() >= 20)


def condition_curves(
    data: DataSet, column: str | None = None, n_points: int = 41, min_rows: int = 3
) -> list[ConditionCurve]:
    """The curves of ``data``: groups of at least ``min_rows`` rows that share their readout,
    site and every condition but ``column``, which takes distinct numeric values.

    Args:
        data: the rows.
        column: the condition along the curves; default the numeric column whose largest
            group is largest (ties: the first).
        n_points: grid points per curve, >= 2.
        min_rows: the fewest rows that make a curve, >= 2.

    Returns:
        The curves, possibly none.
    """
    check_range("n_points", n_points, lower=2.0, lower_inclusive=True)
    check_range("min_rows", min_rows, lower=2.0, lower_inclusive=True)
    numeric = [
        name
        for name in data.column_names
        if all(isinstance(v, (int, float)) and math.isfinite(v) for v in data.column(name))
    ]
    if column is not None and column not in numeric:
        raise ValueError(f"column must be one of the numeric condition columns {numeric}")
    candidates = [column] if column is not None else numeric
    best: tuple[int, str, dict] | None = None
    for name in candidates:
        groups = _groups(data, name)
        size = max((len(rows) for rows in groups.values()), default=0)
        if best is None or size > best[0]:
            best = (size, name, groups)
    if best is None or best[0] < min_rows:
        return []
    _, name, groups = best
    curves = []
    for key, rows in groups.items():
        if len(rows) < min_rows:
            continue
        rows = sorted(rows, key=lambda i: data.column(name)[i])
        low, high = data.column(name)[rows[0]], data.column(name)[rows[-1]]
        geometric = low > 0 and high / low >= 20
        grid = np.geomspace(low, high, n_points) if geometric else np.linspace(low, high, n_points)
        first = rows[0]
        records = []
        for value in grid:
            record = {
                "condition": f"{name}={value:.6g}",
                "readout": data.readout[first],
                "site": data.site[first],
                "mean": 0.0,  # a grid row is predicted, never fitted
                "sem": "",
                "n": "",
                "unit": data.unit[first],
                "source": "grid",
            }
            for other, values in data.columns:
                record[other] = float(value) if other == name else values[first]
            records.append(record)
        fixed = ", ".join(f"{other}={value}" for other, value in key[2:])
        readout = f"{data.readout[first]}" + (f" at {data.site[first]}" if data.site[first] else "")
        curves.append(
            ConditionCurve(
                column=name,
                rows=tuple(rows),
                fixed=f"{readout}; {fixed}" if fixed else readout,
                grid=dataset_from_records(records, where=f"the grid along {name}"),
            )
        )
    return curves


def curve_bands(
    laplace: Laplace,
    experiment: AbstractExperiment,
    curves: Sequence[ConditionCurve],
    key: PRNGKeyArray,
    *,
    n_draws: int = 200,
    level: float = 0.95,
    batch_size: int | None = None,
    draws=None,
) -> list[ConditionCurve]:
    """``curves`` with their bands: the fitted model and the same ``n_draws`` draws of the
    parameters (see `prediction_band`) predict every grid, under ``experiment``."""
    fitted = laplace.flat.to_model(laplace.optimum)
    banded = []
    for curve in curves:
        predictor = Predictor.from_data(experiment, curve.grid, model=fitted)
        band = prediction_band(
            laplace,
            predictor,
            key,
            n_draws=n_draws,
            level=level,
            batch_size=batch_size,
            draws=draws,
        )
        banded.append(
            ConditionCurve(
                column=curve.column,
                rows=curve.rows,
                fixed=curve.fixed,
                grid=curve.grid,
                band=band,
                unit=experiment.field(curve.column).unit,
            )
        )
    return banded


def _groups(data: DataSet, name: str) -> dict[tuple, list[int]]:
    """Rows by (readout, site, the other conditions), for rows whose ``name`` values are
    distinct within the group (a group with a repeated value is not a curve)."""
    groups: dict[tuple, list[int]] = {}
    for i in range(data.n_rows):
        others = tuple((other, values[i]) for other, values in data.columns if other != name)
        key = (("readout", data.readout[i]), ("site", data.site[i]), *others)
        groups.setdefault(key, []).append(i)
    column = data.column(name)
    return {
        key: rows for key, rows in groups.items() if len({column[i] for i in rows}) == len(rows)
    }
