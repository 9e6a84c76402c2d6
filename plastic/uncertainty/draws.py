"""The parameter draws behind a fit's prediction bands, kept on disk so that any prediction of
the model (a figure's own conditions, a sweep, a larger model) can be given the same band
without recomputing the uncertainty.

``plastic uncertainty DIR`` (and ``plastic fit --uncertainty``) writes them to ``DIR/draws.npz``:
per fitted leaf its path and its values at every draw, in the leaf's unit. `load_draws` reads
them back and `ParameterDraws.models` sets them into a model::

    draws = load_draws("out/fit/draws.npz")
    models = draws.models(load_model("out/fit/model.eqx", template))   # leading axis: draws
    predictions = jax.vmap(predict)(models)
"""

from collections.abc import Mapping
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from plastic._atomic import write_atomically
from plastic.paths import ModelPath
from plastic.uncertainty.flat import FlatParameters

_METHOD = "__method__"


class ParameterDraws(eqx.Module):
    """Draws of a fit's parameters.

    Attributes:
        values: fitted leaf path -> its values, shape ``(n_draws, *leaf_shape)``, in the leaf's
            unit (inside its bounds).
        method: where the draws come from: ``"laplace"`` (the Gaussian approximation in the
            unconstrained coordinates) or ``"nuts"`` (posterior samples).
    """

    values: dict[str, Float[Array, "n_draws ..."]]
    method: str = eqx.field(static=True)

    def __check_init__(self):
        sizes = {np.shape(v)[0] if np.ndim(v) else None for v in self.values.values()}
        if not self.values or len(sizes) != 1 or None in sizes:
            raise ValueError(
                "values must map each fitted path to an array with one leading row per draw, "
                f"the same number for every path; got shapes "
                f"{ {k: np.shape(v) for k, v in self.values.items()} }"
            )

    @classmethod
    def from_unconstrained(
        cls, flat: FlatParameters, draws: Float[Array, "n_draws n"], method: str
    ) -> "ParameterDraws":
        """The draws of flat unconstrained points ``draws`` (`Laplace.sample`, a posterior)."""
        values = jax.vmap(flat.to_values)(jnp.asarray(draws))
        return cls({name: np.asarray(v) for name, v in values.items()}, method)

    @property
    def n_draws(self) -> int:
        return int(np.shape(next(iter(self.values.values())))[0])

    def thinned(self, n_draws: int) -> "ParameterDraws":
        """At most ``n_draws`` draws, evenly spaced through these."""
        if n_draws < 1:
            raise ValueError(f"n_draws must be at least 1; got {n_draws}")
        keep = np.unique(np.linspace(0, self.n_draws - 1, min(n_draws, self.n_draws)).round())
        picked = {k: np.asarray(v)[keep.astype(int)] for k, v in self.values.items()}
        return ParameterDraws(picked, self.method)

    def models(self, model: PyTree) -> PyTree:
        """``model`` with its fitted leaves set to each draw, stacked on a leading axis (for
        `jax.vmap` or `jax.lax.map`); every other leaf as in ``model``.

        Raises:
            ValueError: if a path is not a leaf of ``model`` or a draw has another shape.
        """
        for name, value in self.values.items():
            where = ModelPath(name)
            where.check(model)
            leaf_shape = np.shape(where.get(model))
            if np.shape(value)[1:] != leaf_shape:
                raise ValueError(
                    f"draws of {name!r} have shape {np.shape(value)[1:]} per draw but the "
                    f"model's leaf has shape {leaf_shape}"
                )

        def one(values: Mapping[str, Array]) -> PyTree:
            out = model
            for name, value in values.items():
                where = ModelPath(name)
                dtype = jnp.result_type(where.get(model))
                out = where.set(out, jnp.asarray(value, dtype))
            return out

        return jax.vmap(one)({k: jnp.asarray(v) for k, v in self.values.items()})

    def save(self, path: str | Path) -> None:
        """Write ``path`` (``.npz``), atomically."""
        arrays = {name: np.asarray(v) for name, v in self.values.items()}
        arrays[_METHOD] = np.asarray(self.method)
        write_atomically(path, lambda file: np.savez(file, **arrays))


def load_draws(path: str | Path) -> ParameterDraws:
    """The draws written by `ParameterDraws.save` (``plastic uncertainty``'s ``draws.npz``).

    Raises:
        ValueError: if ``path`` is not such a file.
    """
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a draws file of plastic uncertainty ({error})") from None
    if _METHOD not in arrays:
        raise ValueError(f"{path}: not a draws file of plastic uncertainty (no method recorded)")
    method = str(arrays.pop(_METHOD))
    return ParameterDraws(arrays, method)
