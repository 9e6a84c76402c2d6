"""The predictor: (experiment, data set) -> one prediction per data row, for fits and tables."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from plastic.experiment.dataset import DataSet
from plastic.experiment.experiment import AbstractExperiment


class Predictor(eqx.Module):
    """``predictor(model) -> (n_rows,)`` predictions for the rows it was built from, each in its
    row's unit: the ``predict`` of `plastic.fit.Objective`.

    Each distinct condition of the rows is simulated once, all of them batched with `jax.vmap`
    (or ``batch_size`` at a time with `jax.lax.map`, to bound memory). Build it with `from_data`
    on concrete data, outside `jax.jit`.

    Attributes:
        experiment: what runs a condition, sized for these conditions.
        conditions: field name -> ``(n_conditions,)`` values.
        readout_names: the readouts the rows ask for (static).
        row_condition: per row, the index of its condition (static).
        row_readout: per row, the index of its readout in ``readout_names`` (static).
        batch_size: conditions vmapped at once; None: all (static).
    """

    experiment: AbstractExperiment
    conditions: dict[str, Float[Array, " n_conditions"]]
    readout_names: tuple[str, ...] = eqx.field(static=True)
    row_condition: tuple[int, ...] = eqx.field(static=True)
    row_readout: tuple[int, ...] = eqx.field(static=True)
    batch_size: int | None = eqx.field(static=True, default=None)

    @classmethod
    def from_data(
        cls,
        experiment: AbstractExperiment,
        data: DataSet,
        *,
        model: PyTree | None = None,
        batch_size: int | None = None,
    ) -> "Predictor":
        """The predictor of ``data``'s rows under ``experiment``.

        Args:
            experiment: the experiment the rows were measured in.
            data: the rows (concrete).
            model: checked with ``experiment.check_model`` when given.
            batch_size: see the class; an integer >= 1 or None.

        Raises:
            ValueError: for rows the experiment cannot predict (see
                `AbstractExperiment.conditions_of`), a model it cannot run, or a bad
                ``batch_size``; before any simulation.
        """
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be None or an integer >= 1; got {batch_size!r}")
        if model is not None:
            experiment.check_model(model)
        conditions, row_condition, readouts = experiment.conditions_of(data)
        names = tuple(dict.fromkeys(readouts))
        return cls(
            experiment=experiment.sized_for(conditions),
            conditions={name: jnp.asarray(values) for name, values in conditions.items()},
            readout_names=names,
            row_condition=row_condition,
            row_readout=tuple(names.index(name) for name in readouts),
            batch_size=batch_size,
        )

    @property
    def n_conditions(self) -> int:
        return int(np.shape(next(iter(self.conditions.values())))[0])

    def condition_readouts(self, model: PyTree) -> Float[Array, "n_conditions n_readouts"]:
        """Every readout of `readout_names` for every condition."""

        def one(condition):
            return self.experiment.measure(model, condition, self.readout_names)

        if self.batch_size is None:
            return jax.vmap(one)(self.conditions)
        return jax.lax.map(one, self.conditions, batch_size=self.batch_size)

    def __call__(self, model: PyTree, data: DataSet | None = None) -> Float[Array, " n_rows"]:
        del data  # the rows were fixed at construction
        values = self.condition_readouts(model)
        return values[np.asarray(self.row_condition), np.asarray(self.row_readout)]
