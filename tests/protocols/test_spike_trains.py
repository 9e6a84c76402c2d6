"""Spike-train protocols: the spike times each protocol defines, batching, and errors that name
the argument and its range."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.protocols import (
    SpikeTrains,
    burst_pairs,
    poisson_trains,
    spike_lists,
    spike_pairs,
    spike_quadruplets,
    spike_triplets,
)


def test_bursts_of_pairs_place_every_spike():
    trains = burst_pairs(-10.0, frequency=20.0, n_per_burst=3, n_bursts=2, burst_period=1000.0)
    np.testing.assert_array_equal(trains.post, [0, 50, 100, 1000, 1050, 1100])
    np.testing.assert_array_equal(trains.pre, np.asarray(trains.post) + 10.0)
    assert float(trains.duration) == 2000.0


def test_batched_bursts_equal_one_at_a_time():
    delta_t = jnp.array([5.0, -10.0, 10.0])
    frequency = jnp.array([40.0, 10.0, 2.0])
    batch = burst_pairs(delta_t, frequency=frequency, n_per_burst=5, n_bursts=3, burst_period=4e3)
    for i in range(3):
        one = burst_pairs(float(delta_t[i]), frequency=float(frequency[i]), n_per_burst=5,
                          n_bursts=3, burst_period=4e3)  # fmt: skip
        np.testing.assert_array_equal(batch.pre[i], one.pre)
        np.testing.assert_array_equal(batch.post[i], one.post)


def test_pairs_triplets_and_quadruplets():
    pairs = spike_pairs(-20.0, n_pairings=2, period=1000.0, first=5.0)
    np.testing.assert_array_equal(pairs.pre, [25.0, 1025.0])
    np.testing.assert_array_equal(pairs.post, [5.0, 1005.0])
    triplet = spike_triplets(5.0, 15.0, order="pre-post-pre", n_repetitions=1, period=1000.0)
    np.testing.assert_array_equal(triplet.pre, [0.0, 20.0])
    np.testing.assert_array_equal(triplet.post, [5.0])
    triplet = spike_triplets(5.0, 15.0, order="post-pre-post", n_repetitions=1, period=1000.0)
    np.testing.assert_array_equal(triplet.post, [0.0, 20.0])
    later = spike_quadruplets(30.0, n_repetitions=1, period=1000.0)  # post-pre-pre-post
    np.testing.assert_array_equal(later.post, [0.0, 40.0])
    np.testing.assert_array_equal(later.pre, [5.0, 35.0])
    earlier = spike_quadruplets(-30.0, n_repetitions=1, period=1000.0)  # pre-post-post-pre
    np.testing.assert_array_equal(earlier.pre, [0.0, 40.0])
    np.testing.assert_array_equal(earlier.post, [5.0, 35.0])


def test_poisson_trains_are_seeded_and_have_the_rate():
    key = jax.random.key(3)
    trains = poisson_trains(key, pre_rate=20.0, post_rate=5.0, duration=60_000.0, max_spikes=1600)
    again = poisson_trains(key, pre_rate=20.0, post_rate=5.0, duration=60_000.0, max_spikes=1600)
    np.testing.assert_array_equal(trains.pre, again.pre)
    n_pre = int(jnp.sum(jnp.isfinite(trains.pre)))
    n_post = int(jnp.sum(jnp.isfinite(trains.post)))
    # 1200 and 300 expected; 5 standard deviations.
    assert abs(n_pre - 1200) < 5 * 1200**0.5 and abs(n_post - 300) < 5 * 300**0.5
    with pytest.raises(ValueError, match="max_spikes=100 is too small for pre_rate"):
        poisson_trains(key, pre_rate=20.0, post_rate=1.0, duration=60_000.0, max_spikes=100)


def test_spike_lists_pad_and_sort():
    trains = spike_lists([30.0, 10.0], [20.0], duration=100.0, max_pre=3, max_post=2)
    np.testing.assert_array_equal(trains.pre, [10.0, 30.0, np.inf])
    np.testing.assert_array_equal(trains.post, [20.0, np.inf])
    with pytest.raises(ValueError, match="max_pre=1 is fewer than the 2 spikes"):
        spike_lists([30.0, 10.0], [20.0], duration=100.0, max_pre=1)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: spike_pairs(10.0, n_pairings=0, period=1e3), "n_pairings must be an integer >= 1"),
        (lambda: spike_pairs(1000.0, n_pairings=2, period=1e3), r"delta_t must be .*1000 ms"),
        (lambda: burst_pairs(5.0, frequency=0.0, n_per_burst=5, n_bursts=1, burst_period=4e3),
         r"frequency must be a number in \(0, 10000\] Hz"),
        (lambda: burst_pairs(5.0, frequency=np.inf, n_per_burst=5, n_bursts=1, burst_period=4e3),
         r"frequency must be a number in \(0, 10000\] Hz"),
        (lambda: spike_triplets(5.0, 5.0, order="pre-pre-post", n_repetitions=1, period=1e3),
         "order must be one of"),
        (lambda: spike_quadruplets(3.0, n_repetitions=1, period=1e3), r"\|interval\| must be"),
        (lambda: spike_lists([-1.0], [], duration=10.0), r"pre must be a number in \[0, 10\]"),
        (lambda: SpikeTrains(jnp.array([5.0, 1.0]), jnp.array([1.0]), jnp.asarray(10.0)),
         "must be ascending"),
        (lambda: SpikeTrains(jnp.array([5.0]), jnp.array([20.0]), jnp.asarray(10.0)),
         "must be at or after the last postsynaptic spike"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()
