"""The optax loop: several starts at once, non-finite steps rejected, progress and checkpoints.

`fit` runs the jitted step of `plastic.fit.step` (every start at once, under `jax.vmap`; a step
whose loss or gradient is not finite is rejected and retried shorter) from the first evaluation
of the starts to the last step, saving checkpoints and resuming from them, reporting progress
(`plastic.fit.result.FitProgress`) and returning a `plastic.fit.result.FitResult`.
"""

import contextlib
import functools
import math
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from plastic._lock import output_lock
from plastic._validation import check_range
from plastic.compile_times import CompileClock, computation_key
from plastic.fit.checkpoint import fingerprint, load_checkpoint, save_checkpoint
from plastic.fit.objective import Objective
from plastic.fit.parameters import FitParameters
from plastic.fit.processes import gather_starts, start_share
from plastic.fit.result import FitProgress, FitResult
from plastic.fit.step import FitState, _initial_state, step_all_starts
from plastic.program_cache import cached_program
from plastic.solver_status import describe


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
    optimiser = optax.chain(optax.clip_by_global_norm(max_gradient_norm), optax.adam(schedule))
    _DESCRIBED[id(optimiser)] = (
        f"default_optimiser(n_steps={n_steps}, learning_rate={learning_rate}, "
        f"warmup_fraction={warmup_fraction}, final_fraction={final_fraction}, "
        f"max_gradient_norm={max_gradient_norm}): Adam on a warmup-cosine schedule after "
        "global-norm clipping"
    )
    return optimiser


_DESCRIBED: dict[int, str] = {}
"""id -> settings of each `default_optimiser` made (they are cached, so the ids stay theirs)."""


def describe_optimiser(optimiser: optax.GradientTransformation) -> str:
    """The settings of a `default_optimiser`, else what can be said of another optimiser."""
    return _DESCRIBED.get(
        id(optimiser),
        f"a user-given {type(optimiser).__name__} (optax); its settings are not recorded",
    )


FIT_DESCRIPTION = (
    "the data or the model",
    "the fitted parameters or their bounds",
    "the starts (seed, number of starts)",
    "the number of steps",
    "the optimiser (learning rate, schedule or kind)",
    "the optimiser's state",
)
"""The parts of a fit a checkpoint is fingerprinted by, in order; a refusal names those that
differ."""


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

    Under multi-process JAX (`jax.distributed.initialize`; ``plastic fit --coordinator ...`` or
    ``--distributed``), every process calls `fit` alike; process i fits starts i, i + n, ... of
    the same drawn starts (checkpoint ``checkpoint + ".process-I-of-N"``) and every process
    returns the result of all of them (`plastic.fit.processes`).

    Returns:
        A `FitResult`.

    Raises:
        ValueError: for a bad argument (naming it), a checkpoint of another fit, or if the loss
            or its gradient is not finite at any start.
        plastic._lock.OutputLockedError: if another live process is writing ``checkpoint``.
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
    share = start_share(n_starts)
    if share is not None:
        # Every process drew the same starts; each fits its share, checkpointed on its own.
        first = jax.tree.map(lambda x: x[share.local], first)
        if checkpoint is not None:
            checkpoint = f"{checkpoint}.process-{share.process + 1}-of-{share.n_processes}"
    state = _initial_state(first, optimiser, n_steps)
    settings = {
        "seed": seed,
        "n_starts": n_starts,
        "n_steps": n_steps,
        "starts": "given" if starts is not None else "the template, then drawn in the start boxes",
        "optimiser": describe_optimiser(optimiser),
        "checkpoint": None if checkpoint is None else str(checkpoint),
    }
    if share is not None:
        settings["processes"] = share.n_processes
    # The optimiser's settings (learning rate, schedule, clipping) live in closures no hash can
    # read: its first updates on a fixed problem stand for them.
    probe = optimiser_probe(optimiser, jax.tree.map(lambda x: x[0], first))
    described = (objective, parameters, first, n_steps, probe, jax.tree.structure(state))
    key = fingerprint(*described)
    with contextlib.ExitStack() as stack:
        if checkpoint is not None:
            # One writer per checkpoint: a second fit into it is refused at once.
            stack.enter_context(output_lock(checkpoint))
            if Path(checkpoint).exists():
                state = load_checkpoint(checkpoint, key, state, FIT_DESCRIPTION)
        result = _run(
            state, objective, parameters, optimiser, n_steps, key, checkpoint,
            checkpoint_every, progress, progress_every, settings,
        )  # fmt: skip
    if share is None:
        return result
    starts_first = (result.start_values, result.values, result.best_loss, result.rejections)
    gathered = gather_starts(starts_first, share, n_starts)
    history = gather_starts(result.loss_history, share, n_starts, axis=1)
    return eqx.tree_at(
        lambda r: (r.start_values, r.values, r.best_loss, r.rejections, r.loss_history),
        result,
        (*gathered, history),
    )


