"""LU factorisation of matrices with a fixed sparsity pattern, level by level.

Why: a Rosenbrock step of the spine model factorises an ``(n, n)`` matrix with ``n`` near 90 of
which a few percent of entries can be nonzero. Dense LU spends its time on zeros, and under
``jax.vmap`` jaxlib's LAPACK kernels factorise one matrix after another.

The elimination order is chosen once, by minimum degree on the symmetrised pattern, and then
kept: there is no pivoting. That is safe for the matrices it is built for,
``W = I / (h gamma) - J`` of a stiff ODE, whose diagonal dominates at small ``h``; at large
``h`` a poor pivot shows as a large error estimate and the step-size controller rejects the
step.

Pivots are then grouped in levels: a pivot's level is one more than the highest level of the
pivots whose elimination updates its row or column, so the pivots of one level are independent.
Renumbered level by level, the factor entries of a level's pivots (its rows of ``U`` and columns
of ``L``) are computed together from those of earlier levels, left-looking,

    U[k, j] = A[k, j] - sum_p L[k, p] U[p, j],
    L[i, k] = (A[i, k] - sum_p L[i, p] U[p, k]) / U[k, k],

as one gather, product and sum written into one contiguous slice; the triangular solves go
level by level the same way. A program holds a few operations per level (about 20 levels for
the spine model) instead of one per flop (about 3,300), so it compiles in seconds, not minutes.
Under ``jax.vmap`` the batch becomes the trailing axis of every array
(`jax.custom_batching.custom_vmap`), so each gather moves contiguous runs of the batch. The
factorisation is not differentiable: the Rosenbrock step's reverse mode is written out and only
solves with the factors (`plastic.rosenbrock.stages`).
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, Float


def minimum_degree_order(pattern: np.ndarray, slack: int = 1) -> np.ndarray:
    """An elimination order of the ``(n, n)`` boolean ``pattern`` that keeps fill small and
    levels few: repeatedly eliminate, among the nodes whose degree is at most ``slack`` above
    the least in the graph of ``pattern | pattern.T``, the one with the shortest chain of
    eliminated nodes behind it (then the fewest neighbours, then the lowest index), joining its
    neighbours into a clique.

    Why the chain: plain minimum degree eliminates a cable from one end to the other, one level
    per compartment; preferring short chains eliminates it from its ends and branches at once.
    """
    n = pattern.shape[0]
    symmetric = pattern | pattern.T
    neighbours = [set(np.flatnonzero(symmetric[i])) - {i} for i in range(n)]
    chain = [0] * n
    remaining = set(range(n))
    order = []
    while remaining:
        least = min(len(neighbours[i]) for i in remaining)
        candidates = [i for i in remaining if len(neighbours[i]) <= least + slack]
        pivot = min(candidates, key=lambda i: (chain[i], len(neighbours[i]), i))
        order.append(pivot)
        remaining.remove(pivot)
        for i in neighbours[pivot]:
            neighbours[i] |= neighbours[pivot] - {i}
            neighbours[i].discard(pivot)
            chain[i] = max(chain[i], chain[pivot] + 1)
    return np.asarray(order)


def _fill(pattern: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The pattern of ``L + U`` for ``pattern`` eliminated in ``order`` (renumbered)."""
    n = pattern.shape[0]
    filled = (pattern | np.eye(n, dtype=bool))[np.ix_(order, order)]
    for k in range(n):
        below = np.flatnonzero(filled[k + 1 :, k]) + k + 1
        right = np.flatnonzero(filled[k, k + 1 :]) + k + 1
        filled[np.ix_(below, right)] = True
    return filled


def _levels(filled: np.ndarray) -> np.ndarray:
    """Each pivot's level: one more than the highest of the pivots it depends on."""
    n = filled.shape[0]
    level = np.zeros(n, dtype=int)
    for k in range(n):
        dependent = np.flatnonzero(filled[k + 1 :, k] | filled[k, k + 1 :]) + k + 1
        level[dependent] = np.maximum(level[dependent], level[k] + 1)
    return level


