"""Which parameters each prediction rests on: the Jacobian of every prediction of an objective
with respect to every parameter of the model, by autodiff, normalised to log-log slopes.

``S[i, j] = d log prediction_i / d log parameter_j = (parameter_j / prediction_i)
d prediction_i / d parameter_j``: a 1 % change of parameter j moves prediction i by S[i, j] %.
It is dimensionless, so conductances, rate constants and thresholds compare on one scale; a
threshold whose slope is large for one row and not for its neighbours is a knife edge. Where a
prediction or a parameter is 0 the log slope is undefined (NaN); the raw derivative is kept
too.

"Every parameter" is every floating-point array leaf of the model (every element of an array
leaf, ``spines.neck_length[1]``), biophysical and fitted alike, or those under given path
prefixes. Reverse mode: one backward pass per data row, as for the Laplace Jacobian.
"""

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree

from plastic.fit.objective import Objective
from plastic.paths import ModelPath
from plastic.provenance import field_units


class Sensitivity(eqx.Module):
    """An objective's predictions, their derivatives with respect to the model's parameters,
    and the log-log slopes.

    Attributes:
        rows: one label per data row, ``condition / readout [site]``.
        names: one per parameter scalar: the leaf's path, with ``[i]`` for an element.
        units: each parameter's unit ("" where none is stated).
        values: ``(n_parameters,)``, each in its unit.
        predictions: ``(n_rows,)``, in each row's unit.
        derivative: ``(n_rows, n_parameters)``, d prediction / d parameter.
    """

    rows: tuple[str, ...] = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True)
    units: tuple[str, ...] = eqx.field(static=True)
    values: np.ndarray
    predictions: np.ndarray
    derivative: np.ndarray

    @property
    def normalised(self) -> np.ndarray:
        """``(n_rows, n_parameters)`` d log prediction / d log parameter (NaN where a
        prediction or a parameter is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = self.derivative * self.values[None, :] / self.predictions[:, None]
        zero = (self.predictions[:, None] == 0.0) | (self.values[None, :] == 0.0)
        return np.where(zero, np.nan, slope)

    def largest(self, row: int, count: int = 5) -> list[tuple[str, float]]:
        """The ``count`` parameters with the largest ``|S|`` for data row ``row``, with S."""
        slopes = self.normalised[row]
        order = np.argsort(-np.nan_to_num(np.abs(slopes), nan=-1.0))[:count]
        return [(self.names[j], float(slopes[j])) for j in order]


def model_scalars(model: PyTree, prefixes: Sequence[str] | None = None):
    """The floating-point array leaves of ``model`` (under any of ``prefixes``, dotted paths as
    in `plastic.paths`, if given) as ``(paths, leaves)``: the path of each leaf and the leaf.

    Raises:
        ValueError: if no leaf matches, naming the prefixes.
    """
    paths, leaves = [], []
    for key_path, leaf in jax.tree_util.tree_flatten_with_path(model)[0]:
        if not (eqx.is_array(leaf) and jnp.issubdtype(leaf.dtype, jnp.floating)):
            continue
        path = ".".join(_key_name(key) for key in key_path)
        if prefixes is not None and not any(
            path == p.rstrip(".") or path.startswith(p if p.endswith(".") else p + ".")
            for p in prefixes
        ):
            continue
        paths.append(path)
        leaves.append(leaf)
    if not leaves:
        raise ValueError(f"no floating-point leaf of the model under the prefixes {prefixes}")
    return paths, leaves


def _key_name(key) -> str:
    if isinstance(key, jax.tree_util.GetAttrKey):
        return key.name
    if isinstance(key, jax.tree_util.SequenceKey):
        return str(key.idx)
    if isinstance(key, jax.tree_util.DictKey):
        return str(key.key)
    return str(key)


def sensitivity(
    objective: Objective, model: PyTree, prefixes: Sequence[str] | None = None
) -> Sensitivity:
    """The `Sensitivity` of ``objective``'s predictions at ``model`` to every floating-point
    leaf of ``model`` (or those under ``prefixes``: e.g. only what a replay can move, since its
    recorded biophysics does not change with the model).

    Raises:
        plastic.solver_status.SolveFailedError: if a solve of the predictions fails.
    """
    paths, leaves = model_scalars(model, prefixes)
    predictions = np.asarray(objective.predictions(model))  # raises on a failed solve

    def predict(new_leaves):
        moved = eqx.tree_at(lambda m: _leaves_at(m, paths), model, new_leaves)
        return objective.predictions_and_results(moved)[0]

    jacobian = eqx.filter_jit(jax.jacrev(predict))(leaves)
    n_rows = predictions.shape[0]
    derivative = np.concatenate([np.asarray(j).reshape(n_rows, -1) for j in jacobian], axis=1)
    names, values, units = [], [], []
    unit_of = field_units(model)
    for path, leaf in zip(paths, leaves):
        owner = _owner(model, path)
        unit = unit_of.get(f"{type(owner).__name__}.{path.rsplit('.', 1)[-1]}", "")
        for index in np.ndindex(*np.shape(leaf)):
            names.append(path + ("" if not index else "[" + ",".join(map(str, index)) + "]"))
            units.append(unit)
        values.extend(np.ravel(np.asarray(leaf)).tolist())
    data = objective.data
    rows = tuple(
        f"{c} / {r}" + (f" [{s}]" if s else "")
        for c, r, s in zip(data.condition, data.readout, data.site)
    )
    return Sensitivity(
        rows=rows,
        names=tuple(names),
        units=tuple(units),
        values=np.asarray(values, float),
        predictions=predictions,
        derivative=derivative,
    )


def _leaves_at(model, paths):
    return [ModelPath(path).node(model) for path in paths]


def _owner(model, path: str):
    parent = path.rsplit(".", 1)[0] if "." in path else ""
    return ModelPath(parent).node(model) if parent else model
