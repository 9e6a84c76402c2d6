"""A sweep's output has one writer at a time, a damaged partial result is named as such before
anything is compiled, and the result file says how it was made."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic._lock import OutputLockedError, output_lock
from plastic.studies import get_study
from plastic.sweep import ExperimentSweep, run_sweep

MARKRAM = get_study("markram1997")
BURSTS = {"n_per_burst": 5.0, "n_bursts": 10.0, "burst_period": 4000.0}


def _sweep():
    model = MARKRAM.rule("triplet").model()
    axes = {"frequency": np.array([10.0, 20.0]), "delta_t": np.array([-10.0, 10.0])}
    return ExperimentSweep.build(MARKRAM.experiment, model, axes, BURSTS)


def _finished_pid() -> int:
    """The id of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_second_writer_is_refused_at_once_and_a_stale_lock_is_taken_over(tmp_path):
    out = tmp_path / "grid.nc"
    # A live process (this test's parent) holds the output.
    (tmp_path / "grid.nc.lock").write_text(str(os.getppid()))
    with pytest.raises(OutputLockedError, match=f"being written by process {os.getppid()}"):
        run_sweep(_sweep(), str(out), progress=None)
    assert not out.exists() and not (tmp_path / "grid.nc.partial").exists()
    # Its writer gone, the lock is stale: the sweep runs, and releases the lock.
    (tmp_path / "grid.nc.lock").write_text(str(_finished_pid()))
    result = run_sweep(_sweep(), str(out), progress=None)
    assert result.weight.shape == (2, 2) and not (tmp_path / "grid.nc.lock").exists()
    # The file says how it was made.
    assert result.attrs["plastic_version"] == plastic.__version__
    assert "created" in result.attrs and "command" in result.attrs
    leaves = json.loads(result.attrs["model_parameters"])
    assert leaves["rule.tau_plus"]["unit"] == "ms"


def test_a_damaged_partial_result_is_named_before_compiling(tmp_path):
    out = tmp_path / "grid.nc"
    partial = tmp_path / "grid.nc.partial"
    partial.mkdir()
    (partial / "manifest.json").write_text("")  # a crash while it was written
    with pytest.raises(ValueError, match="partial results in .* are damaged.*--overwrite"):
        run_sweep(_sweep(), str(out), progress=None)
    assert run_sweep(_sweep(), str(out), overwrite=True, progress=None).weight.shape == (2, 2)


def test_the_lock_is_released_when_the_block_fails(tmp_path):
    with pytest.raises(RuntimeError), output_lock(tmp_path / "fit.ckpt"):
        raise RuntimeError
    assert not (tmp_path / "fit.ckpt.lock").exists()


def test_a_rerun_with_another_setting_names_what_changed(tmp_path):
    import equinox as eqx

    out = str(tmp_path / "grid.nc")
    run_sweep(_sweep(), out, progress=None)
    model = MARKRAM.rule("triplet").model()
    slower = eqx.tree_at(lambda m: m.rule.tau_plus, model, 2.0 * model.rule.tau_plus)
    axes = {"frequency": np.array([10.0, 20.0]), "delta_t": np.array([-10.0, 10.0])}
    other = ExperimentSweep.build(MARKRAM.experiment, slower, axes, BURSTS)
    with pytest.raises(FileExistsError, match=r"differs in: model leaves rule\.tau_plus\)"):
        run_sweep(other, out, progress=None)
    wider = {**axes, "delta_t": np.array([-20.0, 20.0])}
    with pytest.raises(FileExistsError, match="differs in: the axes or their values"):
        run_sweep(ExperimentSweep.build(MARKRAM.experiment, model, wider, BURSTS), out)
