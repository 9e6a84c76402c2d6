"""A solve's outcome, carried out of compiled code as an integer and checked on the host.

diffrax raises a failed solve (its step limit, a step size that shrank to nothing or to NaN)
with `eqx.error_if`, a host callback inside the compiled program: JAX's persistent compilation
cache does not keep such a program and `jax.export` refuses it. So every solve in plastic runs
with ``throw=False`` and returns its diffrax result code as an int array (``solver_result``: 0
for success, one per condition when batched); whoever called the compiled function checks it
(`raise_if_failed`) and names what failed. Inside a computation a failure becomes NaN
(`nan_where_failed`), never a finite number: a fit rejects the step, a band counts the draw.
A function that is called eagerly (not under `jax.jit` or `jax.vmap`) checks at once
(`raise_if_concrete`), so that no user sees a failed solve's numbers without an error.

diffrax also checks its arguments with `eqx.error_if` whatever ``throw`` says (``dt0`` has the
sign of ``t1 - t0``; save times are sorted and inside ``[t0, t1]``), and those checks are
callbacks too when the times are traced. `diffeqsolve` solves with ``throw=False`` and traces
the solve with equinox's errors set to NaN (``EQX_ON_ERROR=nan``, for this solve only): a
violated check makes the solution NaN, never a callback. Every solve of plastic goes through it.
What it cannot reach: a gradient is traced after the solve returns, and the transpose of a
lineax solve throws whatever it is told, so a gradient through diffrax's implicit solvers
(Kvaerno5, a ``SolverSettings.solver`` choice) still holds a callback; plastic's `Rodas5`
(jax.lax.linalg, no lineax) does not, and it is what every default solve and the replay use.
"""

import contextlib
from collections.abc import Sequence

import diffrax
import equinox._errors
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int, PyTree

from plastic._validation import is_concrete

SUCCESS = 0
"""The code of a successful solve."""

_OK = (int(diffrax.RESULTS.successful._value), int(diffrax.RESULTS.event_occurred._value))

_NAMES = {
    int(getattr(diffrax.RESULTS, name)._value): words
    for name, words in (
        ("max_steps_reached", "the maximum number of solver steps was reached"),
        ("dt_min_reached", "the step size fell to its minimum"),
        ("max_steps_rejected", "too many steps were rejected"),
        ("singular", "a linear solve returned NaN or inf (a singular Jacobian)"),
        ("nonlinear_max_steps_reached", "a nonlinear solve reached its step limit"),
        ("nonlinear_divergence", "a nonlinear solve diverged"),
        ("internal_error", "diffrax reported an internal error"),
    )
}


class SolveFailedError(RuntimeError):
    """A solve did not reach its end time; the message says what failed and why.

    Attributes:
        codes: the diffrax result code of each failed solve (or condition).
    """

    def __init__(self, message: str, codes: Sequence[int] = ()):
        super().__init__(message)
        self.codes = tuple(int(c) for c in codes)


def diffeqsolve(*args, **kwargs) -> tuple[diffrax.Solution, Int[Array, ""]]:
    """`diffrax.diffeqsolve` (same arguments) without host callbacks: ``throw=False``, its
    argument checks NaN instead of callbacks (see the module docstring). Returns the solution
    and its result code (`solver_result`)."""
    if "throw" in kwargs:
        raise ValueError("plastic's solves never throw: check the returned result code")
    with _errors_as_nan():
        solution = diffrax.diffeqsolve(*args, throw=False, **kwargs)
    return solution, solver_result(solution)


@contextlib.contextmanager
def _errors_as_nan():
    # equinox reads its on-error mode from a module global when it traces an error_if, and
    # offers no public way to set it for one call. Its jitted error_if caches traces made in
    # "raise" mode (by any earlier diffrax call of the same shapes): the unjitted one traces
    # anew. A user debugging with EQX_ON_ERROR=breakpoint (or off) keeps theirs.
    errors = equinox._errors
    mode, jitted = errors.EQX_ON_ERROR, errors.branched_error_if_impl_jit
    if mode == "raise":
        errors.EQX_ON_ERROR = "nan"
        errors.branched_error_if_impl_jit = errors.branched_error_if_impl
    try:
        yield
    finally:
        errors.EQX_ON_ERROR, errors.branched_error_if_impl_jit = mode, jitted


