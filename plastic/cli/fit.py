"""``plastic fit`` of the Tazerart 2020 study, and the fit loop every study's fit shares."""

import argparse
import os
import time
from typing import NamedTuple

import numpy as np

from plastic.cli.arguments import COUNT, NON_NEGATIVE, POSITIVE, SEED, fail
from plastic.cli.processes import add_process_options
from plastic.cli.uncertainty import add_uncertainty_options


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
    from plastic._validation import check_range

    check_range("--length-constant-sem", fraction, lower=0.0)
    missing = np.array([r == "length_constant" for r in data.readout]) & ~(np.asarray(data.sem) > 0)
    return data.with_sem(np.where(missing, fraction * np.asarray(data.mean), np.asarray(data.sem)))


class FitSetup(NamedTuple):
    """What ``plastic fit`` fits, built from its options (every input checked)."""

    objective: object
    parameters: object
    what: str
    learning_rate: float
    progress_every: int
    experiment: object  # the study's experiment, for predictions beyond the data's rows


def prepare_fit(args) -> FitSetup:
    """The objective and parameters of ``plastic fit`` (or of ``plastic uncertainty``'s rebuilt
    fit): the study's, or for Tazerart 2020 its experiment in ``--mode``."""
    if args.study != "tazerart2020":
        from plastic.cli.studies import prepare_study_fit

        return prepare_study_fit(args)
    from plastic.cli.studies import load_data, load_start
    from plastic.experiment import Predictor
    from plastic.fit import FitParameters, Objective, Parameter, default_optimiser, weighting_sem
    from plastic.studies import get_study
    from plastic.studies.tazerart2020 import TazerartExperiment

    try:
        # Every input is checked before the biophysics is recorded (tens of seconds).
        study = get_study(args.study)
        choice = study.rule(args.rule)
        data = load_data(args, study)
        data = _weigh_length_constants(data, args.length_constant_sem)
        experiment = TazerartExperiment(
            mode=args.mode,
            n_pairings=args.n_pairings,
            readout_delay=args.readout_min * 60_000.0,
        )
        fitted = [Parameter.from_spec(s) for s in args.parameter] or choice.parameters()
        model = choice.model()
        if args.init is not None:
            model = load_start(args.init, model)
        parameters = FitParameters(model, fitted)
        experiment.check_parameters([p.path for p in fitted])
        experiment.check_model(model)
        experiment.check_data(data)
        weighting_sem(data, args.sem_floor)  # before the biophysics is recorded
        learning_rate = choice.learning_rate if args.learning_rate is None else args.learning_rate
        default_optimiser(args.n_steps, learning_rate=learning_rate)  # checks both
    except ValueError as error:
        fail(args.command, error)
    if args.mode == "replay":
        print(f"recording the biophysics of {data.n_rows} rows ...", flush=True)
    predictor = Predictor.from_data(experiment, data, model=model)
    objective = Objective(predictor, data, sem_floor=args.sem_floor)
    what = (
        f"{len(fitted)} parameters ({args.mode}) to {data.n_rows} rows "
        f"({predictor.n_conditions} conditions)"
    )
    return FitSetup(objective, parameters, what, learning_rate, 1, experiment)


def run_fit_command(args) -> None:
    from plastic.cli.uncertainty import check_uncertainty_options

    started = time.perf_counter()
    check_uncertainty_options(args)
    run_fit(args, prepare_fit(args), started)


def run_fit(args, setup: FitSetup, started: float) -> None:
    """Fit ``setup`` with the command's options (starts, steps, seed, checkpoint in ``OUT``),
    write the results and say where; then its uncertainty with ``--uncertainty``."""
    from plastic.fit import default_optimiser, fit, write_fit

    objective, parameters = setup.objective, setup.parameters
    os.makedirs(args.out, exist_ok=True)
    checkpoint = args.checkpoint or os.path.join(args.out, "fit.ckpt")
    if args.overwrite and os.path.exists(checkpoint):
        os.remove(checkpoint)
        print(f"--overwrite: removed the checkpoint {checkpoint}")
    print(
        f"fitting {setup.what}, {args.n_starts} starts x {args.n_steps} steps, checkpoint "
        f"{checkpoint}",
        flush=True,
    )
    result = fit(
        objective,
        parameters,
        optimiser=default_optimiser(args.n_steps, learning_rate=setup.learning_rate),
        n_starts=args.n_starts,
        n_steps=args.n_steps,
        seed=args.seed,
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        progress_every=setup.progress_every,
    )
    import jax

    if jax.process_index() > 0:  # every process holds the result; process 0 writes it
        return
    paths = write_fit(result, args.out, fit_settings(args, setup.learning_rate))
    best = float(result.best_loss[result.best_start])
    n_rows = objective.n_rows
    print(f"chi-square {best:.4g} over {n_rows} rows (chi2/N {best / n_rows:.3g})")
    for name, value in result.best_values.items():
        print(f"{name} = {value}")
    print(f"fit took {time.perf_counter() - started:.1f} s")
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    if args.sensitivity:
        write_model_sensitivity(args, objective, result.model)
    if args.uncertainty is not None:
        from plastic.cli.uncertainty import run_uncertainty

        run_uncertainty(args, objective, parameters, result.model, setup.experiment)


