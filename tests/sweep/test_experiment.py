"""`ExperimentSweep`: a grid over any experiment's condition fields and model leaves, run by
`run_sweep`; values equal the predictor's on the same conditions, bad grids are refused before
anything runs, and ``plastic sweep --study`` writes the file and the plot."""

import equinox as eqx
import numpy as np
import pytest
import xarray as xr

import plastic  # noqa: F401  (float64)
from plastic import cli
from plastic.experiment import Predictor, dataset_from_records
from plastic.studies import get_study
from plastic.sweep import ExperimentSweep, run_sweep

MARKRAM = get_study("markram1997")
BURSTS = dict(n_per_burst=5, n_bursts=10, burst_period=4000.0)


def test_grid_values_equal_the_predictor_on_the_same_conditions(tmp_path):
    model = MARKRAM.rule("triplet").model()
    frequency, delta_t = np.array([5.0, 20.0, 40.0]), np.array([-10.0, 5.0])
    sweep = ExperimentSweep.build(
        MARKRAM.experiment, model, {"frequency": frequency, "delta_t": delta_t}, BURSTS
    )
    result = run_sweep(sweep, str(tmp_path / "grid.nc"), chunk_size=4, progress=None)
    assert result.weight.dims == ("frequency", "delta_t")
    assert result.frequency.attrs["units"] == "Hz" and result.weight.attrs["units"] == "ratio"
    rows = [
        dict(condition=f"{f} {d}", readout="weight", mean=1.0, sem=0.1, n=1, unit="ratio",
             source="test", frequency=f, delta_t=d, **BURSTS)
        for f in frequency for d in delta_t
    ]  # fmt: skip
    predicted = Predictor.from_data(MARKRAM.experiment, dataset_from_records(rows))(model)
    np.testing.assert_allclose(result.weight.values.ravel(), predicted, rtol=1e-12)
    assert np.ptp(result.weight.values) > 0.2  # the grid spans LTD and LTP


def test_a_model_leaf_axis_moves_the_model():
    study = get_study("ngezahayo2000")
    sweep = ExperimentSweep.build(
        study.experiment,
        study.rule().model(),
        {"calcium.amplitude": np.array([2e-4, 3e-4])},
        dict(v_clamp=-30.0, n_pulses=20, frequency=2.0),
    )
    # An evaluation gives (readouts, solver result codes); the first readout.
    low, high = (sweep.evaluation(np.array([a]))[0][0] for a in (2e-4, 3e-4))
    model = eqx.tree_at(lambda s: s.calcium.amplitude, study.rule().model(), 3e-4)
    data = dataset_from_records([dict(condition="c", readout="weight", mean=1, sem=0.1, n=1,
                                      unit="ratio", source="t", v_clamp=-30.0, n_pulses=20,
                                      frequency=2.0)])  # fmt: skip
    expected = Predictor.from_data(study.experiment, data)(model)[0]
    np.testing.assert_allclose(high, expected, rtol=1e-6)  # vmapped or not: the solve's rtol
    assert abs(float(high) - float(low)) > 0.01


@pytest.mark.parametrize(
    "axes, fixed, message",
    [
        ({"frequency": [2.0, 40.0]}, {}, r"column 'delta_t' is empty"),
        ({"frequency": [2.0, 40.0]}, dict(delta_t=5.0, v_clamp=1.0, **BURSTS),
         r"\['v_clamp'\] are not condition fields"),
        ({"frequency": [0.5, 2.0]}, dict(delta_t=5.0, **BURSTS), r"burst_period must be"),
        ({"rule.nothing": [1.0, 2.0]}, dict(delta_t=5.0, **BURSTS), "'nothing' is not a field of"),
        ({"n_bursts": [1.5, 2.0]}, dict(delta_t=5.0, frequency=2.0, n_per_burst=5,
                                         burst_period=4e3), "'n_bursts' must be a whole number"),
    ],
)  # fmt: skip
def test_bad_grids_are_refused_before_anything_runs(axes, fixed, message):
    with pytest.raises(ValueError, match=message):
        model = MARKRAM.rule("triplet").model()
        ExperimentSweep.build(MARKRAM.experiment, model, {k: np.array(v) for k, v in axes.items()},
                              fixed)  # fmt: skip


def test_plastic_sweep_of_a_study_writes_the_grid_and_the_plot(tmp_path):
    out = tmp_path / "markram.nc"
    cli.main(["sweep", "--study", "markram1997", "--rule", "triplet", "--dt", "-10,10",
              "--axis", "frequency=10:30:10", "--axis", "n_per_burst=5", "--axis", "n_bursts=10",
              "--axis", "burst_period=4000", "--out", str(out)])  # fmt: skip
    result = xr.load_dataset(out, engine="scipy")
    assert result.weight.shape == (2, 3)
    assert result.attrs["experiment"] == "SpikePairingExperiment"
    assert (tmp_path / "markram.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SystemExit, match="is not a file"):
        cli.main(["sweep", "--study", "markram1997", "--model", str(tmp_path / "none.eqx"),
                  "--dt", "-10,10", "--out", str(out)])  # fmt: skip
