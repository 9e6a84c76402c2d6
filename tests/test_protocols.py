import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastic.protocols import NEVER, event_protocol, pairing_protocol


def test_pairing_sign_convention_and_second_spine_delay():
    plus = pairing_protocol(13.0, n_pairings=3, period=2000.0, uncaged_spines=(0, 1))
    # delta_t = current onset - uncaging onset (pre leads post for delta_t > 0).
    np.testing.assert_allclose(plus.current_onset - plus.uncaging_onset[0], 13.0)
    np.testing.assert_allclose(plus.uncaging_onset[1] - plus.uncaging_onset[0], 2.1)
    np.testing.assert_allclose(np.diff(plus.current_onset), 2000.0)
    minus = pairing_protocol(-15.0, n_pairings=1, uncaged_spines=(1,))
    np.testing.assert_allclose(minus.uncaging_onset[1] - minus.current_onset, 15.0)
    assert float(minus.uncaging_onset[0, 0]) == NEVER
    assert float(plus.duration) == 100.0 + 3 * 2000.0 + 25 * 60_000.0


def test_drive_is_on_during_pulses_only():
    protocol = pairing_protocol(13.0, n_pairings=1, first_pairing=100.0)
    on = protocol.drive(jnp.asarray(101.0))
    np.testing.assert_allclose(on.glutamate, [1.0, 0.0])
    assert float(on.soma_current) == 0.0
    np.testing.assert_allclose(protocol.drive(jnp.asarray(102.0)).glutamate, [0.0, 0.0])
    assert float(protocol.drive(jnp.asarray(118.0)).soma_current) == 500.0
    assert float(protocol.drive(jnp.asarray(123.0)).soma_current) == 0.0


def test_batched_delta_t_matches_single_protocols():
    batch = pairing_protocol(jnp.array([-15.0, 7.0]), n_pairings=2)
    single = pairing_protocol(7.0, n_pairings=2)
    for a, b in zip(jax.tree.leaves(batch), jax.tree.leaves(single)):
        np.testing.assert_allclose(a[1], b)


def test_event_protocols_of_different_lengths_share_a_shape():
    short = event_protocol([[10.0], []], [20.0], duration=100.0, max_uncaging=3, max_current=2)
    long = event_protocol(
        [[10.0, 30.0, 50.0], [5.0]], [20.0, 40.0], duration=100.0, max_uncaging=3, max_current=2
    )
    stacked = jax.tree.map(lambda a, b: jnp.stack([a, b]), short, long)
    assert stacked.uncaging_onset.shape == (2, 2, 3)
    edges = np.asarray(short.pulse_edges())
    assert np.all(np.diff(edges) >= 0) and np.sum(edges < 100.0) == 4


@pytest.mark.parametrize("delta_t", [2000.0, -1999.0, float("nan")])
def test_delta_t_outside_the_period_is_rejected(delta_t):
    with pytest.raises(ValueError, match="delta_t"):
        pairing_protocol(delta_t, period=2000.0)


def test_bad_protocols_are_rejected():
    with pytest.raises(ValueError, match="uncaged_spines"):
        pairing_protocol(13.0, uncaged_spines=())
    with pytest.raises(ValueError, match="uncaged_spines"):
        pairing_protocol(13.0, uncaged_spines=(2,), n_spines=2)
    with pytest.raises(ValueError, match="n_pairings"):
        pairing_protocol(13.0, n_pairings=0)
    with pytest.raises(ValueError, match="period"):
        pairing_protocol(13.0, period=-5.0)
    with pytest.raises(ValueError, match="current_onsets"):
        event_protocol([[10.0]], [150.0], duration=100.0)
    with pytest.raises(ValueError, match="uncaging_onsets"):
        event_protocol([], [10.0], duration=100.0)
