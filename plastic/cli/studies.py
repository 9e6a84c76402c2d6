"""``plastic studies`` and ``plastic fit --study NAME``: fits of any study of `plastic.studies`."""

import os
import sys
import time


def list_studies(args) -> None:
    """Print every study, its data and its rules."""
    from plastic.studies import STUDIES

    print("tazerart2020  Tazerart et al. 2020 Nat Commun 11:4276: STDP at single, clustered and")
    print("              distributed spines on the spine model (plastic fit without --study)")
    for name, study in STUDIES.items():
        data = study.data()
        print(f"{name:<13} {study.citation}: {data.n_rows} rows of {sorted(set(data.readout))}")
        print(f"{'':<13} condition columns {list(data.column_names)}")
        for rule, choice in study.rules.items():
            default = " (default)" if rule == study.default_rule else ""
            print(f"{'':<13} --rule {rule}{default}: {choice.description}")


def fit_study(args) -> None:
    """``plastic fit --study NAME``: the study's (or the user's) data, its experiment, the
    chosen rule; every input checked before anything is compiled."""
    from plastic.cli import selection
    from plastic.experiment import Predictor, load_dataset
    from plastic.fit import FitParameters, Objective, Parameter, default_optimiser, fit, write_fit
    from plastic.studies import get_study

    try:
        study = get_study(args.study)
        choice = study.rule(args.rule)
        if args.data in (None, args.study):
            data = study.data()
        elif not os.path.isfile(args.data):
            raise ValueError(f"--data {args.data!r} is not a file (nor the study's name)")
        else:
            data = load_dataset(args.data)
        if args.select:
            data = data.select(**selection(args.select))
        model = choice.model()
        if args.init is not None:
            model = _load_start(args.init, model)
        fitted = [Parameter.from_spec(s) for s in args.parameter] or choice.parameters()
        parameters = FitParameters(model, fitted)
        predictor = Predictor.from_data(study.experiment, data, model=model)
        objective = Objective(predictor, data, sem_floor=args.sem_floor)
        optimiser = default_optimiser(args.n_steps, learning_rate=args.learning_rate)
    except ValueError as error:
        sys.exit(f"plastic fit: error: {error}")
    os.makedirs(args.out, exist_ok=True)
    checkpoint = args.checkpoint or os.path.join(args.out, "fit.ckpt")
    print(
        f"fitting {len(fitted)} parameters of {args.study} --rule {args.rule or study.default_rule}"
        f" to {data.n_rows} rows ({predictor.n_conditions} conditions), {args.n_starts} starts x "
        f"{args.n_steps} steps, checkpoint {checkpoint}; compiling ...",
        flush=True,
    )
    started = time.perf_counter()
    result = fit(
        objective,
        parameters,
        optimiser=optimiser,
        n_starts=args.n_starts,
        n_steps=args.n_steps,
        seed=args.seed,
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        progress_every=max(1, args.n_steps // 20),
    )
    paths = write_fit(result, args.out)
    best = float(result.best_loss[result.best_start])
    print(f"chi-square {best:.4g} over {data.n_rows} rows (chi2/N {best / data.n_rows:.3g})")
    for name, value in result.best_values.items():
        print(f"{name} = {value}")
    print(f"fit took {time.perf_counter() - started:.1f} s")
    print("wrote " + ", ".join(str(p) for p in paths.values()))


def _load_start(path, template):
    from plastic.fit import load_model

    if not os.path.isfile(path):
        raise ValueError(f"--init {path!r} is not a file")
    return load_model(path, template)
