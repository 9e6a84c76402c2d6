"""The optax loop: several starts at once, non-finite steps rejected, progress and checkpoints.

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
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Bool, Float, Int, PyTree

from plastic._validation import check_range
from plastic.fit.checkpoint import fingerprint, load_checkpoint, save_checkpoint
from plastic.fit.objective import Objective
from plastic.fit.parameters import FitParameters, Unconstrained

_MAX_PRINTED_STARTS = 8


@functools.cache
def default_optimiser(
    n_steps: int,
    learning_rate: float = 0.05,
    warmup_fraction: float = 0.05,
    final_fraction: float = 0.01,
    max_gradient_norm: float = 1.0,
) -> optax.GradientTransformation:
    """Adam on a warmup-cosine schedule, after clipping the gradient's global norm.

    The learning rate rises linearly from 0 to ``learning_rate`` over the first
    ``warmup_fraction`` of the ``n_steps`` steps, then falls along a cosine to
    ``final_fraction * learning_rate``. Rates are in unconstrained units: with the log and logit
    transforms, 0.05 moves a parameter by about 5% of its value (or of its distance to a bound)
    per step. Cached, so that fits with the same settings share one compiled step.
    """
    check_range("n_steps", n_steps, lower=1.0, lower_inclusive=True)
    check_range("learning_rate", learning_rate, lower=0.0, upper=None)
    check_range("warmup_fraction", warmup_fraction, lower=0.0, lower_inclusive=True, upper=1.0)
    check_range("final_fraction", final_fraction, lower=0.0, lower_inclusive=True, upper=1.0)
    check_range("max_gradient_norm", max_gradient_norm, lower=0.0, upper=None)
    schedule = optax.warmup_cosine_decay_schedule(
        init_value=0.0,
        peak_value=learning_rate,
        warmup_steps=min(max(1, round(warmup_fraction * n_steps)), n_steps - 1),
        decay_steps=n_steps,
        end_value=final_fraction * learning_rate,
    )
    return optax.chain(optax.clip_by_global_norm(max_gradient_norm), optax.adam(schedule))


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


class FitProgress(eqx.Module):
    """What a progress report knows (host values, for printing or logging).

    Attributes:
        step: steps done (0 after evaluating the starts).
        n_steps: steps in the whole fit.
        best_loss: each start's lowest loss so far, shape ``(n_starts,)``.
        rejections: rejected steps per start, shape ``(n_starts,)``.
        steps_per_second: since the previous report.
    """

    step: int
    n_steps: int
    best_loss: np.ndarray
    rejections: np.ndarray
    steps_per_second: float

    def line(self) -> str:
        """One line: step, best loss overall and per start, rejections, speed."""
        best = int(np.argmin(np.where(np.isnan(self.best_loss), np.inf, self.best_loss)))
        shown = slice(0, _MAX_PRINTED_STARTS)
        more = " ..." if self.best_loss.size > _MAX_PRINTED_STARTS else ""
        losses = " ".join(f"{x:.4g}" for x in self.best_loss[shown])
        rejected = " ".join(str(int(x)) for x in self.rejections[shown])
        width = len(str(self.n_steps))
        return (
            f"step {self.step:>{width}}/{self.n_steps}  best loss {self.best_loss[best]:.6g} "
            f"(start {best})  per start [{losses}{more}]  rejected {int(self.rejections.sum())} "
            f"[{rejected}{more}]  {self.steps_per_second:.3g} steps/s"
        )


class FitResult(eqx.Module):
    """The outcome of `fit`.

    Attributes:
        objective: the objective that was minimised.
        parameters: the fitted parameters and the template model.
        start_values: each start's first values, path -> array ``(n_starts, *leaf shape)``.
        values: each start's best values, path -> array ``(n_starts, *leaf shape)``.
        best_loss: each start's lowest loss, shape ``(n_starts,)`` (``inf`` for a start whose
            loss was never finite).
        loss_history: accepted loss after each step, shape ``(n_steps + 1, n_starts)``; row 0 is
            the loss at the starts.
        rejections: rejected steps per start, shape ``(n_starts,)``.
    """

    objective: Objective
    parameters: FitParameters
    start_values: dict[str, Array]
    values: dict[str, Array]
    best_loss: Float[Array, " n_starts"]
    loss_history: Float[Array, "n_steps_plus_1 n_starts"]
    rejections: Int[Array, " n_starts"]

    @property
    def n_starts(self) -> int:
        return self.best_loss.shape[0]

    @property
    def n_steps(self) -> int:
        return self.loss_history.shape[0] - 1

    @property
    def best_start(self) -> int:
        """The start with the lowest loss."""
        return int(jnp.argmin(self.best_loss))

    @property
    def best_values(self) -> dict[str, Array]:
        """The best start's values, path -> array of the leaf's shape."""
        return {name: value[self.best_start] for name, value in self.values.items()}

    @property
    def model(self) -> PyTree:
        """The template model with the best values: the fitted model."""
        return self.parameters.with_values(self.best_values)


def _step_one(loss_fn, optimiser, unconstrained, loss, update, opt_state, scale, best_loss, best):
    """One step of one start (see the module docstring); returns its new fields and whether the
    step was accepted."""
    candidate = jax.tree.map(lambda u, d: u + scale * d, unconstrained, update)
    candidate_loss, gradient = jax.value_and_grad(loss_fn)(candidate)
    accepted = jnp.isfinite(candidate_loss) & jnp.all(
        jnp.stack([jnp.all(jnp.isfinite(g)) for g in jax.tree.leaves(gradient)])
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
    )


@eqx.filter_jit
def _step(
    state: FitState,
    objective: Objective,
    parameters: FitParameters,
    optimiser: optax.GradientTransformation,
) -> FitState:
    """One step of every start, vmapped."""

    def loss_fn(unconstrained):
        return objective(parameters.to_model(unconstrained))

    (unconstrained, loss, update, opt_state, scale, best_loss, best, accepted, flat) = jax.vmap(
        functools.partial(_step_one, loss_fn, optimiser)
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
    )


def fit(
    objective: Objective,
    parameters: FitParameters,
    *,
    optimiser: optax.GradientTransformation | None = None,
    n_starts: int | None = None,
    starts: Mapping[str, object] | None = None,
    n_steps: int = 1000,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 100,
    progress: bool | Callable[[FitProgress], None] = True,
    progress_every: int | None = None,
) -> FitResult:
    """Minimise ``objective`` over ``parameters`` from ``n_starts`` starts at once.

    Args:
        objective: the chi-square of a model against data.
        parameters: which leaves of the template model move, and their bounds.
        optimiser: any `optax.GradientTransformation`, applied to the unconstrained parameters;
            default `default_optimiser(n_steps)` (Adam, warmup-cosine schedule, clipping). One
            with extra arguments (`optax.GradientTransformationExtraArgs`, e.g. `optax.lbfgs`)
            receives ``value``, ``grad`` and ``value_fn``, the loss of an unconstrained point.
        n_starts: number of starts: start 0 is the template model's values, the others are
            drawn uniformly in each parameter's start box (`FitParameters.sample_starts`).
            Default 1, or the number of ``starts``.
        starts: instead of drawing them, the starts' values, path -> array
            ``(n_starts, *leaf shape)`` inside the bounds.
        n_steps: optimiser steps per start (each one loss and gradient evaluation, after one
            evaluation of the starts).
        seed: seeds the random starts; the same seed gives the same fit, bit for bit.
        checkpoint: a file to save the fit's state to every ``checkpoint_every`` steps, at the
            end and when interrupted (``KeyboardInterrupt`` or any error). If the file exists,
            the fit resumes from it and ends bit for bit where an uninterrupted fit would; a file
            from a different fit is refused.
        progress: print a progress line (`FitProgress.line`) to stdout every ``progress_every``
            steps and at the last, or call this function with a `FitProgress` instead; False
            for silence.
        progress_every: steps between progress reports; default ``n_steps // 20`` (at least 1).

    Returns:
        A `FitResult`.

    Raises:
        ValueError: for a bad argument (naming it), a checkpoint of another fit, or if the loss
            or its gradient is not finite at any start.
    """
    if not isinstance(objective, Objective):
        raise ValueError(f"objective must be an Objective; got {type(objective).__name__}")
    if not isinstance(parameters, FitParameters):
        raise ValueError(f"parameters must be FitParameters; got {type(parameters).__name__}")
    if n_starts is None:
        n_starts = 1 if not starts else (np.shape(next(iter(starts.values()))) or (1,))[0]
    _check_integer("seed", seed, lower=None)
    _check_integer("n_steps", n_steps)
    progress_every = max(1, n_steps // 20) if progress_every is None else progress_every
    for name, value in (
        ("n_starts", n_starts),
        ("checkpoint_every", checkpoint_every),
        ("progress_every", progress_every),
    ):
        _check_integer(name, value)
    if optimiser is None:
        optimiser = default_optimiser(n_steps)
    if starts is None:
        first = parameters.sample_starts(jax.random.key(seed), n_starts)
    else:
        first = parameters.check_values(starts, "starts", batch=n_starts)
    state = _initial_state(first, optimiser, n_steps)
    key = fingerprint(objective, parameters, first, n_steps, jax.tree.structure(state))
    if checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint, key, state)
    evaluations = int(state.evaluations)
    report = _reporter(progress, n_steps, first_step=evaluations - 1)
    try:
        while evaluations <= n_steps:
            state = _step(state, objective, parameters, optimiser)
            step, evaluations = evaluations, evaluations + 1
            if step == 0:
                _check_starts(state)
            if checkpoint is not None and (step % checkpoint_every == 0 or step == n_steps):
                save_checkpoint(checkpoint, key, state)
            if step % progress_every == 0 or step == n_steps:
                report(step, state)
    except BaseException:
        # Keep the steps done (the state of the last completed step), unless nothing is worth
        # resuming from.
        if checkpoint is not None and bool(jnp.any(jnp.isfinite(state.loss))):
            save_checkpoint(checkpoint, key, state)
        raise
    return FitResult(
        objective=objective,
        parameters=parameters,
        start_values=parameters.to_values(state.starts),
        values=parameters.to_values(state.best_unconstrained),
        best_loss=state.best_loss,
        loss_history=state.loss_history,
        rejections=state.rejections,
    )


def _check_integer(name: str, value, lower: float | None = 1.0) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    check_range(name, value, lower=lower, lower_inclusive=True)


def _check_starts(state: FitState) -> None:
    dead = np.flatnonzero(~np.isfinite(np.asarray(state.loss)))
    if dead.size == state.loss.shape[0]:
        raise ValueError(
            "the loss or its gradient is not finite at any start; check that predict gives "
            "finite, differentiable predictions at the template model's values"
        )
    if dead.size:
        warnings.warn(
            f"the loss or its gradient is not finite at starts {dead.tolist()}; they stay where "
            "they are",
            stacklevel=3,
        )
    flat = np.flatnonzero(np.asarray(state.flat) & np.isfinite(np.asarray(state.loss)))
    if flat.size:
        warnings.warn(
            f"the gradient of the loss is exactly zero at starts {flat.tolist()} (loss "
            f"{np.asarray(state.loss)[flat].round(4).tolist()}): nothing the fitted parameters "
            "change there reaches a prediction (e.g. no calcium crosses a threshold of the "
            "rule), so these starts will not move; narrow the parameters' start boxes or start "
            "from a fitted model",
            stacklevel=3,
        )


def _reporter(progress: bool | Callable[[FitProgress], None], n_steps: int, first_step: int):
    """``report(step, state)``: builds a `FitProgress` and prints or passes it on; the speed of
    the first report counts from now, ``first_step`` being the last step already done."""
    if progress is True:
        sink = lambda record: print(record.line(), flush=True)  # noqa: E731
    elif progress is False:
        return lambda step, state: None
    elif callable(progress):
        sink = progress
    else:
        raise ValueError(f"progress must be True, False or a function; got {progress!r}")
    last = {"step": first_step, "time": time.perf_counter()}

    def report(step: int, state: FitState) -> None:
        best_loss = np.asarray(state.best_loss)  # waits for the step to finish
        now = time.perf_counter()
        rate = (step - last["step"]) / (now - last["time"])
        last.update(step=step, time=now)
        sink(FitProgress(step, n_steps, best_loss, np.asarray(state.rejections), rate))

    return report
