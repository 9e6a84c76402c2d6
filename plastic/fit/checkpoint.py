"""Checkpoint files: a fit's whole state, written atomically, and refused by a different fit.

A file holds a fingerprint of the fit (32 bytes) followed by the state's leaves, both in
`equinox.tree_serialise_leaves` format. It is written to a temporary file in the same folder and
renamed over the old one, so an interruption at any moment leaves either the old or the new
checkpoint, never a torn one.
"""

import os
import tempfile
from pathlib import Path

import equinox as eqx
import numpy as np
from jaxtyping import PyTree

from plastic._fingerprint import tree_digest

_FORMAT = b"plastic.fit checkpoint 1"


def fingerprint(*parts: PyTree) -> np.ndarray:
    """SHA-256 of ``parts`` (`plastic._fingerprint.tree_digest`) as 32 ``uint8``: the same fit
    has the same fingerprint in another process."""
    return np.frombuffer(tree_digest(*parts, salt=_FORMAT), dtype=np.uint8).copy()


def save_checkpoint(path: str | Path, key: np.ndarray, state: PyTree) -> None:
    """Write ``state`` with the fit's fingerprint ``key`` to ``path``, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            eqx.tree_serialise_leaves(file, (key, state))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path, key: np.ndarray, like: PyTree) -> PyTree:
    """The state saved at ``path``, shaped like ``like``.

    Raises:
        ValueError: if the file was written by a fit with another fingerprint than ``key``
            (other data, parameters, bounds, starts, seed, number of starts or steps, or
            optimiser: its learning rate, schedule or kind).
    """
    with open(path, "rb") as file:
        saved = eqx.tree_deserialise_leaves(file, np.zeros_like(key))
        if not np.array_equal(saved, key):
            raise ValueError(
                f"checkpoint {str(path)!r} was written by a different fit (other data, "
                "parameters, bounds, starts, seed, number of starts or steps, or optimiser: "
                "its learning rate, schedule or kind); remove it or pass another checkpoint path"
            )
        return eqx.tree_deserialise_leaves(file, like)
