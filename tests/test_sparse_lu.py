"""The level-by-level sparse LU against dense linear algebra and an unpivoted LU."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastic.sparse_lu import SparseLU, minimum_degree_order


def _random_system(n, density, seed):
    rng = np.random.default_rng(seed)
    pattern = rng.random((n, n)) < density
    np.fill_diagonal(pattern, False)
    matrix = np.where(pattern, rng.normal(size=(n, n)), 0.0)
    # Diagonal dominance, as in I / (h gamma) - J at small steps: no pivoting needed.
    matrix += np.diag(np.abs(matrix).sum(1) + rng.uniform(0.5, 2.0, n))
    return pattern, matrix, rng.normal(size=n)


def _values(lu, matrix):
    return jnp.asarray(matrix[lu.rows, lu.cols])


@pytest.mark.parametrize("seed", [0, 1])
def test_solves_equal_numpy_on_a_random_sparse_matrix(seed):
    pattern, matrix, right = _random_system(30, 0.08, seed)
    lu = SparseLU(pattern)
    factors = jax.jit(lu.factorise)(_values(lu, matrix))
    np.testing.assert_allclose(lu.solve(factors, right), np.linalg.solve(matrix, right), rtol=1e-12)
    np.testing.assert_allclose(
        lu.solve_transposed(factors, right), np.linalg.solve(matrix.T, right), rtol=1e-12
    )


def test_vmapped_factorisation_equals_the_loop():
    pattern, matrix, right = _random_system(12, 0.2, 3)
    lu = SparseLU(pattern)
    scales = np.array([1.0, 2.0, 5.0])
    batch = jnp.stack([_values(lu, matrix * s + np.eye(12) * s) for s in scales])
    rights = jnp.stack([right * s for s in scales])
    vmapped = jax.vmap(lambda v, b: lu.solve(lu.factorise(v), b))(batch, rights)
    for k in range(3):
        np.testing.assert_array_equal(vmapped[k], lu.solve(lu.factorise(batch[k]), rights[k]))


def test_an_arrow_matrix_is_factorised_without_fill():
    # One hub coupled to every other node (a soma and its dendrites): eliminating the hub
    # first would fill the whole matrix; minimum degree leaves it for one of the last two.
    n = 10
    pattern = np.zeros((n, n), bool)
    pattern[0, 1:] = pattern[1:, 0] = True
    assert 0 in minimum_degree_order(pattern)[-2:]
    lu = SparseLU(pattern)
    assert lu.nnz == pattern.sum() + n
    assert lu.flops == 3 * (n - 1)


def _unpivoted_lu(matrix):
    """Doolittle LU without pivoting, ``matrix = L U``, as one array (unit diagonal of L
    implied)."""
    lu = np.array(matrix, dtype=float)
    for k in range(lu.shape[0]):
        lu[k + 1 :, k] /= lu[k, k]
        lu[k + 1 :, k + 1 :] -= np.outer(lu[k + 1 :, k], lu[k, k + 1 :])
    return lu


def test_stored_factors_are_the_unpivoted_lu_of_the_permuted_matrix():
    pattern, matrix, _ = _random_system(25, 0.1, 4)
    lu = SparseLU(pattern)
    factors = np.asarray(lu.factorise(_values(lu, matrix)))
    expected = _unpivoted_lu(matrix[np.ix_(lu.order, lu.order)])
    position = np.argsort(lu.order)
    np.testing.assert_allclose(
        factors[: lu.nnz], expected[position[lu.rows], position[lu.cols]], rtol=1e-12, atol=1e-14
    )
    # Every entry outside the stored ones is zero in the exact factors: the fill is complete.
    stored = np.zeros_like(expected, dtype=bool)
    stored[position[lu.rows], position[lu.cols]] = True
    assert np.all(expected[~stored] == 0.0)


@pytest.mark.parametrize("n", [20, 40])
def test_a_cable_is_eliminated_in_logarithmically_many_levels_with_linear_fill(n):
    # A path of n compartments: one level per pivot from one end; ties broken towards short
    # chains take every other compartment at once (cyclic reduction).
    pattern = np.eye(n, k=1, dtype=bool) | np.eye(n, k=-1, dtype=bool)
    lu = SparseLU(pattern)
    assert lu.n_levels <= np.ceil(np.log2(n)) + 1
    assert lu.nnz <= 5 * n and lu.flops <= 9 * n
    one_end = minimum_degree_order(pattern, slack=0)
    assert set(one_end[:2]) == {0, n - 1}


def test_the_program_grows_with_the_levels_not_the_flops():
    pattern, matrix, right = _random_system(60, 0.06, 5)
    lu = SparseLU(pattern)
    values = _values(lu, matrix)
    equations = len(jax.make_jaxpr(lambda v: lu.solve(lu.factorise(v), right))(values).eqns)
    assert lu.flops > 500 and equations < 30 * lu.n_levels


def test_nested_and_partly_mapped_vmaps_equal_the_loop():
    pattern, matrix, right = _random_system(15, 0.15, 6)
    lu = SparseLU(pattern)
    scales = np.array([[1.0, 2.0], [3.0, 0.5], [4.0, 1.5]])
    values = jnp.stack(
        [jnp.stack([_values(lu, matrix + s * np.eye(15)) for s in row]) for row in scales]
    )
    rights = jnp.stack([jnp.stack([right * s for s in row]) for row in scales])

    def solves(v, b):
        factors = lu.factorise(v)
        return lu.solve(factors, b), lu.solve_transposed(factors, b)

    nested = jax.vmap(jax.vmap(solves))(values, rights)
    one_matrix = jax.vmap(solves, in_axes=(None, 0))(values[0, 0], rights[:, 0])
    for a in range(3):
        one = solves(values[0, 0], rights[a, 0])
        np.testing.assert_allclose(one_matrix[0][a], one[0], rtol=1e-14)
        np.testing.assert_allclose(one_matrix[1][a], one[1], rtol=1e-14)
        for b in range(2):
            one = solves(values[a, b], rights[a, b])
            np.testing.assert_allclose(nested[0][a, b], one[0], rtol=1e-14)
            np.testing.assert_allclose(nested[1][a, b], one[1], rtol=1e-14)
            shifted = matrix + scales[a, b] * np.eye(15)
            np.testing.assert_allclose(
                nested[0][a, b], np.linalg.solve(shifted, rights[a, b]), rtol=1e-12
            )