def write_model_sensitivity(args, objective, model) -> None:
    """``--sensitivity``: write the sensitivity of every prediction at ``model`` to every model
    parameter (only the replay-fittable ones in ``--mode replay``) into ``OUT``."""
    from plastic.fit import sensitivity, write_sensitivity
    from plastic.replay import REPLAY_FITTABLE

    started = time.perf_counter()
    prefixes = REPLAY_FITTABLE if getattr(args, "mode", None) == "replay" else None
    result = sensitivity(objective, model, prefixes)
    paths = write_sensitivity(result, args.out)
    print(
        f"sensitivity of {len(result.rows)} rows to {len(result.names)} parameters "
        f"({time.perf_counter() - started:.1f} s); wrote {paths['table']}, {paths['figure']}"
    )
    for row in range(len(result.rows)):
        largest = ", ".join(f"{name} {slope:+.2g}" for name, slope in result.largest(row, 3))
        print(f"  {result.rows[row]}: {largest}")


def fit_settings(args, learning_rate: float) -> dict:
    """Every option of the command (the defaults it ran with included), the learning rate
    used, and the SHA-256 of a data file given: for ``parameters.json``."""
    from plastic.provenance import file_sha256

    settings = {
        name: value
        for name, value in vars(args).items()
        if isinstance(value, (str, int, float, bool, list, tuple, type(None)))
    }
    settings["learning_rate"] = learning_rate
    data = getattr(args, "data", None)
    if data:
        settings["data_sha256"] = file_sha256(data)
    return settings


def add_fit_command(commands, compiling: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``fit`` command, with its uncertainty options."""
    fit = commands.add_parser(
        "fit",
        parents=[compiling],
        help="fit model parameters to a study's data (default: Tazerart 2020), or to your own "
        "CSV with the same columns",
    )
    fit.add_argument(
        "--study",
        default="tazerart2020",
        help="the study whose experiment and models to use (plastic studies lists them; default "
        "tazerart2020)",
    )
    fit.add_argument(
        "--rule", help="the study's rule to fit, e.g. graupner-brunel or triplet for markram1997"
    )
    fit.add_argument(
        "--data",
        help="a CSV of your own with the study's columns (default: the study's shipped data); "
        "rows the study's experiment cannot predict are refused",
    )
    fit.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="COLUMN=VALUE[,VALUE...]",
        help="keep rows whose COLUMN is one of the values (repeatable; default: every uEPSP, "
        "neck and head row; readout=uepsp,neck_length,head_volume,length_constant adds the "
        "two length constants of eq. 2, each a sweep of pair distance)",
    )
    fit.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="PATH[:LOWER:UPPER[:log]]",
        help="a model leaf to fit, e.g. rule.cam_half:0.5:40:log (repeatable; default: "
        "plastic.studies.tazerart2020.default_fit_parameters: 24 rule, expression, coupling and "
        "temperature parameters)",
    )
    fit.add_argument(
        "--mode",
        choices=("replay", "coupled"),
        default="replay",
        help="replay: rule, coupling, expression and the heads' calcium stores on biophysics "
        "recorded once (rule.*, expression.*, coupling.*, calcium_store.*, plasticity_q10 and "
        "calcium_sensitivity_q10 only; fast); coupled: the full model at every step (any "
        "parameter; slow)",
    )
    fit.add_argument(
        "--init",
        help="model.eqx of an earlier fit: the first start begins there (default: the values "
        "of plastic.studies.tazerart2020.tazerart_model)",
    )
    fit.add_argument("--n-starts", type=COUNT, default=3)
    fit.add_argument("--n-steps", type=COUNT, default=50)
    fit.add_argument(
        "--learning-rate",
        type=POSITIVE,
        help="Adam peak rate (default 0.1, or the study's rule's own)",
    )
    fit.add_argument("--seed", type=SEED, default=0)
    fit.add_argument("--sem-floor", type=POSITIVE, default=None, help="SEM for rows without one")
    fit.add_argument(
        "--length-constant-sem",
        type=POSITIVE,
        default=0.15,
        help="SEM of length_constant rows, as a fraction of their mean (the paper gives none; "
        "0.15: +-2 SEM spans +-30%% of its lambda)",
    )
    fit.add_argument("--n-pairings", type=COUNT, default=40)
    fit.add_argument(
        "--readout-min", type=NON_NEGATIVE, default=20.0, help="quiet before readouts, min"
    )
    fit.add_argument("--checkpoint", default=None, help="default OUT/fit.ckpt; resumes if present")
    fit.add_argument("--checkpoint-every", type=COUNT, default=5)
    fit.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh: discard a checkpoint of a different fit instead of refusing it",
    )
    fit.add_argument(
        "--sensitivity",
        action="store_true",
        help="after the fit, d log prediction / d log parameter of every data row with respect "
        "to every parameter of the model, by autodiff (sensitivity.csv, sensitivity.png; in "
        "--mode replay only what a replay moves: the recorded biophysics is fixed)",
    )
    fit.add_argument("--out", default="out/fit")
    add_uncertainty_options(fit)
    add_process_options(fit)
    fit.set_defaults(run=run_fit_command)
    return fit
