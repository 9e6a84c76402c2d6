"""`NMDACalcium` and `NMDACalciumSynapse` against an independent scipy solve of the same ODEs
(NMDA conductance, calcium and the Shouval weight, the AP voltage summed in numpy), held and with
back-propagating APs, and the gradient against finite differences."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.integrate

import plastic  # noqa: F401  (float64)
from plastic.protocols import presynaptic_train, spike_pairs
from plastic.rules import NMDACalcium, NMDACalciumSynapse, ShouvalBearCooper

CALCIUM = NMDACalcium(amplitude=3e-4)
RULE = ShouvalBearCooper.from_published("2002", calcium_rest=0.05)


def _scipy(voltage, pre_times, t_end, post_times=(), rule=RULE, calcium=CALCIUM):
    """NMDA conductance (fast, slow), calcium and weight as four ODEs, the AP voltage summed in
    numpy, DOP853 between events. Returns the state at ``t_end``."""
    names = ("tau_fast", "tau_slow", "fraction_fast", "tau_calcium", "rest", "amplitude",
             "reversal", "magnesium", "mg_block_slope", "mg_block_kd", "bap_amplitude",
             "tau_bap_fast", "tau_bap_slow", "bap_fraction_fast", "bap_delay")  # fmt: skip
    c = {k: float(getattr(calcium, k)) for k in names}
    p = {k: float(getattr(rule, k)) for k in ("alpha1", "alpha2", "beta1", "beta2", "p1", "p2",
                                              "p3", "p4", "lambda_")}  # fmt: skip
    aps = [t + c["bap_delay"] for t in post_times]

    def sig(x):
        return 1.0 / (1.0 + math.exp(-x))

    def v_at(t):
        bap = sum(
            c["bap_fraction_fast"] * math.exp(-(t - a) / c["tau_bap_fast"])
            + (1 - c["bap_fraction_fast"]) * math.exp(-(t - a) / c["tau_bap_slow"])
            for a in aps
            if a <= t
        )
        return voltage + c["bap_amplitude"] * bap

    def rhs(t, y):
        fast, slow, ca, w = y
        v = v_at(t)
        block = 1.0 / (1.0 + math.exp(-c["mg_block_slope"] * v) * c["magnesium"] / c["mg_block_kd"])
        influx = c["amplitude"] * (c["fraction_fast"] * fast + (1 - c["fraction_fast"]) * slow)
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
            influx * block * (c["reversal"] - v) - above / c["tau_calcium"],
            (omega - p["lambda_"] * w) / tau,
        ]

    events = sorted([(t, "pre") for t in pre_times] + [(a, "ap") for a in aps])
    y = np.array([0.0, 0.0, c["rest"], 0.25 / p["lambda_"]])
    t = 0.0
    for when, kind in [*events, (t_end, "end")]:
        if when > t:
            y = scipy.integrate.solve_ivp(rhs, (t, when), y, method="DOP853", rtol=1e-11,
                                          atol=1e-13).y[:, -1]  # fmt: skip
            t = when
        if kind == "pre":
            y[:2] += 1.0
    return y


def test_calcium_at_a_held_voltage_matches_scipy():
    trains = presynaptic_train(frequency=20.0, n_spikes=3, tail=300.0)
    pre = np.asarray(trains.pre).tolist()
    save_ts = jnp.array([30.0, 100.0, 420.0])
    for voltage in (-65.0, -30.0, 0.0):
        synapse = NMDACalciumSynapse(RULE, CALCIUM, voltage, clamped=True, rtol=1e-10, atol=1e-12)
        calcium = synapse.solve(trains, save_ts).ys[0][:-1]
        expected = [_scipy(voltage, [p for p in pre if p < t], float(t))[2] for t in save_ts]
        np.testing.assert_allclose(calcium, expected, rtol=1e-8)


def test_shouval_weight_on_held_voltage_matches_scipy():
    trains = presynaptic_train(frequency=2.0, n_spikes=20)
    pre = np.asarray(trains.pre).tolist()
    for voltage in (-30.0, -10.0):
        synapse = NMDACalciumSynapse(RULE, CALCIUM, voltage, clamped=True)
        expected = _scipy(voltage, pre, float(trains.duration))[3] / 0.25
        np.testing.assert_allclose(synapse.efficacy(trains), expected, rtol=1e-5)
        assert abs(expected - 1.0) > 0.01  # the protocol moves the weight


def test_spike_timing_with_back_propagating_aps_matches_scipy():
    """Pairs at rest: the APs' depolarisation unblocks the receptors the presynaptic spike
    opened (the Shouval 2002 STDP mechanism). With 5x the default calcium amplitude, post-pre at
    -10 ms depresses and pre-post at +10 ms potentiates; clamped, nothing happens."""
    rule = ShouvalBearCooper(**{**RULE.__dict__, "p4": 2000.0})
    calcium = NMDACalcium(amplitude=1e-3)
    efficacy = {}
    for delta_t in (-10.0, 10.0, 40.0):
        trains = spike_pairs(delta_t, n_pairings=5, period=1000.0)
        efficacy[delta_t] = NMDACalciumSynapse(rule, calcium).efficacy(trains)
        expected = _scipy(
            -65.0,
            np.asarray(trains.pre).tolist(),
            float(trains.duration),
            np.asarray(trains.post).tolist(),
            rule=rule,
            calcium=calcium,
        )
        np.testing.assert_allclose(efficacy[delta_t], expected[3] / 0.25, rtol=1e-5)
    assert float(efficacy[-10.0]) < 0.97 and float(efficacy[10.0]) > 1.05
    clamped = NMDACalciumSynapse(rule, calcium, clamped=True)
    no_aps = clamped.efficacy(spike_pairs(10.0, n_pairings=5, period=1000.0))
    assert abs(float(no_aps) - 1.0) < 0.01


def test_gradient_matches_finite_differences():
    trains = presynaptic_train(frequency=2.0, n_spikes=20)

    def efficacy(amplitude, alpha2):
        calcium = NMDACalcium(amplitude=amplitude)
        rule = ShouvalBearCooper(**{**RULE.__dict__, "alpha2": alpha2})
        synapse = NMDACalciumSynapse(rule, calcium, -20.0, clamped=True, rtol=1e-10, atol=1e-12)
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


def test_a_solve_out_of_steps_gives_nan_not_an_error_or_a_number():
    """A fit rejects such a step and a sampler such a proposal; an error raised inside the
    compiled program would end both."""
    trains = presynaptic_train(frequency=10.0, n_spikes=20)
    synapse = NMDACalciumSynapse(RULE, CALCIUM, voltage=-20.0, clamped=True, max_steps=8)
    efficacy = eqx.filter_jit(lambda synapse, trains: synapse.efficacy(trains))
    assert math.isnan(float(efficacy(synapse, trains)))
    enough = NMDACalciumSynapse(RULE, CALCIUM, voltage=-20.0, clamped=True)
    assert math.isfinite(float(efficacy(enough, trains)))