def _run(
    state, objective, parameters, optimiser, n_steps, key, checkpoint, checkpoint_every,
    progress, progress_every, settings,
) -> FitResult:  # fmt: skip
    """The steps from ``state`` to ``n_steps``, checkpointed and reported (see `fit`)."""
    evaluations = int(state.evaluations)
    if evaluations > 0 and progress is True:
        done = "every step done" if evaluations > n_steps else f"step {evaluations}"
        print(f"resuming from {checkpoint}: {done} of {n_steps}", flush=True)
    report = _reporter(progress, n_steps, first_step=evaluations - 1)
    clock = CompileClock(computation_key("fit step", objective, parameters, state))
    if progress is True and evaluations <= n_steps:
        n_starts = state.loss.shape[0]
        what = f"the loss and its gradient at {n_starts} start{'s' * (n_starts > 1)}"
        print(clock.message(what), flush=True)
    # Traced once per process; with the program cache on (the command line), read from disk.
    step_program = cached_program(
        "plastic.fit.step.step_all_starts", step_all_starts, state, objective, parameters, optimiser
    )
    try:
        while evaluations <= n_steps:
            state = step_program(state, objective, parameters, optimiser)
            if clock is not None:
                jax.block_until_ready(state.loss)
                clock.stop()
                clock = None
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
            if progress is True:
                done = int(state.evaluations) - 1
                print(
                    f"stopped: the steps up to {done} of {n_steps} are saved in {checkpoint}; "
                    "rerun the same fit to resume",
                    flush=True,
                )
        raise
    _warn_of_solve_failures(state)
    return FitResult(
        objective=objective,
        parameters=parameters,
        start_values=parameters.to_values(state.starts),
        values=parameters.to_values(state.best_unconstrained),
        best_loss=state.best_loss,
        loss_history=state.loss_history,
        rejections=state.rejections,
        settings=settings,
    )


def _check_integer(name: str, value, lower: float | None = 1.0) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    check_range(name, value, lower=lower, lower_inclusive=True)


def _check_starts(state: FitState) -> None:
    dead = np.flatnonzero(~np.isfinite(np.asarray(state.loss)))
    why = _solve_failures(state, dead)
    if dead.size == state.loss.shape[0]:
        raise ValueError(
            "the loss or its gradient is not finite at any start; check that predict gives "
            "finite, differentiable predictions at the template model's values" + why
        )
    if dead.size:
        warnings.warn(
            f"the loss or its gradient is not finite at starts {dead.tolist()}; they stay where "
            "they are" + why,
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


def _solve_failures(state: FitState, starts) -> str:
    """``"; the solve failed at start I: REASON, ..."`` for those of ``starts`` whose last
    failed solve is recorded (empty if none)."""
    codes = np.asarray(state.solve_failure)
    named = [f"start {i}: {describe(codes[i])}" for i in starts if codes[i] != 0]
    return f"; the solve failed at {', '.join(named)}" if named else ""


def _warn_of_solve_failures(state: FitState) -> None:
    """Warn of the steps rejected because a solve failed, per start, and why (the last)."""
    counts, codes = np.asarray(state.solve_failures), np.asarray(state.solve_failure)
    starts = np.flatnonzero(counts)
    if starts.size:
        steps = ", ".join(f"start {i}: {counts[i]} ({describe(codes[i])})" for i in starts)
        warnings.warn(
            f"steps rejected because a solve failed, per start with the last reason: {steps}; "
            "a larger max_steps or looser tolerances may let these starts go further",
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
    last = {"step": first_step, "time": time.perf_counter(), "reported": False}

    def report(step: int, state: FitState) -> None:
        best_loss = np.asarray(state.best_loss)  # waits for the step to finish
        now = time.perf_counter()
        # The first report of a run waited for the compilation: no rate from it.
        rate = (step - last["step"]) / (now - last["time"]) if last["reported"] else math.nan
        first_seconds = None if last["reported"] else now - last["time"]
        last.update(step=step, time=now, reported=True)
        rejections, loss = np.asarray(state.rejections), np.asarray(state.loss)
        sink(FitProgress(step, n_steps, best_loss, rejections, rate, loss, first_seconds))

    return report


def optimiser_probe(optimiser: optax.GradientTransformation, point, n_updates: int = 4) -> list:
    """The first ``n_updates`` updates ``optimiser`` makes from ``point`` on a fixed quadratic:
    optimisers that differ in any setting that moves a fit (learning rate, schedule, clipping,
    momentum) give different updates, so a checkpoint can tell them apart."""

    def loss(u):
        return sum(jnp.sum((x - 0.3) ** 2) for x in jax.tree.leaves(u))

    state = optimiser.init(point)
    updates = []
    for _ in range(n_updates):
        value, gradient = jax.value_and_grad(loss)(point)
        extra = (
            dict(value=value, grad=gradient, value_fn=loss)
            if isinstance(optimiser, optax.GradientTransformationExtraArgs)
            else {}
        )
        update, state = optimiser.update(gradient, state, point, **extra)
        point = optax.apply_updates(point, update)
        updates.append(update)
    return updates
