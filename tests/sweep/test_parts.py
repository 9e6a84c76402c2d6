"""A sweep split into parts (`run_sweep`'s ``part``, ``plastic sweep --part I/N``) and merged
(`merge_sweep`, ``plastic merge``) writes the file an unsplit run writes; a merge with chunks
missing names them; parts lock only themselves.

The sweep is the triplet rule's 3 x 2 grid of the Markram 1997 study in chunks of 2 (3 chunks):
standalone rule solves that compile in well under a second.
"""

import os

import numpy as np
import pytest
import xarray as xr

import plastic  # noqa: F401  (float64)
from plastic import cli
from plastic._lock import OutputLockedError
from plastic.studies import get_study
from plastic.sweep import ExperimentSweep, merge_sweep, run_sweep

MARKRAM = get_study("markram1997")
BURSTS = {"n_per_burst": 5.0, "n_bursts": 10.0, "burst_period": 4000.0}
# The attributes that say which command wrote the file, when and where.
PROVENANCE = ("command", "created", "host")


def _sweep():
    model = MARKRAM.rule("triplet").model()
    axes = {"frequency": np.array([10.0, 20.0, 30.0]), "delta_t": np.array([-10.0, 10.0])}
    return ExperimentSweep.build(MARKRAM.experiment, model, axes, BURSTS)


def _assert_same_file(path, reference):
    """The two NetCDF files are byte for byte the same once their provenance is."""
    a = xr.load_dataset(path, engine="scipy")
    b = xr.load_dataset(reference, engine="scipy")
    assert set(a.attrs) == set(b.attrs)
    assert {k: type(v) for k, v in a.attrs.items()} == {k: type(v) for k, v in b.attrs.items()}
    for name in PROVENANCE:
        a.attrs[name] = b.attrs[name] = "same"
    assert a.identical(b)
    assert a.to_netcdf(engine="scipy") == b.to_netcdf(engine="scipy")


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("whole") / "whole.nc")
    run_sweep(_sweep(), path, chunk_size=2, progress=None)
    return path


def test_parts_then_merge_equal_an_unsplit_run(whole, tmp_path):
    path = str(tmp_path / "split.nc")
    lines = []
    assert run_sweep(_sweep(), path, chunk_size=2, part=(2, 2), progress=lines.append) is None
    # Part 2 of 2 computes the second of the 3 chunks only, and writes no result.
    assert sorted(os.listdir(path + ".partial")) == ["chunk_00000001.npz", "manifest.json"]
    assert not os.path.exists(path) and not os.path.exists(path + ".part-2-of-2.lock")
    assert lines[0].startswith("part 2/2: sweep of 6 conditions") and "1 of 3 chunks" in lines[0]
    assert "plastic merge" in lines[-1]
    run_sweep(_sweep(), path, chunk_size=2, part=(1, 2), progress=None)
    assert not os.path.exists(path)
    lines = []
    merged = merge_sweep(path, progress=lines.append)
    assert lines == [f"wrote {path}"] and not os.path.exists(path + ".partial")
    _assert_same_file(path, whole)
    np.testing.assert_array_equal(merged.weight.values, xr.load_dataset(whole).weight.values)
    # A part run again once merged has nothing to do; merging again loads the file.
    assert run_sweep(_sweep(), path, chunk_size=2, part=(1, 2), progress=None) is None
    assert merge_sweep(path, progress=None).identical(merged)


