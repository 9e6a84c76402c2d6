"""Reading a checked CSV table, with errors that name the file, the line and the column.

A table is plain CSV with a header row. Lines whose first character is ``#`` are comments (the
shipped data files describe their conventions there); blank lines are skipped. A quoted cell may
not span lines, so that every row has one line number to report.
"""

import csv
import math
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from plastic._validation import check_range


class Row:
    """One data row of a table: its cells by column name, and where it came from for errors."""

    def __init__(self, cells: dict[str, str], where: str):
        self.cells = cells
        self.where = where

    def text(self, column: str, *, required: bool = True) -> str:
        """The stripped cell; raises if ``required`` and it is empty."""
        value = self.cells.get(column, "").strip()
        if required and not value:
            raise ValueError(f"{self.where}: column {column!r} is empty; a value is required")
        return value

    def choice(self, column: str, allowed: Sequence[str]) -> str:
        """The cell, which must be one of ``allowed``."""
        value = self.text(column)
        if value not in allowed:
            raise ValueError(
                f"{self.where}: column {column!r} must be one of {list(allowed)}; got {value!r}"
            )
        return value

    def number(self, column: str, *, required: bool = True) -> float:
        """The cell as a float; an empty cell (or ``nan``) is NaN when not ``required``."""
        value = self.text(column, required=required)
        if not value:
            return math.nan
        try:
            number = float(value)
        except ValueError:
            raise ValueError(
                f"{self.where}: column {column!r} must be a number; got {value!r}"
            ) from None
        if required and math.isnan(number):
            raise ValueError(f"{self.where}: column {column!r} is NaN; a value is required")
        return number

    def integer(self, column: str, *, required: bool = True) -> float:
        """The cell as a whole number (returned as float so that NaN can mean "not given")."""
        number = self.number(column, required=required)
        if not math.isnan(number) and number != math.floor(number):
            raise ValueError(
                f"{self.where}: column {column!r} must be a whole number; got {self.text(column)!r}"
            )
        return number


def check_cell(where: str, column: str, value: float, **bounds) -> None:
    """`check_range` on one cell, with the cell's location ``where`` in front of the message."""
    try:
        check_range(column, value, **bounds)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def read_table(
    path: str | Path,
    *,
    required: Collection[str],
    optional: Collection[str] = (),
    open_ended: bool = False,
) -> Iterator[Row]:
    """The rows of the CSV file at ``path``.

    With ``open_ended``, columns beyond ``required`` and ``optional`` are read too (a data set
    whose condition columns its experiment names); otherwise they are an error.

    Raises:
        FileNotFoundError: if there is no such file.
        ValueError: for a missing required column (named), an unknown column, a duplicated column,
            no header, or a row with the wrong number of cells (its line is named).
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    numbered = [
        (number, line)
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.startswith("#")
    ]
    if not numbered:
        raise ValueError(f"{path}: no header row; expected the columns {sorted(required)}")
    records = list(csv.reader(line for _, line in numbered))
    header = [name.strip() for name in records[0]]
    missing = [name for name in required if name not in header]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {missing}; the required columns are {list(required)}"
        )
    known = set(required) | set(optional)
    unknown = [name for name in header if name not in known]
    if unknown and not open_ended:
        raise ValueError(
            f"{path}: unknown column(s) {unknown}; the allowed columns are "
            f"{list(required) + list(optional)}"
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise ValueError(f"{path}: column(s) {duplicated} appear more than once")
    for (number, _), record in zip(numbered[1:], records[1:]):
        where = f"{path}, line {number}"
        if len(record) != len(header):
            raise ValueError(f"{where}: {len(record)} cells for {len(header)} columns")
        yield Row(dict(zip(header, record)), where)
