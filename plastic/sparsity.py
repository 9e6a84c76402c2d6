"""The structural sparsity pattern of a Jacobian, read from the function's jaxpr.

Why structural, not sampled: a pattern taken from Jacobians evaluated at a few points misses
every entry that happens to vanish there (a drug at zero conductance, a receptor that only
feels glutamate during a pulse), and it needs concrete parameter values, which a solve under
``jax.vmap`` or ``jax.grad`` does not have. Here each intermediate value of the jaxpr carries,
per element, the set of input elements it depends on (a boolean array with one more trailing
axis of length ``n``), propagated primitive by primitive. The pattern contains every entry that
can be nonzero for some parameter values; it may contain more (a conservative rule for a
primitive that has no exact one), never fewer.

Only value-independent facts are used: a matrix product, a gather with indices that are not
constants, a linear solve: each counts every entry that could contribute. Values are folded
only where all inputs are constants (index arithmetic on literals).
"""

import functools

import jax
import jax.extend as jex
import jax.numpy as jnp
import numpy as np

# Piecewise constant in their inputs, so their outputs carry no derivative.
_ZERO_DERIVATIVE = {
    "lt",
    "le",
    "gt",
    "ge",
    "eq",
    "ne",
    "and",
    "or",
    "not",
    "xor",
    "sign",
    "floor",
    "ceil",
    "round",
    "is_finite",
    "stop_gradient",
    "iota",
    "argmax",
    "argmin",
    "shift_left",
    "shift_right_logical",
    "shift_right_arithmetic",
    "population_count",
    "reduce_or",
    "reduce_and",
    "lt_to",
    "le_to",
    "random_bits",
    "random_seed",
    "random_wrap",
    "random_unwrap",
}

# Elementwise in all their array operands: an output element depends on the elements at the
# same position (after the implicit broadcast of rank-0 operands).
_ELEMENTWISE = {
    "abs",
    "acos",
    "acosh",
    "add",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cbrt",
    "clamp",
    "conj",
    "convert_element_type",
    "copy",
    "copy_p",
    "cos",
    "cosh",
    "digamma",
    "div",
    "erf",
    "erf_inv",
    "erfc",
    "exp",
    "exp2",
    "expm1",
    "imag",
    "integer_pow",
    "lgamma",
    "log",
    "log1p",
    "logistic",
    "max",
    "min",
    "mul",
    "neg",
    "nextafter",
    "pow",
    "real",
    "reduce_precision",
    "rem",
    "rsqrt",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "sub",
    "tan",
    "tanh",
}

# Operands after the first ``k`` (the data) are indices; exact when the indices are constants.
_INDEXED = {"dynamic_slice": 1, "dynamic_update_slice": 2, "gather": 1}
_SCATTER = {"scatter", "scatter-add", "scatter_add"}


MAX_CUT_SIZE = 16
"""Largest intermediate (in elements) that may become a cut variable."""

MIN_CUT_DEPENDENCIES = 6
"""Fewest state entries each element of an intermediate must depend on to become a cut."""


class _Value:
    """What is known about one jaxpr variable: its dependency array (``shape + (width,)``,
    bool) and, if it depends on constants only, its value."""

    __slots__ = ("dependency", "value")

    def __init__(self, dependency, value=None):
        self.dependency = dependency
        self.value = value


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


def _none(shape, n):
    return np.zeros((*shape, n), dtype=bool)


def _constants(values, n):
    return [_Value(_none(np.shape(value), n), np.asarray(value)) for value in values]


def _propagate(jaxpr, consts, inputs, n, on_result=None):
    """The `_Value` of every output of ``jaxpr``, equation by equation. ``on_result(equation
    index, output index, value)``, if given, may replace each differentiable result."""
    known = {}

    def read(atom):
        if isinstance(atom, jex.core.Literal):
            value = np.asarray(atom.val)
            return _Value(_none(value.shape, n), value)
        return known[atom]

    for var, value in zip(jaxpr.constvars, consts):
        known[var] = value
    for var, value in zip(jaxpr.invars, inputs):
        known[var] = value
    for index, eqn in enumerate(jaxpr.eqns):
        results = _equation(eqn, [read(atom) for atom in eqn.invars], n)
        for position, (var, result) in enumerate(zip(eqn.outvars, results)):
            if not _differentiable(var.aval):
                result = _Value(_none(var.aval.shape, n), result.value)
            elif on_result is not None:
                result = on_result(index, position, result)
            known[var] = result
    return [read(atom) for atom in jaxpr.outvars]


def _differentiable(aval):
    return np.issubdtype(aval.dtype, np.inexact)


