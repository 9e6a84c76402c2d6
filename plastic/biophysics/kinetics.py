"""Small numerical helpers shared by the channel, receptor, rule and coupling kinetics."""

import jax
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


def hill(x, half, coefficient):
    """``x^n / (x^n + half^n)``, smooth in all three arguments for ``x >= 0``.

    Written as a logistic in ``log x`` so that the gradient with respect to the coefficient stays
    finite at small ``x``; ``x`` is floored at a tiny positive number (concentrations can dip
    below zero by solver round-off).
    """
    # Not finfo.tiny: the solver's Jacobian differentiates this twice, and 1 / x**2 must stay
    # finite at the floor (or reverse mode through the Jacobian gives inf * 0 = NaN).
    x = jnp.maximum(x, 1e-100)
    return jax.nn.sigmoid(coefficient * (jnp.log(x) - jnp.log(half)))
