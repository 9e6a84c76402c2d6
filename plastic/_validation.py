"""Checks of user input that raise a clear error instead of a NaN deep inside a solve.

Checks run on concrete values only: under `jit`, `vmap` or `grad` the values are tracers and the
caller is expected to have validated them before tracing (the public constructors do).
"""

import contextlib
import contextvars

import jax
import numpy as np

_UNITS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("units", default=None)


@contextlib.contextmanager
def recording_units(units: dict[str, str]):
    """While active, every `check_range` with a unit records ``units[name] = unit`` (the unit's
    first word: its notes in parentheses left out), e.g. for `plastic.provenance`."""
    token = _UNITS.set(units)
    try:
        yield units
    finally:
        _UNITS.reset(token)


def is_concrete(value) -> bool:
    """True if ``value`` holds numbers now (not a tracer inside a transformation)."""
    leaves = jax.tree_util.tree_leaves(value)
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)


def interval_text(
    lower: float | None, upper: float | None, lower_inclusive: bool, upper_inclusive: bool
) -> str:
    """An interval as its error messages write it, e.g. ``[0, 1)`` or ``(0, inf)``."""
    return (
        ("[" if lower_inclusive and lower is not None else "(")
        + ("-inf" if lower is None else f"{lower:g}")
        + ", "
        + ("inf" if upper is None else f"{upper:g}")
        + ("]" if upper_inclusive and upper is not None else ")")
    )


def check_range(
    name: str,
    value,
    *,
    lower: float | None = None,
    upper: float | None = None,
    lower_inclusive: bool = False,
    upper_inclusive: bool = True,
    unit: str = "",
    finite: bool = True,
) -> None:
    """Raise ``ValueError`` naming ``name`` and the allowed range if any element is outside it.

    NaN is always rejected, and so are infinities unless ``finite`` is False (for times padded
    with ``+inf``): an infinite conductance or length is accepted by every bound but fails deep
    inside a solve. Bounds are open unless marked inclusive; ``None`` means unbounded.
    """
    recording = _UNITS.get()
    if recording is not None and unit:
        recording[name] = unit.split(" (")[0]
    if not is_concrete((value, lower, upper)):
        return
    array = np.asarray(value, dtype=float)
    allowed = interval_text(lower, upper, lower_inclusive, upper_inclusive)
    suffix = f" {unit}" if unit else ""
    bad = np.isnan(array)
    if finite:
        bad |= np.isinf(array)
        suffix += " (finite)"
    if lower is not None:
        bad |= array < lower if lower_inclusive else array <= lower
    if upper is not None:
        bad |= array > upper if upper_inclusive else array >= upper
    if np.any(bad):
        offending = array[bad].ravel()[:3]
        raise ValueError(
            f"{name} must be a number in {allowed}{suffix}; got {offending.tolist()}"
            + (" (and more)" if bad.sum() > 3 else "")
        )


def check_potential(name: str, value) -> None:
    """A membrane, reversal or half-activation potential: finite, within +-200 mV."""
    check_range(name, value, lower=-200.0, upper=200.0, lower_inclusive=True, unit="mV")


def check_temperature(name: str, value) -> None:
    """A (reference) temperature of living tissue, 0-45 degC."""
    check_range(name, value, lower=0.0, upper=45.0, unit="degC")
