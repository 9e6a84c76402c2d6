"""The structural Jacobian pattern against Jacobians computed by autodiff."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastic.sparsity import evaluate_with_cuts, jacobian_sparsity, jacobian_structure

N = 6


def _nonzeros(function, y, *parameters):
    return np.asarray(jax.jacfwd(function)(y, *parameters)) != 0


def _with_indexing_and_control_flow(y, rates):
    """Elementwise nonlinearity, a constant gather, a dot with a constant banded matrix, a
    scan, a cond and a concatenation."""
    band = jnp.asarray(np.eye(N, k=1) + np.eye(N, k=-1))
    neighbours = band @ jnp.tanh(y)
    picked = y[jnp.array([3, 0])]

    def accumulate(total, value):
        return total + rates[0] * value, total

    total, running = jax.lax.scan(accumulate, 0.0, y[:3])
    switched = jax.lax.cond(rates[1] > 0, lambda: y[4] ** 2, lambda: jnp.exp(y[5]))
    head = rates[2] * neighbours[:2] * picked
    return jnp.concatenate([head, running, jnp.stack([total + switched])])


def test_the_pattern_covers_the_jacobian_and_is_exact_outside_loops():
    rng = np.random.default_rng(0)
    y = jnp.asarray(rng.uniform(0.5, 1.5, N))
    rates = jnp.asarray(rng.uniform(0.5, 1.5, 3))
    closed = jax.make_jaxpr(_with_indexing_and_control_flow)(y, rates)
    pattern = jacobian_sparsity(closed, 0)
    numeric = _nonzeros(_with_indexing_and_control_flow, y, rates)
    assert not np.any(numeric & ~pattern)
    # Rows 0-1 (tanh, a constant banded matrix, a constant gather) are exact.
    np.testing.assert_array_equal(pattern[:2], numeric[:2])
    # A scan counts every slice of its input in every step; cond counts both branches.
    np.testing.assert_array_equal(pattern[2:5, :3], np.ones((3, 3), bool))
    assert pattern[5, 5] and not numeric[5, 5]


def test_an_entry_that_vanishes_at_a_zero_parameter_stays_in_the_pattern():
    # A blocked conductance: a pattern sampled at the blocked value would lose y[1] in row 0.
    def rhs(y, conductance):
        return jnp.stack([-y[0] + conductance * y[1] * y[0], -y[1]])

    y = jnp.array([0.3, 0.7])
    closed = jax.make_jaxpr(rhs)(y, 0.0)
    assert not _nonzeros(rhs, y, 0.0)[0, 1]
    assert jacobian_sparsity(closed, 0)[0, 1]


def test_gathers_at_run_time_indices_count_every_element():
    def rhs(y, index):
        return y * y[index]

    closed = jax.make_jaxpr(rhs)(jnp.ones(4), 2)
    np.testing.assert_array_equal(jacobian_sparsity(closed, 0), np.ones((4, 4), bool))


def _cable_with_a_spine(y, weights, neck_conductance):
    """A chain of nodes (tridiagonal) and one spine attached at run-time weights: the neck
    current reads every node and is injected back into every node."""
    nodes, head = y[:-1], y[-1]
    chain = jnp.concatenate([nodes[1:], nodes[-1:]]) + jnp.concatenate([nodes[:1], nodes[:-1]])
    neck_current = neck_conductance * (weights @ nodes - head)
    d_nodes = chain - 2 * nodes + weights * neck_current
    return jnp.concatenate([d_nodes, jnp.stack([-neck_current - 0.1 * head**3])])


def test_weights_computed_from_constants_by_a_loop_are_folded():
    """Interpolation weights of a fixed position found by `jnp.searchsorted` (a loop over
    constants): folded, the node-to-spine coupling is exactly the two neighbouring nodes,
    where unknown weights would couple every node to every other."""
    nodes = jnp.linspace(0.0, 100.0, 11)
    position = jnp.asarray(42.0)

    def cable_and_spine(y):
        right = jnp.searchsorted(nodes, position, method="scan")
        fraction = (position - nodes[right - 1]) / (nodes[right] - nodes[right - 1])
        weights = jnp.zeros(11).at[right - 1].set(1.0 - fraction).at[right].set(fraction)
        return -y + jnp.tanh(weights @ y) * weights

    pattern = jacobian_sparsity(jax.make_jaxpr(cable_and_spine)(jnp.ones(11)), 0)
    coupled = np.isin(np.arange(11), [4, 5])
    np.testing.assert_array_equal(pattern, np.eye(11, dtype=bool) | np.outer(coupled, coupled))


def test_a_cut_keeps_a_spine_on_a_cable_sparse_and_gives_back_the_jacobian():
    n_nodes = 12
    rng = np.random.default_rng(1)
    y = jnp.asarray(rng.normal(size=n_nodes + 1))
    weights = jnp.asarray(rng.uniform(0.1, 1.0, n_nodes))
    closed = jax.make_jaxpr(_cable_with_a_spine)(y, weights, 2.0)
    plain = jacobian_sparsity(closed, 0)
    structure = jacobian_structure(closed, 0)
    assert plain.sum() > n_nodes**2  # the node block is dense through the neck current
    assert structure.n_cut == 1
    assert structure.pattern.sum() < plain.sum() / 2

    n, m = structure.n_states, structure.n_cut
    args = [y, weights, jnp.asarray(2.0)]

    def augmented(state, cut):
        f, z = evaluate_with_cuts(closed, structure, [state, *args[1:]], cut)
        return jnp.concatenate([f, z])

    matrix = np.concatenate(jax.jacfwd(augmented, argnums=(0, 1))(y, jnp.zeros(m)), axis=1)
    assert not np.any((matrix != 0) & ~structure.pattern)
    # J = dh/dy + dh/dz (I - dg/dz)^-1 dg/dy
    h_y, h_z = matrix[:n, :n], matrix[:n, n:]
    g_y, g_z = matrix[n:, :n], matrix[n:, n:]
    reconstructed = h_y + h_z @ np.linalg.solve(np.eye(m) - g_z, g_y)
    expected = jax.jacfwd(_cable_with_a_spine)(*args)
    np.testing.assert_allclose(reconstructed, expected, rtol=1e-12, atol=1e-12)
    f, _ = evaluate_with_cuts(closed, structure, args, jnp.zeros(m))
    np.testing.assert_allclose(f, _cable_with_a_spine(*args), rtol=1e-15)


def test_the_spine_model_pattern_covers_its_jacobian_with_nmda_blocked(seed_model_rhs):
    rhs, y0, closed, times = seed_model_rhs
    pattern = jacobian_sparsity(closed, 1)
    jacobian = jax.jit(jax.jacfwd(rhs, argnums=1))
    rng = np.random.default_rng(2)
    for t in times:
        y = y0 * (1 + 0.3 * rng.random(y0.shape[0])) + 0.01 * rng.random(y0.shape[0])
        numeric = np.asarray(jacobian(t, jnp.asarray(y))) != 0
        assert not np.any(numeric & ~pattern), f"t = {t} ms"


@pytest.fixture(scope="module")
def seed_model_rhs():
    from jax.flatten_util import ravel_pytree

    from plastic.studies.tazerart2020 import (
        DRUG_NAMES,
        induction_protocol,
        model_in_condition,
        tazerart_model,
    )

    condition = dict(
        delta_t=13.0,
        n_spines_uncaged=2,
        distance=3.0,
        drug=DRUG_NAMES.index("AP5"),
        temperature=34.0,
    )
    model = model_in_condition(tazerart_model(), condition)
    protocol = induction_protocol(model, condition, n_pairings=2)
    y0, unravel = ravel_pytree(model.resting_state())

    def rhs(t, y):
        return ravel_pytree(model.vector_field(t, unravel(y), protocol))[0]

    return rhs, np.asarray(y0), jax.make_jaxpr(rhs)(0.0, y0), [0.0, 101.0, 105.0, 115.0, 2101.0]
