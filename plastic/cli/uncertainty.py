"""``plastic fit --uncertainty ...`` and ``plastic uncertainty DIR``: how sure a fit is."""

import argparse
import json
import os
import time
from pathlib import Path

from plastic.cli.arguments import COUNT, POSITIVE, SEED, fail, number

METHODS = ("laplace", "profile", "nuts")
LEVEL = number(0.0, 1.0, lower_inclusive=False, upper_inclusive=False)


def add_uncertainty_options(parser: argparse.ArgumentParser, *, method_default=None) -> None:
    """The options shared by ``plastic fit`` and ``plastic uncertainty``."""
    parser.add_argument(
        "--uncertainty",
        choices=METHODS,
        default=method_default,
        help="after the fit (or for plastic uncertainty): laplace, the Gauss-Newton covariance at "
        "the optimum with intervals, correlations and the directions the data do not constrain, "
        "and a band of every prediction; profile adds profile likelihoods; nuts samples the "
        "posterior with NUTS (BlackJAX) and draws the bands from it (uncertainty.json, "
        "uncertainty.png, bands.png, profiles.png, pairs.png, posterior.npz)",
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
        "--polish-steps",
        type=number(0.0, integer=True),
        default=0,
        help="Levenberg-Marquardt steps from the fitted point before the uncertainty (the "
        "Laplace approximation assumes an optimum; a short Adam fit stops near one); writes "
        "model_polished.eqx",
    )
    parser.add_argument(
        "--profile-points",
        type=number(3.0, integer=True),
        default=13,
        help="grid points of each profile, over +-4 standard errors (+-4 unconstrained units "
        "for a value the data do not constrain)",
    )
    parser.add_argument(
        "--profile-steps",
        type=COUNT,
        default=64,
        help="Levenberg-Marquardt steps re-optimising the others at each profile point",
    )
    parser.add_argument("--n-chains", type=number(2.0, integer=True), default=4, help="NUTS chains")
    parser.add_argument(
        "--n-warmup", type=number(50.0, integer=True), default=500, help="NUTS adaptation steps"
    )
    parser.add_argument(
        "--n-samples", type=number(10.0, integer=True), default=1000, help="NUTS draws per chain"
    )
    parser.add_argument(
        "--max-tree-depth",
        type=number(1.0, 15.0, integer=True),
        default=10,
        help="NUTS: at most 2**depth gradients per draw (lower for an expensive model)",
    )
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
        "--curve-points",
        type=number(0.0, integer=True),
        default=21,
        help="grid points of the bands along a measured condition (delta-t, frequency, "
        "holding potential, ...; curves.png); 0: none (each point is a simulation)",
    )
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
    """Refuse, before any work, profile names that are not paths (the fitted scalars are known
    only once the model is built; those are checked in `run_uncertainty`) and NUTS without
    BlackJAX."""
    from plastic.paths import ModelPath

    for name in args.profile_parameter:
        try:
            ModelPath(name.split("[")[0])
        except ValueError as error:
            fail(args.command, f"--profile-parameter {name!r}: {error}")
    if args.profile_parameter and args.uncertainty != "profile":
        fail(args.command, "--profile-parameter needs --uncertainty profile")
    if args.uncertainty == "nuts":
        try:
            import blackjax  # noqa: F401
        except ImportError:
            fail(
                args.command, "--uncertainty nuts needs BlackJAX (pip install plastic[uncertainty])"
            )


