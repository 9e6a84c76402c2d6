"""Small numerical helpers shared by the channel and receptor kinetics."""

import jax.numpy as jnp


def q10_factor(q10, temperature, reference_temperature):
    """Rate multiplier at ``temperature`` (degC) for kinetics measured at ``reference_temperature``.

    Time constants are divided by this factor, rates multiplied by it.
    """
    return q10 ** ((temperature - reference_temperature) / 10.0)


def exprel(x):
    """x / (exp(x) - 1), finite and differentiable at x = 0 (where it equals 1).

    The Hodgkin-Huxley style rate functions have a removable singularity here; the double `where`
    keeps both the value and the gradient free of NaN.
    """
    small = jnp.abs(x) < 1e-6
    safe_x = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - 0.5 * x, safe_x / jnp.expm1(safe_x))


def sigmoid(x):
    return 0.5 * (1.0 + jnp.tanh(0.5 * x))
