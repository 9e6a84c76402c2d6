"""A generic plasticity data set: tidy rows of mean +- SEM, each under named condition values.

One row is one number a paper reports: a ``readout`` (e.g. ``weight``, ``uepsp``) at a ``site``,
measured under a condition given by any number of condition columns (``frequency``,
``delta_t``, ``v_clamp``, ``drug``, ...), with its ``mean``, ``sem``, ``n``, ``unit`` and
``source``. Which condition columns and readouts a data set must have is said by the experiment
that predicts it (`plastic.experiment.AbstractExperiment.check_data`), not here: a data set is
only a table.

CSV: a header with `REQUIRED_COLUMNS`, any of `OPTIONAL_COLUMNS`, and the condition columns;
lines starting with ``#`` are comments. A condition cell holds a number, or a text label (a drug
name); an empty ``sem``, ``n`` or condition cell means "not given" (NaN).

A row may state a bound instead of a value (``relation`` ``>=`` or ``<=``): what a paper reports
only as a direction ("calcium rose over the repetitions") is the readout at least (at most)
``mean``, with ``sem`` the shortfall that counts as one standard error; a fit then penalises only
a prediction on the wrong side (`plastic.fit.Objective`).
"""

import csv
import math
from collections.abc import Mapping
from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic._validation import is_concrete
from plastic.data import check_cell, read_table

REQUIRED_COLUMNS = ("condition", "readout", "mean", "sem", "n", "unit", "source")
"""Columns every data set has: a label for the row's condition, the readout's name, the mean and
SEM in ``unit``, the number of experiments ``n`` (empty if not given), and where the number
comes from."""

OPTIONAL_COLUMNS = ("site", "note", "relation")
"""``site``: where on the cell the readout is taken (e.g. ``activated`` or ``neighbour`` spine;
empty when there is one site); ``note``: anything else the number needs to be read correctly;
``relation``: one of `RELATIONS` (empty: ``=``)."""

RELATIONS = ("=", ">=", "<=")
"""How a row's readout relates to its ``mean``: equal within the SEM, at least, at most."""

_LABELS = ("condition", "readout", "site", "unit", "source", "note")


def _floats(x) -> Array:
    return jnp.asarray(x, dtype=float)


