"""Predictions over a population of models that differ in some leaves (spines of different
sizes, cells of different geometry): what an experiment that pooled many spines measured."""

from collections.abc import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree

from plastic.paths import ModelPath


class PopulationPredictor(eqx.Module):
    """``predictor(model) -> (n_rows,)``: the mean over the population's members of a
    `plastic.experiment.Predictor`'s predictions, each member ``model`` with its own values of
    the population's leaves. A drop-in ``predict`` for `plastic.fit.Objective` (a fit to the
    population mean) and the per-member predictions for a table of the spread.

    Each member runs every condition of the predictor (``n_members x n_conditions`` solves):
    members are vmapped ``member_batch_size`` at a time with `jax.lax.map`.

    Attributes:
        predictor: the rows and the experiment, one for all members; or, built by `recorded`
            for an experiment whose `prepare` records the biophysics of the model it is given
            (a replay), one per member stacked along a leading axis of its arrays.
        paths: the leaves that vary between members (static).
        values: per path, ``(n_members, *leaf_shape)`` values: a per-spine leaf such as
            ``spines.head_volume`` takes ``(n_members, n_spines)``, one of its elements
            (``spines.head_volume[0]``) ``(n_members,)``.
        member_batch_size: members vmapped at once; None: all (static).
        per_member: whether ``predictor`` is stacked, one per member (static).
    """

    predictor: eqx.Module
    paths: tuple[ModelPath, ...] = eqx.field(static=True)
    values: tuple[Array, ...]
    member_batch_size: int | None = eqx.field(static=True, default=None)
    per_member: bool = eqx.field(static=True, default=False)

    def __init__(
        self,
        predictor: eqx.Module,
        values: Mapping[str, Array],
        *,
        member_batch_size: int | None = None,
        per_member: bool = False,
    ):
        paths, arrays = _checked_values(values)
        if member_batch_size is not None and (
            not isinstance(member_batch_size, int) or member_batch_size < 1
        ):
            raise ValueError(
                f"member_batch_size must be None or an integer >= 1; got {member_batch_size!r}"
            )
        self.predictor = predictor
        self.paths = paths
        self.values = arrays
        self.member_batch_size = member_batch_size
        self.per_member = per_member

    @classmethod
    def recorded(
        cls,
        experiment,
        data,
        model: PyTree,
        values: Mapping[str, Array],
        *,
        member_batch_size: int | None = None,
    ) -> "PopulationPredictor":
        """The population of ``values`` for an experiment that records each model it is
        prepared with (e.g. ``TazerartExperiment(mode="replay")``, whose record of the
        biophysics depends on the spine geometry): a `plastic.experiment.Predictor` of
        ``data``'s rows is built (and its recording made) for every member's model, outside
        `jax.jit`, and the predictors are stacked. Costs one recording per member."""
        from plastic.experiment.predictor import Predictor

        paths, arrays = _checked_values(values)
        for path in paths:
            path.check(model)
        predictors = [
            Predictor.from_data(
                experiment, data, model=_with_values(model, paths, [a[i] for a in arrays])
            )
            for i in range(int(arrays[0].shape[0]))
        ]
        predictor_arrays = [eqx.filter(p, eqx.is_array) for p in predictors]
        static = eqx.filter(predictors[0], eqx.is_array, inverse=True)
        stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *predictor_arrays)
        return cls(
            eqx.combine(stacked, static), values, member_batch_size=member_batch_size,
            per_member=True,
        )  # fmt: skip

    @property
    def n_members(self) -> int:
        return int(self.values[0].shape[0])

    def member(self, model: PyTree, values: Sequence[Array]) -> PyTree:
        """``model`` with one member's values of the population's leaves."""
        return _with_values(model, self.paths, values)

    def member_predictions_and_results(
        self, model: PyTree
    ) -> tuple[Float[Array, "n_members n_rows"], Int[Array, "n_members n_conditions"]]:
        """Every member's predictions (NaN for rows of a failed solve) and result codes."""
        for path in self.paths:
            path.check(model)

        if self.per_member:
            arrays, static = eqx.partition(self.predictor, eqx.is_array)
            members = (arrays, self.values)

            def member(arrays_and_values):
                arrays, values = arrays_and_values
                predictor = eqx.combine(arrays, static)
                return predictor.predictions_and_results(self.member(model, values))

        else:
            members = self.values

            def member(values):
                return self.predictor.predictions_and_results(self.member(model, values))

        if self.member_batch_size is None:
            return jax.vmap(member)(members)
        return jax.lax.map(member, members, batch_size=self.member_batch_size)

    def predictions_and_results(
        self, model: PyTree
    ) -> tuple[Float[Array, " n_rows"], Int[Array, " n_conditions"]]:
        """The population mean of each row, and per condition the largest result code over
        the members (0 only if every member's solve succeeded)."""
        predictions, codes = self.member_predictions_and_results(model)
        return jnp.mean(predictions, axis=0), jnp.max(codes, axis=0)

    def __call__(self, model: PyTree, data=None) -> Float[Array, " n_rows"]:
        del data  # the rows were fixed with the predictor
        return self.predictions_and_results(model)[0]

    def condition_labels(self) -> list[str]:
        if self.per_member:  # the labels are the conditions', the same for every member
            return jax.tree.map(lambda x: x[0], self.predictor).condition_labels()
        return self.predictor.condition_labels()


