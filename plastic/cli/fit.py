"""``plastic fit`` of the Tazerart 2020 study, and the fit loop every study's fit shares."""

import os
import sys
import time

import numpy as np


def selection(items):
    """``["readout=uepsp,neck_length", "delta_t=13,-15"]`` -> keywords of a data set's
    ``select`` (numbers where a value reads as one)."""
    selection = {}
    for item in items:
        column, _, values = item.partition("=")
        if not values:
            raise SystemExit(f"--select needs COLUMN=VALUE[,VALUE...]; got {item!r}")
        parsed = []
        for value in values.split(","):
            try:
                parsed.append(float(value))
            except ValueError:
                parsed.append(value)
        selection[column] = tuple(parsed)
    return selection


def _weigh_length_constants(data, fraction):
    """``length_constant`` rows without an SEM (the paper gives none) weighted with ``fraction``
    of their mean as SEM."""
    import equinox as eqx
    import jax.numpy as jnp

    from plastic._validation import check_range

    check_range("--length-constant-sem", fraction, lower=0.0)
    missing = np.array([r == "length_constant" for r in data.readout]) & ~(np.asarray(data.sem) > 0)
    sem = np.where(missing, fraction * np.asarray(data.mean), np.asarray(data.sem))
    return eqx.tree_at(lambda d: d.sem, data, jnp.asarray(sem))


def _load_start(path, template):
    """The model saved at ``path`` (a fit's ``model.eqx``), shaped like ``template``."""
    from plastic.fit import load_model

    if not os.path.isfile(path):
        sys.exit(f"plastic fit: error: --init {path!r} is not a file")
    try:
        return load_model(path, template)
    except ValueError as error:  # load_model's report of a file of another structure
        sys.exit(
            f"plastic fit: error: --init {path!r} is not a model.eqx of the Tazerart model "
            f"({type(error).__name__}: {error})"
        )


def _fit(args) -> None:
    if args.study != "tazerart2020":
        from plastic.cli.studies import fit_study

        return fit_study(args)
    if args.rule is not None:
        sys.exit(
            "plastic fit: error: --rule: the tazerart2020 study fits its kinase-competition model"
        )
    from plastic.data import load_csv, load_tazerart2020
    from plastic.fit import FitParameters, Objective, Parameter
    from plastic.tazerart import (
        ReplayPredictor,
        TazerartPredictor,
        check_replay_parameters,
        default_fit_parameters,
        tazerart_model,
    )

    try:
        # Every input is checked before the biophysics is recorded (tens of seconds).
        data = load_tazerart2020() if args.data in (None, "tazerart2020") else load_csv(args.data)
        chosen = {"readout": ("uepsp", "neck_length", "head_volume"), **selection(args.select)}
        data = data.select(**chosen)
        if data.n_rows == 0:
            raise ValueError(f"--select {args.select}: no row of the data matches")
        data = _weigh_length_constants(data, args.length_constant_sem)
        if args.parameter:
            fitted = [Parameter.from_spec(s) for s in args.parameter]
        else:
            fitted = default_fit_parameters()
        model = tazerart_model()
        if args.init is not None:
            model = _load_start(args.init, model)
        parameters = FitParameters(model, fitted)
        if args.mode == "replay":
            check_replay_parameters([p.path for p in fitted])
    except ValueError as error:
        sys.exit(f"plastic fit: error: {error}")
    timing = dict(n_pairings=args.n_pairings, readout_delay=args.readout_min * 60_000.0)
    started = time.perf_counter()
    if args.mode == "replay":
        print(f"recording the biophysics of {data.n_rows} rows ...", flush=True)
        predictor = ReplayPredictor.from_data(data, model, **timing)
    else:
        predictor = TazerartPredictor.from_data(data, **timing)
    objective = Objective(predictor, data, sem_floor=args.sem_floor)
    what = (
        f"{len(fitted)} parameters ({args.mode}) to {data.n_rows} rows "
        f"({len(predictor.conditions.delta_t)} conditions)"
    )
    run_fit(args, objective, parameters, what, started, progress_every=1)


def run_fit(
    args, objective, parameters, what: str, started: float, progress_every: int, learning_rate=0.1
) -> None:
    """Fit ``objective`` over ``parameters`` with the command's options (starts, steps, seed,
    checkpoint in ``OUT``; ``--learning-rate``, else ``learning_rate``), write the results and
    say where."""
    from plastic.fit import default_optimiser, fit, write_fit

    if args.learning_rate is not None:
        learning_rate = args.learning_rate
    os.makedirs(args.out, exist_ok=True)
    checkpoint = args.checkpoint or os.path.join(args.out, "fit.ckpt")
    print(
        f"fitting {what}, {args.n_starts} starts x {args.n_steps} steps, checkpoint "
        f"{checkpoint}; compiling ...",
        flush=True,
    )
    result = fit(
        objective,
        parameters,
        optimiser=default_optimiser(args.n_steps, learning_rate=learning_rate),
        n_starts=args.n_starts,
        n_steps=args.n_steps,
        seed=args.seed,
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        progress_every=progress_every,
    )
    paths = write_fit(result, args.out)
    best = float(result.best_loss[result.best_start])
    n_rows = objective.n_rows
    print(f"chi-square {best:.4g} over {n_rows} rows (chi2/N {best / n_rows:.3g})")
    for name, value in result.best_values.items():
        print(f"{name} = {value}")
    print(f"fit took {time.perf_counter() - started:.1f} s")
    print("wrote " + ", ".join(str(p) for p in paths.values()))
