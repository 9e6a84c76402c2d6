"""Rate trains: regular out-of-phase times placed exactly, Poisson and the emer/axon generator
against their distributions (the latter against a transcription of its per-millisecond rule),
repeats, padding, batching, and trains that outgrow their capacity."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.protocols import PATTERNS, rate_trains, spike_capacity


def _trains(pattern, key=0, **kwargs):
    settings = dict(
        pre_rate=50.0,
        post_rate=20.0,
        duration=200.0,
        n_repeats=2,
        repeat_period=1000.0,
        max_repeats=2,
        max_pre=30,
        max_post=30,
    )
    settings.update(kwargs)
    return rate_trains(jax.random.PRNGKey(key), pattern=PATTERNS.index(pattern), **settings)


def _finite(times):
    times = np.asarray(times)
    return times[np.isfinite(times)]


def test_out_of_phase_trains_are_half_an_interval_apart_in_every_repeat():
    trains, fits = _trains("out_of_phase", post_delay=5.0, tail=3000.0)
    assert bool(fits)
    one_pre = (np.arange(9) + 1.5) * 20.0  # 30, 50, ..., 190 ms
    one_post = (np.arange(2) + 2.0) * 50.0 + 5.0  # 105, 155 ms
    np.testing.assert_allclose(_finite(trains.pre), np.concatenate([one_pre, 1000.0 + one_pre]))
    np.testing.assert_allclose(_finite(trains.post), np.concatenate([one_post, 1000.0 + one_post]))
    assert float(trains.duration) == 2 * 1000.0 + 3000.0
    # Padding at the end, sorted.
    assert np.all(np.isinf(np.asarray(trains.pre)[18:]))


def test_repeats_beyond_the_count_are_padding():
    trains, _ = _trains("out_of_phase", n_repeats=1, max_repeats=3)
    assert _finite(trains.pre).max() < 200.0
    assert trains.pre.shape == (3 * 30,)
    assert float(trains.duration) == 1000.0


def _axon_generator(rate, duration, rng):
    """The Go code's rule, transcribed: each 1 ms step multiplies a uniform number into a
    product and spikes (resetting it) once the product is at most exp(-1000 / rate)."""
    threshold, product, spikes = np.exp(-1000.0 / rate), 1.0, []
    for msec in range(int(duration)):
        product *= rng.random()
        if product <= threshold:
            spikes.append(float(msec))
            product = 1.0
    return spikes


def test_axon_poisson_has_the_interval_distribution_of_the_go_generator():
    rate, duration, n = 100.0, 2000.0, 40
    rng = np.random.default_rng(1)
    go = np.concatenate([np.diff(_axon_generator(rate, duration, rng)) for _ in range(n)])
    trains, fits = _trains(
        "axon_poisson",
        pre_rate=rate,
        duration=duration,
        n_repeats=n,
        repeat_period=duration,
        max_repeats=n,
        max_pre=spike_capacity(rate, duration),
        max_post=spike_capacity(20.0, duration),
    )
    assert bool(fits)
    pre = np.asarray(trains.pre).reshape(n, -1)
    ours = np.concatenate([np.diff(_finite(row)) for row in pre])
    # Intervals of 1 + Poisson(10) ms: mean 11, variance 10 (nearly regular), in both.
    for intervals in (go, ours):
        assert abs(intervals.mean() - 11.0) < 0.2
        assert abs(intervals.var() - 10.0) < 1.5
    assert np.all(ours == np.round(ours))


def test_poisson_trains_have_poisson_counts_and_intervals():
    rate, duration, n = 20.0, 1000.0, 300
    trains, fits = _trains(
        "poisson",
        post_rate=rate,
        duration=duration,
        n_repeats=n,
        repeat_period=duration,
        max_repeats=n,
        max_pre=spike_capacity(50.0, duration),
        max_post=spike_capacity(rate, duration),
    )
    assert bool(fits)
    post = np.asarray(trains.post)
    counts = np.histogram(_finite(post), bins=np.arange(n + 1) * duration)[0]
    assert abs(counts.mean() - 20.0) < 1.0
    assert abs(counts.var() / counts.mean() - 1.0) < 0.25
    intervals = np.diff(_finite(post))
    intervals = intervals[intervals < duration / 2]  # within a repeat, mostly
    assert abs(intervals.std() / intervals.mean() - 1.0) < 0.1


def test_the_same_key_gives_the_same_trains_and_vmap_equals_a_loop():
    keys = jnp.arange(3)
    rates = jnp.array([10.0, 40.0, 90.0])

    def draw(seed, rate):
        settings = dict(duration=300.0, repeat_period=500.0, max_pre=60, max_post=60)
        return _trains("poisson", key=seed, pre_rate=rate, post_rate=rate, **settings)[0]

    batched = jax.vmap(draw)(keys, rates)
    for i in range(3):
        one = draw(int(keys[i]), float(rates[i]))
        np.testing.assert_array_equal(batched.pre[i], one.pre)
        np.testing.assert_array_equal(batched.post[i], one.post)
    np.testing.assert_array_equal(draw(0, 40.0).pre, draw(0, 40.0).pre)
    assert not np.array_equal(draw(0, 40.0).pre, draw(1, 40.0).pre)


@pytest.mark.parametrize("pattern", ["poisson", "axon_poisson"])
def test_a_train_that_outgrows_its_capacity_says_so(pattern):
    _, fits = _trains(pattern, pre_rate=100.0, max_pre=5)
    assert not bool(fits)


def test_a_silent_train_has_no_spikes():
    for pattern in PATTERNS:
        trains, fits = _trains(pattern, post_rate=0.0)
        assert bool(fits) and _finite(trains.post).size == 0


@pytest.mark.parametrize("pattern", ["poisson", "axon_poisson"])
def test_a_conditions_trains_do_not_depend_on_the_capacity_they_are_padded_to(pattern):
    small, _ = _trains(pattern, key=7)
    large, _ = _trains(pattern, key=7, max_pre=90, max_post=70)
    np.testing.assert_array_equal(_finite(small.pre), _finite(large.pre))
    np.testing.assert_array_equal(_finite(small.post), _finite(large.post))


def test_a_rate_step_switches_both_trains_at_the_step_time():
    """Regular trains: the early part at the early rates, the late part restarting its phase at
    the step; and a step at or after the duration leaves the plain protocol's trains."""
    trains, fits = _trains(
        "out_of_phase", n_repeats=1, step_time=100.0, late_pre_rate=20.0, late_post_rate=50.0
    )
    assert bool(fits)
    early_pre = (np.arange(4) + 1.5) * 20.0  # 50 Hz until 100 ms: 30, 50, 70, 90
    late_pre = 100.0 + (np.arange(1) + 1.5) * 50.0  # then 20 Hz: 175
    early_post = []  # 20 Hz: the first spike would be at 100 ms, the step
    late_post = 100.0 + (np.arange(3) + 2.0) * 20.0  # then 50 Hz: 140, 160, 180
    np.testing.assert_allclose(_finite(trains.pre), np.concatenate([early_pre, late_pre]))
    np.testing.assert_allclose(_finite(trains.post), np.concatenate([early_post, late_post]))
    for pattern in ("poisson", "axon_poisson"):
        plain, _ = _trains(pattern)
        unstepped, _ = _trains(pattern, step_time=200.0, late_pre_rate=90.0, late_post_rate=90.0)
        np.testing.assert_array_equal(np.asarray(plain.pre), np.asarray(unstepped.pre))
        np.testing.assert_array_equal(np.asarray(plain.post), np.asarray(unstepped.post))


def test_a_stepped_poisson_train_has_each_parts_rate():
    trains, fits = _trains(
        "poisson",
        pre_rate=100.0,
        late_pre_rate=10.0,
        post_rate=10.0,
        late_post_rate=100.0,
        step_time=500.0,
        duration=1000.0,
        n_repeats=200,
        repeat_period=1000.0,
        max_repeats=200,
        max_pre=120,
        max_post=120,
    )
    assert bool(fits)
    pre, post = _finite(trains.pre) % 1000.0, _finite(trains.post) % 1000.0
    # 200 repeats x 0.5 s: 10,000 spikes at 100 Hz (SD 100), 1,000 at 10 Hz (SD 32).
    assert abs(np.sum(pre < 500.0) - 10_000) < 400 and abs(np.sum(pre >= 500.0) - 1_000) < 130
    assert abs(np.sum(post < 500.0) - 1_000) < 130 and abs(np.sum(post >= 500.0) - 10_000) < 400


def test_a_stepped_train_that_outgrows_its_capacity_says_so():
    _, fits = _trains("poisson", step_time=100.0, late_pre_rate=400.0, max_pre=20)
    assert not bool(fits)
