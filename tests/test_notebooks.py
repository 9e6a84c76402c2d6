"""Every notebook in ``notebooks/`` runs top to bottom without error (nbclient, a fresh kernel).

The kernel is this interpreter's (``sys.executable``): its directory goes first on ``PATH``, so
that the ``python3`` kernel spec starts the same environment, with ``plastic`` importable.
"""

import os
import pathlib
import sys

import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
# A guard against a hung cell, not a speed target (speed lives in experiments/bench_*.py): the
# slowest notebook (02) takes ~145 s on an idle 2-core machine, most of it compiling the
# replay gradient, and ~240 s beside the other test worker.
CELL_TIMEOUT = 600  # s


def test_notebooks_are_found():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    # Matplotlib must not try to open windows in the kernel.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        f"{path.name} is committed with outputs: clear them"
    )
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
