"""`plastic.dense_lu` against LAPACK and numpy: the factors, the solves, their derivatives,
vmap against a loop, and no LAPACK call in the lowered program."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic import dense_lu
from plastic.sweep.run import batched_lapack_calls


def _matrix(n, seed=0):
    # Off-diagonal entries as large as the diagonal's, so that pivoting does swap rows.
    return np.random.default_rng(seed).normal(size=(n, n))


@pytest.mark.parametrize("n", [1, 5, 40])
def test_factors_equal_lapacks_and_solves_are_exact(n):
    matrix = _matrix(n)
    right = np.random.default_rng(1).normal(size=n)
    lu, permutation = jax.jit(dense_lu.lu_factor)(matrix)
    expected_lu, _, expected_permutation = jax.lax.linalg.lu(matrix)
    np.testing.assert_array_equal(np.asarray(permutation), np.asarray(expected_permutation))
    np.testing.assert_allclose(np.asarray(lu), np.asarray(expected_lu), rtol=1e-10, atol=1e-12)
    if n > 1:
        assert not np.array_equal(np.asarray(permutation), np.arange(n))
    solution = dense_lu.lu_solve((lu, permutation), right)
    transposed = dense_lu.lu_solve_transposed((lu, permutation), right)
    np.testing.assert_allclose(matrix @ np.asarray(solution), right, atol=1e-12)
    np.testing.assert_allclose(matrix.T @ np.asarray(transposed), right, atol=1e-12)
    np.testing.assert_allclose(
        np.asarray(dense_lu.solve(matrix, right)), np.linalg.solve(matrix, right), rtol=1e-10
    )


def test_solve_derivatives_equal_lapack_solves():
    matrix, right = _matrix(6, seed=2), np.random.default_rng(3).normal(size=6)

    def loss(solver, matrix, right):
        return jnp.sum(jnp.sin(solver(matrix, right)))

    for argnums in (0, 1):
        got = jax.grad(loss, argnums + 1)(dense_lu.solve, matrix, right)
        expected = jax.grad(loss, argnums + 1)(jnp.linalg.solve, matrix, right)
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-9)
    tangents = (0.1 * _matrix(6, seed=4), np.ones(6))
    got = jax.jvp(lambda m, r: loss(dense_lu.solve, m, r), (matrix, right), tangents)[1]
    expected = jax.jvp(lambda m, r: loss(jnp.linalg.solve, m, r), (matrix, right), tangents)[1]
    np.testing.assert_allclose(float(got), float(expected), rtol=1e-9)


def test_vmap_equals_a_loop_and_makes_no_batched_lapack_call():
    """Batched solves equal a loop; on the CPU their program calls LAPACK one matrix at a
    time (batched calls deadlock several CPU devices), elsewhere not at all."""
    matrices = np.stack([_matrix(7, seed=s) for s in range(4)])
    rights = np.random.default_rng(5).normal(size=(4, 7))
    batched = jax.vmap(dense_lu.solve)(matrices, rights)
    looped = [dense_lu.solve(m, r) for m, r in zip(matrices, rights)]
    np.testing.assert_allclose(np.asarray(batched), np.asarray(looped), rtol=1e-13)
    program = jax.jit(jax.vmap(jax.grad(lambda m, r: jnp.sum(dense_lu.solve(m, r) ** 2))))
    text = program.lower(matrices, rights).as_text()
    assert "lapack_dgetrf" in text and batched_lapack_calls(text) == []
    exported = jax.export.export(program, platforms=("cuda",))(matrices, rights)
    assert not re.findall(r"custom_call @\w+", exported.mlir_module())


def test_inverse_without_pivoting_of_a_scaled_positive_definite_matrix():
    """``I + diag(g) R``, the spine model's neck coupling, with ``R`` positive semi-definite:
    the inverse to rounding, against numpy's, for conductances over eight decades."""
    rng = np.random.default_rng(6)
    square = rng.normal(size=(5, 3))
    resistance = square @ square.T  # rank 3: semi-definite
    conductance = 10.0 ** rng.uniform(-4, 4, size=5)
    coupling = np.eye(5) + conductance[:, None] * resistance
    inverse = dense_lu.inverse_without_pivoting(jnp.asarray(coupling))
    np.testing.assert_allclose(np.asarray(inverse), np.linalg.inv(coupling), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(inverse) @ coupling, np.eye(5), atol=1e-9)
