"""Parameter checks of the rules, in the rules' calling convention (owner, field, closed bounds).

One implementation serves the whole package: this delegates to `plastic._validation.check_range`.
"""

import math

from plastic._validation import check_range as _check_range


def check_range(
    owner: str,
    name: str,
    value,
    *,
    lower: float = -math.inf,
    upper: float = math.inf,
    lower_open: bool = False,
    upper_open: bool = False,
    units: str = "",
    finite: bool = True,
) -> None:
    """Raise `ValueError` unless every element of ``owner.name`` lies in the allowed range.

    Bounds are closed unless ``lower_open`` / ``upper_open``; infinite bounds mean unbounded.
    NaN is always rejected, infinities unless ``finite`` is False; tracers are skipped.
    """
    _check_range(
        f"{owner}.{name}",
        value,
        lower=None if _is_infinite(lower) else lower,
        upper=None if _is_infinite(upper) else upper,
        lower_inclusive=not lower_open,
        upper_inclusive=not upper_open,
        unit=units,
        finite=finite,
    )


def _is_infinite(bound) -> bool:
    # A bound may itself be a (traced) parameter; only a plain number can be infinite here.
    return isinstance(bound, (int, float)) and math.isinf(bound)
