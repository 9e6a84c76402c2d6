"""Experiments: how a condition (named values) becomes a simulation, and what is read from it.

An experiment declares its condition fields (`ConditionField`: name, unit, allowed range,
default, or a set of text labels such as drug names) and its readouts (`AbstractReadout`: name,
unit, dims). `AbstractExperiment.run` simulates one condition on a model and returns what its
readouts read; `measure` returns the readouts asked for. A condition is a dict of scalar arrays
by field name (a text field holds the index of its label), so conditions batch along leading
axes and `jax.vmap` runs many at once.

`AbstractExperiment.conditions_of` turns the rows of a `plastic.experiment.DataSet` into the
distinct conditions, refusing, before any simulation, rows it cannot predict: a missing
condition column, an unknown readout, a unit other than the readout's, or a value outside its
field's range, each named with its row.
"""

import abc
import math
from collections.abc import Mapping

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from plastic.experiment.dataset import DataSet

Condition = dict[str, Float[Array, ""]]
"""One condition: field name -> value (a scalar array; batched conditions add leading axes)."""


class ConditionField(eqx.Module):
    """One named value that sets up a condition.

    Attributes:
        name: the column name in data sets and the key in a condition.
        unit: its unit ("" for a label or a count).
        lower, upper: allowed range (inclusive); None for unbounded.
        default: the value of rows without the column, or None when every row must give it.
        choices: for a text field, its allowed labels; the condition holds the label's index.
        integer: the value must be a whole number (a count).
        description: what it is, in the field's words.
    """

    name: str = eqx.field(static=True)
    unit: str = eqx.field(static=True, default="")
    lower: float | None = eqx.field(static=True, default=None)
    upper: float | None = eqx.field(static=True, default=None)
    default: float | str | None = eqx.field(static=True, default=None)
    choices: tuple[str, ...] = eqx.field(static=True, default=())
    integer: bool = eqx.field(static=True, default=False)
    description: str = eqx.field(static=True, default="")

    def allowed(self) -> str:
        """The allowed values, in words."""
        if self.choices:
            return f"one of {list(self.choices)}"
        low = "-inf" if self.lower is None else f"{self.lower:g}"
        high = "inf" if self.upper is None else f"{self.upper:g}"
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} in [{low}, {high}]" + (f" {self.unit}" if self.unit else "")

    def encode(self, where: str, value) -> float:
        """The condition value of a data cell (a label's index for a text field).

        Raises:
            ValueError: naming ``where`` and this field, for a value outside `allowed`.
        """
        if isinstance(value, float) and math.isnan(value):
            if self.default is None:
                raise ValueError(f"{where}: column {self.name!r} is empty; {self.allowed()}")
            value = self.default
        if self.choices:
            if value not in self.choices:
                raise ValueError(
                    f"{where}: column {self.name!r} must be {self.allowed()}; got {value!r}"
                )
            return float(self.choices.index(value))
        bad = isinstance(value, str) or not math.isfinite(value)
        bad = bad or (self.lower is not None and value < self.lower)
        bad = bad or (self.upper is not None and value > self.upper)
        bad = bad or (self.integer and value != math.floor(value))
        if bad:
            raise ValueError(
                f"{where}: column {self.name!r} must be {self.allowed()}; got {value!r}"
            )
        return float(value)


class AbstractReadout(eqx.Module):
    """A named quantity measured from a simulated condition.

    Attributes:
        name: as in data sets' ``readout`` column.
        unit: the unit predictions are in (a data row of this readout must use it).
        dims: names of the readout's own axes (``()`` for a scalar).
    """

    name: eqx.AbstractVar[str]
    unit: eqx.AbstractVar[str]
    dims: eqx.AbstractVar[tuple[str, ...]]

    @abc.abstractmethod
    def __call__(self, model: PyTree, condition: Condition, result: PyTree) -> Array:
        """The readout of one condition, from the experiment's ``run`` ``result``."""


