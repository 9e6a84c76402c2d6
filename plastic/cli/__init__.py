"""The `plastic` command."""

import argparse
import math
import os
import sys
import time

import numpy as np

_VALUE_OPTIONS = ("--dt", "--delta-t", "--distance")
_SOLVERS = ("Rodas5", "Kvaerno5", "Kvaerno3", "ImplicitEuler")


def _simulate(args) -> None:
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from plastic.geometry import Geometry, Spines
    from plastic.model import SpineModel
    from plastic.plot import plot_pairing
    from plastic.protocols import MINUTE, pairing_protocol
    from plastic.simulate import simulate

    spines = Spines(position=(args.position, args.position + args.distance))
    model = SpineModel(geometry=Geometry(spines=spines))
    uncaged = (0, 1) if args.two_spines else (0,)
    protocol = pairing_protocol(
        args.delta_t,
        n_pairings=args.n_pairings,
        uncaged_spines=uncaged,
        current_amplitude=args.current,
        quiet=args.quiet_min * MINUTE,
    )
    start = float(protocol.pairing_start[0])
    window = jnp.arange(start - 20.0, start + 300.0, 0.1)
    print(
        f"simulating {args.n_pairings} pairings at delta_t = {args.delta_t:+g} ms, "
        f"{args.quiet_min:g} min quiet; compiling ...",
        flush=True,
    )
    began = time.perf_counter()
    sim = jax.block_until_ready(eqx.filter_jit(simulate)(model, protocol, window))
    print(f"done in {time.perf_counter() - began:.1f} s ({int(sim.num_steps)} solver steps)")
    np.set_printoptions(precision=3, suppress=True)
    print("spine-head calcium before each pairing (uM):\n", np.asarray(sim.head_calcium_before))
    print("spine-head calcium 4 ms after each pairing (uM):\n", np.asarray(sim.head_calcium_after))
    print(
        "dendrite calcium 4 ms after each pairing (uM):\n", np.asarray(sim.dendrite_calcium_after)
    )
    states = sim.states
    print(
        f"peak soma voltage {float(states.soma_voltage.max()):.1f} mV, peak head voltage "
        f"{np.asarray(states.head_voltage.max(0))} mV in the first pairing"
    )
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "pairing.png")
    plot_pairing(sim, model, path)
    print(f"wrote {path}")


def parse_values(text: str) -> np.ndarray:
    """``START:STOP:STEP`` (STOP included when it lies on the grid), ``a,b,c`` or one number."""
    try:
        if ":" in text:
            start, stop, step = (float(part) for part in text.split(":"))
            if not step > 0 or stop < start:
                raise argparse.ArgumentTypeError(
                    f"range {text!r} needs STEP > 0 and STOP >= START (START:STOP:STEP)"
                )
            count = math.floor((stop - start) / step + 1e-9) + 1
            # Rounding keeps labels such as 0.3 from printing as 0.30000000000000004.
            return np.round(start + step * np.arange(count), 12)
        return np.array([float(part) for part in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not START:STOP:STEP, a comma-separated list or a number"
        ) from None


def _named_values(text: str) -> tuple[str, np.ndarray]:
    name, equals, values = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"--axis takes NAME=VALUES; got {text!r}")
    return name, parse_values(values)


