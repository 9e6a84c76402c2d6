"""``plastic studies`` and ``plastic fit --study NAME``: fits of any study of `plastic.studies`."""

import os

import numpy as np

from plastic.cli.arguments import fail


def list_studies(args) -> None:
    """Print every study, its data, its condition fields and its rules."""
    from plastic.studies import STUDIES

    for name, study in STUDIES.items():
        data = study.data()
        print(f"{name:<13} {study.citation}: {data.n_rows} rows of {sorted(set(data.readout))}")
        fields = ", ".join(f"{f.name} ({f.allowed()})" for f in study.experiment.fields)
        print(f"{'':<13} condition fields: {fields}")
        for rule, choice in study.rules.items():
            default = " (default)" if rule == study.default_rule else ""
            print(f"{'':<13} --rule {rule}{default}: {choice.description}")


def prepare_study_fit(args):
    """The `plastic.cli.fit.FitSetup` of ``plastic fit --study NAME``: the study's (or the
    user's) data, its experiment, the chosen rule; every input checked before anything is
    compiled."""
    from plastic.cli.fit import FitSetup
    from plastic.experiment import Predictor
    from plastic.fit import FitParameters, Objective, Parameter, default_optimiser, weighting_sem
    from plastic.studies import get_study

    try:
        study = get_study(args.study)
        choice = study.rule(args.rule)
        data = load_data(args, study)
        model = choice.model()
        if args.init is not None:
            model = load_start(args.init, model)
        fitted = [Parameter.from_spec(s) for s in args.parameter] or choice.parameters()
        parameters = FitParameters(model, fitted)
        weighting_sem(data, args.sem_floor)  # before the predictor records anything
        predictor = Predictor.from_data(study.experiment, data, model=model)
        objective = Objective(predictor, data, sem_floor=args.sem_floor)
        learning_rate = choice.learning_rate if args.learning_rate is None else args.learning_rate
        default_optimiser(args.n_steps, learning_rate=learning_rate)  # checks both
    except ValueError as error:
        fail(args.command, error)
    what = (
        f"{len(fitted)} parameters of {args.study} --rule {args.rule or study.default_rule} to "
        f"{data.n_rows} rows ({predictor.n_conditions} conditions)"
    )
    return FitSetup(
        objective, parameters, what, learning_rate, max(1, args.n_steps // 20), study.experiment
    )


def load_data(args, study):
    """The rows ``plastic fit`` fits: ``--data`` (default: the study's shipped data), those
    ``--select`` keeps (default: the study's `fitted_by_default` rows)."""
    from plastic.cli.fit import selection
    from plastic.experiment import load_dataset

    if args.data in (None, args.study):
        data = study.data()
    elif not os.path.isfile(args.data):
        raise ValueError(f"--data {args.data!r} is not a file (nor the study's name)")
    else:
        data = load_dataset(args.data)
    chosen = {**study.fitted_by_default, **selection(args.select)}
    if chosen:
        try:
            data = data.select(**chosen)
        except ValueError as error:
            raise ValueError(f"--select {args.select}: {error}") from None
    return data


def load_start(path, template, option="--init"):
    """The model saved at ``path`` (a fit's ``model.eqx``), shaped like ``template``."""
    from plastic.fit import load_model

    if not os.path.isfile(path):
        raise ValueError(f"{option} {path!r} is not a file")
    try:
        return load_model(path, template)
    except ValueError as error:  # load_model's report of a file of another structure
        raise ValueError(
            f"{option} {path!r} is not a model.eqx of the study's model "
            f"({type(error).__name__}: {error})"
        ) from None


def build_study_sweep(args):
    """The `ExperimentSweep` of ``plastic sweep --study NAME``: each ``--axis`` (and ``--dt``)
    with several values is an axis, with one value it fixes that field or model leaf."""
    from plastic.cli.sweep import split_grid
    from plastic.studies import get_study
    from plastic.sweep import ExperimentSweep

    study = get_study(args.study)
    experiment = _with_timing(study.experiment, args)
    model, description = study_model(args, study)
    specs = list(args.axis)
    if args.dt is not None:
        specs.insert(0, ("delta_t", args.dt))
    axes, fixed, model = split_grid(specs, experiment, model)
    readouts = tuple(dict.fromkeys(args.readout)) if args.readout else None
    print(f"model: {description}", flush=True)
    return ExperimentSweep.build(experiment, model, axes, fixed, readouts, description)


def study_model(args, study):
    """The model ``--rule`` of ``study`` starts from, or the fit of it in ``--model``, and a
    description of it."""
    choice = study.rule(args.rule)
    if args.model is not None:
        model = load_start(args.model, choice.model(), "--model")
        return model, f"the model of {args.model} (study {study.name})"
    rule = args.rule or study.default_rule
    return choice.model(), f"study {study.name} --rule {rule}: {choice.description}"


def _with_timing(experiment, args):
    """``experiment`` with ``--n-pairings`` (`with_n_pairings`) and ``--quiet-min`` (ms of
    quiet before its readouts) where given; an experiment without such settings refuses them."""
    import dataclasses

    from plastic.protocols import MINUTE

    experiment = with_n_pairings(experiment, args)
    if args.quiet_min is None:
        return experiment
    if not hasattr(experiment, "readout_delay"):
        raise ValueError(_set_by_fields("--quiet-min", args))
    return dataclasses.replace(experiment, readout_delay=args.quiet_min * MINUTE)


def with_n_pairings(experiment, args):
    """``experiment`` with ``--n-pairings`` where given: the one place the option reaches an
    experiment, for ``plastic sweep`` of the spine model as for ``--study``; an experiment
    without the setting refuses it."""
    import dataclasses

    if args.n_pairings is None:
        return experiment
    if not hasattr(experiment, "n_pairings"):
        raise ValueError(_set_by_fields("--n-pairings", args))
    return dataclasses.replace(experiment, n_pairings=args.n_pairings)


def _set_by_fields(option: str, args) -> str:
    return (
        f"{option}: study {args.study!r} sets its protocol by condition fields (plastic "
        "studies lists them); use --axis FIELD=VALUE"
    )


def simulate_study(args) -> None:
    """``plastic simulate --study NAME``: one condition of the study's experiment (its fields
    from ``--condition FIELD=VALUE``, the others at their defaults) on the study's model, every
    per-condition readout printed with its unit."""
    import equinox as eqx
    import jax

    from plastic.compile_times import CompileClock, computation_key
    from plastic.experiment import AbstractAcrossConditions
    from plastic.solver_status import raise_if_failed
    from plastic.studies import get_study

    try:
        study = get_study(args.study)
        experiment = _with_timing(study.experiment, args)
        model, description = study_model(args, study)
        experiment.check_model(model)
        given = {}
        for item in args.condition:
            name, equals, value = item.partition("=")
            if not equals:
                raise ValueError(f"--condition takes FIELD=VALUE; got {item!r}")
            experiment.field(name)  # names the fields if unknown
            try:
                given[name] = float(value)
            except ValueError:
                given[name] = value  # a label, e.g. a drug
        if args.delta_t is not None:
            given.setdefault("delta_t", args.delta_t)
        condition = experiment.encode_condition(given, "--condition")
        names = tuple(
            r.name for r in experiment.readouts if not isinstance(r, AbstractAcrossConditions)
        )
        arrays = {name: np.array([value]) for name, value in condition.items()}
        experiment, conditions = experiment.prepare(arrays, names, model)
    except ValueError as error:
        fail("simulate", error)
    one = jax.tree.map(lambda x: x[0], conditions)
    print(f"model: {description}")
    shown = {
        name: experiment.field(name).choices[int(v)] if experiment.field(name).choices else v
        for name, v in condition.items()
    }
    clock = CompileClock(computation_key("measure", experiment, model, one, names))
    print(f"condition: {shown}; {clock.message('the readouts')}", flush=True)
    values, code = jax.block_until_ready(eqx.filter_jit(experiment.measure)(model, one, names))
    print(f"done in {clock.stop():.1f} s")
    raise_if_failed(code, f"the condition {shown}")
    np.set_printoptions(precision=4, suppress=True)
    for name, value in zip(names, values):
        readout = experiment.readout(name)
        value = np.asarray(value)
        if value.ndim == 0:
            shown = f"{float(value):.4g}"
        elif readout.dims == ("site",):
            shown = ", ".join(f"{s} {float(v):.4g}" for s, v in zip(readout.sites, value))
        else:
            shown = f"dims {readout.dims}, sites {list(readout.sites)}\n{value}"
        print(f"{name} ({readout.unit}): {shown}")


def add_studies_command(commands) -> None:
    """The ``studies`` command: the studies, their data and rules."""
    studies = commands.add_parser("studies", help="list the studies, their data and rules")
    studies.set_defaults(run=list_studies)