class AbstractExperiment(eqx.Module):
    """An experiment: its condition fields, its readouts, and how a condition is simulated.

    Subclasses define `fields`, `readouts` and `run`; `check_model` and `sized_for` have
    defaults.
    """

    fields: eqx.AbstractVar[tuple[ConditionField, ...]]
    readouts: eqx.AbstractVar[tuple[AbstractReadout, ...]]

    @abc.abstractmethod
    def run(self, model: PyTree, condition: Condition) -> PyTree:
        """Simulate one condition on ``model``; return what the readouts read. Pure: it runs
        under `jax.jit`, `jax.vmap` and `jax.grad`."""

    def check_model(self, model: PyTree) -> None:
        """Raise ``ValueError`` if this experiment cannot run ``model`` (default: accept)."""

    def sized_for(self, conditions: Mapping[str, np.ndarray]) -> "AbstractExperiment":
        """This experiment with any static sizes (event counts to pad to) set for the batch of
        ``conditions`` (field name -> values); default: itself."""
        del conditions
        return self

    def field(self, name: str) -> ConditionField:
        """The condition field ``name``; a ValueError lists the fields."""
        return self._named(self.fields, name, "condition field", "its fields are")

    def readout(self, name: str) -> AbstractReadout:
        """The readout ``name``; a ValueError lists the readouts."""
        return self._named(self.readouts, name, "readout", "it predicts")

    def _named(self, items, name, kind, listing):
        for item in items:
            if item.name == name:
                return item
        raise ValueError(
            f"{type(self).__name__} has no {kind} {name!r}; {listing} {[i.name for i in items]}"
        )

    def measure(self, model: PyTree, condition: Condition, names: tuple[str, ...]) -> Array:
        """The readouts ``names`` of one condition, stacked: shape ``(len(names),)`` for scalar
        readouts."""
        result = self.run(model, condition)
        return jnp.stack([self.readout(name)(model, condition, result) for name in names])

    def check_data(self, data: DataSet) -> None:
        """Raise ``ValueError`` naming what ``data`` lacks for this experiment: condition
        columns without a default, readouts it does not predict, units other than the
        readout's, or values outside a field's range."""
        self.conditions_of(data)

    def conditions_of(
        self, data: DataSet
    ) -> tuple[dict[str, np.ndarray], tuple[int, ...], tuple[str, ...]]:
        """The distinct conditions of ``data``'s rows (field name -> ``(n_conditions,)``
        values), the index of each row's condition, and each row's readout."""
        if not isinstance(data, DataSet):
            raise ValueError(
                f"data must be a plastic.experiment.DataSet; got {type(data).__name__}"
            )
        names = [field.name for field in self.fields]
        missing = [
            field.name
            for field in self.fields
            if field.default is None and field.name not in data.column_names
        ]
        if missing:
            raise ValueError(
                f"the data have no column(s) {missing}, which {type(self).__name__} needs to set "
                f"up a condition; its condition columns are {names}"
            )
        unused = [name for name in data.column_names if name not in names]
        if unused:
            raise ValueError(
                f"the data's column(s) {unused} are not conditions {type(self).__name__} can "
                f"simulate (its condition columns are {names}): the model cannot predict rows "
                "that differ in them"
            )
        known = {readout.name: readout.unit for readout in self.readouts}
        keys, row_condition = {}, []
        columns = {name: data.column(name) for name in data.column_names}
        for i in range(data.n_rows):
            where = f"data row {i} ({data.condition[i]!r})"
            readout = data.readout[i]
            if readout not in known:
                raise ValueError(
                    f"{where}: readout {readout!r} is not one {type(self).__name__} predicts; "
                    f"it predicts {sorted(known)}"
                )
            if data.unit[i] != known[readout]:
                raise ValueError(
                    f"{where}: readout {readout!r} must be given in unit {known[readout]!r}; "
                    f"got {data.unit[i]!r}"
                )
            key = tuple(
                field.encode(where, columns[field.name][i] if field.name in columns else math.nan)
                for field in self.fields
            )
            row_condition.append(keys.setdefault(key, len(keys)))
        values = np.asarray(list(keys), dtype=float).reshape(len(keys), len(names))
        conditions = {name: values[:, j] for j, name in enumerate(names)}
        return conditions, tuple(row_condition), tuple(data.readout)
