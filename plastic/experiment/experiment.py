"""Experiments: how a condition (named values) becomes a simulation, and what is read from it.

An experiment declares its condition fields (`ConditionField`: name, unit, allowed range,
default, or a set of text labels such as drug names) and its readouts (`AbstractReadout`: name,
unit, dims). `AbstractExperiment.run` simulates one condition on a model and returns what its
readouts read; `measure` returns the readouts asked for. A condition is a dict of scalar arrays
by field name (a text field holds the index of its label), so conditions batch along leading
axes and `jax.vmap` runs many at once.

A readout may be read at several sites (``sites``: e.g. the activated spine and its
neighbour; a data row's ``site`` picks one), and a readout may be derived across conditions
(`AbstractAcrossConditions`: e.g. the length constant of the uEPSP change over inter-spine
distance, one number from a set of conditions that differ in one field).

`AbstractExperiment.conditions_of` turns the rows of a `plastic.experiment.DataSet` into the
distinct conditions, refusing, before any simulation, rows it cannot predict: a missing
condition column, an unknown readout or site, a unit other than the readout's, or a value
outside its field's range, each named with its row.
"""

import abc
import math
from collections.abc import Mapping

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PyTree

from plastic._validation import is_concrete
from plastic.experiment.dataset import DataSet
from plastic.solver_status import nan_where_failed, raise_if_concrete, results_in

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
        dims: names of the readout's own axes: ``()`` for a scalar, ``("site",)`` for one value
            per site; a readout with other axes (a trace over pairings) is read per condition
            or swept, not by a data row.
        sites: the labels of the sites, in the order of the readout's values (a data row's
            ``site`` must be one of them); ``()`` for a readout with one site, whose rows may
            label it as they like.
    """

    name: eqx.AbstractVar[str]
    unit: eqx.AbstractVar[str]
    dims: eqx.AbstractVar[tuple[str, ...]]
    sites: eqx.AbstractVar[tuple[str, ...]]

    @abc.abstractmethod
    def __call__(self, model: PyTree, condition: Condition, result: PyTree) -> Array:
        """The readout of one condition, from the experiment's ``run`` ``result``: a scalar,
        or ``(len(sites),)`` values."""

    def site_index(self, where: str, site: str) -> int:
        """The index of a data row's ``site`` among `sites` (0 for a one-site readout).

        Raises:
            ValueError: naming ``where``, for a readout a row cannot read (one with axes other
                than its sites) or a site this readout is not read at.
        """
        if any(dim != "site" for dim in self.dims):
            raise ValueError(
                f"{where}: readout {self.name!r} has dims {self.dims}; a row reads one "
                "number (the readout, or its value at a site): read it per condition "
                "(Predictor.condition_values) or sweep it"
            )
        if not self.sites:
            if self.dims:
                raise ValueError(
                    f"{where}: readout {self.name!r} has dims {list(self.dims)} but no sites, "
                    "so a data row cannot name which of its values it is; data rows can only "
                    "give readouts that have one value or name their sites"
                )
            return 0
        if site not in self.sites:
            raise ValueError(
                f"{where}: readout {self.name!r} is read at site {list(self.sites)}; got {site!r}"
            )
        return self.sites.index(site)


class AbstractAcrossConditions(AbstractReadout):
    """A readout derived across conditions: the readout ``of`` at each of ``values`` of the
    condition field ``field`` (the other fields as the row gives them), combined into one
    number (e.g. eq. 2's length constant of the uEPSP change over inter-spine distance). A row's
    own value of ``field`` plays no role.

    Attributes (beyond `AbstractReadout`'s):
        field: the condition field that varies.
        values: its values, in its unit.
        of: the name of the per-condition readout that is combined.
    """

    field: eqx.AbstractVar[str]
    values: eqx.AbstractVar[tuple[float, ...]]
    of: eqx.AbstractVar[str]

    @abc.abstractmethod
    def combine(self, values: Float[Array, " n_values"]) -> Float[Array, ""]:
        """The readout from the readout ``of`` at each of `values` (one site)."""

    def __call__(self, model, condition, result):
        raise TypeError(
            f"{self.name!r} is derived across conditions; it has no value for one condition"
        )


Cell = tuple[int, str, int]
"""One value a data row reads: (condition index, readout name, site index)."""


class AbstractExperiment(eqx.Module):
    """An experiment: its condition fields, its readouts, and how a condition is simulated.

    Subclasses define `fields`, `readouts` and `run`; `check_model`, `model_in_condition`,
    `sized_for`, `prepare` and `attributes` have defaults.
    """

    fields: eqx.AbstractVar[tuple[ConditionField, ...]]
    readouts: eqx.AbstractVar[tuple[AbstractReadout, ...]]

    @abc.abstractmethod
    def run(self, model: PyTree, condition: Condition) -> PyTree:
        """Simulate one condition on ``model``; return what the readouts read. Pure: it runs
        under `jax.jit`, `jax.vmap` and `jax.grad`."""

    def check_model(self, model: PyTree) -> None:
        """Raise ``ValueError`` if this experiment cannot run ``model`` (default: accept)."""

    def model_in_condition(self, model: PyTree, condition: Condition) -> PyTree:
        """``model`` as ``condition`` sets it up (e.g. a spine moved to the condition's
        distance), where `run` changes the model; default: ``model``. With concrete values it
        may raise ``ValueError`` for a condition the model cannot take; a sweep reruns the
        model's checks on it at every corner of its grid."""
        del condition
        return model

    def attributes(self) -> dict[str, str | int | float]:
        """What a result file (a sweep's) records of this experiment's settings besides its
        condition fields, e.g. its solver; default: nothing."""
        return {}

    def sized_for(self, conditions: Mapping[str, np.ndarray]) -> "AbstractExperiment":
        """This experiment with any static sizes (event counts to pad to) set for the batch of
        ``conditions`` (field name -> values); default: itself."""
        del conditions
        return self

    def prepare(
        self,
        conditions: Mapping[str, np.ndarray],
        readouts: tuple[str, ...],
        model: PyTree | None,
    ) -> tuple["AbstractExperiment", dict[str, PyTree]]:
        """This experiment and the conditions, ready to run the readouts ``readouts`` of the
        batch ``conditions`` on models like ``model`` (None when not known). An experiment may
        add per-condition entries to the conditions (with a leading condition axis: e.g. a
        recording of the biophysics that a replay of the plasticity runs on) and skip work no
        readout needs. Default: `sized_for`, the conditions as arrays."""
        del readouts, model
        arrays = {name: jnp.asarray(values) for name, values in conditions.items()}
        return self.sized_for(conditions), arrays

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

    def encode_condition(
        self, values: Mapping[str, object], where: str, omit: tuple[str, ...] = ()
    ) -> dict[str, float]:
        """One condition from ``values`` (field name -> number, or label of a text field; a
        field not given, or given as NaN, takes its default), every field but those in
        ``omit``.

        Raises:
            ValueError: naming ``where`` and the field, for a value outside its field's range
                or a field without a value or default (`ConditionField.encode`).
        """
        return {
            field.name: field.encode(where, values.get(field.name, math.nan))
            for field in self.fields
            if field.name not in omit
        }

    def measure_each(
        self, model: PyTree, condition: Condition, names: tuple[str, ...]
    ) -> tuple[Array, ...]:
        """The readouts ``names`` of one condition (one array each; none derived across
        conditions), NaN if a solve failed (`measure` says why).

        Raises:
            plastic.solver_status.SolveFailedError: called eagerly, if a solve failed.
        """
        values, code = self.measure(model, condition, names)
        raise_if_concrete(code, f"{type(self).__name__} condition {_shown(condition)}")
        return values

    def measure(
        self, model: PyTree, condition: Condition, names: tuple[str, ...]
    ) -> tuple[tuple[Array, ...], Int[Array, ""]]:
        """`measure_each` and the diffrax result code of the condition's solves (0 when all
        succeeded; see `plastic.solver_status`): every ``solver_result`` in what `run`
        returns. The values are NaN where it is not 0. What a sweep and a predictor compile,
        so that the caller checks the code on the host."""
        result = self.run(model, condition)
        values = tuple(self.readout(name)(model, condition, result) for name in names)
        code = results_in(result)
        return nan_where_failed(values, code), code

    def check_data(self, data: DataSet) -> None:
        """Raise ``ValueError`` naming what ``data`` lacks for this experiment: condition
        columns without a default, readouts it does not predict, units other than the
        readout's, or values outside a field's range."""
        self.conditions_of(data)

    def conditions_of(
        self, data: DataSet
    ) -> tuple[dict[str, np.ndarray], tuple[tuple[Cell, ...], ...], tuple[str, ...]]:
        """The distinct conditions of ``data``'s rows (field name -> ``(n_conditions,)``
        values); per row, the `Cell`s it reads (one, or one per value of a readout derived
        across conditions, which refers to the readout it combines); each row's readout."""
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
        known = {readout.name: readout for readout in self.readouts}
        keys, row_cells = {}, []
        columns = {name: data.column(name) for name in data.column_names}
        for i in range(data.n_rows):
            where = f"data row {i} ({data.condition[i]!r})"
            readout = known.get(data.readout[i])
            if readout is None:
                raise ValueError(
                    f"{where}: readout {data.readout[i]!r} is not one {type(self).__name__} "
                    f"predicts; it predicts {sorted(known)}"
                )
            if data.unit[i] != readout.unit:
                raise ValueError(
                    f"{where}: readout {readout.name!r} must be given in unit {readout.unit!r}; "
                    f"got {data.unit[i]!r}"
                )
            site = readout.site_index(where, data.site[i])
            across = isinstance(readout, AbstractAcrossConditions)
            given = {name: column[i] for name, column in columns.items()}
            # A readout derived across conditions sets its own field.
            cell = self.encode_condition(given, where, omit=(readout.field,) if across else ())
            if across:
                field = self.field(readout.field)
                cells = []
                for value in readout.values:
                    cell[field.name] = field.encode(f"{where} ({readout.name})", value)
                    key = tuple(cell[name] for name in names)
                    cells.append((keys.setdefault(key, len(keys)), readout.of, site))
                row_cells.append(tuple(cells))
            else:
                key = tuple(cell[name] for name in names)
                row_cells.append(((keys.setdefault(key, len(keys)), readout.name, site),))
        values = np.asarray(list(keys), dtype=float).reshape(len(keys), len(names))
        conditions = {name: values[:, j] for j, name in enumerate(names)}
        return conditions, tuple(row_cells), tuple(data.readout)


def _shown(condition: Condition) -> str:
    # A concrete condition by its values; a traced one is never shown (nothing raises then).
    if not is_concrete(condition):
        return ""
    shown = [f"{k}={float(v):g}" for k, v in condition.items() if np.ndim(v) == 0]
    return "(" + ", ".join(shown) + ")"
