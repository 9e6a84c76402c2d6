"""A sweep run by two processes of multi-process JAX (`jax.distributed`, over the loopback
address) writes the file one process writes; the options that describe the processes are checked
before any work; importing plastic leaves JAX's backend alone, so that a process can still join a
multi-process run after it."""

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


def test_importing_plastic_does_not_start_the_backend():
    # `jax.distributed.initialize` refuses to run once the backend has started.
    code = (
        "import plastic, plastic.cli, plastic.fit, plastic.studies, plastic.sweep, "
        "plastic.uncertainty, plastic.network\n"
        "from jax._src import xla_bridge\n"
        "assert not xla_bridge.backends_are_initialized(), 'importing plastic started JAX'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_two_processes_write_the_file_of_one(tmp_path):
    whole, split = str(tmp_path / "whole.nc"), str(tmp_path / "split.nc")
    cli.main([*CLI_SWEEP, "--out", whole])
    coordinator = f"127.0.0.1:{_free_port()}"
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "plastic.cli",
                *CLI_SWEEP,
                "--out",
                split,
                "--coordinator",
                coordinator,
                "--num-processes",
                "2",
                "--process-id",
                str(i),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=os.environ.copy(),
        )  # fmt: skip
        for i in (0, 1)
    ]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output
    # 3 chunks: process 0 computes chunks 1 and 3, process 1 chunk 2; process 0 merges and plots.
    assert "part 1/2: sweep of 6 conditions" in outputs[0] and "2 of 3 chunks" in outputs[0]
    assert "part 2/2: sweep of 6 conditions" in outputs[1] and "1 of 3 chunks" in outputs[1]
    assert f"wrote {split}" in outputs[0] and "sweep done" not in outputs[1]
    _assert_same_file(split, whole)
    assert not os.path.exists(split + ".partial")
    assert (tmp_path / "split.png").read_bytes().startswith(b"\x89PNG")


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