class DataSet(eqx.Module):
    """Rows of mean +- SEM; array fields have shape ``(n_rows,)``, label fields are tuples of
    ``n_rows`` strings, and ``columns`` holds the condition columns.

    Attributes:
        condition: a label of each row's condition (e.g. ``"10 Hz +5 ms"``), for tables and errors.
        readout: the readout's name.
        site: where the readout is taken ("" for the only site).
        columns: ``((name, values), ...)``: each condition column with one value per row, a
            float (NaN = not given) or a string.
        mean, sem: the readout in ``unit`` (sem NaN = not given).
        n: number of experiments (NaN = not given).
        unit: the unit of ``mean`` and ``sem``.
        source: figure, table or repository the number is taken from.
        note: free text.
        relation: one of `RELATIONS` per row, or ``()`` (the default) when every row is ``=``;
            read it through `relations`.
    """

    condition: tuple[str, ...] = eqx.field(static=True)
    readout: tuple[str, ...] = eqx.field(static=True)
    site: tuple[str, ...] = eqx.field(static=True)
    columns: tuple[tuple[str, tuple], ...] = eqx.field(static=True)
    mean: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    sem: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    n: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    unit: tuple[str, ...] = eqx.field(static=True)
    source: tuple[str, ...] = eqx.field(static=True)
    note: tuple[str, ...] = eqx.field(static=True)
    relation: tuple[str, ...] = eqx.field(static=True, default=())

    def __check_init__(self):
        n_rows = len(self.condition)
        lengths = {name: len(getattr(self, name)) for name in _LABELS}
        lengths.update({name: len(values) for name, values in self.columns})
        lengths.update({name: np.shape(getattr(self, name))[0] for name in ("mean", "sem", "n")})
        if set(lengths.values()) != {n_rows}:
            raise ValueError(f"DataSet: every field must have n_rows entries; got {lengths}")
        if self.relation and (
            len(self.relation) != n_rows or not set(self.relation) <= set(RELATIONS)
        ):
            raise ValueError(
                f"DataSet.relation must be () or one of {RELATIONS} per row; got {self.relation}"
            )
        names = [name for name, _ in self.columns]
        clash = sorted(set(names) & set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS))
        if clash or len(set(names)) != len(names):
            raise ValueError(f"DataSet: condition columns must be unique and not {clash}")

    @property
    def n_rows(self) -> int:
        return len(self.condition)

    @property
    def relations(self) -> tuple[str, ...]:
        """Each row's relation to its mean (`RELATIONS`)."""
        return self.relation or ("=",) * self.n_rows

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def column(self, name: str) -> tuple:
        """The values of condition column ``name``, one per row."""
        for column, values in self.columns:
            if column == name:
                return values
        raise ValueError(
            f"DataSet has no condition column {name!r}; its columns are {list(self.column_names)}"
        )

    def label_columns(self) -> dict[str, tuple]:
        """The row labels and condition columns, by name, for tables of predictions (and each
        row's relation where any row states a bound)."""
        labels = {
            "condition": self.condition,
            "readout": self.readout,
            "site": self.site,
            **dict(self.columns),
            "unit": self.unit,
        }
        return {**labels, "relation": self.relation} if self.relation else labels

    def rows(self, index) -> "DataSet":
        """The rows at ``index`` (a sequence of row numbers), in that order."""
        index = [int(i) for i in index]

        def pick(values):
            return tuple(values[i] for i in index)

        return DataSet(
            condition=pick(self.condition),
            readout=pick(self.readout),
            site=pick(self.site),
            columns=tuple((name, pick(values)) for name, values in self.columns),
            mean=np.asarray(self.mean)[index],
            sem=np.asarray(self.sem)[index],
            n=np.asarray(self.n)[index],
            unit=pick(self.unit),
            source=pick(self.source),
            note=pick(self.note),
            relation=_bounds(pick(self.relations)),
        )

    def select(self, **equal_to) -> "DataSet":
        """The rows whose labels or condition columns equal the given values (a value, or a
        tuple/list/set of accepted values), e.g. ``data.select(frequency=(10.0, 20.0))``.

        Raises:
            ValueError: for a name that is neither a label nor a condition column, or a
                selection that keeps no row.
        """
        available = {**self.label_columns(), "source": self.source}
        keep = np.ones(self.n_rows, dtype=bool)
        for name, wanted in equal_to.items():
            if name not in available:
                raise ValueError(
                    f"select: {name!r} is not a column; the columns are {sorted(available)}"
                )
            accepted = wanted if isinstance(wanted, (tuple, list, set, frozenset)) else (wanted,)
            keep &= np.array([value in accepted for value in available[name]], dtype=bool)
        if not keep.any():
            raise ValueError(f"select{equal_to}: no row matches")
        return self.rows(np.flatnonzero(keep))

    def with_mean(self, mean) -> "DataSet":
        """The same rows with the means ``mean`` (shape ``(n_rows,)``, in each row's unit): e.g.
        synthetic data, a model's predictions plus noise at the SEMs."""
        mean = _floats(mean)
        finite = not is_concrete(mean) or bool(np.all(np.isfinite(mean)))
        if mean.shape != (self.n_rows,) or not finite:
            raise ValueError(f"mean must be {self.n_rows} finite numbers; got shape {mean.shape}")
        return eqx.tree_at(lambda d: d.mean, self, mean)

    def with_sem(self, sem) -> "DataSet":
        """The same rows with the SEMs ``sem`` (shape ``(n_rows,)``, in each row's unit)."""
        return eqx.tree_at(lambda d: d.sem, self, _floats(sem))


