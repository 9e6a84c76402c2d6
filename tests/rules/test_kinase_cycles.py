"""`KinaseCycleSynapse`: the 1 ms updates against a plain-Python transcription of Axon's cycle,
near the continuous-time `KinaseCascadeSynapse`, vmap against a loop, gradients against finite
differences, and bad settings refused by name."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.protocols import spike_lists
from plastic.rules import KinaseCascade, KinaseCycleSynapse, SpikeCalcium, spike_weight_changes
from plastic.rules.kinase_cycles import BLOCK
from plastic.rules.xcal import Xcal, xcal

RNG = np.random.default_rng(5)
PRE = np.sort(RNG.uniform(0.0, 1500.0, 40))
POST = np.sort(RNG.uniform(0.0, 1500.0, 25))
TRAINS = spike_lists(PRE, POST, duration=1800.0, max_pre=50, max_post=30)


def _axon_loop(pre, post, duration, tau_m, tau_p, tau_d, learning_rate, mode, use_xcal, trial=200):
    """Axon's cycle, written out: per ms, CaSyn then the cascade, each stage reading the one
    just updated; commits at every trial end up to the duration."""
    spike_gain, tau_syn, synapse_gain = 8.0, 30.0, 8.0
    pre_counts = np.bincount(np.floor(pre).astype(int), minlength=int(duration))
    post_counts = np.bincount(np.floor(post).astype(int), minlength=int(duration))
    casyn = [0.0, 0.0]
    cascades = [[0.0, 0.0, 0.0] for _ in range(3)]  # synapse, pre neuron, post neuron
    total = 0.0

    def advance(c, drive):
        c[0] += (drive - c[0]) / tau_m
        c[1] += (c[0] - c[1]) / tau_p
        c[2] += (c[1] - c[2]) / tau_d

    for n in range(int(duration)):
        pulses = (spike_gain * pre_counts[n], spike_gain * post_counts[n])
        if mode == "average_of_products":
            for k in range(2):
                casyn[k] += (pulses[k] - casyn[k]) / tau_syn
            advance(cascades[0], synapse_gain * casyn[0] * casyn[1])
            plus, minus = cascades[0][1], cascades[0][2]
        else:
            advance(cascades[1], pulses[0])
            advance(cascades[2], pulses[1])
            plus, minus = cascades[1][1] * cascades[2][1], cascades[1][2] * cascades[2][2]
        if (n + 1) % trial == 0:
            total += learning_rate * (float(xcal(plus, minus)) if use_xcal else plus - minus)
    return 1.0 + total


@pytest.mark.parametrize("mode", ["average_of_products", "product_of_averages"])
@pytest.mark.parametrize("use_xcal", [False, True])
def test_cycles_equal_axons_updates_written_out(mode, use_xcal):
    rule = KinaseCascade(tau_m=5.0, tau_p=40.0, tau_d=60.0, learning_rate=1e-3)
    if use_xcal:
        rule = KinaseCascade(tau_m=5.0, tau_p=40.0, tau_d=60.0, learning_rate=1e-3, xcal=Xcal())
    synapse = KinaseCycleSynapse(rule, mode=mode, max_cycles=2 * BLOCK)
    expected = _axon_loop(PRE, POST, 1800.0, 5.0, 40.0, 60.0, 1e-3, mode, use_xcal)
    efficacy = float(eqx.filter_jit(lambda s, t: s.efficacy(t))(synapse, TRAINS))
    np.testing.assert_allclose(efficacy - 1.0, expected - 1.0, rtol=1e-10, atol=1e-15)
    assert abs(expected - 1.0) > 1e-5  # the protocol moves the weight


def test_cycles_are_near_the_continuous_cascade():
    """Each trial's commit against the adaptive solve of the cascade's continuous-time limit:
    within 15 % of the largest: forward Euler at h / tau_m = 1 ms / 5 ms = 0.2. (Their sum
    nearly cancels, a band-pass, so it is compared commit by commit.)"""
    rule = KinaseCascade(tau_m=5.0, tau_p=40.0, tau_d=60.0, learning_rate=1e-3)
    commits = np.asarray(KinaseCycleSynapse(rule, max_cycles=2 * BLOCK).commits(TRAINS))
    ends = 200.0 * np.arange(1, 10)
    cycles = commits[ends.astype(int) - 1]
    continuous = np.asarray(
        spike_weight_changes(rule, SpikeCalcium(), TRAINS.pre, TRAINS.post, ends)
    )
    scale = np.max(np.abs(continuous))
    assert scale > 1e-5
    np.testing.assert_allclose(cycles, continuous, atol=0.15 * scale)
    assert np.max(np.abs(cycles - continuous)) > 1e-3 * scale  # they are different schemes


def test_vmap_over_trains_equals_a_loop_and_long_trains_are_nan():
    synapse = KinaseCycleSynapse(KinaseCascade(learning_rate=1e-3), max_cycles=2 * BLOCK)
    shifts = jnp.array([0.0, 37.0, 120.0])
    batch = jax.vmap(lambda s: eqx.tree_at(lambda t: t.pre, TRAINS, TRAINS.pre + s))(shifts)
    batched = jax.jit(jax.vmap(synapse.efficacy))(batch)
    for i in range(3):
        one = jax.tree_util.tree_map(lambda leaf, i=i: leaf[i], batch)
        np.testing.assert_allclose(batched[i], synapse.efficacy(one), rtol=1e-13)
    too_long = eqx.tree_at(lambda t: t.duration, TRAINS, jnp.asarray(2.5 * BLOCK))
    assert np.isnan(float(synapse.efficacy(too_long)))


def test_gradients_match_finite_differences():
    synapse = KinaseCycleSynapse(
        KinaseCascade(tau_m=5.0, tau_p=40.0, tau_d=60.0, learning_rate=1e-3),
        SpikeCalcium(),
        max_cycles=2 * BLOCK,
    )

    def change(taus):
        rule = eqx.tree_at(lambda r: (r.tau_p, r.tau_d, r.tau_m), synapse.rule, tuple(taus))
        return eqx.tree_at(lambda s: s.rule, synapse, rule).efficacy(TRAINS) - 1.0

    taus = jnp.array([40.0, 60.0, 5.0])
    gradient = jax.grad(lambda x: change(list(x)))(taus)
    for k in range(3):
        step = 1e-4 * float(taus[k])
        up, down = taus.at[k].add(step), taus.at[k].add(-step)
        numeric = (change(list(up)) - change(list(down))) / (2 * step)
        np.testing.assert_allclose(gradient[k], numeric, rtol=1e-5)


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(rule=KinaseCascade(tau_m=0.5)), "tau_m"),
        (dict(calcium=SpikeCalcium(tau_syn=0.2)), "tau_syn"),
        (dict(max_cycles=1500), "multiple of 1000"),
        (dict(mode="synaptic"), "mode"),
        (dict(trial=0.5), "trial"),
    ],
)
def test_bad_settings_are_refused_by_name(settings, message):
    with pytest.raises(ValueError, match=message):
        KinaseCycleSynapse(**{"rule": KinaseCascade(), **settings})
