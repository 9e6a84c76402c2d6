"""Pair and triplet STDP against closed forms (geometric sums, explicit pair and triplet sums), the
in-model ODE against the event-driven reference, gradients, batching and parameter checks."""

import math

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.rules import (
    TRIPLET_STDP_PARAMETER_SETS,
    PairSTDP,
    SpikeDetector,
    SynapseSignals,
    TripletSTDP,
)

TRIPLET_FIELDS = (
    "a2_plus",
    "a3_plus",
    "a2_minus",
    "a3_minus",
    "tau_plus",
    "tau_minus",
    "tau_x",
    "tau_y",
)
PAIR_FIELDS = ("a_plus", "a_minus", "tau_plus", "tau_minus")


def pairing(n, period, delta_t):
    """n pre/post pairs every ``period`` ms with ``t_post - t_pre = delta_t``, all times >= 0."""
    pre = period * np.arange(n) + max(0.0, -delta_t)
    return jnp.asarray(pre), jnp.asarray(pre + delta_t)


def weighted_count(q, n):
    """sum_{m=0}^{n-1} (n - m) q^m in closed form."""
    return (n * (1 - q) - q * (1 - q**n)) / (1 - q) ** 2


@pytest.mark.parametrize("delta_t", [7.0, -12.0])
@pytest.mark.parametrize(("n", "period"), [(1, 1000.0), (60, 1000.0), (60, 50.0), (15, 25.0)])
def test_pair_all_to_all_geometric_sums(n, period, delta_t):
    rule = PairSTDP(a_plus=0.8, a_minus=0.3, tau_plus=16.8, tau_minus=33.7)
    q_plus, q_minus = math.exp(-period / 16.8), math.exp(-period / 33.7)
    lag = abs(delta_t)
    if delta_t > 0:  # post k pairs with pre j <= k (lag (k-j)P + dt); pre j with post k < j
        expected = 0.8 * math.exp(-lag / 16.8) * weighted_count(q_plus, n)
        expected -= 0.3 * math.exp(lag / 33.7) * (weighted_count(q_minus, n) - n)
    else:
        expected = -0.3 * math.exp(-lag / 33.7) * weighted_count(q_minus, n)
        expected += 0.8 * math.exp(lag / 16.8) * (weighted_count(q_plus, n) - n)
    np.testing.assert_allclose(
        rule.weight_change(*pairing(n, period, delta_t)), expected, rtol=1e-12
    )


@pytest.mark.parametrize("delta_t", [7.0, -12.0])
def test_pair_nearest_spike(delta_t):
    rule = PairSTDP(a_plus=0.8, a_minus=0.3, tau_plus=16.8, tau_minus=33.7, interaction="nearest")
    n, period, lag = 20, 40.0, abs(delta_t)
    if delta_t > 0:  # each post sees its own pre; each later pre sees the previous post
        expected = n * 0.8 * math.exp(-lag / 16.8) - (n - 1) * 0.3 * math.exp(
            -(period - lag) / 33.7
        )
    else:
        expected = -n * 0.3 * math.exp(-lag / 33.7) + (n - 1) * 0.8 * math.exp(
            -(period - lag) / 16.8
        )
    np.testing.assert_allclose(
        rule.weight_change(*pairing(n, period, delta_t)), expected, rtol=1e-12
    )


def test_pair_published_sets():
    song = PairSTDP.song_miller_abbott(g_max=2.0)
    np.testing.assert_allclose(song.a_plus, 0.01)
    np.testing.assert_allclose(song.a_minus / song.a_plus, 1.05)
    one_pair = song.weight_change(jnp.array([0.0]), jnp.array([10.0]))
    np.testing.assert_allclose(one_pair, 0.01 * math.exp(-0.5), rtol=1e-12)
    bi_poo = PairSTDP.bi_poo()
    assert (bi_poo.tau_plus, bi_poo.tau_minus) == (16.8, 33.7)


def test_bi_poo_amplitudes_are_those_of_the_whole_protocol():
    """60 pairs at 1 Hz give the quoted change (+77.7 % at 0+), not 60 times it (it gave
    +2996 % at +8 ms when the amplitudes were applied to every pair)."""
    rule = PairSTDP.bi_poo()
    pre = 1000.0 * jnp.arange(60)
    for delta_t, expected in (
        (8.0, 0.777 * math.exp(-8 / 16.8)),
        (-8.0, -0.273 * math.exp(-8 / 33.7)),
    ):
        np.testing.assert_allclose(rule.weight_change(pre, pre + delta_t), expected, rtol=1e-9)
    with pytest.raises(ValueError, match="n_pairings must be an integer >= 1"):
        PairSTDP.bi_poo(n_pairings=0)


