"""A sweep run by two processes of multi-process JAX (`jax.distributed`, over the loopback
address) writes the file one process writes, and a multi-start fit so split finds what one
process finds; the options that describe the processes are checked
before any work. (The processes import plastic before they join the run, which
`jax.distributed.initialize` allows only while JAX's backend has not started: importing plastic
must not start it.)"""

import json
import os
import socket
import subprocess
import sys

import pytest

from plastic import cli
from tests.sweep.test_parts import CLI_SWEEP, _assert_same_file


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


FIT = ["fit", "--study", "markram1997", "--rule", "triplet", "--n-starts", "3", "--n-steps",
       "6", "--seed", "4", "--no-compile-cache"]  # fmt: skip
"""Three starts of the triplet rule on Markram 1997: with two processes, process 0 fits starts
0 and 2, process 1 start 1 (twice, to keep the shapes equal)."""

# Each process joins the run with the sweep's options, then fits in the same run (`fit` sees the
# two processes): one start-up of JAX's distributed runtime for both commands.
DRIVER = """
import json, sys
from plastic import cli
sweep, fit, processes = json.loads(sys.argv[1])
cli.main([*sweep, *processes])
cli.main(fit)
"""


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """The sweep and the fit run by processes 0 and 1 of one run: (folder, their outputs)."""
    folder = tmp_path_factory.mktemp("two_processes")
    sweep = [*CLI_SWEEP, "--out", str(folder / "split.nc")]
    fit = [*FIT, "--out", str(folder / "fit")]
    coordinator = ["--coordinator", f"127.0.0.1:{_free_port()}", "--num-processes", "2"]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                DRIVER,
                json.dumps([sweep, fit, [*coordinator, "--process-id", str(i)]]),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        for i in (0, 1)
    ]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output
    return folder, outputs


def test_two_processes_write_the_file_of_one(two_processes, tmp_path):
    folder, outputs = two_processes
    whole, split = str(tmp_path / "whole.nc"), str(folder / "split.nc")
    cli.main([*CLI_SWEEP, "--out", whole])
    # 3 chunks: process 0 computes chunks 1 and 3, process 1 chunk 2; process 0 merges and plots.
    assert "part 1/2: sweep of 6 conditions" in outputs[0] and "2 of 3 chunks" in outputs[0]
    assert "part 2/2: sweep of 6 conditions" in outputs[1] and "1 of 3 chunks" in outputs[1]
    assert f"wrote {split}" in outputs[0] and "sweep done" not in outputs[1]
    _assert_same_file(split, whole)
    assert not os.path.exists(split + ".partial")
    assert (folder / "split.png").read_bytes().startswith(b"\x89PNG")


def test_two_processes_fit_the_starts_of_one(two_processes, tmp_path):
    folder, outputs = two_processes
    cli.main([*FIT, "--out", str(tmp_path / "one")])
    assert "wrote" in outputs[0].split("fitting")[-1]
    assert "wrote" not in outputs[1].split("fitting")[-1]
    one = json.loads((tmp_path / "one" / "parameters.json").read_text())
    two = json.loads((folder / "fit" / "parameters.json").read_text())
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-10)
    for name, entry in one["parameters"].items():
        assert two["parameters"][name]["value"] == pytest.approx(entry["value"], rel=1e-10)
    assert two["settings"]["processes"] == 2 and "processes" not in one["settings"]
    for i in (1, 2):
        assert (folder / "fit" / f"fit.ckpt.process-{i}-of-2").exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--num-processes", "2"], "need ['--coordinator', '--process-id'] too"),
        (["--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"],
         "--process-id must be in [0, 1]"),
        (["--coordinator", "h:1", "--num-processes", "0", "--process-id", "0"],
         "--num-processes must be >= 1"),
        (["--distributed", "--process-id", "0"], "--distributed takes the processes from"),
        (["--distributed", "--part", "1/2"], "--part cannot be combined with several processes"),
    ],
)  # fmt: skip
def test_bad_process_options_are_refused_before_any_work(options, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sweep", *options, "--out", str(tmp_path / "x.nc")])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("text", ["host", "host:0", "host:70000", ":80", "a b:1"])
def test_a_bad_coordinator_is_refused(text, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sweep", "--coordinator", text])
    assert exit_.value.code == 2
    assert "must be HOST:PORT" in capsys.readouterr().err
