"""A colouring of a pattern's columns, for Jacobians from few forward-mode directions."""

import numpy as np


def column_colouring(pattern: np.ndarray) -> np.ndarray:
    """A colour per column of the boolean ``(m, n)`` ``pattern`` such that columns of one
    colour share no row (greedy, in column order): one forward-mode derivative along the sum
    of a colour's unit vectors gives all of their columns."""
    overlap = (pattern.T.astype(int) @ pattern.astype(int)) > 0
    colour = -np.ones(pattern.shape[1], dtype=int)
    for j in range(pattern.shape[1]):
        taken = set(colour[np.flatnonzero(overlap[j, :j])])
        colour[j] = next(c for c in range(pattern.shape[1]) if c not in taken)
    return colour
