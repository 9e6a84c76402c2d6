"""``plastic fit --uncertainty ...`` and ``plastic uncertainty DIR``: how sure a fit is."""

import argparse
import hashlib
import json
import os
import time

from plastic.cli.arguments import COUNT, POSITIVE, SEED, fail, number

METHODS = ("laplace", "profile")
LEVEL = number(0.0, 1.0, lower_inclusive=False, upper_inclusive=False)


def add_uncertainty_options(parser: argparse.ArgumentParser, *, method_default=None) -> None:
    """The options shared by ``plastic fit`` and ``plastic uncertainty``."""
    parser.add_argument(
        "--uncertainty",
        choices=METHODS,
        default=method_default,
        help="after the fit (or for plastic uncertainty): laplace, the Gauss-Newton covariance at "
        "the optimum with intervals, correlations and the directions the data do not constrain, "
        "and a band of every prediction; profile adds profile likelihoods "
        "(uncertainty.json, uncertainty.png, bands.png, profiles.png)",
    )
    parser.add_argument(
        "--profile-parameter",
        action="append",
        default=[],
        metavar="NAME",
        help="a fitted value to profile (repeatable; default every fitted value), e.g. "
        "rule.theta_p or spines.neck_length[1]",
    )
    parser.add_argument("--level", type=LEVEL, default=0.95, help="interval probability")
    parser.add_argument(
        "--n-draws", type=number(20.0, integer=True), default=200, help="draws for the bands"
    )
    parser.add_argument(
        "--band-batch",
        type=COUNT,
        default=16,
        help="draws evaluated at once for the bands (memory against speed)",
    )
    parser.add_argument("--band-seed", type=SEED, default=0)
    parser.add_argument(
        "--prior",
        choices=("bounds", "none"),
        default="bounds",
        help="bounds: uniform between each parameter's two bounds (keeps what the data do not "
        "constrain inside them); none: the data alone",
    )
    parser.add_argument(
        "--scale-by-chi-square",
        action="store_true",
        help="scale the covariance by the reduced chi-square (when the SEMs are not trusted)",
    )
    parser.add_argument(
        "--sloppy-sd",
        type=POSITIVE,
        default=1.0,
        help="a value whose data-only standard deviation exceeds this many unconstrained units "
        "(a factor e for a log parameter) is named as not constrained by the data",
    )


def check_uncertainty_options(args) -> None:
    """Refuse profile names that are not paths, before any work (the fitted scalars are known
    only once the model is built; those are checked in `run_uncertainty`)."""
    from plastic.paths import ModelPath

    for name in args.profile_parameter:
        try:
            ModelPath(name.split("[")[0])
        except ValueError as error:
            fail(args.command, f"--profile-parameter {name!r}: {error}")
    if args.profile_parameter and args.uncertainty != "profile":
        fail(args.command, "--profile-parameter needs --uncertainty profile")


def run_uncertainty(args, objective, parameters, model) -> None:
    """The uncertainty of the fit of ``parameters`` to ``objective`` at ``model``, written into
    ``args.out``."""
    import jax

    from plastic.uncertainty import laplace, prediction_band, profile, write_uncertainty

    print(f"uncertainty ({args.uncertainty}) at the fitted model ...", flush=True)
    seconds = {}
    began = time.perf_counter()
    approx = laplace(
        objective,
        parameters,
        model,
        prior=args.prior,
        scale_by_chi_square=args.scale_by_chi_square,
        sloppy_sd=args.sloppy_sd,
    )
    seconds["laplace"] = time.perf_counter() - began
    print(f"Laplace approximation: {seconds['laplace']:.1f} s", flush=True)
    profiles = []
    if args.uncertainty == "profile":
        names = args.profile_parameter or list(approx.names)
        unknown = [name for name in names if name not in approx.names]
        if unknown:
            fail(
                args.command,
                f"--profile-parameter {unknown}: not fitted values; the fitted values are "
                f"{list(approx.names)}",
            )
        began = time.perf_counter()
        for k, name in enumerate(names):
            profiles.append(profile(objective, approx, name, level=args.level))
            item = profiles[-1]
            print(
                f"profile {k + 1}/{len(names)} {name}: [{item.low:.4g}, {item.high:.4g}]"
                + (" (open)" if item.open_low or item.open_high else ""),
                flush=True,
            )
        seconds["profile"] = time.perf_counter() - began
    band = None
    began = time.perf_counter()
    try:
        band = prediction_band(
            approx,
            objective.predictions,
            jax.random.key(args.band_seed),
            n_draws=args.n_draws,
            level=args.level,
            batch_size=args.band_batch,
        )
        seconds["bands"] = time.perf_counter() - began
    except ValueError as error:  # no finite variance in some direction: no draws
        print(f"no prediction bands: {error}")
    settings = {
        name: getattr(args, name)
        for name in (
            "uncertainty", "profile_parameter", "level", "n_draws", "band_batch", "band_seed",
            "prior", "scale_by_chi_square", "sloppy_sd",
        )
    }  # fmt: skip
    paths = write_uncertainty(
        approx,
        args.out,
        level=args.level,
        profiles=profiles,
        band=band,
        data=objective.data,
        settings=settings,
        seconds=seconds,
    )
    _report(approx, args.level, profiles)
    print("wrote " + ", ".join(str(p) for p in paths.values()))