def build_sweep(args):
    """The `Sweep` that ``plastic sweep`` runs: options with several values become axes (in the
    order --dt, --distance, --axis ...), options with one value set the base model or protocol."""
    import diffrax

    from plastic.geometry import Geometry, Spines
    from plastic.model import SpineModel
    from plastic.protocols import MINUTE
    from plastic.rosenbrock import Rodas5
    from plastic.rules import KinaseCompetition
    from plastic.simulate import SolverSettings
    from plastic.sweep import READOUTS, Axis, Sweep, target

    spines = Spines(position=(args.position, args.position + 2.0))
    if args.rule not in (None, "none", "kinase_competition"):
        raise ValueError(f"--rule {args.rule!r}: the spine sweep takes none or kinase_competition")
    rule = KinaseCompetition() if args.rule == "kinase_competition" else None
    geometry = Geometry(spines=spines, n_compartments=args.compartments)
    model = SpineModel(geometry=geometry, rule=rule)
    arguments = dict(
        n_pairings=args.n_pairings,
        period=args.period,
        first_pairing=args.first_pairing,
        quiet=args.quiet_min * MINUTE,
        current_amplitude=args.current,
        uncaged_spines=(0, 1) if args.two_spines else (0,),
    )
    delta_t = np.array([13.0]) if args.dt is None else args.dt
    specs = [("delta_t", delta_t), ("distance", args.distance), *args.axis]
    axes = []
    for name, values in specs:
        where = target(name)
        if len(values) > 1:
            axes.append(Axis(where, values))
        else:
            where.check(model)
            model, arguments = where.apply(model, arguments, float(values[0]))
    # Options not given keep the engine's defaults (its solver, per-state tolerances).
    chosen = dict(rtol=args.rtol, atol=args.atol)
    if args.sparse_jacobian and args.solver not in (None, "Rodas5"):
        raise SystemExit(f"--sparse-jacobian needs --solver Rodas5, got --solver {args.solver}")
    if args.sparse_jacobian:
        chosen["solver"] = Rodas5(sparse=True)
    elif args.solver is not None:
        chosen["solver"] = Rodas5() if args.solver == "Rodas5" else getattr(diffrax, args.solver)()
    settings = SolverSettings(**{k: v for k, v in chosen.items() if v is not None})
    names = dict.fromkeys(args.readout or ["head_calcium_after"])
    unknown = [name for name in names if name not in READOUTS]
    if unknown:
        raise ValueError(f"--readout {unknown}: the spine sweep's readouts are {sorted(READOUTS)}")
    readouts = [READOUTS[name]() for name in names]
    return Sweep(axes, readouts, model, arguments, settings)


def _sweep(args) -> None:
    from plastic.plot import plot_sweep
    from plastic.sweep import run_sweep

    began = time.perf_counter()
    limit = None if args.memory_limit_gib is None else int(args.memory_limit_gib * 2**30)
    try:
        if args.study != "tazerart2020":
            from plastic.cli.studies import build_study_sweep

            sweep = build_study_sweep(args)
        else:
            sweep = build_sweep(args)
        dataset = run_sweep(
            sweep,
            args.out,
            chunk_size=args.chunk_size,
            batch_size=args.batch_size,
            memory_limit=limit,
            overwrite=args.overwrite,
        )
    except (ValueError, FileExistsError) as error:  # bad input, too large, or occupied
        sys.exit(f"plastic sweep: error: {error}")
    print(f"sweep done in {time.perf_counter() - began:.1f} s")
    readout = sweep.readouts[0].name
    plot = args.plot or os.path.splitext(args.out)[0] + ".png"
    try:
        plot_sweep(dataset, readout, plot)
    except ValueError as error:
        print(f"no plot: {error}")
    else:
        print(f"wrote {plot} ({readout})")


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


