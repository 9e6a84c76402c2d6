"""`plastic fit`: a fit starts from an earlier fit's model, or refuses the file by name; the
length-constant rows get an SEM."""

import argparse

import equinox as eqx
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic import cli
from plastic.cli import fit as cli_fit
from plastic.cli.spine import spine_model
from plastic.cli.studies import load_start
from plastic.protocols import spike_pairs
from plastic.rules import STDPSynapse, TripletSTDP
from plastic.studies.tazerart2020 import tazerart2020_data, tazerart_model


def test_fit_starts_from_a_saved_model(tmp_path):
    saved = eqx.tree_at(lambda m: m.coupling.half_activation, tazerart_model(), 0.123)
    path = tmp_path / "model.eqx"
    eqx.tree_serialise_leaves(path, saved)
    loaded = load_start(str(path), tazerart_model())
    assert float(loaded.coupling.half_activation) == 0.123
    assert float(loaded.rule.cam_half) == float(saved.rule.cam_half)


def test_fit_refuses_a_missing_or_foreign_start(tmp_path):
    with pytest.raises(ValueError, match="--init .* is not a file"):
        load_start(str(tmp_path / "absent.eqx"), tazerart_model())
    foreign = tmp_path / "other.eqx"
    eqx.tree_serialise_leaves(foreign, tazerart_model().without_plasticity())
    with pytest.raises(ValueError, match="--init .* is not a model.eqx of the study's model"):
        load_start(str(foreign), tazerart_model())


def test_length_constant_rows_are_weighted_with_a_fraction_of_their_mean():
    data = tazerart2020_data().select(readout=("uepsp", "length_constant"))
    weighted = cli_fit._weigh_length_constants(data, 0.15)
    is_length = np.array([r == "length_constant" for r in data.readout])
    assert is_length.sum() == 2 and np.all(np.isnan(np.asarray(data.sem)[is_length]))
    np.testing.assert_allclose(
        np.asarray(weighted.sem)[is_length], 0.15 * np.asarray(data.mean)[is_length]
    )
    np.testing.assert_array_equal(
        np.asarray(weighted.sem)[~is_length], np.asarray(data.sem)[~is_length]
    )
    with pytest.raises(ValueError, match="--length-constant-sem"):
        cli_fit._weigh_length_constants(data, 0.0)


def test_fit_refuses_an_unknown_parameter_path_or_empty_selection_before_recording():
    """Both used to fail only after the biophysics of every row was recorded (about 30 s), the
    first with a raw ValueError traceback, the second with a numpy TypeError; now both stop
    with a message before anything is simulated."""
    with pytest.raises(SystemExit, match="'nothing' is not a field of SpineModel.rule"):
        cli.main(["fit", "--parameter", "rule.nothing:0:1", "--out", "unused"])
    with pytest.raises(SystemExit, match="--select .*no row matches"):
        cli.main(["fit", "--select", "condition=nonexistent", "--out", "unused"])


def test_simulate_and_sweep_run_the_fitted_tazerart_model_unless_told_otherwise(tmp_path):
    """They used to build an uncalibrated `SpineModel()` (potentiation at -15 ms) and not say
    so; now the fitted model, a fit's model.eqx, or its biophysics alone, each named."""
    args = argparse.Namespace(rule=None, model=None, position=40.0, compartments=None)
    model, description = spine_model(args, distance=3.0)
    assert bool(eqx.tree_equal(model, tazerart_model()))  # spines at 40 and 43 um
    assert "fitted" in description
    saved = tmp_path / "model.eqx"
    eqx.tree_serialise_leaves(saved, eqx.tree_at(lambda m: m.rule.cam_half, model, 12.5))
    loaded, description = spine_model(argparse.Namespace(**{**vars(args), "model": str(saved)}))
    assert float(loaded.rule.cam_half) == 12.5 and str(saved) in description
    np.testing.assert_array_equal(loaded.geometry.spines.position, [40.0, 42.0])
    alone, description = spine_model(argparse.Namespace(**{**vars(args), "rule": "none"}))
    assert alone.rule is None and alone.expression is None and "without plasticity" in description
    with pytest.raises(ValueError, match="--rule 'bcm'"):
        spine_model(argparse.Namespace(**{**vars(args), "rule": "bcm"}))


