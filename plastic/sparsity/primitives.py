"""What each primitive's outputs depend on, given what its operands depend on.

A dependency array has the operand's shape plus one trailing axis of length ``n``: element
``[..., j]`` is True if that element can depend on input element ``j``.

Only value-independent facts are used: a matrix product, a gather with indices that are not
constants, a linear solve: each counts every entry that could contribute. Values are folded
only where all inputs are constants (index arithmetic on literals).
"""

import functools

import jax
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


class _Value:
    """What is known about one jaxpr variable: its dependency array (``shape + (width,)``,
    bool) and, if it depends on constants only, its value."""

    __slots__ = ("dependency", "value")

    def __init__(self, dependency, value=None):
        self.dependency = dependency
        self.value = value


def _none(shape, n):
    return np.zeros((*shape, n), dtype=bool)


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


def _product(operands, shape):
    """An elementwise product: an element depends on a factor's inputs only where the other
    factor can be nonzero (a weight known to be zero cuts the dependency)."""
    left, right = operands

    def through(factor, other):
        nonzero = np.broadcast_to(_possibly_nonzero(other) > 0, shape)
        return factor.dependency & nonzero[..., None]

    return _Value(through(left, right) | through(right, left))


def _possibly_nonzero(operand):
    shape = operand.dependency.shape[:-1]
    if operand.value is None:
        return np.ones(shape)
    return (np.asarray(operand.value) != 0).astype(np.float64)


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