def _padded(rows: list, dummy: int) -> np.ndarray:
    """Ragged index lists as one ``(len(rows), width)`` array, padded with ``dummy``."""
    width = max([1] + [len(row) for row in rows])
    out = np.full((len(rows), width), dummy, dtype=np.int32)
    for r, row in enumerate(rows):
        out[r, : len(row)] = row
    return out


class SparseLU:
    """The symbolic factorisation of a sparsity pattern, and the numeric code it generates.

    With ``order`` the elimination order, ``A = W[order][:, order] = L U`` (``L`` unit lower,
    ``U`` upper), both stored in one flat vector of the nonzeros of ``A`` after fill, grouped
    by level, with a zero after them (the target of padded gathers).

    Attributes:
        size: ``n``.
        order: ``(n,)`` elimination order, level by level.
        n_levels: levels of independent pivots.
        rows, cols: ``(nnz,)`` position in ``W`` (original numbering) of each stored entry.
        flops: multiplications, divisions and subtractions of one factorisation.
    """

    def __init__(self, pattern: np.ndarray):
        pattern = np.asarray(pattern, dtype=bool)
        n = pattern.shape[0]
        if pattern.shape != (n, n):
            raise ValueError(f"pattern must be square, got shape {pattern.shape}")
        self.size = n
        first = minimum_degree_order(pattern)
        # Any order of the pivots that keeps dependencies gives the same fill and factors.
        self.order = first[np.argsort(_levels(_fill(pattern, first)), kind="stable")]
        self._inverse = np.argsort(self.order)
        filled = _fill(pattern, self.order)
        level = _levels(filled)
        if np.any(np.diff(level) < 0):
            raise AssertionError("the pivots renumbered by level do not keep their dependencies")
        self.n_levels = int(level.max()) + 1 if n else 0
        bounds = np.searchsorted(level, np.arange(self.n_levels + 1))
        entries, blocks = [], []
        for start, stop in zip(bounds[:-1], bounds[1:]):
            first_entry = len(entries)
            for k in range(start, stop):  # rows of U
                entries += [(k, int(j)) for j in np.flatnonzero(filled[k, k:]) + k]
            for k in range(start, stop):  # columns of L
                entries += [(int(i), k) for i in np.flatnonzero(filled[k + 1 :, k]) + k + 1]
            blocks.append((first_entry, len(entries), int(start), int(stop)))
        index = {entry: m for m, entry in enumerate(entries)}
        self._nnz = len(entries)
        self.rows = self.order[np.array([i for i, _ in entries], dtype=int)]
        self.cols = self.order[np.array([j for _, j in entries], dtype=int)]

        zero, free = self._nnz, n  # the padding targets: the zero entry, the zero unknown
        self._factor_plan, self.flops = [], 0
        for first_entry, last_entry, _, _ in blocks:
            left, right, diagonal = [], [], []
            for i, j in entries[first_entry:last_entry]:
                k = min(i, j)
                shared = np.flatnonzero(filled[i, :k] & filled[:k, j])
                left.append([index[i, p] for p in shared])
                right.append([index[p, j] for p in shared])
                diagonal.append(index[k, k] - first_entry)
                self.flops += 2 * len(shared) + (i > j)
            lower = np.array([i > j for i, j in entries[first_entry:last_entry]])
            self._factor_plan.append(
                (first_entry, last_entry, _padded(left, zero), _padded(right, zero),
                 np.asarray(diagonal, dtype=np.int32), lower)
            )  # fmt: skip

        def plan(start, stop, neighbours, divide):
            """Per unknown of ``start:stop``: the factor entries and unknowns it subtracts."""
            ks = range(start, stop)
            pairs = [[(index[key], other) for key, other in neighbours(k)] for k in ks]
            diagonal = np.asarray([index[k, k] for k in ks], dtype=np.int32) if divide else None
            return (
                start,
                stop,
                _padded([[e for e, _ in row] for row in pairs], zero),
                _padded([[o for _, o in row] for row in pairs], free),
                diagonal,
            )

        def row_of_l(k):
            return [((k, p), p) for p in np.flatnonzero(filled[k, :k])]

        def row_of_u(k):
            return [((k, j), j) for j in np.flatnonzero(filled[k, k + 1 :]) + k + 1]

        def column_of_u(k):
            return [((p, k), p) for p in np.flatnonzero(filled[:k, k])]

        def column_of_l(k):
            return [((i, k), i) for i in np.flatnonzero(filled[k + 1 :, k]) + k + 1]

        levels = [(start, stop) for _, _, start, stop in blocks]
        # W x = b: L forward, then U backward. W^T x = b: U^T forward, then L^T backward.
        self._solve_plan = (
            [plan(*lv, row_of_l, False) for lv in levels],
            [plan(*lv, row_of_u, True) for lv in reversed(levels)],
        )
        self._transposed_plan = (
            [plan(*lv, column_of_u, True) for lv in levels],
            [plan(*lv, column_of_l, False) for lv in reversed(levels)],
        )
        self._factorise = _trailing_batch(self._factorise_values)
        self._solve = _trailing_batch(lambda f, b: self._substitute(f, b, self._solve_plan))
        self._solve_transposed = _trailing_batch(
            lambda f, b: self._substitute(f, b, self._transposed_plan)
        )

    @property
    def nnz(self) -> int:
        """Stored entries, fill included."""
        return self._nnz

    def factorise(self, values: Float[Array, " nnz"]) -> Float[Array, " nnz+1"]:
        """The factors of the matrix with ``W[rows[m], cols[m]] = values[m]`` (entries of
        the fill that are not in ``W``'s pattern must be 0)."""
        return self._factorise(values)

    def solve(self, factors: Float[Array, " nnz+1"], right: Float[Array, " n"]) -> Array:
        """``x`` with ``W x = right``."""
        return self._solve(factors, right)

    def solve_transposed(self, factors: Float[Array, " nnz+1"], right: Float[Array, " n"]) -> Array:
        """``x`` with ``W^T x = right``."""
        return self._solve_transposed(factors, right)

    def _factorise_values(self, values):
        """`factorise` on ``values`` of shape ``(nnz, *batch)``."""
        batch = values.shape[1:]
        factors = jnp.concatenate([values, jnp.zeros((1, *batch), values.dtype)])
        for first_entry, last_entry, left, right, diagonal, lower in self._factor_plan:
            reduced = factors[first_entry:last_entry] - jnp.sum(
                factors[left] * factors[right], axis=1
            )
            lower = lower.reshape(lower.shape + (1,) * len(batch))
            block = jnp.where(lower, reduced / reduced[diagonal], reduced)
            factors = lax.dynamic_update_slice(factors, block, (first_entry,) + (0,) * len(batch))
        return factors

    def _substitute(self, factors, right, plan):
        """Forward then backward substitution by ``plan``, on ``right`` of shape
        ``(n, *batch)`` and ``factors`` of shape ``(nnz + 1, *batch)``."""
        batch = right.shape[1:]
        x = jnp.concatenate([right[self.order], jnp.zeros((1, *batch), right.dtype)])
        for start, stop, entries, unknowns, diagonal in plan[0] + plan[1]:
            reduced = x[start:stop] - jnp.sum(factors[entries] * x[unknowns], axis=1)
            if diagonal is not None:
                reduced = reduced / factors[diagonal]
            x = lax.dynamic_update_slice(x, reduced, (start,) + (0,) * len(batch))
        return x[self._inverse]


def _trailing_batch(function):
    """``function`` of arrays with the batch as trailing axes, whose `jax.vmap` moves the
    mapped axis to the end (broadcasting unmapped arguments) instead of batching its gathers."""

    @jax.custom_batching.custom_vmap
    def batched(*arrays):
        return function(*arrays)

    @batched.def_vmap
    def _(axis_size, in_batched, *arrays):
        moved = [
            jnp.moveaxis(a, 0, -1)
            if mapped
            else jnp.broadcast_to(a[..., None], a.shape + (axis_size,))
            for a, mapped in zip(arrays, in_batched)
        ]
        return jnp.moveaxis(batched(*moved), -1, 0), True

    return batched
