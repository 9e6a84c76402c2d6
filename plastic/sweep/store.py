"""A sweep on disk: its result file (NetCDF, labelled, with units and provenance) and the folder
of finished chunks a run resumes from."""

import json
import os
import re
import shutil
from collections.abc import Sequence

import numpy as np
import xarray as xr

from plastic._atomic import write_atomically
from plastic._fingerprint import tree_digest


def sweep_fingerprint(*trees) -> str:
    """A hash of values and structure, stable across processes."""
    return tree_digest(*trees).hex()


def chunk_file(folder: str, index: int) -> str:
    return os.path.join(folder, f"chunk_{index:08d}.npz")


def open_partial(folder: str, fingerprint: str, overwrite: bool) -> set[int]:
    """Create or reopen the folder of finished chunks; the indices already finished."""
    manifest = os.path.join(folder, "manifest.json")
    if os.path.isdir(folder) and overwrite:
        shutil.rmtree(folder)
    if os.path.isdir(folder):
        try:
            with open(manifest) as file:
                recorded = json.load(file)["fingerprint"]
        except (OSError, ValueError, KeyError, TypeError):
            raise ValueError(
                f"the partial results in {folder} are damaged (its manifest.json cannot be "
                "read, e.g. after a crash while it was written); rerun with --overwrite "
                "(overwrite=True) to start again"
            ) from None
        if recorded != fingerprint:
            raise ValueError(
                f"{folder} holds partial results of a different sweep (axes, readouts, "
                "model, experiment or chunk size differ); delete it, choose another "
                "output file or pass overwrite=True"
            )
        found = (re.fullmatch(r"chunk_(\d+)\.npz", name) for name in os.listdir(folder))
        return {int(match.group(1)) for match in found if match}
    os.makedirs(folder)
    record = json.dumps({"fingerprint": fingerprint}).encode()
    write_atomically(manifest, lambda file: file.write(record))
    return set()


def describe_changes(existing: xr.Dataset, sweep, chunk_size: int) -> str:
    """What differs between the sweep in a result file and ``sweep``, in words."""
    changed = []
    axes = {a.name: np.asarray(a.values) for a in sweep.axes}
    stored = json.loads(existing.attrs.get("axes", "[]"))
    if stored != list(axes) or any(
        not np.array_equal(existing[name].values, values) for name, values in axes.items()
    ):
        changed.append("the axes or their values")
    attributes = {**sweep.attributes(), "chunk_size": chunk_size}
    for name, value in attributes.items():
        if name == "model_parameters":
            old = json.loads(existing.attrs.get(name, "{}"))
            new = json.loads(value)
            leaves = sorted(k for k in new.keys() | old.keys() if old.get(k) != new.get(k))
            if leaves:
                shown = ", ".join(leaves[:5]) + (" ..." if len(leaves) > 5 else "")
                changed.append(f"model leaves {shown}")
        elif existing.attrs.get(name) != value:
            changed.append(name)
    readouts = [r.name for r in sweep.readouts]
    if sorted(existing.data_vars) != sorted(readouts):
        changed.append("the readouts")
    return "it differs in: " + ", ".join(changed) if changed else "another version of plastic"


def discard_if_empty(folder: str, finished: set[int]) -> None:
    """Remove a partial folder no chunk was written to (the sweep is refused before running),
    so that a rerun with other settings is not taken for a different sweep."""
    if not finished:
        shutil.rmtree(folder, ignore_errors=True)


def result_dataset(sweep, outputs: Sequence[np.ndarray], attrs: dict) -> xr.Dataset:
    names = tuple(a.name for a in sweep.axes)
    coords = {a.name: (a.name, a.values, {"units": a.units}) for a in sweep.axes}
    variables = {}
    for readout, output in zip(sweep.readouts, outputs):
        grid = output.reshape(sweep.shape + output.shape[1:])
        variables[readout.name] = (
            names + readout.dims,
            grid,
            {"units": readout.unit, "description": " ".join(type(readout).__doc__.split())},
        )
        for dim, size in zip(readout.dims, output.shape[1:]):
            coords.setdefault(dim, (dim, np.arange(size, dtype=np.int32)))
    return xr.Dataset(variables, coords=coords, attrs=attrs)
