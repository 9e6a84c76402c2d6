"""A Rosenbrock (linearly implicit) solver for diffrax: Rodas5.

Why not diffrax's ESDIRK methods (Kvaerno5)? Each of their stages solves a nonlinear system by
Newton iterations inside a while loop; under `jax.vmap` every condition then pays for the
slowest one's iterations, and the nested loops make compilation slow. A Rosenbrock method
replaces the Newton iterations by one linear solve per stage with a fixed matrix: per step one
Jacobian (forward-mode, together with the time derivative), one LU factorisation and ``s``
triangular solves, with no inner loop. With the exact Jacobian, Rodas5 is L-stable and of order
5, with an embedded order-4 solution for the error estimate and a dense output of order 4.

Method (Hairer & Wanner, Solving ODEs II, sec. IV.7, in the transformed variables): with
``W = I / (h gamma) - J``, for ``i = 1 .. s``:

    U_i = y0 + sum_{j<i} a_ij k_j
    W k_i = f(t0 + c_i h, U_i) + sum_{j<i} (C_ij / h) k_j + h d_i df/dt
    y1 = y0 + sum_j b_j k_j,     error = k_s.

Coefficients: Rodas5 of G. Di Marzo (1993), "RODAS5(4): Methodes de Rosenbrock d'ordre 5(4)
adaptees aux problemes differentiels-algebriques", as tabulated in Hairer & Wanner's codes and
in OrdinaryDiffEq.jl; dense output coefficients ``H`` from the same tabulation.

The solver works on a flat state vector (``y`` a 1-D array); `plastic.simulate` ravels the
model state. Only ODE terms are supported. The eight stages are a `jax.lax.scan`, so the
right-hand side and the solve are compiled once per step, not eight times.

Linear algebra: dense by default (``n + 1`` forward-mode directions for ``J``, LU with partial
pivoting). With ``Rodas5(sparse=True)`` the structural pattern of ``J`` is read from the
right-hand side's jaxpr when the step is traced (`plastic.sparsity`), ``J`` comes from one
direction per colour of its columns and ``W`` is factorised by straight-line sparse LU
without pivoting (`plastic.sparse_lu`). The sparse step is cheaper, its program larger: for
the 84-state spine model it compiles in about a minute more.

Reverse mode through a step is the discrete adjoint of the stage equations, written out
(`_stages`): it needs the Jacobian's derivatives along the ``s`` stages only, where autodiff
would differentiate all ``n + 1`` forward-mode directions that built it. Forward-mode
differentiation of a solve (`diffrax.ForwardMode`) is therefore not available with Rodas5.
"""

import functools
from collections.abc import Callable
from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic.sparse_lu import SparseLU
from plastic.sparsity import column_colouring, evaluate_with_cuts, jacobian_structure