def test_simultaneous_spikes_count_as_causal():
    rule = PairSTDP(a_plus=0.8, a_minus=0.3, tau_plus=16.8, tau_minus=33.7)
    np.testing.assert_allclose(rule.weight_change(jnp.array([5.0]), jnp.array([5.0])), 0.8)


@pytest.mark.parametrize("interaction", ["all_to_all", "nearest"])
def test_triplets(interaction):
    p = dict(TRIPLET_STDP_PARAMETER_SETS["hippocampal_all_to_all_full"], interaction=interaction)
    rule = TripletSTDP(**p)
    a2p, a3p, a2m, a3m = p["a2_plus"], p["a3_plus"], p["a2_minus"], p["a3_minus"]
    tp, tm, tx, ty = p["tau_plus"], p["tau_minus"], p["tau_x"], p["tau_y"]
    # pre-post-post (0, 10, 25): the second post adds the triplet term with o2 = e^{-15/tau_y}.
    expected = a2p * math.exp(-10 / tp) + math.exp(-25 / tp) * (a2p + a3p * math.exp(-15 / ty))
    change = rule.weight_change(jnp.array([0.0]), jnp.array([10.0, 25.0]))
    np.testing.assert_allclose(change, expected, rtol=1e-12)
    # post-pre-pre (0, 8, 20): the second pre adds the triplet term with r2 = e^{-12/tau_x}.
    expected = -a2m * math.exp(-8 / tm) - math.exp(-20 / tm) * (a2m + a3m * math.exp(-12 / tx))
    change = rule.weight_change(jnp.array([8.0, 20.0]), jnp.array([0.0]))
    np.testing.assert_allclose(change, expected, rtol=1e-12)
    # pre-pre-post (0, 6, 15): all-to-all pairs the post with both pres, nearest with the last.
    expected = a2p * math.exp(-9 / tp) + (
        a2p * math.exp(-15 / tp) if interaction == "all_to_all" else 0.0
    )
    change = rule.weight_change(jnp.array([0.0, 6.0]), jnp.array([15.0]))
    np.testing.assert_allclose(change, expected, rtol=1e-12)


def _periodic_triplet_sum(p, n, period, delta_t):
    """All-to-all triplet rule for n pairs (delta_t > 0), trace by trace as geometric sums."""
    q = {k: math.exp(-period / p[k]) for k in ("tau_plus", "tau_minus", "tau_x", "tau_y")}
    change = 0.0
    for k in range(n):
        # post k: pre traces from pres 0..k, post triplet trace from posts 0..k-1
        r1 = (
            math.exp(-delta_t / p["tau_plus"])
            * (1 - q["tau_plus"] ** (k + 1))
            / (1 - q["tau_plus"])
        )
        o2 = q["tau_y"] * (1 - q["tau_y"] ** k) / (1 - q["tau_y"])
        change += r1 * (p["a2_plus"] + p["a3_plus"] * o2)
        # pre k: post traces from posts 0..k-1, pre triplet trace from pres 0..k-1
        o1 = math.exp(delta_t / p["tau_minus"]) * q["tau_minus"] * (1 - q["tau_minus"] ** k)
        o1 /= 1 - q["tau_minus"]
        r2 = q["tau_x"] * (1 - q["tau_x"] ** k) / (1 - q["tau_x"])
        change -= o1 * (p["a2_minus"] + p["a3_minus"] * r2)
    return change


@pytest.mark.parametrize("frequency", [1.0, 10.0, 20.0, 40.0, 50.0])
def test_triplet_frequency_dependence(frequency):
    name = "visual_cortex_all_to_all_full"
    rule = TripletSTDP.from_published(name)
    period, n = 1000.0 / frequency, 60
    causal = rule.weight_change(*pairing(n, period, 10.0))
    expected = _periodic_triplet_sum(TRIPLET_STDP_PARAMETER_SETS[name], n, period, 10.0)
    np.testing.assert_allclose(causal, expected, rtol=1e-10)
    # The signature of the triplet rule: at high frequency anti-causal pairing potentiates too
    # (-10 ms at 50 Hz is +10 ms for the spikes of neighbouring pairs).
    anticausal = rule.weight_change(*pairing(n, period, -10.0))
    if frequency >= 40.0:
        assert anticausal > 0
    if frequency <= 10.0:
        assert anticausal < 0


