"""The XCAL check-mark function of Leabra (emer/leabra ``learn.go``; reference section 3).

::

    f(xy, theta) = 0                              if xy < d_thr
                 = xy - theta                     if xy > d_rev theta
                 = -xy (1 - d_rev) / d_rev        otherwise

It is zero below ``d_thr``, falls linearly to its minimum ``-(1 - d_rev) theta`` at
``xy = d_rev theta`` (``-0.9 theta`` at ``0.1 theta`` for the default ``d_rev = 0.1``), where the
two linear pieces meet, and rises with slope 1 through zero at ``xy = theta``. Axon (2022) applied
it to the kinase cascade as ``dW = f(CaP, CaD)``.
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.rules._validation import check_range

_Scalar = Float[Array, ""]


def xcal(xy, theta, d_rev=0.1, d_thr=1e-4):
    """The exact, piecewise-linear XCAL function (elementwise; any units, shared by xy and theta).

    Args:
        xy: the short-term co-activity (or CaP).
        theta: the floating threshold (or CaD), same units, >= 0.
        d_rev: the fraction of ``theta`` at which the function reverses, in (0, 1).
        d_thr: the co-activity below which nothing changes, in units of ``xy``.
    """
    # Both pieces are finite everywhere, so the `where` passes clean gradients.
    rising = xy - theta
    falling = -xy * (1.0 - d_rev) / d_rev
    return jnp.where(xy < d_thr, 0.0, jnp.where(xy > d_rev * theta, rising, falling))


class Xcal(eqx.Module):
    """XCAL as a module, so that ``d_rev`` and ``d_thr`` can be fitted and vmapped.

    Attributes:
        d_rev: reversal point as a fraction of theta, dimensionless (Leabra default 0.1).
        d_thr: threshold below which there is no change, in the units of ``xy`` (default 1e-4).
    """

    d_rev: _Scalar = eqx.field(converter=jnp.asarray, default=0.1)
    d_thr: _Scalar = eqx.field(converter=jnp.asarray, default=1e-4)

    def __check_init__(self):
        check_range("Xcal", "d_rev", self.d_rev, lower=0.0, upper=1.0, lower_open=True)
        check_range("Xcal", "d_thr", self.d_thr, lower=0.0)

    def __call__(self, xy, theta):
        return xcal(xy, theta, self.d_rev, self.d_thr)
