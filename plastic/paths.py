"""Model paths: the one syntax in which fit, sweep and the command line name a leaf of a model.

``rule.cam_half``: field names from the model down, dot-separated; a number steps into a tuple
(``rules.0.tau``). On a model with a ``geometry`` field, ``soma.``, ``dendrite.`` and
``spines.`` abbreviate ``geometry.soma.`` etc. A trailing ``[i]`` names element ``i`` of the
leaf's last axis (spine ``i`` of a per-spine field, ``spines.neck_length[0]``); without it the
path names the whole leaf.
"""

import dataclasses
import re

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, PyTree

_PATTERN = re.compile(r"^([A-Za-z_]\w*(?:\.(?:[A-Za-z_]\w*|\d+))*)(?:\[(\d+)\])?$")
_GEOMETRY_PARTS = ("soma", "dendrite", "spines")


class ModelPath(eqx.Module):
    """A leaf of a model, or one element of a leaf's last axis, by path (see the module doc).

    Attributes:
        text: the path as written, e.g. ``spines.neck_length[0]``.
    """

    text: str = eqx.field(static=True)

    def __check_init__(self):
        if not isinstance(self.text, str) or _PATTERN.match(self.text) is None:
            raise ValueError(
                f"{self.text!r} is not a model path: dotted attribute names like "
                "'nmda.conductance', with an optional element index as in "
                "'spines.neck_length[0]'"
            )

    @property
    def index(self) -> int | None:
        """The element of the leaf's last axis the path names, or None for the whole leaf."""
        index = _PATTERN.match(self.text).group(2)
        return None if index is None else int(index)

    def parts(self, model: PyTree) -> tuple[str, ...]:
        """The field names (and tuple positions) from ``model`` to the leaf, abbreviations
        expanded."""
        parts = tuple(_PATTERN.match(self.text).group(1).split("."))
        abbreviated = parts[0] in _GEOMETRY_PARTS and not _has_field(model, parts[0])
        if abbreviated and _has_field(model, "geometry"):
            return ("geometry", *parts)
        return parts

    def node(self, model: PyTree):
        """The whole leaf (or subtree) the path leads to.

        Raises:
            ValueError: naming the path, the step that fails and the fields available there.
        """
        node, walked = model, type(model).__name__
        for part in self.parts(model):
            if part.isdigit() and isinstance(node, (tuple, list)):
                if int(part) >= len(node):
                    raise ValueError(f"{self.text!r}: {walked} has only {len(node)} entries")
                node = node[int(part)]
            elif _has_field(node, part):
                node = getattr(node, part)
            else:
                fields = [f.name for f in dataclasses.fields(node)] if _is_module(node) else []
                raise ValueError(
                    f"{self.text!r}: {part!r} is not a field of {walked} "
                    f"({type(node).__name__}); its fields are {fields}"
                )
            walked += f".{part}"
        return node

    def check(self, model: PyTree) -> None:
        """Raise a ValueError naming the path unless it leads to a floating-point array leaf
        of ``model`` (and, with an index, one inside its last axis)."""
        node = self.node(model)
        if _is_module(node) or not eqx.is_array_like(node):
            raise ValueError(
                f"{self.text!r} is a {type(node).__name__}, not a number (structural settings "
                "cannot be fitted or swept); name one of its fields"
            )
        if not jnp.issubdtype(jnp.result_type(node), jnp.floating):
            raise ValueError(
                f"{self.text!r} has dtype {jnp.result_type(node)}; only floating-point leaves "
                "can be fitted or swept"
            )
        shape = jnp.shape(node)
        if self.index is not None and not (len(shape) >= 1 and self.index < shape[-1]):
            raise ValueError(
                f"{self.text!r}: index {self.index} is out of range for a leaf of shape {shape}"
            )

    def get(self, model: PyTree) -> Array:
        """The value the path names: the leaf, or its element ``[..., index]``."""
        leaf = jnp.asarray(self.node(model))
        return leaf if self.index is None else leaf[..., self.index]

    def set(self, model: PyTree, value) -> PyTree:
        """``model`` with the value the path names replaced by ``value`` (broadcast to its
        shape, cast to the leaf's dtype); pure, so it works under `jax.jit` and `jax.grad`."""
        leaf = jnp.asarray(self.node(model))
        if self.index is None:
            new = jnp.broadcast_to(jnp.asarray(value, leaf.dtype), leaf.shape)
        else:
            new = leaf.at[..., self.index].set(jnp.asarray(value, leaf.dtype))
        return eqx.tree_at(self.node, model, new)


def _is_module(node) -> bool:
    return dataclasses.is_dataclass(node) and not isinstance(node, type)


def _has_field(node, name: str) -> bool:
    return _is_module(node) and name in {f.name for f in dataclasses.fields(node)}
