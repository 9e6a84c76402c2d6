"""The kinase cascade: closed forms of three linear filters in series, the temporal-derivative
identity, and the spike-driven (average of products / product of averages) drive.

Step of height c from rest at t = 0 through tau_1, tau_2, tau_3 (distinct), by partial fractions of
1 / (s (1 + s tau_1)(1 + s tau_2)(1 + s tau_3)):
  CaM = c (1 - exp(-t/tau_1))
  CaP = c (1 - [tau_1 exp(-t/tau_1) - tau_2 exp(-t/tau_2)] / (tau_1 - tau_2))
  CaD = c (1 - sum_i A_i exp(-t/tau_i)),  A_i = tau_i^2 / prod_{j != i} (tau_i - tau_j)
A spike (a 1 ms pulse of height g) into tau dCaSyn/dt = g pulse - CaSyn gives
  CaSyn = g (1 - exp(-s/tau)) during the pulse (s since its onset) and
  CaSyn = g (1 - exp(-1/tau)) exp(-(s - 1)/tau) after it.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import plastic  # noqa: F401  (float64)
from plastic.protocols import spike_pairs
from plastic.rules.kinase_cascade import (
    KinaseCascade,
    SpikeCalcium,
    spike_driven_states,
    spike_weight_changes,
)
from plastic.rules.spike_driven import KinaseCascadeSynapse
from plastic.rules.standalone import CalciumPlateau, InterpolatedCalcium, solve_rule
from plastic.rules.xcal import Xcal

REST = 0.05


class Oscillation(eqx.Module):
    """Smooth calcium: rest + a (1 - cos(2 pi t / period)), uM."""

    amplitude: Float[Array, ""]
    period: Float[Array, ""]

    def __call__(self, t):
        return REST + self.amplitude * (1.0 - jnp.cos(2.0 * jnp.pi * t / self.period))


@jax.jit
def _solve_plateau(rule, plateau, save_ts):
    return solve_rule(
        rule,
        plateau,
        0.0,
        save_ts[-1],
        jump_ts=plateau.edges,
        save_ts=save_ts,
        rtol=1e-10,
        atol=1e-12,
    )


@pytest.mark.parametrize("taus", [(5.0, 30.0, 50.0), (5.0, 39.0, 41.0)])
def test_step_response_matches_closed_form(taus):
    t1, t2, t3 = taus
    c = 0.7
    rule = KinaseCascade(tau_m=t1, tau_p=t2, tau_d=t3, calcium_rest=REST)
    ts = np.array([1.0, 4.0, 10.0, 25.0, 60.0, 120.0, 250.0])
    states = _solve_plateau(rule, CalciumPlateau(c, 1e4, rest=REST), jnp.asarray(ts)).states
    cam = c * (1 - np.exp(-ts / t1))
    cap = c * (1 - (t1 * np.exp(-ts / t1) - t2 * np.exp(-ts / t2)) / (t1 - t2))
    weights = [
        t1**2 / ((t1 - t2) * (t1 - t3)),
        t2**2 / ((t2 - t1) * (t2 - t3)),
        t3**2 / ((t3 - t1) * (t3 - t2)),
    ]
    cad = c * (1 - sum(a * np.exp(-ts / t) for a, t in zip(weights, taus, strict=True)))
    np.testing.assert_allclose(states.cam, cam, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(states.cap, cap, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(states.cad, cad, rtol=1e-7, atol=1e-10)


def test_constant_drive_reaches_steady_state_with_zero_weight_change():
    rule = KinaseCascade()
    ts = jnp.array([1.0, 4.0, 10.0, 25.0, 60.0, 120.0, 3000.0])  # the shape of the test above
    final = _solve_plateau(rule, CalciumPlateau(0.7, 1e4, rest=REST), ts).final_state
    for stage in (final.cam, final.cap, final.cad):
        assert float(stage) == pytest.approx(0.7, rel=1e-9)
    assert abs(float(rule.weight_change(final))) < 1e-10


def test_cap_minus_cad_is_tau_d_times_dcad_dt():
    rule = KinaseCascade(tau_m=5.0, tau_p=30.0, tau_d=50.0)
    h = 1e-3
    centres = np.array([20.0, 70.0, 130.0, 210.0])
    ts = np.sort(np.concatenate([centres - h, centres, centres + h]))
    drive = Oscillation(jnp.asarray(0.5), jnp.asarray(160.0))
    states = solve_rule(rule, drive, 0.0, 220.0, save_ts=jnp.asarray(ts), rtol=1e-12, atol=1e-14)
    cad = np.asarray(states.states.cad).reshape(-1, 3)
    cap = np.asarray(states.states.cap).reshape(-1, 3)[:, 1]
    derivative = (cad[:, 2] - cad[:, 0]) / (2 * h)
    np.testing.assert_allclose(cap - cad[:, 1], 50.0 * derivative, rtol=1e-5, atol=1e-9)
    # The oscillation rises and falls, so the identity is checked on both signs.
    assert (derivative > 0).any() and (derivative < 0).any()


def test_rising_calcium_gives_ltp_and_falling_ltd():
    rule = KinaseCascade()
    ts = jnp.array([0.0, 100.0, 300.0])
    up = InterpolatedCalcium(ts, REST + jnp.array([0.2, 0.2, 1.0]))
    down = InterpolatedCalcium(ts, REST + jnp.array([1.0, 1.0, 0.2]))
    # Start each from its own steady state at the initial level, so only the change drives dW.
    for trace, level, sign in ((up, 0.2, 1.0), (down, 1.0, -1.0)):
        start = jax.tree.map(lambda x: x + level, rule.initial_state())  # noqa: B023
        solution = solve_rule(rule, trace, 0.0, 300.0, initial_state=start)
        assert sign * (float(solution.efficacy) - 1.0) > 1e-3


def _regular(rates_hz, durations_ms, pad_to):
    times, start = [], 0.0
    for rate, duration in zip(rates_hz, durations_ms, strict=True):
        times.extend(np.arange(start, start + duration - 1e-9, 1000.0 / rate))
        start += duration
    return jnp.asarray(np.concatenate([times, np.full(pad_to - len(times), np.inf)]))


_SAVE = jnp.array([0.5, 1.0, 10.0, 40.0, 200.0])


@jax.jit
def _synaptic(rule, calcium, pre, post):
    return spike_driven_states(rule, calcium, pre, post, _SAVE)


@jax.jit
def _neuronal_commit(rule, calcium, pre, post):
    return spike_weight_changes(rule, calcium, pre, post, _SAVE[-1:], mode="product_of_averages")[0]


@pytest.mark.parametrize("rates, sign", [((25, 50), 1.0), ((50, 25), -1.0)])
def test_increasing_coactivity_gives_ltp_and_decreasing_ltd(rates, sign):
    # A 200 ms trial, 150 ms "minus" + 50 ms "plus" phase, both neurons at the same rates; the
    # trains are padded with +inf to the same length so that both compile once.
    rule, calcium = KinaseCascade(), SpikeCalcium()
    pre = _regular(rates, (150.0, 50.0), pad_to=12)
    post = pre + 2.0
    synaptic = _synaptic(rule, calcium, pre, post)
    assert sign * float(rule.weight_change(jax.tree.map(lambda x: x[-1], synaptic.cascade))) > 0
    assert sign * float(_neuronal_commit(rule, calcium, pre, post)) > 0


def test_spike_traces_match_closed_form_and_ignore_padding():
    rule, calcium = KinaseCascade(), SpikeCalcium(spike_gain=8.0, tau_syn=30.0)
    pre = jnp.concatenate([jnp.array([0.0]), jnp.full(11, jnp.inf)])
    post = jnp.full(12, jnp.inf)  # silent: the synaptic product, hence the cascade, stays at 0
    states = _synaptic(rule, calcium, pre, post)
    s = np.asarray(_SAVE)
    during = 8.0 * (1 - np.exp(-np.minimum(s, 1.0) / 30.0))
    expected = np.where(s <= 1.0, during, during * np.exp(-(s - 1.0) / 30.0))
    np.testing.assert_allclose(states.casyn_pre, expected, rtol=1e-7)
    np.testing.assert_allclose(states.casyn_post, 0.0, atol=1e-15)
    np.testing.assert_allclose(states.cascade.cad, 0.0, atol=1e-15)


def _finite_difference_check(f, params, rtol=1e-4):
    grads = jax.grad(f)(params)
    for name, value in params.items():
        h = 1e-5 * max(abs(float(value)), 1e-3)
        plus = f({**params, name: value + h})
        minus = f({**params, name: value - h})
        fd = float(plus - minus) / (2 * h)
        assert float(grads[name]) == pytest.approx(fd, rel=rtol, abs=1e-9), name


def test_gradient_of_the_weight_change_matches_finite_differences():
    drive = Oscillation(jnp.asarray(0.4), jnp.asarray(150.0))

    @jax.jit
    def change(p):
        rule = KinaseCascade(
            tau_m=p["tau_m"],
            tau_p=p["tau_p"],
            tau_d=p["tau_d"],
            calcium_rest=p["calcium_rest"],
            learning_rate=p["learning_rate"],
        )
        final = solve_rule(rule, drive, 0.0, 170.0, rtol=1e-11, atol=1e-13).final_state
        # At t = 170 ms CaP / CaD is about 0.59: XCAL with d_rev = 0.7 is on its falling piece
        # (d_rev matters there), the plain dW CaP - CaD carries tau_d.
        xcal = Xcal(d_rev=p["d_rev"], d_thr=p["d_thr"])
        return rule.efficacy(final) + eqx.tree_at(lambda r: r.xcal, rule, xcal).efficacy(final)

    params = dict(
        tau_m=5.0,
        tau_p=40.0,
        tau_d=45.0,
        calcium_rest=0.05,
        learning_rate=0.8,
        d_rev=0.7,
        d_thr=1e-4,
    )
    _finite_difference_check(change, params)


def test_spike_driven_gradients_match_finite_differences():
    """Both spike drives, with respect to the cascade's and the spike calcium's parameters (the
    spike drive rests at 0, so ``calcium_rest`` plays no part there)."""
    pre = jnp.array([0.0, 20.0, 100.0, jnp.inf])
    post = jnp.array([5.0, 30.0, 95.0, jnp.inf])
    commits = jnp.array([60.0, 160.0])

    @jax.jit
    def changes(p):
        rule = KinaseCascade(
            tau_m=p["tau_m"], tau_p=p["tau_p"], tau_d=p["tau_d"], learning_rate=p["learning_rate"]
        )
        calcium = SpikeCalcium(
            spike_gain=p["spike_gain"], tau_syn=p["tau_syn"], synapse_gain=p["synapse_gain"]
        )
        return jnp.stack(
            [
                jnp.sum(spike_weight_changes(rule, calcium, pre, post, commits, mode=mode))
                for mode in ("average_of_products", "product_of_averages")
            ]
        )

    params = dict(
        tau_m=5.0,
        tau_p=40.0,
        tau_d=45.0,
        learning_rate=0.8,
        spike_gain=8.0,
        tau_syn=30.0,
        synapse_gain=8.0,
    )
    jacobian = jax.jit(jax.jacrev(changes))(params)
    assert np.all(np.abs(changes(params)) > 1e-3)  # both drives change the weight
    for name, value in params.items():
        h = 1e-5 * value
        fd = (changes({**params, name: value + h}) - changes({**params, name: value - h})) / (2 * h)
        np.testing.assert_allclose(jacobian[name], fd, rtol=1e-4, atol=1e-9, err_msg=name)


def test_vmap_over_parameter_sets_matches_loop():
    drive = Oscillation(jnp.asarray(0.4), jnp.asarray(150.0))
    rules = [
        KinaseCascade(tau_m=m, tau_p=p, tau_d=d)
        for m, p, d in [(5.0, 40.0, 40.0), (2.0, 30.0, 60.0), (8.0, 50.0, 45.0)]
    ]
    stacked = jax.tree.map(lambda *x: jnp.stack(x), *rules)

    def efficacy(rule):
        return solve_rule(rule, drive, 0.0, 120.0).efficacy

    batched = jax.jit(jax.vmap(efficacy))(stacked)
    single = jax.jit(efficacy)
    for rule, value in zip(rules, batched, strict=True):
        assert float(value) == pytest.approx(float(single(rule)), rel=1e-9)
    assert len(set(np.round(np.asarray(batched), 9))) == 3


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (KinaseCascade, dict(tau_m=-5.0), r"KinaseCascade\.tau_m.*\(0, inf. ms"),
        (KinaseCascade, dict(tau_d=0.0), r"KinaseCascade\.tau_d"),
        (KinaseCascade, dict(tau_p=float("nan")), r"KinaseCascade\.tau_p"),
        (KinaseCascade, dict(calcium_rest=-0.1), r"KinaseCascade\.calcium_rest"),
        (KinaseCascade, dict(learning_rate=float("nan")), r"KinaseCascade\.learning_rate"),
        (SpikeCalcium, dict(tau_syn=-30.0), r"SpikeCalcium\.tau_syn"),
        (SpikeCalcium, dict(spike_gain=float("nan")), r"SpikeCalcium\.spike_gain"),
    ],
)
def test_invalid_parameters(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_unknown_mode_is_rejected():
    spikes = jnp.array([0.0])
    with pytest.raises(ValueError, match="mode"):
        spike_driven_states(
            KinaseCascade(), SpikeCalcium(), spikes, spikes, jnp.array([1.0]), mode="sum"
        )


@pytest.mark.parametrize(
    "mode, xcal", [("average_of_products", Xcal()), ("product_of_averages", None)]
)
def test_synapse_commits_at_every_trial_end_of_any_spike_protocol(mode, xcal):
    rule = KinaseCascade(xcal=xcal)
    synapse = KinaseCascadeSynapse(rule, SpikeCalcium(), mode=mode, trial=200.0, max_trials=16)
    delta_t = jnp.array([-20.0, -5.0, 5.0, 20.0])

    def trains(d):
        return spike_pairs(d, n_pairings=5, period=400.0, first=50.0, tail=0.0)

    batched = jax.vmap(lambda d: synapse.efficacy(trains(d)))(delta_t)

    @jax.jit
    def committed(pre, post):
        # 5 pairings x 400 ms + 50 ms = 2050 ms: ten whole trials, the rest uncommitted.
        ends = 200.0 * jnp.arange(1, 11)
        return spike_weight_changes(rule, SpikeCalcium(), pre, post, ends, mode=mode).sum()

    for d, efficacy in zip(delta_t, batched):
        one = trains(d)
        np.testing.assert_allclose(efficacy, 1.0 + committed(one.pre, one.post), rtol=1e-9)
    assert np.ptp(np.asarray(batched)) > 0.0


def test_synapse_refuses_a_bad_trial_or_mode():
    with pytest.raises(ValueError, match="trial"):
        KinaseCascadeSynapse(KinaseCascade(), trial=0.0)
    with pytest.raises(ValueError, match="mode"):
        KinaseCascadeSynapse(KinaseCascade(), mode="sum")
