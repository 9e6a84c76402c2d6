"""Spike trains and current steps as spine-model protocols, and the voltage clamp's checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastic.protocols import (
    NEVER,
    SpikeTrains,
    VoltageClamp,
    current_steps,
    event_protocol,
    spike_pairs,
    spike_train_protocol,
)


def test_spike_trains_become_glutamate_at_the_synapse_and_pulses_at_the_soma():
    trains = spike_pairs(10.0, n_pairings=3, period=100.0, first=5.0, tail=50.0)
    protocol = spike_train_protocol(
        trains, n_spines=3, synapse_spines=(1,), release_duration=1.0, spike_current_duration=2.0
    )
    np.testing.assert_array_equal(protocol.uncaging_onset[1], trains.pre)
    assert np.all(np.asarray(protocol.uncaging_onset)[[0, 2]] == NEVER)
    np.testing.assert_array_equal(protocol.current_onset, trains.post)
    assert float(protocol.duration) == float(trains.duration)
    on = protocol.drive(105.5)  # during the second release
    np.testing.assert_array_equal(on.glutamate, [0.0, 1.0, 0.0])
    assert float(on.soma_current) == 0.0
    assert float(protocol.drive(106.0).glutamate[1]) == 0.0  # the release lasts 1 ms
    assert float(protocol.drive(116.0).soma_current) == float(protocol.current_amplitude)


def test_padding_never_comes_and_trains_batch():
    padded = SpikeTrains(jnp.array([5.0, jnp.inf]), jnp.array([15.0, jnp.inf]), jnp.array(50.0))
    protocol = spike_train_protocol(padded, n_spines=2)
    assert float(protocol.uncaging_onset[0, 1]) == NEVER
    assert float(protocol.current_onset[1]) == NEVER
    delta_t = jnp.array([-10.0, 5.0, 20.0])
    batched = jax.vmap(
        lambda d: spike_train_protocol(spike_pairs(d, n_pairings=2, period=100.0), n_spines=2)
    )(delta_t)
    for i, d in enumerate(delta_t):
        one = spike_train_protocol(spike_pairs(d, n_pairings=2, period=100.0), n_spines=2)
        for a, b in zip(jax.tree.leaves(batched), jax.tree.leaves(one)):
            np.testing.assert_array_equal(a[i], b)


def test_merging_postsynaptic_pulses_and_bad_spines_are_refused():
    close = SpikeTrains(jnp.array([0.0]), jnp.array([10.0, 11.0]), jnp.array(20.0))
    with pytest.raises(ValueError, match="spike_current_duration"):
        spike_train_protocol(close, n_spines=1)
    trains = spike_pairs(5.0, n_pairings=1, period=50.0)
    with pytest.raises(ValueError, match="synapse_spines"):
        spike_train_protocol(trains, n_spines=2, synapse_spines=(2,))
    with pytest.raises(ValueError, match="release_duration"):
        spike_train_protocol(trains, n_spines=2, release_duration=0.0)


def test_current_steps_carry_one_amplitude_each():
    protocol = current_steps([-100.0, 50.0, 200.0], step_duration=20.0, period=50.0, n_spines=2)
    for onset, amplitude in zip((100.0, 150.0, 200.0), (-100.0, 50.0, 200.0)):
        assert float(protocol.drive(onset + 10.0).soma_current) == amplitude
        assert float(protocol.drive(onset + 25.0).soma_current) == 0.0
    assert float(protocol.duration) == 200.0 + 20.0 + 500.0
    with pytest.raises(ValueError, match="period"):
        current_steps([100.0], step_duration=20.0, period=10.0, n_spines=1)
    # Per-pulse amplitudes follow their onsets when the onsets are given out of order.
    unordered = event_protocol([[]], [30.0, 10.0], duration=60.0, current_amplitude=[3.0, 1.0])
    assert float(unordered.drive(12.0).soma_current) == 1.0
    assert float(unordered.drive(32.0).soma_current) == 3.0
    with pytest.raises(ValueError, match="current_amplitude"):
        event_protocol([[]], [10.0], duration=60.0, current_amplitude=[1.0, 2.0])


def test_clamp_acts_only_in_its_window_and_its_edges_are_declared():
    clamp = VoltageClamp(-30.0, conductance=50.0, start=10.0, end=40.0)
    protocol = event_protocol([[]], [], duration=60.0, clamp=clamp)
    assert float(protocol.drive(5.0).clamp.conductance) == 0.0
    assert float(protocol.drive(20.0).clamp.conductance) == 50.0
    assert float(protocol.drive(40.0).clamp.conductance) == 0.0
    edges = np.asarray(protocol.pulse_edges())
    assert 10.0 in edges and 40.0 in edges
    open_ended = event_protocol([[]], [], duration=60.0, clamp=VoltageClamp(-30.0))
    assert np.all(np.isfinite(open_ended.pulse_edges()))


@pytest.mark.parametrize(
    "arguments, name",
    [
        (dict(voltage=float("inf")), "voltage"),
        (dict(voltage=-60.0, conductance=0.0), "conductance"),
        (dict(voltage=-60.0, position=-1.0), "position"),
        (dict(voltage=-60.0, start=20.0, end=10.0), "end"),
    ],
)
def test_bad_clamps_are_refused_by_name(arguments, name):
    with pytest.raises(ValueError, match=f"VoltageClamp.{name}"):
        VoltageClamp(**arguments)
