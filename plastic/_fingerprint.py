"""A hash of pytrees that is the same in every process: to tell whether a checkpoint or a
partial result belongs to the computation that wants to resume from it."""

import hashlib
import re

import equinox as eqx
import jax
import numpy as np


def _stable_repr(x) -> bytes:
    # Memory addresses (``<function f at 0x...>``) differ between processes: leave them out.
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(x)).encode()


def tree_digest(*trees, salt: bytes = b"") -> bytes:
    """SHA-256 (32 bytes) of ``trees``: the bytes, shapes and dtypes of their array leaves, the
    ``repr`` of every other leaf and of their tree structure; ``salt`` is hashed first."""
    digest = hashlib.sha256(salt)
    for tree in trees:
        leaves, structure = jax.tree.flatten(tree)
        digest.update(_stable_repr(structure))
        for leaf in leaves:
            if eqx.is_array_like(leaf):
                array = np.asarray(leaf)
                digest.update(f"{array.shape}{array.dtype}".encode())
                digest.update(np.ascontiguousarray(array).tobytes())
            else:
                digest.update(_stable_repr(leaf))
    return digest.digest()