def _report(approx, level: float, profiles) -> None:
    import numpy as np

    from plastic.uncertainty.write import uncertainty_warnings

    low, high = (np.asarray(x) for x in approx.interval(level))
    by_name = {item.name: item for item in profiles}
    print(f"{'value':<34} {'fitted':>10}  {level:.0%} interval (Laplace)  profile")
    for i, name in enumerate(approx.names):
        unit = approx.flat.units[i]
        shown = f"[{low[i]:.4g}, {high[i]:.4g}]"
        item = by_name.get(name)
        extra = "" if item is None else f"[{item.low:.4g}, {item.high:.4g}]"
        print(f"{name:<34} {float(approx.values[i]):>10.4g}  {shown:<24} {extra} {unit}")
    for warning in uncertainty_warnings(approx, profiles):
        print(f"warning: {warning}")


def uncertainty_of_saved_fit(args, fit_parser: argparse.ArgumentParser) -> None:
    """``plastic uncertainty DIR``: rebuild the fit recorded in ``DIR/parameters.json`` (its
    command's options, the data file checked against its recorded hash) at ``DIR/model.eqx``,
    and run `run_uncertainty` into ``DIR``."""
    from plastic.cli.fit import prepare_fit

    check_uncertainty_options(args)
    folder = args.directory
    record_path = os.path.join(folder, "parameters.json")
    model_path = os.path.join(folder, "model.eqx")
    for path in (record_path, model_path):
        if not os.path.isfile(path):
            fail("uncertainty", f"{path} is missing: DIR must be the --out folder of plastic fit")
    try:
        settings = json.loads(open(record_path).read()).get("settings", {})
    except ValueError as error:
        fail("uncertainty", f"{record_path} cannot be read: {error}")
    fit_args = fit_parser.parse_args([])
    known = vars(fit_args)
    if "study" not in settings:
        fail(
            "uncertainty",
            f"{record_path} records no command-line settings (a fit made through the Python "
            "API): use plastic.uncertainty.laplace on its objective instead",
        )
    for name, value in settings.items():
        if name in known and name not in ("init", "out", "checkpoint", "overwrite"):
            setattr(fit_args, name, value)
    data = settings.get("data")
    if data and data != settings.get("study"):
        if not os.path.isfile(data):
            fail("uncertainty", f"the fit's data file {data!r} is not there (run from its folder)")
        digest = hashlib.sha256(open(data, "rb").read()).hexdigest()
        if digest != settings.get("data_sha256"):
            fail("uncertainty", f"the data file {data!r} changed since the fit (SHA-256 differs)")
    fit_args.init = model_path
    fit_args.command = "uncertainty"
    for name, value in vars(args).items():
        setattr(fit_args, name, value)
    fit_args.out = folder
    setup = prepare_fit(fit_args)
    run_uncertainty(fit_args, setup.objective, setup.parameters, setup.parameters.model)