_GAMMA = 0.19
_A = np.array(
    [
        [0, 0, 0, 0, 0, 0, 0, 0],
        [2.0, 0, 0, 0, 0, 0, 0, 0],
        [3.040894194418781, 1.041747909077569, 0, 0, 0, 0, 0, 0],
        [2.576417536461461, 1.62208306077664, -0.9089668560264532, 0, 0, 0, 0, 0],
        [2.760842080225597, 1.446624659844071, -0.3036980084553738, 0.2877498600325443]
        + [0, 0, 0, 0],
        [-14.09640773051259, 6.925207756232704, -41.47510893210728, 2.343771018586405]
        + [24.13215229196062, 0, 0, 0],
        [-14.09640773051259, 6.925207756232704, -41.47510893210728, 2.343771018586405]
        + [24.13215229196062, 1, 0, 0],
        [-14.09640773051259, 6.925207756232704, -41.47510893210728, 2.343771018586405]
        + [24.13215229196062, 1, 1, 0],
    ]
)
_C = np.array(
    [
        [0, 0, 0, 0, 0, 0, 0],
        [-10.31323885133993, 0, 0, 0, 0, 0, 0],
        [-21.04823117650003, -7.234992135176716, 0, 0, 0, 0, 0],
        [32.22751541853323, -4.943732386540191, 19.44922031041879, 0, 0, 0, 0],
        [-20.69865579590063, -8.816374604402768, 1.260436877740897, -0.7495647613787146]
        + [0, 0, 0],
        [-46.22004352711257, -17.49534862857472, -289.6389582892057, 93.60855400400906]
        + [318.3822534212147, 0, 0],
        [34.20013733472935, -14.1553540271769, 57.823356409884, 25.83362985412365]
        + [1.408950972071624, -6.551835421242162, 0],
        [42.57076742291101, -13.80770672017997, 93.98938432427124, 18.77919633714503]
        + [-31.5835918722337, -6.685968952921985, -5.810979938412932],
    ]
)
_c = np.array([0, 0.38, 0.3878509998321533, 0.483971893787384, 0.457047700881958, 1, 1, 1])
_d = np.array(
    [
        0.19,
        -0.1823079225333714636,
        -0.319231832186874912,
        0.3449828624725343,
        -0.377417564392089818,
        0,
        0,
        0,
    ]
)
_H = np.array(
    [
        [27.354592673333357, -6.925207756232857, 26.40037733258859, 0.5635230501052979]
        + [-4.699151156849391, -1.6008677469422725, -1.5306074446748028, -1.3929872940716344],
        [44.19024239501722, 1.3677947663381929e-13, 202.93261852171622, -35.5669339789154]
        + [-181.91095152160645, 3.4116351403665033, 2.5793540257308067, 2.2435122582734066],
        [-44.0988150021747, -5.755396159656812e-13, -181.26175034586677, 56.99302194811676]
        + [183.21182741427398, -7.480257918273637, -5.792426076169686, -5.32503859794143],
    ]
)
_B = np.concatenate([_A[-1, :-1], [1.0]])  # y1 = U_s + k_s (stiffly accurate)


class _DenseLinearAlgebra:
    """``J`` from ``n + 1`` forward-mode directions, ``W`` factorised by LAPACK-style LU with
    partial pivoting."""

    def factorise(self, rhs, t0, h, y0, parameters):
        """``f(t0, y0)``, ``df/dt`` and the factors of ``W = I / (h gamma) - J``."""
        tangents = jnp.eye(y0.shape[0] + 1, dtype=y0.dtype)
        f0, derivatives = _directional_derivatives(
            rhs, t0, y0, parameters, tangents[:, 0], tangents[:, 1:]
        )
        df_dt, jacobian = derivatives[0], derivatives[1:].T
        n = y0.shape[0]
        w = jnp.eye(n, dtype=y0.dtype) / (h * _GAMMA) - jacobian
        lu, _, permutation = jax.lax.linalg.lu(w)
        return f0, df_dt, (lu, permutation)

    def solve(self, factors, right):
        """``W x = right``, with ``W[permutation] = L U``."""
        lu, permutation = factors
        lower = jax.lax.linalg.triangular_solve(
            lu, right[permutation, None], left_side=True, lower=True, unit_diagonal=True
        )
        return jax.lax.linalg.triangular_solve(lu, lower, left_side=True, lower=False)[:, 0]

    def solve_transposed(self, factors, right):
        """``W^T x = right``, with ``W^T = U^T L^T P``."""
        lu, permutation = factors
        upper = jax.lax.linalg.triangular_solve(
            lu, right[:, None], left_side=True, lower=False, transpose_a=True
        )
        permuted = jax.lax.linalg.triangular_solve(
            lu, upper, left_side=True, lower=True, unit_diagonal=True, transpose_a=True
        )[:, 0]
        return jnp.zeros_like(permuted).at[permutation].set(permuted)


