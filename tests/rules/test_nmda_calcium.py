"""`NMDACalcium` and `NMDACalciumSynapse` against an independent scipy solve of the same ODEs
(NMDA current states, calcium, and the Shouval weight), and their gradients against finite
differences."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import scipy.integrate

import plastic  # noqa: F401  (float64)
from plastic.protocols import presynaptic_train
from plastic.rules import NMDACalcium, NMDACalciumSynapse, ShouvalBearCooper

CALCIUM = NMDACalcium(amplitude=3e-4)
RULE = ShouvalBearCooper.from_published("2002", calcium_rest=0.05)


def _scipy(voltage, pre_times, t_end, rule=RULE, calcium=CALCIUM):
    """Fast and slow NMDA current, calcium and weight as four ODEs, DOP853 between spikes."""
    c = {k: float(getattr(calcium, k)) for k in ("tau_fast", "tau_slow", "fraction_fast",
                                                  "tau_calcium", "rest")}  # fmt: skip
    drive = float(calcium.drive(voltage))
    p = {k: float(getattr(rule, k)) for k in ("alpha1", "alpha2", "beta1", "beta2", "p1", "p2",
                                              "p3", "p4", "lambda_")}  # fmt: skip

    def sig(x):
        return 1.0 / (1.0 + math.exp(-x))

    def rhs(t, y):
        fast, slow, ca, w = y
        above = ca - c["rest"]
        omega = (
            0.25
            + sig(p["beta2"] * (above - p["alpha2"]))
            - 0.25 * sig(p["beta1"] * (above - p["alpha1"]))
        )
        tau = p["p1"] / (p["p2"] + max(above, 0.0) ** p["p3"]) + p["p4"]
        return [
            -fast / c["tau_fast"],
            -slow / c["tau_slow"],
            drive * (c["fraction_fast"] * fast + (1 - c["fraction_fast"]) * slow)
            - (ca - c["rest"]) / c["tau_calcium"],
            (omega - p["lambda_"] * w) / tau,
        ]

    y = np.array([0.0, 0.0, c["rest"], 0.25 / p["lambda_"]])
    edges = [0.0, *pre_times, t_end]
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        if i > 0:  # the interval starts with spike i - 1
            y[:2] += 1.0
        if b > a:
            y = scipy.integrate.solve_ivp(rhs, (a, b), y, method="DOP853", rtol=1e-11,
                                          atol=1e-13).y[:, -1]  # fmt: skip
    return y


def test_calcium_is_the_closed_form_of_its_ode():
    pre = [10.0, 60.0, 400.0]
    padded = jnp.asarray([*pre, jnp.inf])
    for voltage in (-65.0, -30.0, 0.0):
        for t in (30.0, 100.0, 800.0):
            expected = _scipy(voltage, [p for p in pre if p < t], t)[2]
            np.testing.assert_allclose(CALCIUM(t, padded, voltage), expected, rtol=1e-9)
    # tau_calcium equal to a receptor time constant: the limit, not 0/0.
    equal = NMDACalcium(tau_fast=50.0, tau_calcium=50.0)
    near = NMDACalcium(tau_fast=50.0, tau_calcium=50.0 * (1 + 1e-7))
    np.testing.assert_allclose(equal(120.0, padded, -20.0), near(120.0, padded, -20.0), rtol=1e-6)


def test_shouval_weight_on_held_voltage_matches_scipy():
    trains = presynaptic_train(frequency=2.0, n_spikes=20)
    pre = np.asarray(trains.pre).tolist()
    for voltage in (-30.0, -10.0):
        synapse = NMDACalciumSynapse(RULE, CALCIUM, voltage)
        expected = _scipy(voltage, pre, float(trains.duration))[3] / 0.25
        np.testing.assert_allclose(synapse.efficacy(trains), expected, rtol=1e-5)
        assert abs(expected - 1.0) > 0.01  # the protocol moves the weight


def test_gradient_matches_finite_differences():
    trains = presynaptic_train(frequency=2.0, n_spikes=20)

    def efficacy(amplitude, alpha2):
        calcium = NMDACalcium(amplitude=amplitude)
        rule = ShouvalBearCooper(**{**RULE.__dict__, "alpha2": alpha2})
        synapse = NMDACalciumSynapse(rule, calcium, -20.0, rtol=1e-10, atol=1e-12)
        return synapse.efficacy(trains)

    point = (jnp.asarray(3e-4), jnp.asarray(0.55))
    gradient = jax.grad(efficacy, argnums=(0, 1))(*point)
    for i, step in ((0, 3e-7), (1, 1e-4)):
        up, down = list(point), list(point)
        up[i] += step
        down[i] -= step
        central = (efficacy(*up) - efficacy(*down)) / (2 * step)
        np.testing.assert_allclose(gradient[i], central, rtol=1e-4)
        assert abs(float(gradient[i])) > 0