def _studies(args) -> None:
    from plastic.cli.studies import list_studies

    list_studies(args)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="plastic", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="run the Tazerart 2020 pairing protocol")
    sim.add_argument(
        "--delta-t",
        type=float,
        default=13.0,
        help="current onset minus uncaging onset, ms (default 13)",
    )
    sim.add_argument("--n-pairings", type=int, default=40)
    sim.add_argument("--quiet-min", type=float, default=25.0, help="quiet after pairing, min")
    sim.add_argument("--current", type=float, default=500.0, help="somatic current, pA")
    sim.add_argument("--position", type=float, default=40.0, help="spine 0 from soma, um")
    sim.add_argument("--distance", type=float, default=2.0, help="inter-spine distance, um")
    sim.add_argument("--two-spines", action="store_true", help="uncage both spines")
    sim.add_argument("--out", default="out", help="output folder for the plot")
    sim.set_defaults(run=_simulate)

    from plastic.sweep import READOUTS

    sweep = commands.add_parser(
        "sweep",
        help="run the pairing protocol over a grid of conditions",
        description="Options given several values (START:STOP:STEP, a,b,c) become the grid's "
        "axes; one value sets the condition. Writes a NetCDF file and a plot of the first "
        "readout (lines for one axis, a heatmap for two).",
    )
    sweep.add_argument(
        "--study",
        default="tazerart2020",
        help="sweep this study's experiment (plastic studies lists them; default: the spine "
        "model's pairing protocol); its condition fields and model paths are --axis names",
    )
    sweep.add_argument("--model", help="a model.eqx of a fit of the study's rule to sweep")
    sweep.add_argument(
        "--dt",
        "--delta-t",
        type=parse_values,
        help="current onset minus uncaging onset, ms, e.g. --dt -50:50:1 (default 13); for a "
        "study, its delta_t field",
    )
    sweep.add_argument(
        "--distance",
        type=parse_values,
        default=np.array([2.0]),
        help="spine 1 minus spine 0 position, um, e.g. --distance 0:100:1 (default 2)",
    )
    sweep.add_argument(
        "--axis",
        type=_named_values,
        action="append",
        default=[],
        metavar="NAME=VALUES",
        help="any other axis: a protocol argument or a model path, e.g. "
        "nmda.conductance=0.5:2:0.5 or spines.neck_length[0]=0.2:2:0.2; for a study, a condition "
        "field or a model path, e.g. frequency=1:40:1 (repeatable; one value fixes it)",
    )
    sweep.add_argument(
        "--readout",
        action="append",
        help=f"what to keep (repeatable; one of {sorted(READOUTS)}, default head_calcium_after; "
        "for a study, its readouts, default all); the first is plotted",
    )
    sweep.add_argument("--n-pairings", type=int, default=40)
    sweep.add_argument("--period", type=float, default=2000.0, help="between pairings, ms")
    sweep.add_argument("--first-pairing", type=float, default=100.0, help="its onset, ms")
    sweep.add_argument("--quiet-min", type=float, default=25.0, help="quiet after pairing, min")
    sweep.add_argument("--current", type=float, default=500.0, help="somatic current, pA")
    sweep.add_argument("--position", type=float, default=40.0, help="spine 0 from soma, um")
    sweep.add_argument("--two-spines", action="store_true", help="uncage both spines")
    sweep.add_argument("--compartments", type=int, default=20, help="dendrite compartments")
    sweep.add_argument(
        "--rule",
        help="the spine model's rule: none (default) or kinase_competition; for a study, one of "
        "its rules (default: its first)",
    )
    sweep.add_argument("--solver", choices=_SOLVERS, help="default: the engine's (Rodas5)")
    sweep.add_argument(
        "--sparse-jacobian",
        action="store_true",
        help="Rodas5 with a structurally sparse Jacobian and LU: faster per step, about a minute "
        "longer to compile (worth it for long sweeps)",
    )
    sweep.add_argument("--rtol", type=float, help="relative tolerance (default: the engine's)")
    sweep.add_argument(
        "--atol", type=float, help="one absolute tolerance for every state (default: per state)"
    )
    sweep.add_argument("--chunk-size", type=int, default=64, help="conditions per compiled call")
    sweep.add_argument("--batch-size", type=int, help="conditions vmapped at once per device")
    sweep.add_argument("--memory-limit-gib", type=float, help="per device (default: 80%% free)")
    sweep.add_argument("--out", default="sweep.nc", help="NetCDF output file")
    sweep.add_argument("--plot", help="PNG path (default: the output's name with .png)")
    sweep.add_argument("--overwrite", action="store_true", help="replace an existing result")
    sweep.set_defaults(run=_sweep)

    fit = commands.add_parser(
        "fit",
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
        "plastic.tazerart.default_fit_parameters: 24 rule, expression, coupling and "
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
        "of plastic.tazerart.tazerart_model)",
    )
    fit.add_argument("--n-starts", type=int, default=3)
    fit.add_argument("--n-steps", type=int, default=50)
    fit.add_argument(
        "--learning-rate",
        type=float,
        help="Adam peak rate (default 0.1, or the study's rule's own)",
    )
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--sem-floor", type=float, default=None, help="SEM for rows without one")
    fit.add_argument(
        "--length-constant-sem",
        type=float,
        default=0.15,
        help="SEM of length_constant rows, as a fraction of their mean (the paper gives none; "
        "0.15: +-2 SEM spans +-30%% of its lambda)",
    )
    fit.add_argument("--n-pairings", type=int, default=40)
    fit.add_argument("--readout-min", type=float, default=20.0, help="quiet before readouts, min")
    fit.add_argument("--checkpoint", default=None, help="default OUT/fit.ckpt; resumes if present")
    fit.add_argument("--checkpoint-every", type=int, default=5)
    fit.add_argument("--out", default="out/fit")
    fit.set_defaults(run=_fit)

    studies = commands.add_parser("studies", help="list the studies, their data and rules")
    studies.set_defaults(run=_studies)

    argv = list(sys.argv[1:] if argv is None else argv)
    # A range that starts with a minus sign (--dt -50:50:1) would read as an option: attach it.
    for i in range(len(argv) - 2, -1, -1):
        following = argv[i + 1]
        if argv[i] in _VALUE_OPTIONS and following[:1] == "-" and following[1:2].isdigit():
            argv[i : i + 2] = [f"{argv[i]}={following}"]
    args = parser.parse_args(argv)
    import plastic  # noqa: F401  (float64)

    args.run(args)
