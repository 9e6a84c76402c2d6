"""The linear algebra of a Rosenbrock step: ``f``, ``df/dt`` and the factors of
``W = I / (h gamma) - J`` at the step's start, and solves with ``W`` and its transpose.

Dense by default: ``J`` from one forward-mode direction per colour of the columns of its
structural pattern (read from the right-hand side's jaxpr when the step is traced,
`plastic.sparsity`; ``n`` unit directions with ``Rodas5(coloured_jacobian=False)``), and ``W``
factorised by LU with partial pivoting. With ``Rodas5(sequential_lu=True)`` the dense
factorisation and solves of a batch run one matrix after another (why: `_DenseLinearAlgebra`).
With ``Rodas5(sparse=True)`` the pattern has cut variables that keep it sparse, ``J`` comes from
one direction per colour of its columns and ``W`` is factorised without pivoting, level by level
of independent pivots (`plastic.sparse_lu`). The sparse step is cheaper in flops and, under
`jax.vmap`, in time.
"""

import jax
import jax.numpy as jnp
import numpy as np

from plastic.rosenbrock.tableau import Rodas5Tableau
from plastic.sparse_lu import SparseLU
from plastic.sparsity import (
    column_colouring,
    evaluate_with_cuts,
    jacobian_sparsity,
    jacobian_structure,
)


class _DenseLinearAlgebra:
    """``J`` from forward-mode directions, ``W`` factorised by LAPACK-style LU with partial
    pivoting.

    With ``coloured``, ``J`` comes from one direction per colour of the columns of its
    structural pattern (columns of one colour share no row), plus one for ``df/dt``: the same
    values as from ``n + 1`` unit directions (each entry is one column's derivative, the other
    columns of its colour add exact zeros), at a fraction of the cost. Measured: 33 directions
    instead of 136 for the Urakubo model, a step 240 us instead of 337 us.

    With ``sequential``, under `jax.vmap` the factorisations and solves of the batch are a loop
    of one-matrix library calls (`jax.custom_batching.sequential_vmap`) instead of one batched
    call. Why: on the CPU a batched call is jaxlib's LAPACK kernel, which splits the batch into
    tasks on XLA's intra-op thread pool and blocks its thread until they finish. With several
    CPU devices running at once, each device's blocked thread can be one the others' tasks
    wait for, and with as many devices as pool threads all of them wait forever (seen in gdb:
    every ``tf_XLAEigen`` thread in ``jax::ParallelBatchMap``, ``BlockingCounter::Wait``). A
    one-matrix call runs on its caller's thread. Only the forward pass needs it: reverse mode
    through a step is written out (`plastic.rosenbrock.stages`) and reuses these solves.
    """

    def __init__(self, sequential: bool, coloured: bool, rhs, t0, y0, parameters):
        self.sequential = sequential
        self.pattern = self.colour = None
        if coloured:
            closed = jax.make_jaxpr(rhs)(t0, y0, parameters)
            self.pattern, self.colour = _cached(closed, "dense", _dense_analysis)

    def factorise(self, rhs, t0, h, y0, parameters):
        """``f(t0, y0)``, ``df/dt`` and the factors of ``W = I / (h gamma) - J``."""
        n = y0.shape[0]
        if self.colour is None:
            seeds = np.eye(n)
        else:
            seeds = np.eye(self.colour.max() + 1)[self.colour].T  # (colours, n)
        directions_t = np.zeros(len(seeds) + 1)
        directions_t[0] = 1.0
        directions_y = np.concatenate([np.zeros((1, n)), seeds])
        f0, derivatives = _directional_derivatives(
            rhs,
            t0,
            y0,
            parameters,
            jnp.asarray(directions_t, y0.dtype),
            jnp.asarray(directions_y, y0.dtype),
        )
        df_dt, compressed = derivatives[0], derivatives[1:]
        if self.colour is None:
            jacobian = compressed.T
        else:
            # J[i, j] = compressed[colour[j], i] where (i, j) can be nonzero.
            jacobian = jnp.where(self.pattern, compressed[self.colour].T, 0.0)
        w = jnp.eye(n, dtype=y0.dtype) / (h * Rodas5Tableau.gamma) - jacobian
        factor = _sequential_lu_factor if self.sequential else _lu_factor
        return f0, df_dt, factor(w)

    def solve(self, factors, right):
        """``W x = right``, with ``W[permutation] = L U``."""
        solve = _sequential_lu_solve if self.sequential else _lu_solve
        return solve(*factors, right)

    def solve_transposed(self, factors, right):
        """``W^T x = right``, with ``W^T = U^T L^T P``."""
        solve = _sequential_lu_solve_transposed if self.sequential else _lu_solve_transposed
        return solve(*factors, right)


def _lu_factor(w):
    lu, _, permutation = jax.lax.linalg.lu(w)
    return lu, permutation


def _lu_solve(lu, permutation, right):
    lower = jax.lax.linalg.triangular_solve(
        lu, right[permutation, None], left_side=True, lower=True, unit_diagonal=True
    )
    return jax.lax.linalg.triangular_solve(lu, lower, left_side=True, lower=False)[:, 0]