class _SparseLinearAlgebra:
    """``J`` in the augmented form of `plastic.sparsity.JacobianStructure` from one
    forward-mode direction per colour of its columns, and ``W`` factorised by the
    straight-line `plastic.sparse_lu.SparseLU` of its pattern (no pivoting). The structure is
    read from the right-hand side's jaxpr when the step is traced."""

    def __init__(self, rhs, t0, y0, parameters):
        self.closed = jax.make_jaxpr(rhs)(t0, y0, parameters)
        self.structure, self.lu, self.colour = _sparse_analysis(self.closed)

    def factorise(self, rhs, t0, h, y0, parameters):
        structure, lu, colour = self.structure, self.lu, self.colour
        n, m = structure.n_states, structure.n_cut
        f0, df_dt = jax.jvp(lambda t: rhs(t, y0, parameters), (t0,), (jnp.ones_like(t0),))
        leaves = jax.tree.leaves(parameters)

        def augmented(y, cut_perturbation):
            f, cuts = evaluate_with_cuts(self.closed, structure, [t0, y, *leaves], cut_perturbation)
            return jnp.concatenate([f, cuts])

        seeds = jnp.asarray(np.eye(colour.max() + 1)[colour].T, dtype=y0.dtype)

        def column_group(seed):
            return jax.jvp(augmented, (y0, jnp.zeros(m, y0.dtype)), (seed[:n], seed[n:]))[1]

        compressed = jax.vmap(column_group)(seeds)
        in_pattern = structure.pattern[lu.rows, lu.cols]
        # diag(I / (h gamma), I) - M: the cut variables' rows carry a unit diagonal.
        diagonal = jnp.where(lu.rows < n, 1.0 / (h * _GAMMA), 1.0)
        scale = jnp.where(lu.rows == lu.cols, diagonal, 0.0)
        jacobian_values = compressed[colour[lu.cols], lu.rows]
        values = scale - jnp.where(in_pattern, jacobian_values, 0.0)
        return f0, df_dt, lu.factorise(values)

    def solve(self, factors, right):
        padded = jnp.concatenate([right, jnp.zeros(self.structure.n_cut, right.dtype)])
        return self.lu.solve(factors, padded)[: self.structure.n_states]

    def solve_transposed(self, factors, right):
        padded = jnp.concatenate([right, jnp.zeros(self.structure.n_cut, right.dtype)])
        return self.lu.solve_transposed(factors, padded)[: self.structure.n_states]


def _sparse_analysis(closed):
    """Structure, symbolic LU and column colouring, once per distinct right-hand side."""
    key = (str(closed.jaxpr), tuple(np.asarray(c).tobytes() for c in closed.consts))
    if key not in _SPARSE_CACHE:
        if len(_SPARSE_CACHE) >= 8:
            _SPARSE_CACHE.pop(next(iter(_SPARSE_CACHE)))
        structure = jacobian_structure(closed, argnum=1)
        _SPARSE_CACHE[key] = (
            structure,
            SparseLU(structure.pattern),
            column_colouring(structure.pattern),
        )
    return _SPARSE_CACHE[key]


_SPARSE_CACHE: dict = {}


def _linear_algebra(sparse, rhs, t0, y0, parameters):
    if sparse:
        return _SparseLinearAlgebra(rhs, t0, y0, parameters)
    return _DenseLinearAlgebra()


def _directional_derivatives(rhs, t, y, parameters, directions_t, directions_y):
    """``f(t, y)`` and its derivatives along each ``(directions_t[k], directions_y[k])``, in one
    batched forward-mode pass."""

    def directional(direction_t, direction_y):
        return jax.jvp(lambda t, y: rhs(t, y, parameters), (t, y), (direction_t, direction_y))

    return jax.vmap(directional, out_axes=(None, 0))(directions_t, directions_y)


