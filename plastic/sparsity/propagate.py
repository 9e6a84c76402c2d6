"""The walk through a jaxpr: the `_Value` of every variable, equation by equation, with the
rules of `plastic.sparsity.primitives` and recursion into calls, conditionals and loops."""

import functools

import jax.extend as jex
import numpy as np

from plastic.sparsity.fold import fold_constants
from plastic.sparsity.primitives import (
    _ELEMENTWISE,
    _INDEXED,
    _SCATTER,
    _STRUCTURAL,
    _ZERO_DERIVATIVE,
    _dot_general,
    _every_output_on_every_input,
    _indexed,
    _none,
    _product,
    _Value,
)

_CALLS = {
    "jit",
    "pjit",
    "closed_call",
    "core_call",
    "remat",
    "checkpoint",
    "custom_lin",
    "custom_jvp_call",
    "custom_vjp_call",
    "custom_vjp_call_jaxpr",
}
"""Primitives that call a jaxpr: walked into, not bound, also when every operand is known."""


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
    if constant and not name.startswith(("random", "rng")) and name not in _CALLS:
        # Arithmetic on constants (index arithmetic, interpolation weights from a fixed
        # geometry, loops included): fold it, so that the gathers and products it feeds are
        # exact. Calls are walked into below, their equations folded one by one.
        values = fold_constants(eqn, [o.value for o in operands])
        return [_Value(_none(shape, n), v) for shape, v in zip(shapes, values)]
    if name in _ZERO_DERIVATIVE:
        return [_Value(_none(shape, n)) for shape in shapes]
    if name == "mul":
        return [_product(operands, shapes[0])]
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
    if name in _CALLS:
        inner = (
            eqn.params.get("jaxpr") or eqn.params.get("call_jaxpr") or eqn.params.get("fun_jaxpr")
        )
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
