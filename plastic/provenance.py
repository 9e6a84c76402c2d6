"""How an output was made: versions, command line, date, and the model as readable parameters.

Every file `plastic` writes for a user (a sweep's NetCDF attributes, a fit's ``parameters.json``)
carries `provenance()` and `model_parameters(model)`, so that two results can be told apart, and
reproduced, from the files alone.

Units come from the one place they are stated in code: the range check of each field
(`plastic._validation.check_range`'s ``unit``), read by rebuilding each part of the model with
the checks recording.
"""

import contextlib
import dataclasses
import datetime
import hashlib
import importlib.metadata
import os
import platform
import shlex
import sys
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
from jaxtyping import PyTree

from plastic import _validation


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def provenance() -> dict[str, str]:
    """The package versions, the command line, the UTC time and the host of this process."""
    return {
        "plastic_version": _version("plastic"),
        "jax_version": jax.__version__,
        "equinox_version": _version("equinox"),
        "diffrax_version": _version("diffrax"),
        "python_version": platform.python_version(),
        "command": " ".join([_program(), shlex.join(sys.argv[1:])]).strip(),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
    }


def _program() -> str:
    name = os.path.basename(sys.argv[0])
    # ``python -m plastic.cli`` runs as ``__main__.py``.
    return "python -m plastic.cli" if name == "__main__.py" else shlex.quote(name)


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (e.g. a data set), hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def field_units(model: PyTree) -> dict[str, str]:
    """``"Class.field"`` -> unit for every field of every module in ``model`` whose range check
    names a unit (dimensionless or unchecked fields are absent)."""
    units: dict[str, str] = {}
    with _validation.recording_units(units):
        for module in _modules(model):
            # Rebuilding a module reruns its checks, which record their units.
            with contextlib.suppress(TypeError, ValueError):
                dataclasses.replace(module)
    return units


def model_parameters(model: PyTree) -> dict[str, dict]:
    """Every array leaf of ``model`` by its path (``rule.cam_half``, ``geometry.spines.
    neck_length``): its value (a number or nested list) and unit (``""`` where none is stated)."""
    units = field_units(model)
    record = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(model)[0]:
        if not eqx.is_array(leaf):
            continue
        names = [key.name for key in path if isinstance(key, jax.tree_util.GetAttrKey)]
        owner = _owner(model, names[:-1])
        unit = units.get(f"{type(owner).__name__}.{names[-1]}", "") if names else ""
        record[".".join(names)] = {"value": np.asarray(leaf).tolist(), "unit": unit}
    return record


def _owner(model, names):
    for name in names:
        model = getattr(model, name)
    return model


def _modules(node):
    """Every `eqx.Module` in ``node``, outermost first."""
    if isinstance(node, eqx.Module):
        yield node
        for field in dataclasses.fields(node):
            yield from _modules(getattr(node, field.name, None))
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _modules(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from _modules(item)