def dataset_from_records(records, *, where: str = "records") -> DataSet:
    """A `DataSet` from a sequence of mappings, one per row, each with the `REQUIRED_COLUMNS`,
    any `OPTIONAL_COLUMNS`, and condition columns (a row without one of them leaves it empty).

    Raises:
        ValueError: naming the row and the column, for a missing column, a mean or SEM that is
            not a finite number (SEM >= 0), an ``n`` that is not a whole number >= 1, an empty
            label, or two rows with the same condition values, readout and site.
    """
    records = [dict(record) for record in records]
    if not records:
        raise ValueError(f"{where}: no rows")
    fixed = set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    names = list(dict.fromkeys(n for r in records for n in r if n not in fixed and n != "_where"))
    rows = {name: [] for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, *names)}
    seen = {}
    for i, record in enumerate(records):
        here = record.pop("_where", f"{where}, row {i}")
        missing = [c for c in REQUIRED_COLUMNS if c not in record]
        if missing:
            raise ValueError(
                f"{here}: missing column(s) {missing}; every row needs {list(REQUIRED_COLUMNS)}"
            )
        for label in ("condition", "readout", "unit", "source"):
            if not str(record[label]).strip():
                raise ValueError(f"{here}: column {label!r} is empty; a value is required")
        relation = str(record.get("relation", "")).strip() or "="
        if relation not in RELATIONS:
            raise ValueError(
                f"{here}: column 'relation' must be empty or one of {RELATIONS}; got {relation!r}"
            )
        record["relation"] = relation
        mean, sem, n = (_number(record[c]) for c in ("mean", "sem", "n"))
        check_cell(here, "mean", mean, upper=math.inf, upper_inclusive=False, lower=-math.inf)
        if not math.isnan(sem):
            check_cell(
                here,
                "sem (or empty)",
                sem,
                lower=0.0,
                lower_inclusive=True,
                upper=math.inf,
                upper_inclusive=False,
            )
        if not math.isnan(n):
            check_cell(
                here,
                "n (or empty)",
                n,
                lower=1.0,
                lower_inclusive=True,
                upper=math.inf,
                upper_inclusive=False,
            )
            if n != math.floor(n):
                raise ValueError(f"{here}: column 'n' must be a whole number; got {n}")
        values = {name: _cell(record.get(name, "")) for name in names}
        for name, value in values.items():
            if isinstance(value, float) and math.isinf(value):
                raise ValueError(f"{here}: condition column {name!r} is infinite")
        key = (tuple(values.items()), str(record["readout"]), str(record.get("site", "")))
        if key in seen:
            raise ValueError(
                f"{here}: the same condition, readout and site as {seen[key]}; merge the two "
                "rows or tell them apart by a condition column"
            )
        seen[key] = here
        for column in rows:
            if column in names:
                rows[column].append(values[column])
            elif column in ("mean", "sem", "n"):
                rows[column].append(_number(record.get(column, "")))
            else:
                rows[column].append(str(record.get(column, "")).strip())
    return DataSet(
        condition=tuple(rows["condition"]),
        readout=tuple(rows["readout"]),
        site=tuple(rows["site"]),
        columns=tuple((name, tuple(rows[name])) for name in names),
        mean=rows["mean"],
        sem=rows["sem"],
        n=rows["n"],
        unit=tuple(rows["unit"]),
        source=tuple(rows["source"]),
        note=tuple(rows["note"]),
        relation=_bounds(tuple(rows["relation"])),
    )


def _bounds(relation: tuple[str, ...]) -> tuple[str, ...]:
    # () when every row is "=": data without bounds stays as it always was.
    return relation if set(relation) - {"="} else ()


def _number(value) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None


def _cell(value):
    """A condition cell: a float where it reads as one (empty = NaN), else the stripped text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return text


def load_dataset(path: str | Path) -> DataSet:
    """Read a `DataSet` from a CSV file (see the module doc for its columns).

    Raises:
        ValueError: naming the file, the line and the column, for a missing column, a cell that
            is not a number where one is needed, a value out of range, or a duplicated row.
    """
    records = []
    for row in read_table(
        path, required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS, open_ended=True
    ):
        record = dict(row.cells)
        for column in ("mean", "sem", "n"):
            record[column] = row.number(column, required=column == "mean")
        record["_where"] = row.where
        records.append(record)
    if not records:
        raise ValueError(f"{path}: the table has a header but no data rows")
    return dataset_from_records(records, where=str(path))


def save_dataset(data: DataSet, path: str | Path, header: str = "") -> None:
    """Write ``data`` as CSV (readable by `load_dataset`); ``header`` lines become comments."""
    columns: Mapping[str, tuple] = {
        "condition": data.condition,
        "readout": data.readout,
        "site": data.site,
        **dict(data.columns),
        "mean": tuple(np.asarray(data.mean).tolist()),
        "sem": tuple(np.asarray(data.sem).tolist()),
        "n": tuple(np.asarray(data.n).tolist()),
        "unit": data.unit,
        "source": data.source,
        "note": data.note,
    }
    if data.relation:
        columns["relation"] = data.relation
    with open(path, "w", newline="", encoding="utf-8") as file:
        for line in header.splitlines():
            file.write(f"# {line}\n")
        writer = csv.writer(file)
        writer.writerow(list(columns))
        for i in range(data.n_rows):
            writer.writerow([_text(values[i]) for values in columns.values()])


def _text(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)
