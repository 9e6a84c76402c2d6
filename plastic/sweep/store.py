"""A sweep on disk: its result file (NetCDF, labelled, with units and provenance) and the folder
of finished chunks a run resumes from."""

import json
import os
import re
import shutil
import tempfile
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


MANIFEST = "manifest.json"


def read_manifest(folder: str) -> dict:
    """The manifest of a partial folder: ``fingerprint`` and (since parts and merging) the
    ``layout`` of `sweep_layout`.

    Raises:
        ValueError: if it cannot be read (e.g. after a crash while it was written).
    """
    try:
        with open(os.path.join(folder, MANIFEST)) as file:
            manifest = json.load(file)
        manifest["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(
            f"the partial results in {folder} are damaged (its {MANIFEST} cannot be "
            "read, e.g. after a crash while it was written); rerun with --overwrite "
            "(overwrite=True) to start again"
        ) from None
    return manifest


def finished_chunks(folder: str) -> set[int]:
    """The indices (from 0) of the chunks written to ``folder``."""
    found = (re.fullmatch(r"chunk_(\d+)\.npz", name) for name in os.listdir(folder))
    return {int(match.group(1)) for match in found if match}


def open_partial(folder: str, fingerprint: str, overwrite: bool, layout: dict) -> set[int]:
    """Create or reopen the folder of finished chunks; the indices already finished.

    The folder appears with its manifest in one rename, so that parts of a sweep started at
    the same time (`run_sweep`'s ``part``) find either no folder or a whole one.
    """
    if os.path.isdir(folder) and overwrite:
        shutil.rmtree(folder)
    if not os.path.isdir(folder):
        staging = tempfile.mkdtemp(
            prefix=os.path.basename(folder) + ".", dir=os.path.dirname(os.path.abspath(folder))
        )
        record = json.dumps({"fingerprint": fingerprint, "layout": layout}).encode()
        write_atomically(os.path.join(staging, MANIFEST), lambda file: file.write(record))
        try:
            os.rename(staging, folder)
        except OSError:  # a sibling part created it first: use theirs
            shutil.rmtree(staging, ignore_errors=True)
        else:
            return set()
    manifest = read_manifest(folder)
    if manifest["fingerprint"] != fingerprint:
        raise ValueError(
            f"{folder} holds partial results of a different sweep (axes, readouts, "
            "model, experiment or chunk size differ); delete it, choose another "
            "output file or pass overwrite=True"
        )
    if manifest.get("layout") != layout:  # written by an earlier version: add what merging needs
        record = json.dumps({"fingerprint": fingerprint, "layout": layout}).encode()
        write_atomically(os.path.join(folder, MANIFEST), lambda file: file.write(record))
    return finished_chunks(folder)


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


def sweep_layout(sweep, chunk_size: int) -> dict:
    """Everything the result file needs besides the readouts' values and the provenance, as
    JSON: the grid (axes with values and units), the chunking, the readouts (name, dims, unit,
    description) and the attributes. Kept in the partial folder's manifest, so that the parts of
    a split sweep are assembled (`merge_sweep`) without the sweep."""
    n_conditions = sweep.n_conditions
    return {
        "n_conditions": n_conditions,
        "chunk_size": chunk_size,
        "n_chunks": -(-n_conditions // chunk_size),
        "axes": [
            {"name": a.name, "units": a.units, "values": a.values.tolist()} for a in sweep.axes
        ],
        "readouts": [
            {
                "name": r.name,
                "dims": list(r.dims),
                "unit": r.unit,
                "description": " ".join(type(r).__doc__.split()),
            }
            for r in sweep.readouts
        ],
        "attrs": {
            "title": "plastic sweep",
            "axes": json.dumps([a.name for a in sweep.axes]),
            **sweep.attributes(),
        },
    }


def result_dataset(layout: dict, outputs: Sequence[np.ndarray], attrs: dict) -> xr.Dataset:
    """The labelled result: ``outputs`` (one ``(n_conditions, *readout dims)`` array per readout
    of ``layout``, a `sweep_layout`) on the grid, with ``attrs``."""
    names = tuple(a["name"] for a in layout["axes"])
    shape = tuple(len(a["values"]) for a in layout["axes"])
    coords = {
        a["name"]: (a["name"], np.asarray(a["values"], dtype=np.float64), {"units": a["units"]})
        for a in layout["axes"]
    }
    variables = {}
    for readout, output in zip(layout["readouts"], outputs):
        variables[readout["name"]] = (
            names + tuple(readout["dims"]),
            output.reshape(shape + output.shape[1:]),
            {"units": readout["unit"], "description": readout["description"]},
        )
        for dim, size in zip(readout["dims"], output.shape[1:]):
            coords.setdefault(dim, (dim, np.arange(size, dtype=np.int32)))
    return xr.Dataset(variables, coords=coords, attrs=attrs)
