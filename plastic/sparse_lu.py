"""LU factorisation of matrices with a fixed sparsity pattern, as straight-line code.

Why: a Rosenbrock step of the spine model factorises an ``(n, n)`` matrix with ``n`` near 100
of which a few percent of entries can be nonzero. Dense LU spends its time on zeros; under
``jax.vmap`` a sparse factorisation whose pattern is known when the program is traced becomes
one elementwise operation per flop, over the batch, which XLA fuses into a few loops.

The elimination order is chosen once, by minimum degree on the symmetrised pattern, and then
kept: there is no pivoting. That is safe for the matrices it is built for,
``W = I / (h gamma) - J`` of a stiff ODE, whose diagonal dominates at small ``h``; at large
``h`` a poor pivot shows as a large error estimate and the step-size controller rejects the
step. Values are held as a flat vector over the pattern after fill, in `entries` order.
"""

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


def minimum_degree_order(pattern: np.ndarray) -> np.ndarray:
    """An elimination order of the ``(n, n)`` boolean ``pattern`` that keeps fill small:
    repeatedly eliminate the node with the fewest neighbours (ties: lowest index) in the
    graph of ``pattern | pattern.T``, joining its neighbours into a clique."""
    n = pattern.shape[0]
    symmetric = pattern | pattern.T
    neighbours = [set(np.flatnonzero(symmetric[i])) - {i} for i in range(n)]
    remaining = set(range(n))
    order = []
    while remaining:
        pivot = min(remaining, key=lambda i: (len(neighbours[i]), i))
        order.append(pivot)
        remaining.remove(pivot)
        for i in neighbours[pivot]:
            neighbours[i] |= neighbours[pivot] - {i}
            neighbours[i].discard(pivot)
    return np.asarray(order)


class SparseLU:
    """The symbolic factorisation of a sparsity pattern, and the numeric code it generates.

    With ``order`` the elimination order, ``A = W[order][:, order] = L U`` (``L`` unit lower,
    ``U`` upper), both stored in place in one flat vector of the nonzeros of ``A`` after fill.

    Attributes:
        size: ``n``.
        order: ``(n,)`` elimination order.
        rows, cols: ``(nnz,)`` position in ``W`` (original numbering) of each stored entry.
        flops: multiplications, divisions and subtractions of one factorisation.
    """

    def __init__(self, pattern: np.ndarray):
        pattern = np.asarray(pattern, dtype=bool)
        n = pattern.shape[0]
        if pattern.shape != (n, n):
            raise ValueError(f"pattern must be square, got shape {pattern.shape}")
        self.size = n
        self.order = minimum_degree_order(pattern)
        filled = (pattern | np.eye(n, dtype=bool))[np.ix_(self.order, self.order)]
        self._below, self._right = [], []
        for k in range(n):
            below = np.flatnonzero(filled[k + 1 :, k]) + k + 1
            right = np.flatnonzero(filled[k, k + 1 :]) + k + 1
            filled[np.ix_(below, right)] = True
            self._below.append(tuple(int(i) for i in below))
            self._right.append(tuple(int(j) for j in right))
        # Column k of U above the diagonal, for the transposed solve.
        self._above = [tuple(int(i) for i in np.flatnonzero(filled[:k, k])) for k in range(n)]
        permuted_rows, permuted_cols = np.nonzero(filled)
        self._index = {
            (int(i), int(j)): m for m, (i, j) in enumerate(zip(permuted_rows, permuted_cols))
        }
        self.rows = self.order[permuted_rows]
        self.cols = self.order[permuted_cols]
        self.flops = sum(len(b) * (1 + 2 * len(r)) for b, r in zip(self._below, self._right))

    @property
    def nnz(self) -> int:
        """Stored entries, fill included."""
        return len(self._index)

    def factorise(self, values: Float[Array, " nnz"]) -> Float[Array, " nnz"]:
        """The factors of the matrix with ``W[rows[m], cols[m]] = values[m]`` (entries of
        the fill that are not in ``W``'s pattern must be 0)."""
        entry = dict(zip(self._index, _scalars(values)))
        for k in range(self.size):
            inverse_pivot = 1.0 / entry[k, k]
            for i in self._below[k]:
                multiplier = entry[i, k] * inverse_pivot
                entry[i, k] = multiplier
                for j in self._right[k]:
                    entry[i, j] = entry[i, j] - multiplier * entry[k, j]
        return jnp.stack([entry[key] for key in self._index])

    def solve(self, factors: Float[Array, " nnz"], right: Float[Array, " n"]) -> Array:
        """``x`` with ``W x = right``."""
        value = dict(zip(self._index, _scalars(factors)))
        x = _scalars(right[self.order])
        for k in range(self.size):  # L, unit lower
            for i in self._below[k]:
                x[i] = x[i] - value[i, k] * x[k]
        for k in reversed(range(self.size)):  # U
            for j in self._right[k]:
                x[k] = x[k] - value[k, j] * x[j]
            x[k] = x[k] / value[k, k]
        return _unpermute(jnp.stack(x), self.order)

    def solve_transposed(self, factors: Float[Array, " nnz"], right: Float[Array, " n"]) -> Array:
        """``x`` with ``W^T x = right`` (``W^T`` permuted is ``U^T L^T``)."""
        value = dict(zip(self._index, _scalars(factors)))
        x = _scalars(right[self.order])
        for k in range(self.size):  # U^T, lower
            for i in self._above[k]:
                x[k] = x[k] - value[i, k] * x[i]
            x[k] = x[k] / value[k, k]
        for k in reversed(range(self.size)):  # L^T, unit upper
            for i in self._below[k]:
                x[k] = x[k] - value[i, k] * x[i]
        return _unpermute(jnp.stack(x), self.order)


def _scalars(vector):
    return list(jnp.unstack(vector)) if vector.shape[0] else []


def _unpermute(permuted, order):
    return jnp.zeros_like(permuted).at[order].set(permuted)
