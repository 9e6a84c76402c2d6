"""A multi-start fit split between the processes of a multi-process JAX run (`jax.distributed`):
process i fits starts i, i + n, i + 2n, ... of the same drawn starts, on its own devices, and
the finished starts are gathered back in their order, so that every process returns the result
one process would."""

import dataclasses

import jax
import numpy as np
from jaxtyping import PyTree


@dataclasses.dataclass(frozen=True)
class StartShare:
    """Which starts this process fits.

    Attributes:
        assigned: ``(n_processes, per_process)`` start indices: row p the starts of process p,
            padded with repeats of its last (or of start 0 if it has none), so that every
            process fits as many and the gathered arrays have one shape.
        process: this process's index.
    """

    assigned: np.ndarray
    process: int

    @property
    def local(self) -> np.ndarray:
        """This process's start indices (with padding)."""
        return self.assigned[self.process]

    @property
    def n_processes(self) -> int:
        return self.assigned.shape[0]


def start_share(n_starts: int) -> StartShare | None:
    """This process's share of ``n_starts`` starts; None when it runs alone."""
    n_processes = jax.process_count()
    if n_processes == 1:
        return None
    per_process = -(-n_starts // n_processes)
    assigned = np.zeros((n_processes, per_process), dtype=int)
    for p in range(n_processes):
        own = list(range(p, n_starts, n_processes)) or [0]
        assigned[p] = (own + [own[-1]] * per_process)[:per_process]
    return StartShare(assigned, jax.process_index())


def gather_starts(local: PyTree, share: StartShare, n_starts: int, axis: int = 0) -> PyTree:
    """Every process's ``local`` arrays (this process's starts along ``axis``) as one array per
    leaf with all ``n_starts`` starts along ``axis``, in start order; the same in every
    process."""
    from jax.experimental import multihost_utils

    # The first place each start was fitted (padding repeats a start already there).
    flat = share.assigned.reshape(-1)
    position = np.array([int(np.flatnonzero(flat == s)[0]) for s in range(n_starts)])

    def one(x):
        x = np.moveaxis(np.asarray(x), axis, 0)
        gathered = np.asarray(multihost_utils.process_allgather(x))  # (n_processes, per, ...)
        every = gathered.reshape((-1,) + x.shape[1:])[position]
        return np.moveaxis(every, 0, axis)

    return jax.tree.map(one, local)