def _equation(eqn, operands, n):
    name = eqn.primitive.name
    shapes = [var.aval.shape for var in eqn.outvars]
    constant = all(operand.value is not None for operand in operands)
    if constant and not eqn.primitive.multiple_results and not name.startswith(("random", "rng")):
        # Index arithmetic on literals: fold it, so that the gathers it feeds are exact.
        params = eqn.primitive.get_bind_params(eqn.params)
        value = np.asarray(eqn.primitive.bind(*[o.value for o in operands], **params))
        return [_Value(_none(shapes[0], n), value)]
    if name in _ZERO_DERIVATIVE:
        return [_Value(_none(shape, n)) for shape in shapes]
    if name in _ELEMENTWISE or name == "select_n":
        data = operands[1:] if name == "select_n" else operands
        dependency = functools.reduce(
            np.logical_or, [o.dependency for o in data], _none(shapes[0], n)
        )
        return [_Value(np.broadcast_to(dependency, (*shapes[0], n)).copy())]
    if name in _STRUCTURAL:
        return _STRUCTURAL[name](eqn.params, *[o.dependency for o in operands])
    if name in _INDEXED or name in _SCATTER:
        return _indexed(eqn, operands, n)
    if name == "dot_general":
        return [_dot_general(eqn, operands)]
    if name in ("jit", "pjit", "closed_call", "core_call", "remat", "checkpoint", "custom_lin"):
        inner = eqn.params.get("jaxpr") or eqn.params.get("call_jaxpr")
        return _call(inner, operands, n)
    if name in ("custom_jvp_call", "custom_vjp_call", "custom_vjp_call_jaxpr"):
        inner = eqn.params.get("call_jaxpr") or eqn.params.get("fun_jaxpr")
        return _call(inner, operands, n)
    if name == "cond":
        branches = [_call(branch, operands[1:], n) for branch in eqn.params["branches"]]
        return [
            _Value(functools.reduce(np.logical_or, [b[k].dependency for b in branches]))
            for k in range(len(shapes))
        ]
    if name == "scan":
        return _scan(eqn, operands, n)
    if name == "while":
        return _while(eqn, operands, n)
    return _every_output_on_every_input(shapes, operands, n)


def _every_output_on_every_input(shapes, operands, n):
    """The safe rule for anything else (a linear solve, a sort): every output element depends
    on every input element."""
    union = functools.reduce(
        np.logical_or, [o.dependency.reshape(-1, n).any(0) for o in operands], np.zeros(n, bool)
    )
    return [_Value(np.broadcast_to(union, (*shape, n)).copy()) for shape in shapes]


def _as_float(dependency):
    return np.asarray(dependency, dtype=np.float64)


def _indexed(eqn, operands, n):
    """Gathers, scatters and dynamic slices: applied to the dependency arrays as to data
    (batched over the trailing axis) when the indices are constants."""
    name = eqn.primitive.name
    n_data = _INDEXED.get(name, 1)
    data_positions = [0, 2] if name in _SCATTER else list(range(n_data))
    data = [operands[k] for k in data_positions]
    indices = [o for k, o in enumerate(operands) if k not in data_positions]
    if any(index.value is None for index in indices):
        # Indices unknown until run time: any data element could land anywhere.
        return _every_output_on_every_input([v.aval.shape for v in eqn.outvars], data, n)
    if name in _SCATTER:
        # Adding non-negative numbers where a scatter would overwrite gives a superset.
        def apply(operand, updates):
            return jax.lax.scatter_add(
                operand,
                indices[0].value,
                updates,
                eqn.params["dimension_numbers"],
                mode=eqn.params.get("mode"),
            )
    else:

        def apply(*data_arrays):
            args = [*data_arrays, *[index.value for index in indices]]
            return eqn.primitive.bind(*args, **eqn.params)

    out = jax.vmap(apply, in_axes=-1, out_axes=-1)(*[_as_float(d.dependency) for d in data])
    return [_Value(np.asarray(out) > 0)]


def _dot_general(eqn, operands):
    left, right = operands
    # Sum over the contracted axis: an output depends on a left element if the right factor
    # at that position can be nonzero, and vice versa; unknown factors may be anything.
    left_factor = _possibly_nonzero(right)
    right_factor = _possibly_nonzero(left)
    params = dict(eqn.params)
    params["preferred_element_type"] = np.float64
    apply = functools.partial(eqn.primitive.bind, **params)
    through_left = jax.vmap(apply, in_axes=(-1, None), out_axes=-1)(
        _as_float(left.dependency), left_factor
    )
    through_right = jax.vmap(apply, in_axes=(None, -1), out_axes=-1)(
        right_factor, _as_float(right.dependency)
    )
    return _Value((np.asarray(through_left) > 0) | (np.asarray(through_right) > 0))


def _possibly_nonzero(operand):
    shape = operand.dependency.shape[:-1]
    if operand.value is None:
        return np.ones(shape)
    return (np.asarray(operand.value) != 0).astype(np.float64)


