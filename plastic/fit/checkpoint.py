"""Checkpoint files: a fit's whole state, written atomically, and refused by a different fit.

A file holds a fingerprint of the fit (32 bytes for each part of the fit's description, so that a
refusal can name the parts that differ) followed by the state's leaves, both in
`equinox.tree_serialise_leaves` format. It is written to a temporary file in the same folder and
renamed over the old one, so an interruption at any moment leaves either the old or the new
checkpoint, never a torn one.
"""

from pathlib import Path

import equinox as eqx
import numpy as np
from jaxtyping import PyTree

from plastic._atomic import write_atomically
from plastic._fingerprint import tree_digest

_FORMAT = b"plastic.fit checkpoint 1"


def fingerprint(*parts: PyTree) -> np.ndarray:
    """SHA-256 of each of ``parts`` (`plastic._fingerprint.tree_digest`), shape ``(n_parts,
    32)`` ``uint8``: the same fit has the same fingerprint in another process."""
    return np.stack(
        [np.frombuffer(tree_digest(part, salt=_FORMAT), dtype=np.uint8) for part in parts]
    )


def save_checkpoint(path: str | Path, key: np.ndarray, state: PyTree) -> None:
    """Write ``state`` with the fit's fingerprint ``key`` to ``path``, atomically."""
    write_atomically(path, lambda file: eqx.tree_serialise_leaves(file, (key, state)))


def load_checkpoint(
    path: str | Path, key: np.ndarray, like: PyTree, part_names: tuple[str, ...] = ()
) -> PyTree:
    """The state saved at ``path``, shaped like ``like``.

    Args:
        path: the checkpoint file.
        key: this fit's `fingerprint`.
        like: a state of the fit's structure.
        part_names: what each row of ``key`` describes, to name the parts that differ.

    Raises:
        ValueError: if the file was written by a fit with another fingerprint than ``key``,
            naming the parts that differ (or by another version of plastic).
    """
    refusal = f"checkpoint {str(path)!r} was written by a different fit"
    advice = "; remove it (plastic fit --overwrite) or pass another checkpoint path"
    with open(path, "rb") as file:
        try:
            saved = eqx.tree_deserialise_leaves(file, np.zeros_like(key))
        except Exception:  # a fingerprint of another shape: written by another version
            raise ValueError(f"{refusal} (or another version of plastic){advice}") from None
        differ = ~np.all(saved == key, axis=-1)
        if np.any(differ):
            named = [name for name, d in zip(part_names, differ) if d]
            verb = "differs" if len(named) == 1 else "differ"
            what = f": {', '.join(named)} {verb}" if named else ""
            raise ValueError(f"{refusal}{what}{advice}")
        return eqx.tree_deserialise_leaves(file, like)
