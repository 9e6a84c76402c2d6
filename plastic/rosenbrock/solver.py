"""Rodas5 as a diffrax solver: one step from the stages, its error estimate and dense output.

The solver works on a flat state vector (``y`` a 1-D array); `plastic.simulate` ravels the
model state. Only ODE terms are supported.
"""

import dataclasses
from collections.abc import Callable
from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic._modules import map_modules
from plastic._validation import is_concrete
from plastic.rosenbrock.stages import _stages
from plastic.rosenbrock.tableau import Rodas5Tableau


class _Recombined(eqx.Module):
    """``rhs(t, y, parameters)`` of a closure-converted right-hand side split by
    `eqx.partition` into its arrays (``parameters``) and the rest (``structure``)."""

    structure: eqx.Module

    def __call__(self, t, y, parameters):
        return eqx.combine(parameters, self.structure)(t, y)


class RosenbrockInterpolation(diffrax.AbstractLocalInterpolation):
    """Dense output of one Rodas5 step, order 4 (theta = (t - t0) / (t1 - t0)):

    ``y(theta) = (1 - theta) y0 + theta (y1 + (1 - theta) (q1 + theta (q2 + theta q3)))``.
    """

    t0: Float[Array, ""]
    t1: Float[Array, ""]
    y0: Float[Array, " n"]
    y1: Float[Array, " n"]
    q: Float[Array, "3 n"]

    def evaluate(self, t0, t1=None, left=True):
        del left
        if t1 is not None:
            return self.evaluate(t1) - self.evaluate(t0)
        # A zero-length step (a finished condition under vmap) must not give 0/0: its
        # discarded output would still turn zero cotangents into NaN.
        span = self.t1 - self.t0
        theta = (t0 - self.t0) / jnp.where(span == 0, 1.0, span)
        q1, q2, q3 = self.q
        return (1 - theta) * self.y0 + theta * (
            self.y1 + (1 - theta) * (q1 + theta * (q2 + theta * q3))
        )


class Rodas5(diffrax.AbstractAdaptiveSolver):
    """Rodas5: 8-stage L-stable Rosenbrock method of order 5(4) with order-4 dense output.

    For stiff ODEs of moderate size (tens to a few hundred states) whose Jacobian is cheap to
    form by forward-mode autodiff. The state must be a 1-D array.

    Attributes:
        sparse: form ``J`` from coloured forward-mode directions and factorise ``W`` by a
            sparse LU without pivoting, on the structural pattern read from the right-hand
            side's jaxpr (`plastic.sparsity`, `plastic.sparse_lu`); otherwise ``J`` is dense
            (see ``coloured_jacobian``) and ``W`` is factorised with partial pivoting. Static.
        coloured_jacobian: with dense linear algebra, form ``J`` from one forward-mode
            direction per colour of the columns of its structural pattern (read from the
            right-hand side's jaxpr when the step is traced, `plastic.sparsity`) instead of
            ``n`` unit directions: the same values for a fraction of the cost (the Urakubo
            model: 32 colours instead of 135 unit directions). Off only to compare. Static.
        sequential_lu: with dense linear algebra under `jax.vmap`, factorise and solve the
            batch's matrices one after another instead of in one batched library call. For
            several CPU devices at once, where batched LAPACK calls deadlock (`run_sweep` sets
            it there); same results, a loop instead of a batched kernel. Static.
    """

    sparse: bool = eqx.field(static=True, default=False)
    sequential_lu: bool = eqx.field(static=True, default=False)
    coloured_jacobian: bool = eqx.field(static=True, default=True)

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar[Callable[..., RosenbrockInterpolation]] = RosenbrockInterpolation

    def order(self, terms):
        return 5

    def error_order(self, terms):
        return 4

    def init(self, terms, t0, t1, y0, args):
        return None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del solver_state, made_jump
        # Under vmap a finished condition keeps taking zero-length steps whose results are
        # discarded; take them with a unit step (finite, never used) so that reverse mode does
        # not meet 1/0 and return NaN, and return y0 unchanged.
        zero_step = t1 == t0
        h = jnp.where(zero_step, 1.0, t1 - t0)

        def rhs(t, y):
            return terms.vf(t, y, args)

        # The model's parameters reach the right-hand side through its closure; hoisted out,
        # they are explicit inputs of the stages' own reverse mode.
        converted = jax.tree.map(_known_constant, eqx.filter_closure_convert(rhs, t0, y0))
        parameters, structure = eqx.partition(converted, _is_jax_array)
        k = _stages(
            _Recombined(structure),
            (self.sparse, self.sequential_lu, self.coloured_jacobian),
            t0,
            h,
            y0,
            parameters,
        )
        y1 = jnp.where(zero_step, y0, y0 + jnp.asarray(Rodas5Tableau.B) @ k)
        y_error = jnp.where(zero_step, 0.0, k[-1])
        dense_info = dict(y0=y0, y1=y1, q=jnp.asarray(Rodas5Tableau.H) @ k)
        return y1, y_error, dense_info, None, diffrax.RESULTS.successful

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


MAX_FOLDED_FLOATS = 4096
"""Largest float constant (elements) a step takes as known; see `_known_constant`."""


def _known_constant(leaf):
    """``leaf`` as a NumPy array if its value is known when the step is traced, else
    ``leaf``. Under `jax.jit` a model's constants are tracers too (index arrays made from
    static structure, the geometry of a model the jitted function closes over); passed in as
    parameters they would be unknown to the Jacobian's pattern (`plastic.sparsity`), which
    would then have to assume that every reaction gathers every species and that every spine
    sits on every node. Known, the gathers and interpolation weights they feed are folded and
    the pattern is exact. Floats above `MAX_FOLDED_FLOATS` elements stay parameters, so that
    large tables are not written into the program. Differentiation is unaffected: a constant
    of the trace has no tangent."""
    if not isinstance(leaf, jax.Array):
        return leaf
    if jnp.issubdtype(leaf.dtype, jnp.inexact) and leaf.size > MAX_FOLDED_FLOATS:
        return leaf
    if is_concrete(leaf):
        return np.asarray(leaf)
    get_const = getattr(leaf, "get_const", None)
    value = get_const() if get_const is not None else None
    return leaf if value is None else np.asarray(value)


def _is_jax_array(leaf):
    return isinstance(leaf, jax.Array)


def with_sequential_lu(tree):
    """``tree`` with every `Rodas5` in it set to ``sequential_lu=True``, static fields of
    equinox modules included."""

    def sequential(module):
        if isinstance(module, Rodas5):
            return dataclasses.replace(module, sequential_lu=True)
        return module

    return map_modules(sequential, tree)