def _lu_solve_transposed(lu, permutation, right):
    upper = jax.lax.linalg.triangular_solve(
        lu, right[:, None], left_side=True, lower=False, transpose_a=True
    )
    permuted = jax.lax.linalg.triangular_solve(
        lu, upper, left_side=True, lower=True, unit_diagonal=True, transpose_a=True
    )[:, 0]
    return jnp.zeros_like(permuted).at[permutation].set(permuted)


_sequential_lu_factor = jax.custom_batching.sequential_vmap(_lu_factor)
_sequential_lu_solve = jax.custom_batching.sequential_vmap(_lu_solve)
_sequential_lu_solve_transposed = jax.custom_batching.sequential_vmap(_lu_solve_transposed)


class _SparseLinearAlgebra:
    """``J`` in the augmented form of `plastic.sparsity.JacobianStructure` from one
    forward-mode direction per colour of its columns, and ``W`` factorised by the
    `plastic.sparse_lu.SparseLU` of its pattern (no pivoting). The structure is
    read from the right-hand side's jaxpr when the step is traced."""

    def __init__(self, rhs, t0, y0, parameters):
        self.closed = jax.make_jaxpr(rhs)(t0, y0, parameters)
        self.structure, self.lu, self.colour = _cached(self.closed, "sparse", _sparse_analysis)

    def factorise(self, rhs, t0, h, y0, parameters):
        structure, lu, colour = self.structure, self.lu, self.colour
        n, m = structure.n_states, structure.n_cut
        f0, df_dt = jax.jvp(lambda t: rhs(t, y0, parameters), (t0,), (jnp.ones_like(t0),))
        leaves = jax.tree.leaves(parameters)

        def augmented(y, cut_perturbation):
            f, cuts = evaluate_with_cuts(self.closed, structure, [t0, y, *leaves], cut_perturbation)
            return jnp.concatenate([f, cuts])

        seeds = jnp.asarray(np.eye(colour.max() + 1)[colour].T, dtype=y0.dtype)

        def column_group(seed):
            return jax.jvp(augmented, (y0, jnp.zeros(m, y0.dtype)), (seed[:n], seed[n:]))[1]

        compressed = jax.vmap(column_group)(seeds)
        in_pattern = structure.pattern[lu.rows, lu.cols]
        # diag(I / (h gamma), I) - M: the cut variables' rows carry a unit diagonal.
        diagonal = jnp.where(lu.rows < n, 1.0 / (h * Rodas5Tableau.gamma), 1.0)
        scale = jnp.where(lu.rows == lu.cols, diagonal, 0.0)
        jacobian_values = compressed[colour[lu.cols], lu.rows]
        values = scale - jnp.where(in_pattern, jacobian_values, 0.0)
        return f0, df_dt, lu.factorise(values)

    def solve(self, factors, right):
        padded = jnp.concatenate([right, jnp.zeros(self.structure.n_cut, right.dtype)])
        return self.lu.solve(factors, padded)[: self.structure.n_states]

    def solve_transposed(self, factors, right):
        padded = jnp.concatenate([right, jnp.zeros(self.structure.n_cut, right.dtype)])
        return self.lu.solve_transposed(factors, padded)[: self.structure.n_states]


def _sparse_analysis(closed):
    """Structure (with cut variables), symbolic LU and column colouring."""
    structure = jacobian_structure(closed, argnum=1)
    return structure, SparseLU(structure.pattern), column_colouring(structure.pattern)


def _dense_analysis(closed):
    """The plain pattern of ``df/dy`` and its column colouring."""
    pattern = jacobian_sparsity(closed, argnum=1)
    return pattern, column_colouring(pattern)


def _cached(closed, kind, analysis):
    """``analysis(closed)``, once per distinct right-hand side and kind."""
    key = (kind, str(closed.jaxpr), tuple(np.asarray(c).tobytes() for c in closed.consts))
    if key not in _ANALYSIS_CACHE:
        if len(_ANALYSIS_CACHE) >= 8:
            _ANALYSIS_CACHE.pop(next(iter(_ANALYSIS_CACHE)))
        _ANALYSIS_CACHE[key] = analysis(closed)
    return _ANALYSIS_CACHE[key]


_ANALYSIS_CACHE: dict = {}


def _linear_algebra(method, rhs, t0, y0, parameters):
    """``method``: ``(sparse, sequential_lu, coloured_jacobian)`` of `Rodas5`."""
    sparse, sequential_lu, coloured_jacobian = method
    if sparse:
        return _SparseLinearAlgebra(rhs, t0, y0, parameters)
    return _DenseLinearAlgebra(sequential_lu, coloured_jacobian, rhs, t0, y0, parameters)


def _directional_derivatives(rhs, t, y, parameters, directions_t, directions_y):
    """``f(t, y)`` and its derivatives along each ``(directions_t[k], directions_y[k])``, in one
    batched forward-mode pass."""

    def directional(direction_t, direction_y):
        return jax.jvp(lambda t, y: rhs(t, y, parameters), (t, y), (direction_t, direction_y))

    return jax.vmap(directional, out_axes=(None, 0))(directions_t, directions_y)