def test_padding_and_vmap_over_spike_counts():
    rule = TripletSTDP.from_published("hippocampal_nearest_full")
    trains = [([0.0, 30.0], [10.0, 12.0, 50.0]), ([5.0], [0.0]), ([0.0, 20.0, 40.0, 41.0], [1.0])]
    pad = 4

    def padded(times):
        return jnp.concatenate([jnp.asarray(times), jnp.full(pad - len(times), jnp.inf)])

    pres = jnp.stack([padded(pre) for pre, _ in trains])
    posts = jnp.stack([padded(post) for _, post in trains])
    batched = jax.vmap(rule.weight_change)(pres, posts)
    looped = [rule.weight_change(jnp.asarray(pre), jnp.asarray(post)) for pre, post in trains]
    np.testing.assert_allclose(batched, looped, rtol=1e-14)
    assert rule.weight_change(jnp.full(3, jnp.inf), jnp.full(2, jnp.inf)) == 0.0
    grads = jax.grad(lambda r: r.weight_change(pres[1], posts[1]))(rule)
    assert all(jnp.isfinite(leaf) for leaf in jax.tree.leaves(grads))


def test_vmap_over_parameter_sets_equals_loop():
    names = [n for n, p in TRIPLET_STDP_PARAMETER_SETS.items() if p["interaction"] == "all_to_all"]
    rules = [TripletSTDP.from_published(name) for name in names]
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *rules)
    pre, post = pairing(30, 50.0, 6.0)
    batched = jax.vmap(lambda r: r.weight_change(pre, post))(stacked)
    looped = [rule.weight_change(pre, post) for rule in rules]
    np.testing.assert_allclose(batched, looped, rtol=1e-14)


def test_vmap_over_pair_and_nearest_parameter_sets_equals_loop():
    pre, post = pairing(30, 50.0, -6.0)
    pair = [
        PairSTDP.song_miller_abbott(),
        PairSTDP.bi_poo(),
        PairSTDP(a_plus=0.8, a_minus=0.3, tau_plus=10.0, tau_minus=25.0),
    ]
    nearest = [
        TripletSTDP.from_published(name)
        for name, p in TRIPLET_STDP_PARAMETER_SETS.items()
        if p["interaction"] == "nearest"
    ]
    for rules in (pair, nearest):
        stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *rules)
        batched = jax.vmap(lambda r: r.weight_change(pre, post))(stacked)
        looped = [rule.weight_change(pre, post) for rule in rules]
        np.testing.assert_allclose(batched, looped, rtol=1e-14)
        assert len(set(np.asarray(looped).round(12))) == len(rules)


def _finite_difference(f, module, field, relative_step=1e-6):
    value = getattr(module, field)
    step = relative_step * abs(float(value))
    return (
        f(eqx.tree_at(lambda m: getattr(m, field), module, value + step))
        - f(eqx.tree_at(lambda m: getattr(m, field), module, value - step))
    ) / (2 * step)


@pytest.mark.parametrize("interaction", ["all_to_all", "nearest"])
def test_gradients_match_finite_differences(interaction):
    pre = jnp.array([0.0, 21.0, 40.0, 43.0, 90.0])
    post = jnp.array([8.0, 14.0, 37.0, 52.0, 60.0, 95.0])
    triplet = TripletSTDP(
        **dict(TRIPLET_STDP_PARAMETER_SETS["hippocampal_all_to_all_full"], interaction=interaction)
    )
    pair = PairSTDP(a_plus=0.8, a_minus=0.3, tau_plus=16.8, tau_minus=33.7, interaction=interaction)
    for rule, fields in ((triplet, TRIPLET_FIELDS), (pair, PAIR_FIELDS)):

        def change(r):
            return r.weight_change(pre, post)

        grads = jax.grad(change)(rule)
        for field in fields:
            np.testing.assert_allclose(
                getattr(grads, field),
                _finite_difference(change, rule, field),
                rtol=1e-6,
                err_msg=field,
            )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(tau_plus=-16.8), r"TripletSTDP\.tau_plus must be a number in \(0, inf\) ms"),
        (dict(tau_y=float("nan")), r"TripletSTDP\.tau_y must be a number"),
        (dict(a3_minus=-1e-3), r"TripletSTDP\.a3_minus must be a number in \[0, inf\)"),
        (dict(interaction="symmetric"), r"TripletSTDP\.interaction must be one of"),
    ],
)
def test_invalid_triplet_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TripletSTDP(**{**TRIPLET_STDP_PARAMETER_SETS["hippocampal_all_to_all_full"], **kwargs})


