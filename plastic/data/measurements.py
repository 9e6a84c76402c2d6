"""Plasticity measurements: one row a mean +- SEM of one readout in one experimental condition.

`Measurements` holds the numbers as arrays (so that a fit can compare them with a vmapped
simulation) and the labels as static tuples of strings. `load_csv` reads a user's own data in the
format of the shipped `plastic/data/tazerart2020.csv`; its columns are `COLUMNS`.
"""

import math
from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from plastic._validation import is_concrete
from plastic.data._table import Row, check_cell, read_table

READOUT_UNITS = {
    "uepsp": "%",
    "neck_length": "%",
    "head_volume": "%",
    "uepsp_initial": "mV",
    "length_constant": "um",
}
"""The known readouts and the unit each must be given in.

``uepsp``, ``neck_length``, ``head_volume``: percent of baseline after induction (100 = no change).
``uepsp_initial``: baseline uEPSP amplitude at the soma, mV. ``length_constant``: lambda of the
exponential fit of the uEPSP change against inter-spine distance (eq. 2 of Tazerart et al.), um.
"""

SITES = ("activated", "neighbour")
"""``activated``: the uncaged spine(s); ``neighbour``: nearby spines that were not uncaged."""

DRUGS = ("none", "AP5", "PEP1-TGL", "latrunculin-A", "latrunculin-A (ACSF)")
"""AP5 blocks NMDA receptors; PEP1-TGL blocks GluR1 insertion; latrunculin-A blocks actin
polymerisation (dissolved in DMSO, it enters the cell; ``latrunculin-A (ACSF)`` does not)."""

COLUMNS = (
    "condition",
    "readout",
    "site",
    "delta_t",
    "n_spines_uncaged",
    "distance_min",
    "distance_max",
    "drug",
    "drug_concentration",
    "temperature",
    "mean",
    "sem",
    "n",
    "unit",
    "source",
)
"""Required columns of a measurements CSV."""

OPTIONAL_COLUMNS = ("p_value", "note")
"""Columns that may be absent (then NaN and empty)."""

_MAX_TEMPERATURE = 45.0
_MAX_DELTA_T = 1000.0


def _floats(x) -> Array:
    return jnp.asarray(x, dtype=float)


class Measurements(eqx.Module):
    """Mean +- SEM of plasticity readouts, one row per (condition, readout, site).

    Every array field has shape ``(n_rows,)``; every label field is a tuple of ``n_rows`` strings.
    NaN in ``sem``, ``n``, ``p_value`` and the distances means "not given".

    Attributes:
        condition: label of the experimental condition, e.g. ``"clustered +7 ms"``.
        readout: one of `READOUT_UNITS`.
        site: one of `SITES`.
        delta_t: onset of the somatic current (post) minus onset of the first uncaging pulse
            (pre), ms; positive = pre before post.
        n_spines_uncaged: spines uncaged in each pairing (1 or more).
        distance_min, distance_max: range of inter-spine distances of the group, um (NaN for one
            spine; ``inf`` for no stated upper bound; equal for a single pair).
        drug: one of `DRUGS`. drug_concentration: uM (0 without a drug).
        temperature: degC.
        mean: the readout, in ``unit``. sem: its standard error, in ``unit``.
        n: number of experiments (spines, or spine pairs when two are uncaged).
        unit: the unit of ``mean`` and ``sem``, fixed by the readout (`READOUT_UNITS`).
        p_value: of the published test of the row (see the file's notes).
        source: where the number comes from (figure panel, section).
        note: anything else the number needs to be read correctly.
    """

    condition: tuple[str, ...] = eqx.field(static=True)
    readout: tuple[str, ...] = eqx.field(static=True)
    site: tuple[str, ...] = eqx.field(static=True)
    delta_t: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    n_spines_uncaged: Int[Array, " n_rows"] = eqx.field(converter=lambda x: jnp.asarray(x, int))
    distance_min: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    distance_max: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    drug: tuple[str, ...] = eqx.field(static=True)
    drug_concentration: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    temperature: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    mean: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    sem: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    n: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    unit: tuple[str, ...] = eqx.field(static=True)
    p_value: Float[Array, " n_rows"] = eqx.field(converter=_floats)
    source: tuple[str, ...] = eqx.field(static=True)
    note: tuple[str, ...] = eqx.field(static=True)

    def __check_init__(self):
        lengths = {name: len(getattr(self, name)) for name in _FIELDS}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"Measurements fields must all have n_rows entries; got {lengths}")
        if not is_concrete(self):
            return
        columns = self._columns()
        for i in range(self.n_rows):
            values = {name: column[i] for name, column in columns.items()}
            check_measurement(f"Measurements row {i} ({self.condition[i]!r})", values)

    def _columns(self) -> dict[str, tuple]:
        """Every field as a tuple of Python values (one host transfer per array, not per row)."""
        return {
            name: value if isinstance(value, tuple) else tuple(np.asarray(value).tolist())
            for name, value in ((name, getattr(self, name)) for name in _FIELDS)
        }

    @property
    def n_rows(self) -> int:
        return len(self.condition)

    def label_columns(self) -> dict[str, tuple]:
        """The row labels and condition columns, by name, for tables of predictions."""
        columns = self._columns()
        names = COLUMNS[: COLUMNS.index("drug") + 1] + ("unit",)
        return {name: columns[name] for name in names}

    @property
    def conditions(self) -> tuple[str, ...]:
        """The distinct condition labels, in order of first appearance."""
        return tuple(dict.fromkeys(self.condition))

    def select(self, **equal_to) -> "Measurements":
        """The rows whose columns equal the given values.

        A value may be a single label or number, or a tuple/list/set of accepted values, e.g.
        ``data.select(readout="uepsp", n_spines_uncaged=1, delta_t=(13.0, -15.0))``.

        Raises:
            ValueError: for a name that is not a column.
        """
        columns = self._columns()
        keep = np.ones(self.n_rows, dtype=bool)
        for name, wanted in equal_to.items():
            if name not in _FIELDS:
                raise ValueError(f"select: {name!r} is not a column; the columns are {_FIELDS}")
            accepted = wanted if isinstance(wanted, (tuple, list, set, frozenset)) else (wanted,)
            keep &= np.array([value in accepted for value in columns[name]], dtype=bool)
        rows = np.flatnonzero(keep)
        return Measurements(
            **{name: tuple(column[i] for i in rows) for name, column in columns.items()}
        )