def _with_values(model: PyTree, paths: Sequence[ModelPath], values: Sequence[Array]) -> PyTree:
    for path, value in zip(paths, values):
        model = path.set(model, value)
    return model


def _checked_values(values: Mapping[str, Array]) -> tuple[tuple[ModelPath, ...], tuple]:
    if not values:
        raise ValueError("values must name at least one model path")
    arrays = tuple(jnp.asarray(v, dtype=float) for v in values.values())
    sizes = {int(a.shape[0]) if a.ndim else 0 for a in arrays}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(
            "values must all have the same leading (member) axis of at least 1; got shapes "
            + ", ".join(f"{p}: {tuple(a.shape)}" for p, a in zip(values, arrays))
        )
    return tuple(ModelPath(p) for p in values), arrays


def draw_members(
    model: PyTree,
    ranges: Mapping[str, tuple[float, float, bool]],
    n_members: int,
    key: PRNGKeyArray,
) -> dict[str, Array]:
    """The ``values`` of a `PopulationPredictor` of ``n_members``: each path's leaf drawn
    independently per member and element, uniformly in ``(lower, upper)``, or log-uniformly
    where the third entry is True. ``{"spines.head_volume": (0.026, 0.148, True)}`` draws every
    spine's head volume of a pair: ``(n_members, n_spines)``.

    Raises:
        ValueError: naming a path the model lacks, a range with ``lower >= upper`` (or
            ``lower <= 0`` on a log scale), or ``n_members < 1``.
    """
    if not isinstance(n_members, int) or n_members < 1:
        raise ValueError(f"n_members must be an integer >= 1; got {n_members!r}")
    values = {}
    keys = jax.random.split(key, max(1, len(ranges)))
    for path_key, (path, (lower, upper, log)) in zip(keys, ranges.items()):
        if not lower < upper or (log and lower <= 0):
            raise ValueError(
                f"the range of {path!r} must have 0 {'<' if log else '<='} lower < upper; "
                f"got ({lower}, {upper}{', log' if log else ''})"
            )
        shape = (n_members, *np.shape(ModelPath(path).get(model)))
        unit = jax.random.uniform(path_key, shape, dtype=float)
        if log:
            values[path] = jnp.exp(np.log(lower) + unit * (np.log(upper) - np.log(lower)))
        else:
            values[path] = lower + unit * (upper - lower)
    return values
