"""The Jacobian's structure with cut variables: the intermediates that summarise many states
into few values become unknowns of their own, so that the pattern stays sparse."""

import jax
import jax.extend as jex
import jax.numpy as jnp
import numpy as np

from plastic.sparsity.primitives import _none, _Value
from plastic.sparsity.propagate import _constants, _propagate

MAX_CUT_SIZE = 16
"""Largest intermediate (in elements) that may become a cut variable."""

MIN_CUT_DEPENDENCIES = 6
"""Fewest state entries each element of an intermediate must depend on to become a cut."""


class JacobianStructure:
    """The sparsity of ``f``'s Jacobian, with cut variables that keep it sparse.

    A few intermediates of ``f`` summarise many states into few values (the current through
    each spine neck reads every node of the dendrite that the spine could sit on, and every
    node feels it back). Through them the Jacobian ``df/dy`` is dense in blocks, although it
    is a sparse matrix plus a product of thin ones. Such an intermediate ``z = g(y, z_earlier)``
    is cut: it becomes an unknown of its own, ``f = h(y, z)``, and the Jacobian is held as the
    augmented matrix

        M = [[dh/dy, dh/dz], [dg/dy, dg/dz]]     (``(n + m, n + m)``, ``dg/dz`` strictly lower)

    whose pattern stays sparse. A linear system ``(D - df/dy) x = b`` with ``D`` diagonal is
    then ``(diag(D, 1) - M) [x; x_z] = [b; 0]``: eliminating ``x_z`` gives back the original.

    Attributes:
        n_states: ``n``, the size of ``y``.
        n_cut: ``m``, the total size of the cut variables.
        pattern: ``(n + m, n + m)`` boolean, the entries of ``M`` that can be nonzero.
        cuts: per cut variable, ``(equation index, output index, offset)`` in the top-level
            jaxpr: its elements are unknowns ``offset .. offset + size - 1``.
    """

    def __init__(self, n_states, n_cut, pattern, cuts):
        self.n_states = n_states
        self.n_cut = n_cut
        self.pattern = pattern
        self.cuts = cuts


def jacobian_structure(
    closed_jaxpr: jex.core.ClosedJaxpr,
    argnum: int,
    max_cut_size: int = MAX_CUT_SIZE,
    min_cut_dependencies: int = MIN_CUT_DEPENDENCIES,
) -> JacobianStructure:
    """The structure of ``d outputs / d input[argnum]`` of a jaxpr, with cut variables.

    Args:
        closed_jaxpr: the function, e.g. from ``jax.make_jaxpr(f)(*args)`` (a pytree argument
            gives one input per leaf; ``argnum`` counts the jaxpr's flat inputs). Its outputs
            are raveled and concatenated; they must have as many elements as the input.
        argnum: which flat input ``y`` to differentiate by; it must be 1-D.
        max_cut_size, min_cut_dependencies: a top-level intermediate of at most
            ``max_cut_size`` elements is cut when each element depends on at least
            ``max(min_cut_dependencies, size)`` entries of ``y`` and earlier cuts. Set
            ``max_cut_size=0`` for the plain pattern of ``df/dy``.
    """
    jaxpr = closed_jaxpr.jaxpr
    wrt = jaxpr.invars[argnum].aval
    if len(wrt.shape) != 1:
        raise ValueError(f"argnum {argnum}: the input must be 1-D, got shape {wrt.shape}")
    n = wrt.shape[0]
    width = n + max(0, max_cut_size) * 8
    inputs = []
    for k, var in enumerate(jaxpr.invars):
        dependency = _none(var.aval.shape, width)
        if k == argnum:
            dependency[:, :n] = np.eye(n, dtype=bool)
        inputs.append(_Value(dependency))
    cuts, cut_rows = [], []
    offset = n

    def cut(index, position, result):
        """Make ``result`` new unknowns if it summarises many states into few values."""
        nonlocal offset
        shape = result.dependency.shape[:-1]
        size = int(np.prod(shape, dtype=int))
        rows = result.dependency.reshape(size, width)
        if not (
            0 < size <= max_cut_size
            and offset + size <= width
            and rows.sum(1).min() >= max(min_cut_dependencies, size)
        ):
            return result
        cuts.append((index, position, offset))
        cut_rows.append(rows.copy())
        identity = np.zeros((size, width), bool)
        identity[:, offset : offset + size] = np.eye(size, dtype=bool)
        offset += size
        return _Value(identity.reshape(*shape, width))

    consts = _constants(closed_jaxpr.consts, width)
    with jax.ensure_compile_time_eval():
        results = _propagate(jaxpr, consts, inputs, width, on_result=cut)
    outputs = [result.dependency.reshape(-1, width) for result in results]
    state_rows = np.concatenate(outputs or [np.zeros((0, width), bool)])
    if state_rows.shape[0] != n:
        raise ValueError(f"the outputs have {state_rows.shape[0]} elements, the input {n}")
    pattern = np.concatenate([state_rows, *cut_rows])[:, :offset]
    return JacobianStructure(n, offset - n, pattern, tuple(cuts))


def jacobian_sparsity(closed_jaxpr: jex.core.ClosedJaxpr, argnum: int) -> np.ndarray:
    """Which entries of ``d outputs / d input[argnum]`` can be nonzero: a boolean ``(n, n)``
    array (see `jacobian_structure`; here without cut variables)."""
    return jacobian_structure(closed_jaxpr, argnum, max_cut_size=0).pattern


def evaluate_with_cuts(closed_jaxpr, structure: JacobianStructure, args, cut_perturbation):
    """Evaluate the jaxpr with its cut variables made independent, for the augmented Jacobian.

    Each cut variable ``z`` is replaced downstream by ``stop_gradient(z) + dz``, with ``dz``
    the slice of ``cut_perturbation`` (``(m,)``, zero in value) at its offset.

    Returns:
        ``(f, z)``: the outputs raveled and concatenated, ``(n,)``, and the cut variables
        before the replacement, ``(m,)``. Forward-mode derivatives of this function give
        ``M``'s columns: along ``y``, ``[dh/dy; dg/dy]``; along ``dz``, ``[dh/dz; dg/dz]``.
    """
    jaxpr = closed_jaxpr.jaxpr
    n = structure.n_states
    cut_at = {(index, position): offset for index, position, offset in structure.cuts}
    env = {}

    def read(atom):
        return atom.val if isinstance(atom, jex.core.Literal) else env[atom]

    for var, value in zip(jaxpr.constvars, closed_jaxpr.consts):
        env[var] = value
    for var, value in zip(jaxpr.invars, args):
        env[var] = value
    cut_values = []
    for index, eqn in enumerate(jaxpr.eqns):
        params = eqn.primitive.get_bind_params(eqn.params)
        with eqn.ctx.manager:
            answer = eqn.primitive.bind(*[read(atom) for atom in eqn.invars], **params)
        answers = answer if eqn.primitive.multiple_results else [answer]
        for position, (var, value) in enumerate(zip(eqn.outvars, answers)):
            offset = cut_at.get((index, position))
            if offset is not None:
                cut_values.append(value.reshape(-1))
                size = value.size
                shift = cut_perturbation[offset - n : offset - n + size].reshape(value.shape)
                value = jax.lax.stop_gradient(value) + shift
            env[var] = value
    outputs = jnp.concatenate([jnp.ravel(read(atom)) for atom in jaxpr.outvars])
    cuts = jnp.concatenate(cut_values) if cut_values else jnp.zeros((0,), outputs.dtype)
    return outputs, cuts
