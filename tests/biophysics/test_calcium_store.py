"""The spine calcium store: rest, conservation of the exchange, the full model against scipy, and
the accumulation over repeated pairings that it exists for. Gradients with respect to its
parameters are checked against finite differences in `tests/test_replay.py`."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

from plastic.biophysics import SpineCalciumStore
from plastic.model import SpineModel
from plastic.protocols import pairing_protocol
from plastic.reference import solve_with_scipy
from plastic.simulate import SolverSettings
from tests.conftest import simulate_jit

# A store that takes up a visible share of each transient, so that every check below sees it.
STORE = SpineCalciumStore(max_uptake=20.0, exchange_rate=5e-3)


def with_store(model: SpineModel, store=STORE) -> SpineModel:
    return eqx.tree_at(lambda m: m.calcium_store, model, store, is_leaf=lambda x: x is None)


def test_the_store_is_in_equilibrium_at_rest(default_model):
    model = with_store(default_model)
    rest = model.calcium.resting_calcium
    fill = STORE.resting_fill(rest)
    assert float(STORE.uptake(rest, fill)) == pytest.approx(0.0, abs=1e-15)
    state = model.resting_state()
    # Resting calcium does not move: the store exchanges nothing at rest.
    np.testing.assert_allclose(
        state.head_calcium, default_model.resting_state().head_calcium, rtol=1e-12
    )
    no_input = pairing_protocol(0.0, n_pairings=1, current_amplitude=0.0).drive(-1.0)
    derivative = model.derivative(state, no_input)
    assert np.max(np.abs(np.asarray(derivative.store))) < 1e-12
    assert np.max(np.abs(np.asarray(derivative.head_calcium))) < 1e-12


def test_the_exchange_conserves_the_stores_and_fills_the_emptier_one():
    position = jnp.array([40.0, 43.0, 90.0])
    fill = jnp.array([0.5, 0.1, 0.1])
    calcium = jnp.full(3, 0.07)
    exchange = STORE.fill_derivative(calcium, fill, position) - STORE.uptake(calcium, fill) / (
        STORE.capacity
    )
    assert float(jnp.sum(exchange)) == pytest.approx(0.0, abs=1e-15)
    assert float(exchange[0]) < 0.0 < float(exchange[1])
    # 50 um away it hardly sees the full store: exp(-47 / 5) of the near neighbour's share.
    assert 0.0 < float(exchange[2]) < 1e-3 * float(exchange[1])


def test_the_model_with_a_store_matches_scipy_radau(default_model):
    model = with_store(default_model)
    protocol = pairing_protocol(
        13.0, uncaged_spines=(0,), n_pairings=2, period=400.0, first_pairing=50.0, quiet=100.0
    )
    times = np.arange(0.0, float(protocol.duration), 0.5)
    ours = simulate_jit(model, protocol, jnp.asarray(times), SolverSettings(rtol=1e-8, atol=1e-9))
    reference, _ = solve_with_scipy(model, protocol, times, rtol=1e-10, atol=1e-12)
    store = np.asarray(reference.store)
    # A real load: both stores fill far above rest (the idle one through the exchange).
    assert np.all(store[-1] > 100 * float(model.resting_store_fill()[0]))
    np.testing.assert_allclose(np.asarray(ours.states.store), store, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(
        np.asarray(ours.states.head_calcium),
        np.asarray(reference.head_calcium),
        rtol=1e-5,
        atol=1e-7,
    )


def _before_pairing_calcium(model, two_spines):
    protocol = pairing_protocol(
        7.0, n_pairings=12, uncaged_spines=(0, 1) if two_spines else (0,), quiet=0.0
    )
    states = simulate_jit(model, protocol, protocol.pairing_start).states
    return np.asarray(states.head_calcium[:, 0])


@pytest.mark.parametrize("store", [None, STORE], ids=["no store", "store"])
def test_only_a_store_carries_calcium_from_one_pairing_to_the_next(default_model, store):
    """Before-pairing head calcium over 12 pairings at 0.5 Hz: without a store it is back at rest
    each time (to 1e-3 of rest); with one it climbs, and more for two neighbours 2 um apart
    than for one spine (seed 000, Fig. 6)."""
    model = with_store(default_model, store)
    single = _before_pairing_calcium(model, two_spines=False)
    rest = float(model.calcium.resting_calcium)
    if store is None:
        np.testing.assert_allclose(single, single[0], rtol=1e-3)
        return
    pair = _before_pairing_calcium(model, two_spines=True)
    assert np.all(np.diff(single) > 0.0)
    assert single[-1] - single[0] > 0.05 * rest
    assert pair[-1] - pair[0] > 1.2 * (single[-1] - single[0])


@pytest.mark.parametrize(
    "field, value",
    [("capacity", 0.0), ("max_uptake", -1.0), ("release_rate", float("nan"))],
)
def test_bad_store_parameters_are_refused_by_name(field, value):
    with pytest.raises(ValueError, match=f"SpineCalciumStore.{field}"):
        SpineCalciumStore(**{field: value})
