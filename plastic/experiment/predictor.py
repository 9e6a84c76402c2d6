"""The predictor: (experiment, data set) -> one prediction per data row, for fits and tables."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PyTree

from plastic._validation import is_concrete
from plastic.experiment.dataset import DataSet
from plastic.experiment.experiment import AbstractAcrossConditions, AbstractExperiment
from plastic.solver_status import raise_if_failed


class Predictor(eqx.Module):
    """``predictor(model) -> (n_rows,)`` predictions for the rows it was built from, each in its
    row's unit: the ``predict`` of `plastic.fit.Objective`.

    Each distinct condition of the rows is simulated once, all of them batched with `jax.vmap`
    (or ``batch_size`` at a time with `jax.lax.map`, to bound memory, the last batch padded to
    the same size so that one batch shape compiles); a row of a readout derived across
    conditions combines the values of its conditions. Build it with `from_data` on concrete
    data, outside `jax.jit`.

    Attributes:
        experiment: what runs a condition, prepared for these conditions.
        conditions: field name -> ``(n_conditions,)`` values, and whatever per-condition
            entries the experiment's `prepare` added.
        readout_names: the per-condition readouts the rows need (static).
        row_cells: per row, the ``(condition, column)`` cells of the table of
            `condition_values` (one column per readout and site) it reads (static).
        row_readout: per row, its readout's name (static).
        batch_size: conditions vmapped at once; None: all (static).
    """

    experiment: AbstractExperiment
    conditions: dict[str, PyTree]
    readout_names: tuple[str, ...] = eqx.field(static=True)
    row_cells: tuple[tuple[tuple[int, int], ...], ...] = eqx.field(static=True)
    row_readout: tuple[str, ...] = eqx.field(static=True)
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
            model: checked with ``experiment.check_model`` when given, and passed to its
                `prepare` (an experiment that records the biophysics once needs it).
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
        conditions, row_cells, row_readout = experiment.conditions_of(data)
        names = tuple(dict.fromkeys(name for cells in row_cells for _, name, _ in cells))
        sizes = [max(1, len(experiment.readout(name).sites)) for name in names]
        offsets = dict(zip(names, np.cumsum([0, *sizes[:-1]]).tolist()))
        prepared, conditions = experiment.prepare(conditions, names, model)
        return cls(
            experiment=prepared,
            conditions=conditions,
            readout_names=names,
            row_cells=tuple(
                tuple((condition, offsets[name] + site) for condition, name, site in cells)
                for cells in row_cells
            ),
            row_readout=row_readout,
            batch_size=batch_size,
        )

    @property
    def n_conditions(self) -> int:
        return int(np.shape(jax.tree.leaves(self.conditions)[0])[0])

    @property
    def row_condition(self) -> tuple[int, ...]:
        """Per row, the index of the (first) condition it reads."""
        return tuple(cells[0][0] for cells in self.row_cells)

    def condition_values(
        self, model: PyTree, names: tuple[str, ...] | None = None
    ) -> dict[str, Array]:
        """The readouts ``names`` (default `readout_names`) of every condition, by name, each
        with a leading condition axis and the readout's own shape. ``names`` may be any of the
        experiment's per-condition readouts, whether a row reads them or not (e.g. a trace over
        pairings, which no row can read); include `readout_names` to get the rows' predictions
        from the same solves with `predictions_from`.

        With ``batch_size`` (at most the number of conditions), the conditions are padded with
        copies of the last one to a whole number of batches, so that one batch shape is
        compiled.

        Raises:
            plastic.solver_status.SolveFailedError: called eagerly, if a condition's solve
                failed (under `jax.jit` its values are NaN).
        """
        values, codes = self.condition_values_and_results(model, names)
        if is_concrete(codes):
            raise_if_failed(
                codes,
                f"{type(self.experiment).__name__}",
                labels=self.condition_labels(),
                hint="a larger max_steps or looser tolerances may help",
            )
        return values

    def condition_values_and_results(
        self, model: PyTree, names: tuple[str, ...] | None = None
    ) -> tuple[dict[str, Array], Int[Array, " n_conditions"]]:
        """`condition_values` (NaN for a condition whose solve failed) and each condition's
        diffrax result code (0 on success; `plastic.solver_status`), without raising: what a
        fit's compiled step uses."""
        names = self.readout_names if names is None else tuple(names)
        for name in names:
            if isinstance(self.experiment.readout(name), AbstractAcrossConditions):
                raise ValueError(
                    f"readout {name!r} is derived across conditions; it has no value per "
                    "condition (rows of it are predicted by calling the predictor)"
                )
        return _condition_values(self, model, names)

    def condition_labels(self) -> list[str]:
        """Each condition's scalar fields, ``"name=value, ..."`` (a text field by its label):
        how a failure names them."""
        fields = [f for f in self.experiment.fields if f.name in self.conditions]
        columns = [np.asarray(self.conditions[f.name]) for f in fields]
        return [
            ", ".join(
                f"{f.name}={f.choices[int(c[i])]}" if f.choices else f"{f.name}={c[i]:g}"
                for f, c in zip(fields, columns)
            )
            for i in range(self.n_conditions)
        ]

    def predictions_and_results(
        self, model: PyTree
    ) -> tuple[Float[Array, " n_rows"], Int[Array, " n_conditions"]]:
        """The rows' predictions (NaN for rows of failed conditions) and each condition's result
        code, without raising."""
        values, codes = self.condition_values_and_results(model)
        return self.predictions_from(values), codes

    def _condition_values(self, model: PyTree, names: tuple[str, ...]):
        def one(condition):
            return self.experiment.measure(model, condition, names)

        if self.batch_size is None:
            values = jax.vmap(one)(self.conditions)
        else:
            n = self.n_conditions
            batch_size = min(self.batch_size, n)  # no batch larger than the conditions
            missing = -n % batch_size
            padded = jax.tree.map(
                lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], missing, axis=0)]),
                self.conditions,
            )
            values = jax.lax.map(one, padded, batch_size=batch_size)
            values = jax.tree.map(lambda x: x[:n], values)
        values, codes = values
        return dict(zip(names, values)), codes

    def _table(self, values: dict[str, Array]) -> Float[Array, "n_conditions n_columns"]:
        """`condition_values` of `readout_names` flattened: one column per readout and site."""
        columns = [
            jnp.reshape(values[name], (self.n_conditions, -1)) for name in self.readout_names
        ]
        return jnp.concatenate(columns, axis=1)

    def predictions_from(self, values: dict[str, Array]) -> Float[Array, " n_rows"]:
        """The rows' predictions from `condition_values` that include `readout_names`."""
        table = self._table(values)
        first = np.asarray([cells[0] for cells in self.row_cells])
        predictions = table[first[:, 0], first[:, 1]]
        for row, name in enumerate(self.row_readout):
            readout = self.experiment.readout(name)
            if isinstance(readout, AbstractAcrossConditions):
                cells = np.asarray(self.row_cells[row])
                value = readout.combine(table[cells[:, 0], cells[:, 1]])
                predictions = predictions.at[row].set(value)
        return predictions

    def __call__(self, model: PyTree, data: DataSet | None = None) -> Float[Array, " n_rows"]:
        """The rows' predictions: NaN for the rows of a condition whose solve failed under
        `jax.jit` (where nothing can raise), `plastic.solver_status.SolveFailedError` when
        called eagerly."""
        del data  # the rows were fixed at construction
        return self.predictions_from(self.condition_values(model))


@eqx.filter_jit
def _condition_values(predictor: Predictor, model: PyTree, names: tuple[str, ...]):
    # Jitted once per predictor and model structure. Called eagerly, the solves inside would
    # be traced and compiled again at every call (their vector fields are new closures each
    # time): seconds to minutes a call.
    return predictor._condition_values(model, names)