def run_uncertainty(args, objective, parameters, model, experiment=None) -> None:
    """The uncertainty of the fit of ``parameters`` to ``objective`` at ``model``, written into
    ``args.out``; with the ``experiment`` of the rows, bands along the measured conditions."""
    import jax

    from plastic.uncertainty import (
        ParameterDraws,
        laplace,
        prediction_band,
        profile,
        write_uncertainty,
    )

    print(f"uncertainty ({args.uncertainty}) at the fitted model ...", flush=True)
    seconds = {}
    polished = None
    if args.polish_steps:
        import equinox as eqx

        from plastic.uncertainty import polish

        began = time.perf_counter()
        polished = polish(objective, parameters, model, max_steps=args.polish_steps)
        seconds["polish"] = time.perf_counter() - began
        model = polished.model
        os.makedirs(args.out, exist_ok=True)
        eqx.tree_serialise_leaves(os.path.join(args.out, "model_polished.eqx"), model)
        print(
            f"polished in {polished.steps} Levenberg-Marquardt steps ({seconds['polish']:.1f} s"
            f"{'' if polished.converged else ', not converged'}): chi-square "
            f"{polished.chi_square_before:.6g} -> {polished.chi_square:.6g}",
            flush=True,
        )
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
            profiles.append(
                profile(
                    objective,
                    approx,
                    name,
                    n_points=args.profile_points,
                    level=args.level,
                    max_steps=args.profile_steps,
                )
            )
            item = profiles[-1]
            print(
                f"profile {k + 1}/{len(names)} {name}: [{item.low:.4g}, {item.high:.4g}]"
                + (" (open)" if item.open_low or item.open_high else ""),
                flush=True,
            )
        seconds["profile"] = time.perf_counter() - began
    posterior = None
    if args.uncertainty == "nuts":
        from plastic.uncertainty import nuts

        print(
            f"NUTS: {args.n_chains} chains x ({args.n_warmup} warmup + {args.n_samples} draws) ...",
            flush=True,
        )
        began = time.perf_counter()
        posterior = nuts(
            objective,
            approx,
            jax.random.key(args.band_seed),
            n_chains=args.n_chains,
            n_warmup=args.n_warmup,
            n_samples=args.n_samples,
            max_tree_depth=args.max_tree_depth,
        )
        seconds["nuts"] = time.perf_counter() - began
        print(f"NUTS: {seconds['nuts']:.1f} s", flush=True)
    band = None
    kept_draws = None
    began = time.perf_counter()
    try:
        if posterior is not None:
            pooled = posterior.pooled()
            draws = pooled[:: max(1, len(pooled) // args.n_draws)]
        else:
            draws = approx.sample(jax.random.key(args.band_seed), args.n_draws)
        kept_draws = ParameterDraws.from_unconstrained(
            approx.flat, draws, "laplace" if posterior is None else "nuts"
        )
        band = prediction_band(
            approx,
            objective.predictions,
            jax.random.key(args.band_seed),
            n_draws=args.n_draws,
            level=args.level,
            batch_size=args.band_batch,
            draws=draws,
        )
        seconds["bands"] = time.perf_counter() - began
        print(f"bands of the {objective.n_rows} rows: {seconds['bands']:.1f} s", flush=True)
    except ValueError as error:  # no finite variance in some direction: no draws
        print(f"no prediction bands: {error}")
    curves = []
    if band is not None and experiment is not None and args.curve_points:
        from plastic.uncertainty import condition_curves, curve_bands

        began = time.perf_counter()
        curves = curve_bands(
            approx,
            experiment,
            condition_curves(objective.data, n_points=args.curve_points),
            jax.random.key(args.band_seed),
            n_draws=args.n_draws,
            level=args.level,
            batch_size=args.band_batch,
            draws=draws,
        )
        seconds["curves"] = time.perf_counter() - began
        if curves:
            print(
                f"bands along {curves[0].column} ({len(curves)} curves of {args.curve_points} "
                f"points): {seconds['curves']:.1f} s",
                flush=True,
            )
    settings = {
        name: getattr(args, name)
        for name in (
            "uncertainty", "profile_parameter", "level", "n_draws", "band_batch", "band_seed",
            "prior", "scale_by_chi_square", "sloppy_sd", "n_chains", "n_warmup", "n_samples",
            "max_tree_depth",
            "polish_steps", "profile_points", "profile_steps", "curve_points",
        )
    }  # fmt: skip
    if polished is not None:
        settings["polish"] = {
            "chi_square_before": polished.chi_square_before,
            "chi_square": polished.chi_square,
            "steps": polished.steps,
            "converged": polished.converged,
        }
    paths = write_uncertainty(
        approx,
        args.out,
        level=args.level,
        profiles=profiles,
        band=band,
        data=objective.data,
        posterior=posterior,
        curves=curves,
        draws=kept_draws,
        settings=settings,
        seconds=seconds,
    )
    _report(approx, args.level, profiles, posterior)
    print("wrote " + ", ".join(str(p) for p in paths.values()))


def _report(approx, level: float, profiles, posterior) -> None:
    import numpy as np

    from plastic.uncertainty.write import uncertainty_warnings

    low, high = (np.asarray(x) for x in approx.interval(level))
    by_name = {item.name: item for item in profiles}
    if posterior is not None:
        sampled = [np.asarray(x) for x in posterior.interval(level)]
    extra_name = "profile" if profiles else "NUTS" if posterior is not None else ""
    print(f"{'value':<34} {'fitted':>10}  {level:.0%} interval (Laplace)  {extra_name}")
    for i, name in enumerate(approx.names):
        unit = approx.flat.units[i]
        shown = f"[{low[i]:.4g}, {high[i]:.4g}]"
        item = by_name.get(name)
        extra = "" if item is None else f"[{item.low:.4g}, {item.high:.4g}]"
        if posterior is not None:
            extra = f"[{sampled[0][i]:.4g}, {sampled[1][i]:.4g}]"
        print(f"{name:<34} {float(approx.values[i]):>10.4g}  {shown:<24} {extra} {unit}")
    problems = [] if posterior is None else [f"nuts: {p}" for p in posterior.problems()]
    for warning in uncertainty_warnings(approx, profiles) + problems:
        print(f"warning: {warning}")


def uncertainty_of_saved_fit(args, fit_parser: argparse.ArgumentParser) -> None:
    """``plastic uncertainty DIR``: rebuild the fit recorded in ``DIR/parameters.json`` (its
    command's options, the data file checked against its recorded hash) at ``DIR/model.eqx``,
    and run `run_uncertainty` into ``DIR``."""
    from plastic.cli.fit import prepare_fit
    from plastic.provenance import file_sha256

    check_uncertainty_options(args)
    folder = args.directory
    record_path = os.path.join(folder, "parameters.json")
    model_path = os.path.join(folder, "model.eqx")
    for path in (record_path, model_path):
        if not os.path.isfile(path):
            fail("uncertainty", f"{path} is missing: DIR must be the --out folder of plastic fit")
    try:
        settings = json.loads(Path(record_path).read_text()).get("settings", {})
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
        if file_sha256(data) != settings.get("data_sha256"):
            fail("uncertainty", f"the data file {data!r} changed since the fit (SHA-256 differs)")
    fit_args.init = model_path
    fit_args.command = "uncertainty"
    for name, value in vars(args).items():
        setattr(fit_args, name, value)
    fit_args.out = folder
    setup = prepare_fit(fit_args)
    run_uncertainty(
        fit_args, setup.objective, setup.parameters, setup.parameters.model, setup.experiment
    )


def add_uncertainty_command(commands, fit_parser: argparse.ArgumentParser) -> None:
    """The ``uncertainty`` command: the uncertainty of a saved fit (``fit_parser``: the ``fit``
    command's, whose defaults complete the saved settings)."""
    uncertainty = commands.add_parser(
        "uncertainty",
        help="how sure a fit is: intervals, correlations, unconstrained directions, profiles "
        "and prediction bands of the fit in DIR (written by plastic fit --out DIR)",
    )
    uncertainty.add_argument("directory", metavar="DIR", help="the --out folder of plastic fit")
    add_uncertainty_options(uncertainty, method_default="laplace")
    uncertainty.set_defaults(run=lambda args: uncertainty_of_saved_fit(args, fit_parser))