_FIELDS = tuple(Measurements.__dataclass_fields__)


def check_measurement(where: str, values: dict) -> None:
    """Raise ``ValueError`` naming ``where``, the column and the allowed range or set.

    ``values`` maps every `Measurements` field to one row's value.
    """
    for column, allowed in (("readout", tuple(READOUT_UNITS)), ("site", SITES), ("drug", DRUGS)):
        if values[column] not in allowed:
            raise ValueError(
                f"{where}: column {column!r} must be one of {list(allowed)}; got {values[column]!r}"
            )
    expected_unit = READOUT_UNITS[values["readout"]]
    if values["unit"] != expected_unit:
        raise ValueError(
            f"{where}: readout {values['readout']!r} must be given in unit {expected_unit!r}; "
            f"got unit {values['unit']!r}"
        )
    for column in ("condition", "source"):
        if not values[column]:
            raise ValueError(f"{where}: column {column!r} is empty; a value is required")
    check_cell(
        where, "delta_t", values["delta_t"], lower=-_MAX_DELTA_T, upper=_MAX_DELTA_T, unit="ms"
    )
    n_spines = values["n_spines_uncaged"]
    check_cell(where, "n_spines_uncaged", n_spines, lower=1.0, lower_inclusive=True)
    distance_min, distance_max = values["distance_min"], values["distance_max"]
    if n_spines == 1:
        if not (math.isnan(distance_min) and math.isnan(distance_max)):
            raise ValueError(
                f"{where}: distance_min and distance_max must be empty (NaN) when one spine is "
                f"uncaged; got {distance_min}, {distance_max}"
            )
    else:
        check_cell(
            where,
            "distance_min",
            distance_min,
            lower=0.0,
            lower_inclusive=True,
            upper=None,
            unit="um",
        )
        check_cell(
            where,
            "distance_max",
            distance_max,
            lower=distance_min,
            lower_inclusive=True,
            upper=math.inf,
            unit="um (at least distance_min)",
        )
    if values["drug"] == "none":
        check_cell(
            where,
            "drug_concentration",
            values["drug_concentration"],
            lower=0.0,
            lower_inclusive=True,
            upper=0.0,
            unit="uM (no drug)",
        )
    else:
        check_cell(where, "drug_concentration", values["drug_concentration"], lower=0.0, unit="uM")
    check_cell(
        where, "temperature", values["temperature"], lower=0.0, upper=_MAX_TEMPERATURE, unit="degC"
    )
    check_cell(where, "mean", values["mean"], lower=0.0, lower_inclusive=True, upper=None)
    for column, lower, inclusive, upper in (
        ("sem", 0.0, True, None),
        ("n", 1.0, True, None),
        ("p_value", 0.0, True, 1.0),
    ):
        value = values[column]
        if not math.isnan(value):
            check_cell(
                where,
                column + " (or empty)",
                value,
                lower=lower,
                lower_inclusive=inclusive,
                upper=upper,
            )
    if not math.isnan(values["n"]) and values["n"] != math.floor(values["n"]):
        raise ValueError(f"{where}: column 'n' must be a whole number; got {values['n']}")


def _parse_row(row: Row) -> dict:
    values = {
        "condition": row.text("condition"),
        "readout": row.text("readout"),
        "site": row.text("site"),
        "delta_t": row.number("delta_t"),
        "n_spines_uncaged": row.integer("n_spines_uncaged"),
        "distance_min": row.number("distance_min", required=False),
        "distance_max": row.number("distance_max", required=False),
        "drug": row.text("drug"),
        "drug_concentration": row.number("drug_concentration"),
        "temperature": row.number("temperature"),
        "mean": row.number("mean"),
        "sem": row.number("sem", required=False),
        "n": row.integer("n", required=False),
        "unit": row.text("unit"),
        "p_value": row.number("p_value", required=False),
        "source": row.text("source"),
        "note": row.text("note", required=False),
    }
    check_measurement(row.where, values)
    return values


def load_csv(path: str | Path) -> Measurements:
    """Read measurements from a CSV file with the columns `COLUMNS` (plus `OPTIONAL_COLUMNS`).

    Lines starting with ``#`` are comments. Empty ``sem``, ``n``, ``p_value``, ``distance_min``,
    ``distance_max`` and ``note`` cells mean "not given". Units as in `Measurements`.

    Raises:
        ValueError: naming the file, the line and the column, for a missing or unknown column,
            an empty required cell, a cell that is not a number, a label outside its known set,
            a unit that does not match the readout, or a number outside its allowed range
            (``sem >= 0``, ``n >= 1``, ``0 <= p_value <= 1``, ``mean >= 0``, ...).
    """
    rows = [
        _parse_row(row) for row in read_table(path, required=COLUMNS, optional=OPTIONAL_COLUMNS)
    ]
    if not rows:
        raise ValueError(f"{path}: the table has a header but no data rows")
    return Measurements(**{name: tuple(row[name] for row in rows) for name in _FIELDS})