def test_invalid_pair_and_detector_parameters_raise():
    with pytest.raises(ValueError, match=r"PairSTDP\.a_minus must be a number"):
        PairSTDP(a_plus=0.8, a_minus=float("nan"), tau_plus=16.8, tau_minus=33.7)
    with pytest.raises(ValueError, match=r"PairSTDP\.tau_minus must be a number in \(0, inf\) ms"):
        PairSTDP(a_plus=0.8, a_minus=0.3, tau_plus=16.8, tau_minus=-1.0)
    with pytest.raises(ValueError, match=r"SpikeDetector\.spike_duration must be a number"):
        SpikeDetector(spike_duration=0.0)


PULSE = 0.05  # ms: narrow pulses, so the in-model error O(PULSE / tau) is ~0.3 % or less
DETECTOR = SpikeDetector(
    glutamate_pulse_duration=PULSE, spike_threshold=0.0, spike_slope=1.0, spike_duration=PULSE
)


@eqx.filter_jit
@eqx.filter_vmap(in_axes=(None, 0, 0))
def in_model_change(rule, pre, post, t_end=200.0):
    """Drive the rule's vector field with glutamate pulses and 110 mV somatic spikes.

    Spike times are ``+inf``-padded; padding spikes are moved past ``t_end``.
    """
    pre = jnp.where(jnp.isfinite(pre), pre, 2 * t_end)
    post = jnp.where(jnp.isfinite(post), post, 2 * t_end)
    edges = jnp.concatenate([pre, pre + PULSE, post, post + PULSE])

    def vector_field(t, state, args):
        glutamate = jnp.any((t >= pre) & (t < pre + PULSE)).astype(t.dtype)
        soma = jnp.where(jnp.any((t >= post) & (t < post + PULSE)), 40.0, -70.0)
        return rule.vector_field(t, state, SynapseSignals(jnp.zeros(()), soma, glutamate, soma))

    controller = dfx.ClipStepSizeController(dfx.PIDController(rtol=1e-9, atol=1e-12), jump_ts=edges)
    solution = dfx.diffeqsolve(
        dfx.ODETerm(vector_field),
        dfx.Tsit5(),
        -1.0,
        t_end,
        0.01,
        rule.initial_state(),
        stepsize_controller=controller,
        max_steps=20_000,
    )
    return rule.efficacy(jax.tree.map(lambda y: y[-1], solution.ys)) - 1.0


PROTOCOLS = [
    ([0.0], [10.0, 20.0]),  # pre-post-post
    ([10.0, 20.0], [0.0]),  # post-pre-pre
    ([0.0, 30.0, 60.0], [10.0, 15.0, 45.0]),
    ([0.0, 5.0, 40.0], [20.0, 25.0, 26.0]),
    ([0.0], [5.0]),
]


def _padded(trains, size=3):
    return jnp.stack([jnp.array(t + [jnp.inf] * (size - len(t))) for t in trains])


PAIR = PairSTDP(a_plus=0.8, a_minus=0.3, tau_plus=16.8, tau_minus=33.7, detector=DETECTOR)
PAIR_NEAREST = PairSTDP(0.8, 0.3, 16.8, 33.7, detector=DETECTOR, interaction="nearest")
IN_MODEL_RULES = {
    "all_to_all": [
        TripletSTDP.from_published("hippocampal_all_to_all_full", detector=DETECTOR),
        PAIR.as_triplet(),
    ],
    "nearest": [
        TripletSTDP.from_published("visual_cortex_nearest_full", detector=DETECTOR),
        TripletSTDP.from_published("hippocampal_nearest_full", detector=DETECTOR),
        PAIR_NEAREST.as_triplet(),
    ],
}


