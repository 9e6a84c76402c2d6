"""Bands along a measured condition: the grid's rows, and the fitted curve through the data's."""

import jax
import numpy as np
import pytest

import plastic  # noqa: F401  (enables float64)
from plastic.studies import get_study
from plastic.uncertainty import condition_curves, curve_bands


def test_curves_are_the_groups_along_one_condition():
    data = get_study("markram1997").data()
    (curve,) = condition_curves(data, n_points=7)
    # Bursts of pairs at +5 ms, 2 to 40 Hz: the frequency varies, nothing else does.
    assert curve.column == "frequency" and len(curve.rows) == 6
    frequencies = [data.column("frequency")[i] for i in curve.rows]
    assert frequencies == sorted(frequencies) and set(
        data.column("delta_t")[i] for i in curve.rows
    ) == {5.0}
    # 2 to 40 Hz spans a factor of 20: a geometric grid, from the first to the last row.
    np.testing.assert_allclose(curve.values, np.geomspace(frequencies[0], frequencies[-1], 7))
    assert curve.log_scale and curve.grid.n_rows == 7
    # Along delta-t: -10, +5 and +10 ms at 10 Hz; the other frequencies have one delta-t each.
    (window,) = condition_curves(data, column="delta_t")
    assert [data.column("delta_t")[i] for i in window.rows] == [-10.0, 5.0, 10.0]
    assert "frequency=10.0" in window.fixed and not window.log_scale
    assert condition_curves(data, column="delta_t", min_rows=4) == []
    with pytest.raises(ValueError, match="numeric condition columns"):
        condition_curves(data, column="drug")


def test_the_fitted_curve_passes_through_the_predictions_of_its_rows(triplet_fit):
    objective, approx, model = triplet_fit
    study, data = get_study("markram1997"), objective.data
    (curve,) = curve_bands(
        approx, study.experiment, condition_curves(data, n_points=5), jax.random.key(0),
        n_draws=20,
    )  # fmt: skip
    rows = np.asarray(objective.predictions(model))[list(curve.rows)]
    np.testing.assert_allclose(curve.band.at_optimum[[0, -1]], rows[[0, -1]], rtol=1e-10)
    assert curve.unit == "Hz" and np.all(curve.band.low <= curve.band.high)