def test_simulate_runs_one_condition_of_a_study(capsys):
    conditions = ("delta_t=10", "n_bursts=3", "burst_period=1000")
    argv = ["simulate", "--study", "markram1997", "--rule", "triplet"]
    cli.main(argv + [word for c in conditions for word in ("--condition", c)])
    printed = capsys.readouterr().out
    synapse = STDPSynapse(TripletSTDP.from_published("visual_cortex_nearest_full"))
    expected = float(synapse.efficacy(spike_pairs(10.0, n_pairings=3, period=1000.0)))
    assert f"weight (ratio): {expected:.4g}" in printed and expected > 1.0
    with pytest.raises(SystemExit, match="no condition field 'nope'"):
        cli.main(["simulate", "--study", "markram1997", "--condition", "nope=1"])


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["fit", "--n-steps", "0"], "argument --n-steps: must be a whole number in [1, inf)"),
        (["fit", "--n-pairings", "0"], "argument --n-pairings: must be a whole number"),
        (["fit", "--sem-floor", "-1"], "argument --sem-floor: must be a finite number in (0"),
        (["fit", "--learning-rate", "inf"], "argument --learning-rate: must be a finite number"),
        (["fit", "--select", "condition=nonexistent"], "no row matches"),
        (["simulate", "--current", "inf"], "argument --current: must be a finite number"),
        (["simulate", "--quiet-min", "-1"], "argument --quiet-min: must be a finite number in [0"),
        (["simulate", "--study", "markram1997", "--save-traces"], "not a study's"),
        (["sweep", "--dt", "0,inf"], "every value must be a finite number"),
        (["sweep", "--dt", "-5:inf:1"], "needs finite numbers"),
        (["sweep", "--atol", "-1"], "argument --atol: must be a finite number in (0"),
        (["sweep", "--rtol", "-1"], "argument --rtol: must be a finite number in (0, 1)"),
        (["sweep", "--max-steps", "0"], "argument --max-steps: must be a whole number"),
        (["fit", "--level", "1"], "argument --level: must be a finite number in (0, 1)"),
        (["fit", "--uncertainty", "bayes"], "argument --uncertainty: invalid choice"),
        (["fit", "--n-draws", "5"], "argument --n-draws: must be a whole number in [20, inf)"),
        (
            ["fit", "--uncertainty", "laplace", "--profile-parameter", "rule.p4"],
            "--profile-parameter needs --uncertainty profile",
        ),
    ],
)
def test_a_bad_option_is_one_line_and_status_2_before_any_work(
    capsys, tmp_path, arguments, message
):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*arguments, "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert message in error[-1] and error[-1].startswith(f"plastic {arguments[0]}: error:")


def test_an_output_that_is_a_file_is_refused_before_the_simulation(capsys, tmp_path):
    occupied = tmp_path / "notes.txt"
    occupied.write_text("not a folder")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["simulate", "--out", str(occupied)])
    assert exit_.value.code == 2
    assert "is a file; give a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sweep", "--dt", "0,5", "--n-pairings", "1", "--out", str(occupied)])
    assert exit_.value.code == 2
    assert "is not a sweep's NetCDF file" in capsys.readouterr().err
    assert occupied.read_text() == "not a folder"


def test_uncertainty_of_a_folder_without_a_fit_is_refused(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["uncertainty", str(tmp_path)])
    assert exit_.value.code == 2
    assert "parameters.json is missing: DIR must be the --out folder" in capsys.readouterr().err


def test_version():
    assert plastic.__version__ not in ("", "unknown")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0


def test_rows_without_a_usable_sem_are_refused_before_any_simulation(capsys, tmp_path):
    data = tmp_path / "mine.csv"
    data.write_text(
        "condition,readout,mean,sem,n,unit,source,delta_t,frequency,n_per_burst,n_bursts,"
        "burst_period\n"
        "a,weight,1.2,0.0,5,ratio,test,10,20,5,10,4000\n"
        "b,weight,0.8,0.1,5,ratio,test,-10,20,5,10,4000\n"
    )
    arguments = ["fit", "--study", "markram1997", "--rule", "triplet", "--data", str(data)]
    with pytest.raises(SystemExit) as exit_:
        cli.main([*arguments, "--out", str(tmp_path / "fit")])
    assert exit_.value.code == 2
    assert "rows 0 ('a', weight) have no usable SEM" in capsys.readouterr().err


def test_a_solve_that_runs_out_of_steps_names_the_reason_and_the_option(tmp_path):
    """The solve reports its failure as a result code, checked after the compiled call (no
    error inside the program, which JAX's compile cache would not keep)."""
    with pytest.raises(SystemExit, match="maximum number of solver steps") as raised:
        cli.main(
            ["simulate", "--n-pairings", "1", "--quiet-min", "0.1", "--max-steps", "20"]
            + ["--out", str(tmp_path / "out")]
        )
    assert "the step limit was 20; rerun with a larger --max-steps" in str(raised.value)
