"""One step of every start: non-finite steps rejected, the best point kept.

Every start is its own optimisation of the same objective; `jax.vmap` runs them all in one jitted
step. A step evaluates the loss and its gradient at a candidate point, the last accepted point
moved by the optimiser's update:

- if the loss and every gradient element are finite, the candidate is accepted: it becomes the
  start's point, and the optimiser computes the next update from the new gradient;
- otherwise the step is rejected and counted: the point and the optimiser state stay as they
  were, and the same update is retried at half the length next time (the length then doubles
  back with each accepted step, up to the optimiser's own). A start that steps into a region
  where the model fails (a solver that gives up, a NaN) thus backs off instead of sitting on a
  NaN.

Such a region acts like a wall, though: a start whose optimiser keeps pushing into it takes ever
shorter steps there, in every parameter at once, and may stall against it. Bound the parameters
away from regions where the model is known to fail.

The first step evaluates the starts themselves (a zero update); a start whose loss or gradient is
not finite there stays where it is and is reported. Each start keeps the best point it has
accepted.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Bool, Float, Int, PyTree

from plastic.fit.objective import Objective
from plastic.fit.parameters import FitParameters, Unconstrained
from plastic.solver_status import failed


class FitState(eqx.Module):
    """Everything a fit carries from one step to the next; a checkpoint stores exactly this.

    ``n_starts`` starts, each leaf of an unconstrained point with a leading axis of that length.

    Attributes:
        evaluations: loss evaluations done so far, shape ``()``; the first (step 0) evaluates the
            starts, the (k + 1)-th is step k.
        unconstrained: each start's accepted point.
        loss: the loss at that point, shape ``(n_starts,)``; ``inf`` until one is accepted.
        update: the optimiser's update from the accepted point, the next step's direction.
        opt_state: the optimiser state after computing ``update``, batched over starts.
        step_scale: length of the next step relative to ``update``, shape ``(n_starts,)``.
        best_loss: each start's lowest accepted loss, shape ``(n_starts,)``.
        best_unconstrained: the point where it was reached.
        starts: each start's first point.
        loss_history: the accepted loss after each evaluation, shape ``(n_steps + 1, n_starts)``;
            NaN for evaluations not yet done.
        rejections: steps rejected per start, shape ``(n_starts,)``.
        flat: per start, whether the gradient at its last evaluated point was exactly zero in
            every parameter (the loss cannot tell where to go: e.g. no calcium crosses a
            threshold of the rule), shape ``(n_starts,)``.
        solve_failures: steps rejected per start because a solve failed (they count among
            ``rejections`` too), shape ``(n_starts,)``.
        solve_failure: per start, the diffrax result code of its last failed solve, 0 if none
            failed (`plastic.solver_status`), shape ``(n_starts,)``.
    """

    evaluations: Int[Array, ""]
    unconstrained: Unconstrained
    loss: Float[Array, " n_starts"]
    update: Unconstrained
    opt_state: PyTree
    step_scale: Float[Array, " n_starts"]
    best_loss: Float[Array, " n_starts"]
    best_unconstrained: Unconstrained
    starts: Unconstrained
    loss_history: Float[Array, "n_steps_plus_1 n_starts"]
    rejections: Int[Array, " n_starts"]
    flat: Bool[Array, " n_starts"]
    solve_failures: Int[Array, " n_starts"]
    solve_failure: Int[Array, " n_starts"]


def _step_one(
    loss_and_result, optimiser, unconstrained, loss, update, opt_state, scale, best_loss, best
):
    """One step of one start (see the module docstring); returns its new fields, whether the
    step was accepted and the result code of its solves."""

    def loss_fn(point):
        return loss_and_result(point)[0]

    candidate = jax.tree.map(lambda u, d: u + scale * d, unconstrained, update)
    (candidate_loss, result), gradient = jax.value_and_grad(loss_and_result, has_aux=True)(
        candidate
    )
    # A failed solve makes the loss NaN already; its code says why.
    accepted = (
        ~failed(result)
        & jnp.isfinite(candidate_loss)
        & jnp.all(jnp.stack([jnp.all(jnp.isfinite(g)) for g in jax.tree.leaves(gradient)]))
    )
    # Optimisers with a line search (optax.lbfgs) need the loss, its gradient and the loss
    # function; the others take no extra arguments.
    extra = (
        dict(value=candidate_loss, grad=gradient, value_fn=loss_fn)
        if isinstance(optimiser, optax.GradientTransformationExtraArgs)
        else {}
    )
    next_update, next_opt_state = optimiser.update(gradient, opt_state, candidate, **extra)
    improved = accepted & (candidate_loss < best_loss)
    flat = jnp.all(jnp.stack([jnp.all(g == 0) for g in jax.tree.leaves(gradient)]))

    def keep(new, old, condition=accepted):
        return jax.tree.map(lambda n, o: jnp.where(condition, n, o), new, old)

    return (
        keep(candidate, unconstrained),
        jnp.where(accepted, candidate_loss, loss),
        keep(next_update, update),
        keep(next_opt_state, opt_state),
        jnp.where(accepted, jnp.minimum(2.0 * scale, 1.0), 0.5 * scale),
        jnp.where(improved, candidate_loss, best_loss),
        keep(candidate, best, improved),
        accepted,
        flat,
        result,
    )


def step_all_starts(
    state: FitState,
    objective: Objective,
    parameters: FitParameters,
    optimiser: optax.GradientTransformation,
) -> FitState:
    """One step of every start, vmapped."""

    def loss_and_result(unconstrained):
        return objective.loss_and_result(parameters.to_model(unconstrained))

    (unconstrained, loss, update, opt_state, scale, best_loss, best, accepted, flat, result) = (
        jax.vmap(functools.partial(_step_one, loss_and_result, optimiser))
    )(
        state.unconstrained,
        state.loss,
        state.update,
        state.opt_state,
        state.step_scale,
        state.best_loss,
        state.best_unconstrained,
    )
    return FitState(
        evaluations=state.evaluations + 1,
        unconstrained=unconstrained,
        loss=loss,
        update=update,
        opt_state=opt_state,
        step_scale=scale,
        best_loss=best_loss,
        best_unconstrained=best,
        starts=state.starts,
        loss_history=state.loss_history.at[state.evaluations].set(loss),
        rejections=state.rejections + (~accepted).astype(state.rejections.dtype),
        flat=flat,
        solve_failures=state.solve_failures + failed(result).astype(state.rejections.dtype),
        solve_failure=jnp.where(failed(result), result, state.solve_failure),
    )


def _initial_state(
    starts: Unconstrained, optimiser: optax.GradientTransformation, n_steps: int
) -> FitState:
    n_starts = starts[0].shape[0]
    # Strong dtypes, as the jitted step returns them: one compilation serves every step.
    inf = jnp.full(n_starts, jnp.inf, dtype=float)
    return FitState(
        evaluations=jnp.zeros((), dtype=int),
        unconstrained=starts,
        loss=inf,
        update=jax.tree.map(jnp.zeros_like, starts),
        opt_state=jax.vmap(optimiser.init)(starts),
        step_scale=jnp.ones(n_starts, dtype=float),
        best_loss=inf,
        best_unconstrained=starts,
        starts=starts,
        loss_history=jnp.full((n_steps + 1, n_starts), jnp.nan, dtype=float),
        rejections=jnp.zeros(n_starts, dtype=int),
        flat=jnp.zeros(n_starts, dtype=bool),
        solve_failures=jnp.zeros(n_starts, dtype=int),
        solve_failure=jnp.zeros(n_starts, dtype=jnp.int32),
    )
