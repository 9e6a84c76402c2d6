"""Dense linear solves in XLA's own operations, for one-off systems inside a batched model.

Why: on the CPU, `jnp.linalg.solve` and `jnp.linalg.inv` lower to jaxlib's LAPACK calls. Under
`jax.vmap` these are batched calls that split the batch into tasks on XLA's intra-op thread
pool and block until they finish; with several CPU devices running at once (a sweep sharded
over them) every pool thread can end up blocked so (seen in gdb: all ``tf_XLAEigen`` threads in
``jax::ParallelBatchMap``). Written as loops of vector operations a solve is ordinary XLA code,
which batches as wider vectors, lowers alike on every platform and never leaves XLA's
scheduler. It is slower than LAPACK (about 4x for an 84 x 84 factorisation on the CPU), so it
is for systems solved a few times per condition, not in every solver step (the step's own LU
is `plastic.rosenbrock`'s), and `solve` factorises with LAPACK, one matrix at a time, on the
CPU.

- `solve`: ``matrix x = right`` by LU with partial pivoting, differentiable in both modes.
- `inverse_without_pivoting`: the inverse of a small matrix whose elimination needs no
  pivoting (e.g. a diagonal scaling of a symmetric positive definite one), unrolled.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int


def solve(matrix: Float[Array, "n n"], right: Float[Array, " n"]) -> Float[Array, " n"]:
    """``x`` with ``matrix x = right``; reverse and forward mode through both arguments
    (`jax.lax.custom_linear_solve`: one more solve with the factors, transposed for reverse
    mode).

    The factorisation is `lu_factor` except on the CPU, where it is LAPACK's, one matrix at a
    time under `jax.vmap` (`jax.custom_batching.sequential_vmap`: no batched call, so no
    deadlock; 4x faster than `lu_factor` there, and a batch of 1,000 resting states of a
    60-state model took 0.9 s longer with `lu_factor`, `experiments/bench_jaxley.py`)."""
    factors = jax.lax.platform_dependent(
        jax.lax.stop_gradient(matrix), cpu=_lapack_lu_factor, default=lu_factor
    )
    return jax.lax.custom_linear_solve(
        lambda x: matrix @ x,
        right,
        solve=lambda _, b: lu_solve(factors, b),
        transpose_solve=lambda _, b: lu_solve_transposed(factors, b),
    )


@jax.custom_batching.sequential_vmap
def _lapack_lu_factor(matrix):
    lu, _, permutation = jax.lax.linalg.lu(matrix)
    return lu, permutation


def lu_factor(matrix: Float[Array, "n n"]) -> tuple[Float[Array, "n n"], Int[Array, " n"]]:
    """``matrix[permutation] = L U`` (Golub & Van Loan, Algorithm 3.4.1): at step ``k`` the
    largest remaining entry of column ``k`` is swapped to the diagonal, the column below it is
    divided by it and the trailing block takes the rank-1 update.

    Returns:
        ``(lu, permutation)``: ``L`` (unit lower) below the diagonal and ``U`` on and above it
        in one ``(n, n)`` array, as `jax.lax.linalg.lu` stores them; ``permutation`` ``(n,)``.
        A singular matrix gives a zero pivot and non-finite solves, as LAPACK's does.
    """
    n = matrix.shape[0]
    index = jnp.arange(n, dtype=jnp.int32)  # LAPACK's permutation dtype

    def eliminate(k, carry):
        lu, permutation = carry
        pivot = jnp.argmax(jnp.where(index >= k, jnp.abs(lu[:, k]), -1.0))
        row_k, row_pivot = lu[k], lu[pivot]
        lu = lu.at[pivot].set(row_k).at[k].set(row_pivot)
        at_k, at_pivot = permutation[k], permutation[pivot]
        permutation = permutation.at[pivot].set(at_k).at[k].set(at_pivot)
        below = index > k
        multipliers = jnp.where(below, lu[:, k] / lu[k, k], 0.0)
        lu = lu - multipliers[:, None] * jnp.where(below, lu[k], 0.0)[None, :]
        lu = jnp.where((index == k)[None, :] & below[:, None], multipliers[:, None], lu)
        return lu, permutation

    return jax.lax.fori_loop(0, n, eliminate, (matrix, index))


def lu_solve(
    factors: tuple[Float[Array, "n n"], Int[Array, " n"]], right: Float[Array, " n"]
) -> Float[Array, " n"]:
    """``x`` with ``matrix x = right`` from `lu_factor`'s factors: forward then back
    substitution, one row of the factors at a time (rows are contiguous)."""
    lu, permutation = factors
    n = right.shape[0]
    index = jnp.arange(n)

    def forward(k, x):
        return x.at[k].add(-jnp.dot(jnp.where(index < k, lu[k], 0.0), x))

    def backward(step, x):
        k = n - 1 - step
        return x.at[k].set((x[k] - jnp.dot(jnp.where(index > k, lu[k], 0.0), x)) / lu[k, k])

    lower = jax.lax.fori_loop(0, n, forward, right[permutation])
    return jax.lax.fori_loop(0, n, backward, lower)


def lu_solve_transposed(
    factors: tuple[Float[Array, "n n"], Int[Array, " n"]], right: Float[Array, " n"]
) -> Float[Array, " n"]:
    """``x`` with ``matrix^T x = right`` from `lu_factor`'s factors (``U^T L^T P x = right``):
    column-oriented substitutions, so again one row of the factors at a time."""
    lu, permutation = factors
    n = right.shape[0]
    index = jnp.arange(n)

    def upper_transposed(k, x):
        x = x.at[k].divide(lu[k, k])
        return x - jnp.where(index > k, lu[k], 0.0) * x[k]

    def lower_transposed(step, x):
        k = n - 1 - step
        return x - jnp.where(index < k, lu[k], 0.0) * x[k]

    permuted = jax.lax.fori_loop(0, n, upper_transposed, right)
    permuted = jax.lax.fori_loop(0, n, lower_transposed, permuted)
    return jnp.zeros_like(permuted).at[permutation].set(permuted)


def inverse_without_pivoting(matrix: Float[Array, "n n"]) -> Float[Array, "n n"]:
    """The inverse by Gauss-Jordan elimination in diagonal order, unrolled over the static
    ``n`` (for small ``n``). Only for matrices whose leading principal minors are safely
    nonzero, e.g. ``D S`` with ``D`` positive diagonal and ``S`` symmetric positive definite:
    its elimination is that of ``S`` with scaled rows, which needs no pivoting."""
    n = matrix.shape[0]
    augmented = jnp.concatenate([matrix, jnp.eye(n, dtype=matrix.dtype)], axis=1)
    for k in range(n):
        pivot_row = augmented[k] / augmented[k, k]
        others = jnp.where(jnp.arange(n) == k, 0.0, augmented[:, k])
        augmented = (augmented - others[:, None] * pivot_row[None, :]).at[k].set(pivot_row)
    return augmented[:, n:]