@pytest.mark.parametrize("interaction", ["all_to_all", "nearest"])
def test_in_model_matches_event_driven(interaction):
    """Triplet rows and the pair rule (as its triplet equivalent), every protocol, one batch."""
    rules = jax.tree.map(lambda *xs: jnp.stack(xs), *IN_MODEL_RULES[interaction])
    pre, post = _padded([p for p, _ in PROTOCOLS]), _padded([q for _, q in PROTOCOLS])
    event_driven = jax.vmap(lambda r: jax.vmap(r.weight_change)(pre, post))(rules)
    in_model = jax.vmap(in_model_change, in_axes=(0, None, None))(rules, pre, post)
    # Finite pulses: the traces decay while a spike is being counted, an error of order
    # (pulse / tau) on each increment, i.e. relative to the size of one spike's effect.
    scale = jnp.max(jnp.abs(event_driven), axis=1, keepdims=True)
    assert jnp.all(jnp.abs(in_model - event_driven) <= 1e-2 * (jnp.abs(event_driven) + scale))


def test_pair_rule_is_its_triplet_equivalent():
    for pair in (PAIR, PAIR_NEAREST):
        triplet = pair.as_triplet()
        pre, post = jnp.array([0.0, 30.0, 31.0]), jnp.array([10.0, 12.0, 25.0])
        assert pair.weight_change(pre, post) == triplet.weight_change(pre, post)
        state = jax.tree.map(jnp.asarray, pair.initial_state())
        state = eqx.tree_at(lambda s: (s.r1, s.r2, s.o1, s.o2), state, (0.3, 0.2, 0.7, 0.4))
        signals = SynapseSignals(*(jnp.asarray(x) for x in (0.1, 20.0, 1.0, 20.0)))
        derivative = pair.vector_field(0.0, state, signals)
        expected = triplet.vector_field(0.0, state, signals)
        assert jax.tree.all(jax.tree.map(lambda a, b: a == b, derivative, expected))
        assert pair.efficacy(state) == triplet.efficacy(state)


def test_in_model_state_and_efficacy():
    rule = TripletSTDP.from_published("visual_cortex_all_to_all_minimal")
    state = rule.initial_state()
    assert rule.efficacy(state) == 1.0
    rest = SynapseSignals(
        jnp.asarray(0.05), jnp.asarray(-70.0), jnp.asarray(0.0), jnp.asarray(-70.0)
    )
    derivative = rule.vector_field(0.0, state, rest)
    assert all(abs(leaf) < 1e-12 for leaf in jax.tree.leaves(derivative))


DETECTOR_FIELDS = ("glutamate_pulse_duration", "spike_threshold", "spike_slope", "spike_duration")


def test_in_model_gradients_match_finite_differences():
    """Gradients through the in-model ODE, detector parameters included, with a smooth AP shape."""
    pre, post = jnp.array([0.0, 12.0]), jnp.array([5.0, 9.0])
    detector = SpikeDetector(glutamate_pulse_duration=1.0, spike_threshold=-10.0, spike_slope=4.0)
    rule = TripletSTDP.from_published("hippocampal_all_to_all_full", detector=detector)

    @jax.jit
    def change(rule):
        width = rule.detector.glutamate_pulse_duration
        edges = jnp.concatenate([pre, pre + width])

        def vector_field(t, state, args):
            glutamate = jnp.any((t >= pre) & (t < pre + width)).astype(t.dtype)
            soma = -70.0 + 110.0 * jnp.sum(jnp.exp(-(((t - post) / 0.4) ** 2)))
            return rule.vector_field(t, state, SynapseSignals(jnp.zeros(()), soma, glutamate, soma))

        controller = dfx.PIDController(rtol=1e-12, atol=1e-15)
        solution = dfx.diffeqsolve(
            dfx.ODETerm(vector_field),
            dfx.Tsit5(),
            -1.0,
            60.0,
            0.01,
            rule.initial_state(),
            stepsize_controller=dfx.ClipStepSizeController(controller, jump_ts=edges),
            max_steps=20_000,
            adjoint=dfx.ForwardMode(),
        )
        return rule.efficacy(jax.tree.map(lambda y: y[-1], solution.ys))

    grads = jax.jacfwd(change)(rule)
    for field in TRIPLET_FIELDS:
        fd = _finite_difference(change, rule, field, relative_step=1e-5)
        np.testing.assert_allclose(getattr(grads, field), fd, rtol=1e-4, err_msg=field)
    for field in DETECTOR_FIELDS:
        fd = _finite_difference(
            lambda d: change(eqx.tree_at(lambda r: r.detector, rule, d)), rule.detector, field, 1e-5
        )
        np.testing.assert_allclose(getattr(grads.detector, field), fd, rtol=1e-4, err_msg=field)
