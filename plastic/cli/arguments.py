"""Command-line values checked as they are parsed, and the one way the command reports an error.

A number option is parsed by a `number` converter: argparse then refuses a value outside its
range (an infinity or NaN included) with one line naming the option, the value and the range,
and exits with status 2 before anything is compiled.
"""

import argparse
import math
import re
import sys
from typing import NoReturn

from plastic._validation import interval_text

USAGE_ERROR = 2
"""Exit status of a refused input (argparse's own)."""


def number(
    lower: float | None = None,
    upper: float | None = None,
    *,
    integer: bool = False,
    lower_inclusive: bool = True,
    upper_inclusive: bool = True,
    unit: str = "",
):
    """A converter for ``type=``: the text as a finite float (or int) within the bounds."""
    kind = "a whole number" if integer else "a finite number"
    interval = interval_text(lower, upper, lower_inclusive, upper_inclusive)
    allowed = f"{kind} in {interval}" + (f" {unit}" if unit else "")

    def parse(text: str):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed}; got {text!r}") from None
        ok = math.isfinite(value) and (not integer or value == math.floor(value))
        if lower is not None:
            ok = ok and (value >= lower if lower_inclusive else value > lower)
        if upper is not None:
            ok = ok and (value <= upper if upper_inclusive else value < upper)
        if not ok:
            raise argparse.ArgumentTypeError(f"must be {allowed}; got {text!r}")
        return int(value) if integer else value

    return parse


FINITE = number()
NON_NEGATIVE = number(0.0)
POSITIVE = number(0.0, lower_inclusive=False)
COUNT = number(1.0, integer=True)
SEED = number(0.0, integer=True)
RELATIVE_TOLERANCE = number(0.0, 1.0, lower_inclusive=False, upper_inclusive=False)


def part_of(text: str) -> tuple[int, int]:
    """A converter for ``--part I/N``: ``(i, n)``, whole numbers with 1 <= i <= n."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text, flags=re.ASCII)
    if match and 1 <= int(match.group(1)) <= int(match.group(2)):
        return int(match.group(1)), int(match.group(2))
    raise argparse.ArgumentTypeError(f"must be I/N with whole numbers 1 <= I <= N; got {text!r}")


def fail(command: str, error: object) -> NoReturn:
    """Report a refused input in one line on stderr and exit with `USAGE_ERROR`."""
    message = f"plastic {command}: error: {error}"
    print(message, file=sys.stderr)
    # The exit status is the code; the message stays the exception's text, for callers of
    # `plastic.cli.main` that catch it.
    exit_ = SystemExit(message)
    exit_.code = USAGE_ERROR
    raise exit_
