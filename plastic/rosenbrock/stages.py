"""The stages of one Rodas5 step (the equations of `plastic.rosenbrock.tableau`) and their
reverse mode.

The eight stages are a `jax.lax.scan`, so the right-hand side and the solve are compiled once
per step, not eight times.

Reverse mode through a step is the discrete adjoint of the stage equations, written out
(`_stages`): it needs the Jacobian's derivatives along the ``s`` stages only, where autodiff
would differentiate all ``n + 1`` forward-mode directions that built it. Forward-mode
differentiation of a solve (`diffrax.ForwardMode`) is therefore not available with Rodas5.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from plastic.rosenbrock.linear_algebra import _directional_derivatives, _linear_algebra
from plastic.rosenbrock.tableau import Rodas5Tableau


def _stage_values(rhs, method, t0, h, y0, parameters):
    """The stages, ``df/dt`` and the factors of ``W`` (the last two for the reverse pass)."""
    linear_algebra = _linear_algebra(method, rhs, t0, y0, parameters)
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

    initial = jnp.zeros((len(Rodas5Tableau.c), y0.shape[0]), dtype=y0.dtype)
    stages, _ = jax.lax.scan(stage, initial, _coefficients(y0.dtype))
    return stages, df_dt, factors


def _coefficients(dtype):
    """Per stage ``i``: ``(i, A[i], C[i], c[i], d[i])``, rows padded to ``s``."""
    square_c = np.concatenate([Rodas5Tableau.C, np.zeros((len(Rodas5Tableau.c), 1))], axis=1)
    return (
        jnp.arange(len(Rodas5Tableau.c)),
        jnp.asarray(Rodas5Tableau.A, dtype),
        jnp.asarray(square_c, dtype),
        jnp.asarray(Rodas5Tableau.c, dtype),
        jnp.asarray(Rodas5Tableau.d, dtype),
    )


def _stage_state(y0, stages, a_row):
    """``U_i = y0 + sum_{j<i} a_ij k_j`` (``a_row`` is zero from ``j = i`` on)."""
    return y0 + a_row @ stages


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _stages(rhs, method, t0, h, y0, parameters):
    """The ``(s, n)`` stages ``k_i`` of one step ``h`` from ``(t0, y0)`` of
    ``dy/dt = rhs(t, y, parameters)`` (``parameters`` a pytree of arrays).

    Reverse mode is the discrete adjoint of the stage equations, written out: autodiff would
    differentiate the dense Jacobian through all its ``n + 1`` forward-mode directions, but the
    Jacobian's cotangent is ``sum_i lambda_i k_i^T`` (one adjoint ``lambda_i`` per stage), so
    its second derivatives are needed along the ``s`` stages and ``t`` only.
    """
    return _stage_values(rhs, method, t0, h, y0, parameters)[0]


def _stages_forward(rhs, method, t0, h, y0, parameters):
    stages, df_dt, factors = _stage_values(rhs, method, t0, h, y0, parameters)
    return stages, (t0, h, y0, parameters, stages, df_dt, factors)


def _stages_backward(rhs, method, residuals, stages_bar):
    t0, h, y0, parameters, stages, df_dt, factors = residuals
    # Solves with the forward pass's factors only: no dense Jacobian, so no colouring to read.
    sparse, sequential_lu, _ = method
    linear_algebra = _linear_algebra((sparse, sequential_lu, False), rhs, t0, y0, parameters)
    differentiable, other = eqx.partition(parameters, eqx.is_inexact_array)

    def rhs_of_differentiable(t, y, differentiable):
        return rhs(t, y, eqx.combine(differentiable, other))

    # W k_i = F_i + sum_{j<i} (C_ij / h) k_j + h d_i df/dt, the last stage first.
    def stage(carry, coefficients):
        stages_bar, t0_bar, h_bar, y0_bar, df_dt_bar = carry
        i, a_row, c_row, c_i, d_i = coefficients
        adjoint = linear_algebra.solve_transposed(factors, stages_bar[i])
        # W = I / (h gamma) - J: d(W k_i)/dh = -k_i / (h^2 gamma).
        h_bar = h_bar + jnp.dot(adjoint, stages[i]) / (h**2 * Rodas5Tableau.gamma)
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
    directions_t = jnp.zeros(len(Rodas5Tableau.c) + 1, dtype=y0.dtype).at[0].set(1.0)
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


def _zero_cotangent(x):
    if jnp.issubdtype(x.dtype, jnp.inexact):
        return jnp.zeros_like(x)
    return np.zeros(x.shape, dtype=jax.dtypes.float0)


def _add_cotangents(total, more):
    return total if total.dtype == jax.dtypes.float0 else total + more
