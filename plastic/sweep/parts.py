"""A sweep split into parts (`run_sweep`'s ``part``), and the merge of their chunks into the
result file: the locks that keep parts and whole runs apart, and the assembly of finished
chunks."""

import contextlib
import os
import shutil
from collections.abc import Callable

import jax
import numpy as np
import xarray as xr

from plastic._atomic import write_atomically
from plastic._lock import OutputLockedError, lock_holder, output_lock
from plastic.provenance import provenance
from plastic.sweep.store import chunk_file, finished_chunks, read_manifest, result_dataset


def print_progress(line: str) -> None:
    """The default progress report of a sweep or merge: the line, printed at once."""
    print(line, flush=True)


def merge_hint(path: str) -> str:
    return f"once every part has run: plastic merge {path} (merge_sweep)"


def _part_locks(path: str) -> list[str]:
    """The part locks beside ``path`` held by live processes: ``PATH.part-I-of-N``."""
    folder, name = os.path.split(os.path.abspath(path))
    found = []
    for entry in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
        if entry.startswith(name + ".part-") and entry.endswith(".lock"):
            output = os.path.join(folder, entry[: -len(".lock")])
            if lock_holder(output) is not None:
                found.append(output)
    return found


@contextlib.contextmanager
def sweep_lock(path: str, part: tuple[int, int] | None):
    """A whole run or a merge holds ``PATH.lock``; part i of n holds ``PATH.part-i-of-n.lock``,
    so that its sibling parts run beside it. Each refuses while the other kind runs: a whole
    run or merge removes the partial folder the parts write to."""
    if part is None:
        with output_lock(path):
            running = _part_locks(path)
            if running:
                parts = ", ".join(p.rsplit(".part-", 1)[1] for p in running)
                raise OutputLockedError(
                    f"{path}: parts of this sweep are still running ({parts}, processes "
                    f"{', '.join(str(lock_holder(p)) for p in running)}); wait for them to finish"
                )
            yield
        return
    holder = lock_holder(path)
    if holder is not None:
        raise OutputLockedError(
            f"{path} is being written by process {holder} (lock file {path}.lock), a whole "
            "sweep or a merge; wait for it to finish, or choose another output"
        )
    with output_lock(f"{path}.part-{part[0]}-of-{part[1]}"):
        yield


def _numbers(indices: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"1-3, 6"`` (numbered from 1)."""
    runs = []
    for index in indices:
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ", ".join(f"{a + 1}" if a == b else f"{a + 1}-{b + 1}" for a, b in runs)


def assemble(path: str, folder: str, manifest: dict, report) -> xr.Dataset:
    """Write the result file of the finished chunks in ``folder`` and remove the folder."""
    layout = manifest["layout"]
    pieces = {r["name"]: [] for r in layout["readouts"]}
    for index in range(layout["n_chunks"]):
        with np.load(chunk_file(folder, index)) as stored:
            for name, arrays in pieces.items():
                arrays.append(stored[name])
    outputs = [np.concatenate(arrays) for arrays in pieces.values()]
    attrs = {
        **layout["attrs"],
        **provenance(),
        "chunk_size": layout["chunk_size"],
        "fingerprint": manifest["fingerprint"],
    }
    dataset = result_dataset(layout, outputs, attrs)
    write_atomically(path, lambda file: file.write(dataset.to_netcdf(engine="scipy")))
    shutil.rmtree(folder)
    report(f"wrote {path}")
    return dataset


def merge_sweep(
    path: str, *, progress: Callable[[str], None] | None = print_progress
) -> xr.Dataset:
    """Assemble the result file ``path`` of a sweep run in parts (`run_sweep`'s ``part``) from
    its partial results, ``path + ".partial"``, without the sweep or any compilation: the
    file is the one an unsplit `run_sweep` writes, apart from the provenance attributes
    (``command``, ``created``, ``host``: this merge's).

    Returns:
        The result, as `run_sweep` returns it; if ``path`` already holds it (and no partial
        results remain), that.

    Raises:
        FileNotFoundError: if there are no partial results (and no result) at ``path``.
        ValueError: if chunks are missing (they are named), or the partial results are damaged
            or were written by a version of plastic that did not record how to merge them.
        FileExistsError: if ``path`` holds something else.
        OutputLockedError: while a part, a whole run or another merge writes ``path``.
    """
    report = progress if progress is not None else (lambda line: None)
    folder = path + ".partial"
    with sweep_lock(path, None):
        if not os.path.isdir(folder):
            if os.path.exists(path):
                report(f"{path} is already merged; loaded it")
                return xr.load_dataset(path, engine="scipy")
            raise FileNotFoundError(
                f"no partial results of a sweep at {folder}; run its parts first "
                f"(plastic sweep ... --out {path} --part I/N)"
            )
        manifest = read_manifest(folder)
        if "layout" not in manifest:
            raise ValueError(
                f"{folder} was written by an earlier version of plastic, which did not record "
                "how to merge it; rerun the sweep (without --part) to finish it"
            )
        if os.path.exists(path):
            try:
                existing = xr.load_dataset(path, engine="scipy").attrs.get("fingerprint")
            except (OSError, TypeError, ValueError):
                existing = None
            if existing != manifest["fingerprint"]:
                raise FileExistsError(
                    f"{path} exists and holds something other than this sweep's result; "
                    "delete it or move it away, then merge again"
                )
        n_chunks = manifest["layout"]["n_chunks"]
        missing = sorted(set(range(n_chunks)) - finished_chunks(folder))
        if missing:
            raise ValueError(
                f"cannot merge {path}: {len(missing)} of its {n_chunks} chunks are missing, "
                f"chunk(s) {_numbers(missing)} (numbered from 1; part i of N computes chunks i, "
                "i+N, i+2N, ...); run the parts that compute them, then merge again"
            )
        return assemble(path, folder, manifest, report)


def merge_across_processes(
    path: str, progress: Callable[[str], None] | None = print_progress
) -> xr.Dataset:
    """After every process of a multi-process JAX run has written its part of the sweep at
    ``path``: process 0 merges them (`merge_sweep`), and every process returns the result.

    The processes wait for each other at two barriers (`sync_global_devices`): before the
    merge, and before the others read the merged file.
    """
    from jax.experimental import multihost_utils

    multihost_utils.sync_global_devices(f"plastic sweep {path}: parts written")
    if jax.process_index() == 0:
        merge_sweep(path, progress=progress)
    multihost_utils.sync_global_devices(f"plastic sweep {path}: merged")
    return xr.load_dataset(path, engine="scipy")
