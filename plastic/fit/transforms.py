"""Maps between a bounded parameter and an unconstrained real number that an optimiser moves.

A fit never sees a bound: the optimiser updates ``u`` on the whole real line and the model receives
``to_constrained(u)``, which lies inside the bounds for every finite ``u``. Which map suits a
parameter depends on its bounds (`transform_for_bounds`):

- none: `Identity`, ``x = scale u``, with ``scale`` the size of a meaningful change of ``x`` (the
  optimisers' steps are of order 1 to 0.01 in ``u``);
- a lower bound only: `LowerBound`, ``x = lower + exp(u)``, the log of the distance to the bound;
- an upper bound only: `UpperBound`, ``x = upper - exp(-u)``;
- both: `Interval`, a logistic sigmoid scaled to ``(lower, upper)``;
- a positive scale (a rate, a time constant, a conductance) spanning decades (``log=True``): the
  plain log transform ``x = exp(u)`` without bounds, `InLogSpace` around `Interval` (a sigmoid in
  ``log x``) with two, and with one bound the linear map above, which is already logarithmic
  where the scale is unbounded: ``x = lower + exp(u)`` for large ``x``, ``x = upper sigmoid(u)``
  (`Interval` from 0) for small ``x``. (A one-sided map in ``log x`` would be doubly exponential,
  overflowing and with exploding gradients at its open end.)

Every transform is increasing and works elementwise on arrays of any shape; the bounds are plain
numbers.
"""

import abc
import math

import equinox as eqx
import jax.numpy as jnp
from jax.nn import sigmoid
from jax.scipy.special import logit

from plastic._validation import check_range


class AbstractTransform(eqx.Module):
    """A smooth increasing bijection from the real line onto the allowed range of a parameter."""

    @abc.abstractmethod
    def to_constrained(self, unconstrained):
        """The parameter value for the unconstrained ``u``: inside the bounds for finite ``u``
        (in floating point, a very large ``|u|`` may round to a bound)."""

    @abc.abstractmethod
    def to_unconstrained(self, constrained):
        """The ``u`` with ``to_constrained(u) == constrained``; a value on a bound maps to +-inf."""


class Identity(AbstractTransform):
    """No bounds: ``x = scale u``.

    Attributes:
        scale: the parameter's change per unit of ``u``, in the parameter's unit, > 0.
    """

    scale: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        check_range("Identity.scale", self.scale, lower=0.0, upper=None)

    def to_constrained(self, unconstrained):
        return self.scale * unconstrained

    def to_unconstrained(self, constrained):
        return constrained / self.scale


class LowerBound(AbstractTransform):
    """``x > lower``: ``x = lower + exp(u)``.

    Attributes:
        lower: the bound, in the parameter's unit.
    """

    lower: float = eqx.field(static=True)

    def to_constrained(self, unconstrained):
        return self.lower + jnp.exp(unconstrained)

    def to_unconstrained(self, constrained):
        return jnp.log(constrained - self.lower)


class UpperBound(AbstractTransform):
    """``x < upper``: ``x = upper - exp(-u)``.

    Attributes:
        upper: the bound, in the parameter's unit.
    """

    upper: float = eqx.field(static=True)

    def to_constrained(self, unconstrained):
        return self.upper - jnp.exp(-unconstrained)

    def to_unconstrained(self, constrained):
        return -jnp.log(self.upper - constrained)


class Interval(AbstractTransform):
    """``lower < x < upper``: ``x = lower + (upper - lower) sigmoid(u)``.

    Attributes:
        lower, upper: the bounds, in the parameter's unit, ``lower < upper``.
    """

    lower: float = eqx.field(static=True)
    upper: float = eqx.field(static=True)

    def __check_init__(self):
        check_range("Interval.upper", self.upper, lower=self.lower)

    def to_constrained(self, unconstrained):
        return self.lower + (self.upper - self.lower) * sigmoid(unconstrained)

    def to_unconstrained(self, constrained):
        return logit((constrained - self.lower) / (self.upper - self.lower))


class InLogSpace(AbstractTransform):
    """A positive parameter handled on a log scale: ``x = exp(inner.to_constrained(u))``.

    Attributes:
        inner: the transform of ``log x``, whose bounds are the logs of the bounds of ``x``.
    """

    inner: AbstractTransform

    def to_constrained(self, unconstrained):
        return jnp.exp(self.inner.to_constrained(unconstrained))

    def to_unconstrained(self, constrained):
        return self.inner.to_unconstrained(jnp.log(constrained))


def transform_for_bounds(
    name: str,
    lower: float | None,
    upper: float | None,
    *,
    log: bool = False,
    scale: float | None = None,
) -> AbstractTransform:
    """The transform for a parameter ``name`` with the given bounds (``None``: unbounded).

    Args:
        name: the parameter, for error messages.
        lower, upper: open bounds in the parameter's unit; ``None`` or an infinity for none.
        log: the parameter is a positive scale, transformed on a log scale: then ``lower`` must
            be ``>= 0`` (``0`` and ``None`` both mean "positive") and ``upper > lower``.
        scale: for an unbounded parameter without ``log`` only, the `Identity` scale, in the
            parameter's unit (default 1); the bounds set the scale of every other transform.

    Raises:
        ValueError: naming ``name``, for a NaN bound, ``upper <= lower``, a negative lower
            bound (or a non-positive upper one) with ``log``, or a ``scale`` that is not positive
            or given with bounds or ``log``.
    """
    lower = _finite_or_none(f"{name}: lower bound", lower)
    upper = _finite_or_none(f"{name}: upper bound", upper)
    if scale is not None:
        if log or lower is not None or upper is not None:
            raise ValueError(
                f"{name}: scale applies to unbounded parameters without log only; the bounds or "
                "the log scale set the scale of the others"
            )
        check_range(f"{name}: scale", scale, lower=0.0, upper=None)
        return Identity(float(scale))
    if lower is not None and upper is not None:
        check_range(f"{name}: upper bound (must exceed the lower bound)", upper, lower=lower)
    if log:
        if lower is not None:
            check_range(
                f"{name}: lower bound with log=True", lower, lower=0.0, lower_inclusive=True
            )
        if upper is not None:
            check_range(f"{name}: upper bound with log=True", upper, lower=0.0)
        if not lower and upper is None:
            return InLogSpace(Identity())
        if lower and upper is not None:
            return InLogSpace(Interval(math.log(lower), math.log(upper)))
        return _linear(lower or 0.0, upper)
    return _linear(lower, upper)


def _linear(lower: float | None, upper: float | None) -> AbstractTransform:
    if lower is None and upper is None:
        return Identity()
    if upper is None:
        return LowerBound(lower)
    if lower is None:
        return UpperBound(upper)
    return Interval(lower, upper)


def _finite_or_none(name: str, bound: float | None) -> float | None:
    if bound is None:
        return None
    check_range(name, bound)
    bound = float(bound)
    return None if math.isinf(bound) else bound