def _stage_values(rhs, sparse, t0, h, y0, parameters):
    """The stages, ``df/dt`` and the factors of ``W`` (the last two for the reverse pass)."""
    linear_algebra = _linear_algebra(sparse, rhs, t0, y0, parameters)
    # One factorisation, permutation included, for all eight stages.
    f0, df_dt, factors = linear_algebra.factorise(rhs, t0, h, y0, parameters)

    # A loop, not eight copies: the right-hand side and the solve are compiled once (at the
    # price of one discarded evaluation of f at stage 0, whose f0 is already known).
    def stage(stages, coefficients):
        i, a_row, c_row, c_i, d_i = coefficients
        f_stage = jnp.where(
            i == 0, f0, rhs(t0 + c_i * h, _stage_state(y0, stages, a_row), parameters)
        )
        right = f_stage + (c_row / h) @ stages + (h * d_i) * df_dt
        return stages.at[i].set(linear_algebra.solve(factors, right)), None

    initial = jnp.zeros((len(_c), y0.shape[0]), dtype=y0.dtype)
    stages, _ = jax.lax.scan(stage, initial, _coefficients(y0.dtype))
    return stages, df_dt, factors


def _coefficients(dtype):
    """Per stage ``i``: ``(i, A[i], C[i], c[i], d[i])``, rows padded to ``s``."""
    square_c = np.concatenate([_C, np.zeros((len(_c), 1))], axis=1)
    return (
        jnp.arange(len(_c)),
        jnp.asarray(_A, dtype),
        jnp.asarray(square_c, dtype),
        jnp.asarray(_c, dtype),
        jnp.asarray(_d, dtype),
    )


def _stage_state(y0, stages, a_row):
    """``U_i = y0 + sum_{j<i} a_ij k_j`` (``a_row`` is zero from ``j = i`` on)."""
    return y0 + a_row @ stages


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _stages(rhs, sparse, t0, h, y0, parameters):
    """The ``(s, n)`` stages ``k_i`` of one step ``h`` from ``(t0, y0)`` of
    ``dy/dt = rhs(t, y, parameters)`` (``parameters`` a pytree of arrays).

    Reverse mode is the discrete adjoint of the stage equations, written out: autodiff would
    differentiate the dense Jacobian through all its ``n + 1`` forward-mode directions, but the
    Jacobian's cotangent is ``sum_i lambda_i k_i^T`` (one adjoint ``lambda_i`` per stage), so
    its second derivatives are needed along the ``s`` stages and ``t`` only.
    """
    return _stage_values(rhs, sparse, t0, h, y0, parameters)[0]


def _stages_forward(rhs, sparse, t0, h, y0, parameters):
    stages, df_dt, factors = _stage_values(rhs, sparse, t0, h, y0, parameters)
    return stages, (t0, h, y0, parameters, stages, df_dt, factors)