def test_a_merge_with_chunks_missing_names_them(whole, tmp_path):
    path = str(tmp_path / "split.nc")
    with pytest.raises(FileNotFoundError, match="no partial results"):
        merge_sweep(path, progress=None)
    run_sweep(_sweep(), path, chunk_size=2, part=(2, 3), progress=None)
    with pytest.raises(ValueError, match=r"2 of its 3 chunks are missing, chunk\(s\) 1, 3 "):
        merge_sweep(path, progress=None)
    assert not os.path.exists(path)
    run_sweep(_sweep(), path, chunk_size=2, part=(1, 3), progress=None)
    # A file that appeared meanwhile at the output is never replaced by a merge.
    with open(path, "w") as file:
        file.write("notes")
    with pytest.raises(FileExistsError, match="holds something other than this sweep's result"):
        merge_sweep(path, progress=None)
    os.remove(path)
    with pytest.raises(ValueError, match=r"1 of its 3 chunks are missing, chunk\(s\) 3 "):
        merge_sweep(path, progress=None)
    # An unsplit run finishes what the parts left.
    lines = []
    run_sweep(_sweep(), path, chunk_size=2, progress=lines.append)
    assert "2 of 3 chunks already done" in lines[1]
    _assert_same_file(path, whole)


def test_parts_lock_only_themselves(tmp_path):
    path = str(tmp_path / "split.nc")
    # A live process (this test's parent) runs part 1 of 2: part 2 runs beside it, but a
    # merge or a whole run, which would remove the shared partial folder, waits.
    (tmp_path / "split.nc.part-1-of-2.lock").write_text(str(os.getppid()))
    run_sweep(_sweep(), path, chunk_size=2, part=(2, 2), progress=None)
    with pytest.raises(OutputLockedError, match=r"parts of this sweep are still running \(1-of-2"):
        merge_sweep(path, progress=None)
    with pytest.raises(OutputLockedError, match="still running"):
        run_sweep(_sweep(), path, chunk_size=2, progress=None)
    (tmp_path / "split.nc.part-1-of-2.lock").unlink()
    # A whole run or merge holding the output refuses parts.
    (tmp_path / "split.nc.lock").write_text(str(os.getppid()))
    with pytest.raises(OutputLockedError, match="a whole sweep or a merge"):
        run_sweep(_sweep(), path, chunk_size=2, part=(1, 2), progress=None)


@pytest.mark.parametrize("part", [(0, 2), (3, 2), (1, 0), (1.0, 2)])
def test_a_bad_part_is_refused(part, tmp_path):
    with pytest.raises(ValueError, match=r"part must be \(i, n\) with whole numbers 1 <= i <= n"):
        run_sweep(_sweep(), str(tmp_path / "x.nc"), part=part, progress=None)
    with pytest.raises(ValueError, match="cannot be combined with part"):
        run_sweep(_sweep(), str(tmp_path / "x.nc"), part=(1, 2), overwrite=True, progress=None)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/", "1/2/3", "1.5/2", " "])
def test_a_bad_part_option_is_one_line_and_status_2(text, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sweep", "--part", text, "--out", str(tmp_path / "x.nc")])
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1] == (
        f"plastic sweep: error: argument --part: must be I/N with whole numbers 1 <= I <= N; "
        f"got {text!r}"
    )


CLI_SWEEP = [
    "sweep",
    "--study",
    "markram1997",
    "--rule",
    "triplet",
    "--axis",
    "frequency=10,20,30",
    "--dt",
    "-10,10",
    "--axis",
    "n_per_burst=5",
    "--axis",
    "n_bursts=10",
    "--axis",
    "burst_period=4000",
    "--chunk-size",
    "2",
    "--no-compile-cache",
]


def test_the_command_line_runs_parts_and_merges_them(tmp_path, capsys):
    whole, split = str(tmp_path / "whole.nc"), str(tmp_path / "split.nc")
    cli.main([*CLI_SWEEP, "--out", whole])
    for i in (1, 2):
        cli.main([*CLI_SWEEP, "--out", split, "--part", f"{i}/2"])
        out = capsys.readouterr().out
        assert f"sweep part {i}/2 done" in out and not os.path.exists(split)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["merge", str(tmp_path / "other.nc")])
    assert exit_.value.code == 2
    assert "plastic merge: error: no partial results" in capsys.readouterr().err
    cli.main(["merge", split])
    assert f"wrote {split}" in capsys.readouterr().out
    _assert_same_file(split, whole)
    assert (tmp_path / "split.png").read_bytes().startswith(b"\x89PNG")
