"""Parameter checks shared by the rules: clear errors for concrete values, silence under tracing."""

import math

import jax
import numpy as np


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
) -> None:
    """Raise `ValueError` unless every element of ``value`` is a number in the allowed range.

    Tracers (inside `jax.jit`, `jax.vmap`, `jax.grad`) are skipped: their values are unknown, and a
    parameter set is checked when it is built from concrete numbers.

    Args:
        owner: class name, for the message.
        name: field name, for the message.
        value: scalar or array.
        lower, upper: bounds of the allowed range.
        lower_open, upper_open: whether the bound itself is excluded.
        units: units shown in the message.
    """
    if isinstance(value, jax.core.Tracer):
        return
    array = np.asarray(value, dtype=float)
    # Infinite bounds are never attained: show them open.
    left = "(" if lower_open or lower == -math.inf else "["
    right = ")" if upper_open or upper == math.inf else "]"
    allowed = f"{left}{lower:g}, {upper:g}{right}" + (f" {units}" if units else "")
    above = array > lower if lower_open else array >= lower
    below = array < upper if upper_open else array <= upper
    # NaN fails both comparisons, so it is rejected here too.
    if not np.all(above & below):
        bad = array[~(above & below)] if array.ndim else array
        raise ValueError(f"{owner}.{name} must be a number in {allowed}; got {bad}")