def _stages_backward(rhs, sparse, residuals, stages_bar):
    t0, h, y0, parameters, stages, df_dt, factors = residuals
    linear_algebra = _linear_algebra(sparse, rhs, t0, y0, parameters)
    differentiable, other = eqx.partition(parameters, eqx.is_inexact_array)

    def rhs_of_differentiable(t, y, differentiable):
        return rhs(t, y, eqx.combine(differentiable, other))

    # W k_i = F_i + sum_{j<i} (C_ij / h) k_j + h d_i df/dt, the last stage first.
    def stage(carry, coefficients):
        stages_bar, t0_bar, h_bar, y0_bar, df_dt_bar = carry
        i, a_row, c_row, c_i, d_i = coefficients
        adjoint = linear_algebra.solve_transposed(factors, stages_bar[i])
        # W = I / (h gamma) - J: d(W k_i)/dh = -k_i / (h^2 gamma).
        h_bar = h_bar + jnp.dot(adjoint, stages[i]) / (h**2 * _GAMMA)
        stages_bar = stages_bar + (c_row / h)[:, None] * adjoint
        h_bar = h_bar - jnp.dot(c_row / h**2, stages @ adjoint)
        df_dt_bar = df_dt_bar + (h * d_i) * adjoint
        h_bar = h_bar + d_i * jnp.dot(adjoint, df_dt)
        # F_0 = f(t0, y0) goes with the Jacobian below: stage 0's pullback is masked out.
        _, pullback = jax.vjp(
            rhs_of_differentiable, t0 + c_i * h, _stage_state(y0, stages, a_row), differentiable
        )
        t_bar, u_bar, differentiable_bar = jax.tree.map(
            lambda x: jnp.where(i == 0, 0.0, x), pullback(adjoint)
        )
        stages_bar = stages_bar + a_row[:, None] * u_bar
        carry = (stages_bar, t0_bar + t_bar, h_bar + c_i * t_bar, y0_bar + u_bar, df_dt_bar)
        return carry, (adjoint, differentiable_bar)

    zero = jnp.zeros_like(h)
    initial = (stages_bar, zero, zero, jnp.zeros_like(y0), jnp.zeros_like(y0))
    (_, t0_bar, h_bar, y0_bar, df_dt_bar), (adjoints, stage_parameters_bar) = jax.lax.scan(
        stage, initial, _coefficients(y0.dtype), reverse=True
    )
    parameters_bar = eqx.combine(
        jax.tree.map(lambda x: x.sum(0), stage_parameters_bar),
        jax.tree.map(_zero_cotangent, other),
    )

    # f, df/dt and J at (t0, y0) enter as <lambda_0, f> + <df_dt_bar, df/dt> + sum_i
    # <lambda_i, J k_i>: one scalar of s + 1 directional derivatives, then reverse mode.
    directions_t = jnp.zeros(len(_c) + 1, dtype=y0.dtype).at[0].set(1.0)
    directions_y = jnp.concatenate([jnp.zeros_like(y0)[None], stages])
    weights = jnp.concatenate([df_dt_bar[None], jnp.stack(adjoints)])

    def contracted(t, y, parameters):
        f, derivatives = _directional_derivatives(rhs, t, y, parameters, directions_t, directions_y)
        return jnp.dot(adjoints[0], f) + jnp.sum(weights * derivatives)

    _, pullback = jax.vjp(contracted, t0, y0, parameters)
    t_bar, y_bar, jacobian_parameters_bar = pullback(jnp.ones((), dtype=y0.dtype))
    parameters_bar = jax.tree.map(_add_cotangents, parameters_bar, jacobian_parameters_bar)
    return t0_bar + t_bar, h_bar, y0_bar + y_bar, parameters_bar


_stages.defvjp(_stages_forward, _stages_backward)


class _Recombined(eqx.Module):
    """``rhs(t, y, parameters)`` of a closure-converted right-hand side split by
    `eqx.partition` into its arrays (``parameters``) and the rest (``structure``)."""

    structure: eqx.Module

    def __call__(self, t, y, parameters):
        return eqx.combine(parameters, self.structure)(t, y)


def _zero_cotangent(x):
    if jnp.issubdtype(x.dtype, jnp.inexact):
        return jnp.zeros_like(x)
    return np.zeros(x.shape, dtype=jax.dtypes.float0)


def _add_cotangents(total, more):
    return total if total.dtype == jax.dtypes.float0 else total + more


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
            (``n + 1`` directions) and ``W`` is factorised with partial pivoting. Static.
    """

    sparse: bool = eqx.field(static=True, default=False)

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
        converted = eqx.filter_closure_convert(rhs, t0, y0)
        parameters, structure = eqx.partition(converted, eqx.is_array)
        k = _stages(_Recombined(structure), self.sparse, t0, h, y0, parameters)
        y1 = jnp.where(zero_step, y0, y0 + jnp.asarray(_B) @ k)
        y_error = jnp.where(zero_step, 0.0, k[-1])
        dense_info = dict(y0=y0, y1=y1, q=jnp.asarray(_H) @ k)
        return y1, y_error, dense_info, None, diffrax.RESULTS.successful

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)
