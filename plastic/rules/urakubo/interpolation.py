"""Between the samples of a recorded transient: linear, or exponential where the physics is a
relaxation.

Why: the GENESIS traces that drive the Urakubo model are written every 1-3 ms around a spike,
while the back-propagating AP and the VGCC influx it opens last about 1 ms. Linear interpolation
of such samples overestimates a convex transient between them: measured on the -16 ms trace, the
VGCC influx interpolated linearly over its samples 4, 7 and 10 ms after the somatic current's
onset keeps the PSD calcium 20-34 % above GENESIS's until the release, and the NMDARs that
calcium inactivates open 13-16 % less. A relaxation ``a exp(-t / tau)`` is reproduced exactly
by geometric interpolation, ``a (b / a)^w`` at fraction ``w`` of the interval.

``INTERPOLATIONS``:

- ``"linear"``: `jax.numpy.interp`.
- ``"exponential"``: geometric between consecutive samples that are both above the baseline and
  fall towards it (a relaxation back: repolarisation, a channel's deactivation); where they
  rise, geometric only with ``geometric_rise`` (a regenerative upstroke, whose growth is
  exponential to first order, not a gate relaxing open); linear everywhere else.
"""

import jax.numpy as jnp
from jaxtyping import Array, Float

INTERPOLATIONS = ("linear", "exponential")


def check_interpolation(name: str, interpolation: str) -> None:
    """Refuse an ``interpolation`` not in `INTERPOLATIONS`, naming the argument ``name``."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{name} must be one of {INTERPOLATIONS}; got {interpolation!r}")


def interpolate(
    t: Float[Array, ""],
    ts: Float[Array, " k"],
    values: Float[Array, " k"],
    interpolation: str = "linear",
    *,
    baseline: float = 0.0,
    geometric_rise: bool = False,
) -> Float[Array, ""]:
    """``values`` sampled at ``ts`` (non-decreasing, at least 2), read at ``t``; end values
    held outside ``ts``. With ``"exponential"``, ``values - baseline`` is interpolated
    geometrically between samples where both are positive and it falls (or rises, with
    ``geometric_rise``); see the module docstring."""
    ts, values = jnp.asarray(ts), jnp.asarray(values)
    linear = jnp.interp(t, ts, values)
    if interpolation == "linear":
        return linear
    last = ts.shape[0] - 2
    i = jnp.clip(jnp.searchsorted(ts, t, side="right") - 1, 0, last)
    span = ts[i + 1] - ts[i]
    fraction = jnp.clip((t - ts[i]) / jnp.where(span > 0, span, 1.0), 0.0, 1.0)
    left, right = values[i] - baseline, values[i + 1] - baseline
    positive = (left > 0) & (right > 0) & (span > 0)
    geometric = positive & ((right < left) | geometric_rise)
    # Logarithms of placeholders where the branch is not taken keep gradients finite.
    log_left = jnp.log(jnp.where(positive, left, 1.0))
    log_right = jnp.log(jnp.where(positive, right, 1.0))
    relaxed = baseline + jnp.exp(log_left + fraction * (log_right - log_left))
    inside = (t >= ts[0]) & (t <= ts[-1])
    return jnp.where(geometric & inside, relaxed, linear)