def _call(closed, operands, n):
    if isinstance(closed, jex.core.ClosedJaxpr):
        jaxpr, const_values = closed.jaxpr, closed.consts
    else:
        jaxpr, const_values = closed, ()
    return _propagate(jaxpr, _constants(const_values, n), operands, n)


def _scan(eqn, operands, n):
    params = eqn.params
    n_consts, n_carry = params["num_consts"], params["num_carry"]
    consts = operands[:n_consts]
    carry = [_Value(o.dependency) for o in operands[n_consts : n_consts + n_carry]]
    # Each iteration sees one slice of the scanned inputs: the union over slices covers them all.
    xs = [_Value(o.dependency.any(0)) for o in operands[n_consts + n_carry :]]
    while True:
        out = _call(params["jaxpr"], [*consts, *carry, *xs], n)
        new_carry = [_Value(c.dependency | o.dependency) for c, o in zip(carry, out[:n_carry])]
        if all(np.array_equal(c.dependency, m.dependency) for c, m in zip(carry, new_carry)):
            break
        carry = new_carry
    ys = [
        _Value(np.broadcast_to(y.dependency, (params["length"], *y.dependency.shape)).copy())
        for y in out[n_carry:]
    ]
    return [*carry, *ys]


def _while(eqn, operands, n):
    params = eqn.params
    n_cond, n_body = params["cond_nconsts"], params["body_nconsts"]
    body_consts = operands[n_cond : n_cond + n_body]
    carry = [_Value(o.dependency) for o in operands[n_cond + n_body :]]
    while True:
        out = _call(params["body_jaxpr"], [*body_consts, *carry], n)
        new_carry = [_Value(c.dependency | o.dependency) for c, o in zip(carry, out)]
        if all(np.array_equal(c.dependency, m.dependency) for c, m in zip(carry, new_carry)):
            return carry
        carry = new_carry


def _broadcast_in_dim(params, operand):
    shape = tuple(params["shape"])
    expanded = np.expand_dims(
        operand,
        [d for d in range(len(shape)) if d not in params["broadcast_dimensions"]],
    )
    return [_Value(np.broadcast_to(expanded, (*shape, operand.shape[-1])).copy())]


def _reshape(params, operand, *_):
    return [_Value(operand.reshape(*params["new_sizes"], operand.shape[-1]))]


def _squeeze(params, operand):
    return [_Value(np.squeeze(operand, tuple(params["dimensions"])))]


def _expand_dims(params, operand):
    return [_Value(np.expand_dims(operand, tuple(params["dimensions"])))]


def _transpose(params, operand):
    permutation = tuple(params["permutation"])
    return [_Value(np.transpose(operand, (*permutation, len(permutation))))]


def _concatenate(params, *operands):
    return [_Value(np.concatenate(operands, axis=params["dimension"]))]


def _split(params, operand):
    cuts = np.cumsum(params["sizes"])[:-1]
    return [_Value(part) for part in np.split(operand, cuts, axis=params["axis"])]


def _slice(params, operand):
    strides = params["strides"] or (1,) * len(params["start_indices"])
    index = tuple(
        slice(start, stop, step)
        for start, stop, step in zip(params["start_indices"], params["limit_indices"], strides)
    )
    return [_Value(operand[index])]


def _rev(params, operand):
    return [_Value(np.flip(operand, tuple(params["dimensions"])))]


def _reduce(params, operand):
    return [_Value(operand.any(axis=tuple(params["axes"])))]


def _cumulative(params, operand):
    axis = params["axis"]
    if params.get("reverse"):
        flipped = np.flip(operand, axis)
        return [_Value(np.flip(np.logical_or.accumulate(flipped, axis=axis), axis))]
    return [_Value(np.logical_or.accumulate(operand, axis=axis))]


def _pad(params, operand, padding_value):
    def pad(array):
        return jax.lax.pad(array, 0.0, params["padding_config"])

    padded = np.asarray(jax.vmap(pad, in_axes=-1, out_axes=-1)(_as_float(operand))) > 0
    from_operand = np.asarray(pad(np.ones(operand.shape[:-1]))) > 0
    return [_Value(padded | (~from_operand[..., None] & padding_value))]


_STRUCTURAL = {
    "broadcast_in_dim": _broadcast_in_dim,
    "reshape": _reshape,
    "squeeze": _squeeze,
    "expand_dims": _expand_dims,
    "transpose": _transpose,
    "concatenate": _concatenate,
    "split": _split,
    "slice": _slice,
    "rev": _rev,
    "reduce_sum": _reduce,
    "reduce_max": _reduce,
    "reduce_min": _reduce,
    "reduce_prod": _reduce,
    "cumsum": _cumulative,
    "cummax": _cumulative,
    "cummin": _cumulative,
    "cumprod": _cumulative,
    "cumlogsumexp": _cumulative,
    "pad": _pad,
}