def solver_result(solution: diffrax.Solution) -> Int[Array, ""]:
    """The result code of a diffrax ``solution`` (solved with ``throw=False``), an int32 array:
    0 on success."""
    return jnp.asarray(solution.result._value, dtype=jnp.int32)


def failed(code) -> Array:
    """Whether each code (array) is a failure."""
    code = jnp.asarray(code)
    return (code != _OK[0]) & (code != _OK[1])


def combined(codes: PyTree) -> Int[Array, ""]:
    """One code for all ``codes`` (arrays of any shape, or None leaves): 0 if every solve
    succeeded, else the largest failure code."""
    leaves = [jnp.ravel(c) for c in jax.tree.leaves(codes)]
    if not leaves:
        return jnp.zeros((), jnp.int32)
    every = jnp.concatenate(leaves).astype(jnp.int32)
    return jnp.max(jnp.where(failed(every), every, SUCCESS), initial=SUCCESS)


def results_in(tree: PyTree) -> Int[Array, ""]:
    """The `combined` code of every ``solver_result`` attribute found in ``tree`` (e.g. the
    `plastic.simulate.Simulation` objects an experiment's run returns); 0 if there is none."""
    found = [
        node.solver_result
        for node in jax.tree.leaves(tree, is_leaf=lambda x: hasattr(x, "solver_result"))
        if hasattr(node, "solver_result")
    ]
    return combined(found)


def nan_where_failed(tree: PyTree, code) -> PyTree:
    """``tree`` with every inexact leaf NaN where ``code`` (broadcast against the leaf's leading
    axes) is a failure; gradients where it succeeded are unchanged."""
    bad = failed(code)

    def mask(x):
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.inexact):
            return x
        where = jnp.reshape(bad, bad.shape + (1,) * (x.ndim - bad.ndim))
        return jnp.where(where, jnp.nan, x)

    return jax.tree.map(mask, tree)


def describe(code: int) -> str:
    """What a failure ``code`` means, in words."""
    return _NAMES.get(int(code), f"diffrax result code {int(code)}")


def failures(codes) -> dict[int, list[int]]:
    """Failure code -> the flat indices of the entries of ``codes`` (host array) that have it."""
    flat = np.ravel(np.asarray(codes))
    bad = np.flatnonzero(np.asarray(failed(flat)))
    found: dict[int, list[int]] = {}
    for index in bad:
        found.setdefault(int(flat[index]), []).append(int(index))
    return found


def raise_if_failed(codes, what: str, labels: Sequence[str] | None = None, hint: str = ""):
    """Raise `SolveFailedError` if any of ``codes`` (host values: a scalar, or one per condition)
    is a failure, naming ``what`` was solved, why it failed and, given ``labels`` (one per
    code, e.g. a condition's values), which ones (at most 5 named); ``hint`` is appended."""
    found = failures(codes)
    if not found:
        return
    n = int(np.size(codes))
    parts = []
    for code, indices in sorted(found.items()):
        reason = describe(code)
        if labels is None or n == 1:
            parts.append(reason if n == 1 else f"{reason} in {len(indices)} of {n}")
            continue
        named = "; ".join(labels[i] for i in indices[:5])
        more = f" and {len(indices) - 5} more" if len(indices) > 5 else ""
        parts.append(f"{reason} in {len(indices)} of {n}: {named}{more}")
    message = f"{what}: the solve failed: " + "; ".join(parts)
    raise SolveFailedError(message + (f"; {hint}" if hint else ""), sorted(found))


def raise_if_concrete(code, what: str) -> None:
    """`raise_if_failed` when ``code`` is a concrete value (an eager call); under `jax.jit` or
    `jax.vmap` it is a tracer and the caller of the compiled function checks it."""
    if is_concrete(code):
        raise_if_failed(code, what)
