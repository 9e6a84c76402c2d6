"""The straight-line sparse LU against dense linear algebra."""

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
