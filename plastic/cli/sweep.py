"""``plastic sweep``: the grid from the command line, run and plotted."""

import argparse
import math
import os
import time

import numpy as np

from plastic.cli.arguments import (
    COUNT,
    FINITE,
    NON_NEGATIVE,
    POSITIVE,
    RELATIVE_TOLERANCE,
    fail,
    part_of,
)
from plastic.cli.processes import add_process_options

_SOLVERS = ("Rodas5", "Kvaerno5", "Kvaerno3", "ImplicitEuler")


def parse_values(text: str) -> np.ndarray:
    """``START:STOP:STEP`` (STOP included when it lies on the grid), ``a,b,c`` or one number."""
    try:
        if ":" in text:
            start, stop, step = (float(part) for part in text.split(":"))
            if not all(map(math.isfinite, (start, stop, step))):
                raise argparse.ArgumentTypeError(f"range {text!r} needs finite numbers")
            if not step > 0 or stop < start:
                raise argparse.ArgumentTypeError(
                    f"range {text!r} needs STEP > 0 and STOP >= START (START:STOP:STEP)"
                )
            count = math.floor((stop - start) / step + 1e-9) + 1
            # Rounding keeps labels such as 0.3 from printing as 0.30000000000000004.
            return np.round(start + step * np.arange(count), 12)
        values = np.array([float(part) for part in text.split(",")])
        if not np.all(np.isfinite(values)):
            raise argparse.ArgumentTypeError(f"{text!r}: every value must be a finite number")
        return values
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not START:STOP:STEP, a comma-separated list or a number"
        ) from None


def _named_values(text: str) -> tuple[str, np.ndarray]:
    name, equals, values = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"--axis takes NAME=VALUES; got {text!r}")
    return name, parse_values(values)


def split_grid(specs, experiment, model):
    """The axes, fixed fields and model of ``specs`` (``(name, values)`` pairs, in axis order):
    a name with several values is an axis; with one value it fixes a condition field of
    ``experiment`` or sets a model leaf of ``model`` (by path, checked)."""
    from plastic.sweep import ModelLeaf

    fields = {field.name for field in experiment.fields}
    axes, fixed = {}, {}
    for name, values in specs:
        if len(values) > 1:
            axes[name] = values
        elif name in fields:
            fixed[name] = float(values[0])
        else:
            leaf = ModelLeaf(name)
            leaf.check(model)
            model, _ = leaf.apply(model, {}, float(values[0]))
    if not axes:
        raise ValueError("a sweep needs at least one --axis (or --dt) with several values")
    return axes, fixed, model


def build_sweep(args):
    """The `ExperimentSweep` of `plastic.experiment.SpinePairingExperiment` that ``plastic
    sweep`` runs: options with several values become axes (in the order --dt, --distance,
    --axis ...), options with one value fix a condition field (a `pairing_protocol` argument,
    the distance) or set a model leaf."""
    import diffrax

    from plastic.cli.spine import spine_model
    from plastic.cli.studies import with_n_pairings
    from plastic.experiment import SPINE_READOUTS, SpinePairingExperiment
    from plastic.protocols import MINUTE
    from plastic.rosenbrock import Rodas5
    from plastic.simulate import SolverSettings
    from plastic.sweep import ExperimentSweep

    model, description = spine_model(args)
    print(f"model: {description}", flush=True)
    # Options not given keep the engine's defaults (its solver, per-state tolerances).
    chosen = dict(rtol=args.rtol, atol=args.atol, max_steps=args.max_steps)
    if args.sparse_jacobian and args.solver not in (None, "Rodas5"):
        fail("sweep", f"--sparse-jacobian needs --solver Rodas5, got --solver {args.solver}")
    if args.sparse_jacobian:
        chosen["solver"] = Rodas5(sparse=True)
    elif args.solver is not None:
        chosen["solver"] = Rodas5() if args.solver == "Rodas5" else getattr(diffrax, args.solver)()
    settings = SolverSettings(**{k: v for k, v in chosen.items() if v is not None})
    known = {readout.name: readout for readout in SPINE_READOUTS}
    names = dict.fromkeys(args.readout or ["head_calcium_after"])
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"--readout {unknown}: the spine sweep's readouts are {sorted(known)}")
    experiment = SpinePairingExperiment(
        readouts=tuple(known[name] for name in names),
        uncaged_spines=(0, 1) if args.two_spines else (0,),
        settings=settings,
    )
    experiment = with_n_pairings(experiment, args)
    fixed = dict(period=args.period, first_pairing=args.first_pairing)
    fixed["current_amplitude"] = args.current
    if args.quiet_min is not None:
        fixed["quiet"] = args.quiet_min * MINUTE
    delta_t = np.array([13.0]) if args.dt is None else args.dt
    specs = [("delta_t", delta_t), ("distance", args.distance), *args.axis]
    axes, given, model = split_grid(specs, experiment, model)
    return ExperimentSweep.build(experiment, model, axes, {**fixed, **given}, None, description)


def _sweep(args) -> None:
    from plastic.sweep import run_sweep

    began = time.perf_counter()
    limit = None if args.memory_limit_gib is None else int(args.memory_limit_gib * 2**30)
    try:
        if args.study is not None:
            from plastic.cli.studies import build_study_sweep

            sweep = build_study_sweep(args)
        else:
            sweep = build_sweep(args)
        import jax

        # Each process splits its chunks over its own devices (`run_sweep`).
        n_devices = len(jax.local_devices())
        chunk_size = -(-args.chunk_size // n_devices) * n_devices
        if chunk_size != args.chunk_size:
            print(
                f"--chunk-size {args.chunk_size} -> {chunk_size}: a multiple of {n_devices} devices"
            )
        dataset = run_sweep(
            sweep,
            args.out,
            chunk_size=chunk_size,
            batch_size=args.batch_size,
            memory_limit=limit,
            overwrite=args.overwrite,
            part=args.part,
        )
    except (ValueError, FileExistsError) as error:  # bad input, too large, or occupied
        fail("sweep", error)
    if args.part is not None:  # `plastic merge` writes the file and the plot
        print(
            f"sweep part {args.part[0]}/{args.part[1]} done in {time.perf_counter() - began:.1f} s"
        )
        return
    import jax

    if jax.process_index() == 0:  # one plot, however many processes ran the sweep
        print(f"sweep done in {time.perf_counter() - began:.1f} s")
        _plot(dataset, args)


def _merge(args) -> None:
    """``plastic merge OUT``: the result file of a sweep run in parts, and its plot."""
    from plastic.sweep import merge_sweep

    try:
        dataset = merge_sweep(args.out)
    except (ValueError, FileExistsError, FileNotFoundError) as error:  # missing chunks, occupied
        fail("merge", error)
    _plot(dataset, args)


def _plot(dataset, args) -> None:
    from plastic.plot import plot_sweep

    # The first readout, the sweep's first: the variables keep the sweep's order.
    readout = next(iter(dataset.data_vars))
    plot = args.plot or os.path.splitext(args.out)[0] + ".png"
    try:
        plot_sweep(dataset, readout, plot)
    except ValueError as error:
        print(f"no plot: {error}")
    else:
        print(f"wrote {plot} ({readout})")


def use_cpu_devices(count: int | None) -> int:
    """Give JAX's CPU backend ``count`` devices (None: one per core this process may use, at
    most 8). An ``XLA_FLAGS`` device count, or a backend already started (``plastic.cli.main``
    called in a Python session that has computed), keeps its devices. Returns the count."""
    import jax
    from jax._src import xla_bridge

    if count is None:
        count = min(len(os.sched_getaffinity(0)), 8) if hasattr(os, "sched_getaffinity") else 1
    forced = "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", "")
    if not forced and not xla_bridge.backends_are_initialized():
        jax.config.update("jax_num_cpu_devices", count)
    return count


def add_sweep_command(commands, compiling: argparse.ArgumentParser) -> None:
    """The ``sweep`` command: a study's experiment (or the pairing protocol) over a grid."""
    from plastic.experiment import DEFAULT_DISTANCE, SPINE_READOUTS

    sweep = commands.add_parser(
        "sweep",
        parents=[compiling],
        help="run the pairing protocol over a grid of conditions",
        description="Options given several values (START:STOP:STEP, a,b,c) become the grid's "
        "axes; one value sets the condition. Writes a NetCDF file and a plot of the first "
        "readout (lines for one axis, a heatmap for two).",
    )
    sweep.add_argument(
        "--study",
        help="sweep this study's experiment and model (plastic studies lists them; e.g. "
        "tazerart2020 with --readout uepsp; default: the spine model's pairing protocol with "
        "calcium readouts); its condition fields and model paths are --axis names",
    )
    sweep.add_argument(
        "--model",
        help="a model.eqx of a fit to sweep (default: the Tazerart study's fitted model, or the "
        "study's rule's start values)",
    )
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
        default=np.array([DEFAULT_DISTANCE]),
        help="spine 1 minus spine 0 position, um, e.g. --distance 0:100:1 (default "
        f"{DEFAULT_DISTANCE:g})",
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
        help=f"what to keep (repeatable; one of {sorted(r.name for r in SPINE_READOUTS)}, default "
        "head_calcium_after; "
        "for a study, its readouts, default all); the first is plotted",
    )
    sweep.add_argument(
        "--n-pairings",
        type=COUNT,
        help="default 40; for a study whose experiment counts pairings (tazerart2020), its count",
    )
    sweep.add_argument("--period", type=POSITIVE, default=2000.0, help="between pairings, ms")
    sweep.add_argument("--first-pairing", type=NON_NEGATIVE, default=100.0, help="its onset, ms")
    sweep.add_argument(
        "--quiet-min",
        type=NON_NEGATIVE,
        help="quiet after pairing, min (default 25; for tazerart2020, before its readouts: "
        "default 20)",
    )
    sweep.add_argument("--current", type=FINITE, default=500.0, help="somatic current, pA")
    sweep.add_argument("--position", type=NON_NEGATIVE, default=40.0, help="spine 0 from soma, um")
    sweep.add_argument("--two-spines", action="store_true", help="uncage both spines")
    sweep.add_argument("--compartments", type=COUNT, default=20, help="dendrite compartments")
    sweep.add_argument(
        "--rule",
        help="the spine model's: kinase_competition (default: the fitted Tazerart model) or none "
        "(its biophysics alone); for a study, one of its rules (default: its first)",
    )
    sweep.add_argument("--solver", choices=_SOLVERS, help="default: the engine's (Rodas5)")
    sweep.add_argument(
        "--sparse-jacobian",
        action="store_true",
        help="Rodas5 with a structurally sparse Jacobian and an LU without pivoting, level by "
        "level: several times faster per condition over large batches, a few seconds longer to "
        "compile (worth it for sweeps of more than a few conditions)",
    )
    sweep.add_argument(
        "--rtol", type=RELATIVE_TOLERANCE, help="relative tolerance (default: the engine's)"
    )
    sweep.add_argument(
        "--atol", type=POSITIVE, help="one absolute tolerance for every state (default: per state)"
    )
    sweep.add_argument(
        "--max-steps",
        type=COUNT,
        help="solver steps allowed per condition (default: the engine's, 200000); raise it for "
        "long protocols",
    )
    sweep.add_argument(
        "--cpu-devices",
        type=COUNT,
        metavar="N",
        help="on the CPU, split each chunk over N devices, each running its own share (default: "
        "one per core, at most 8; one with a --solver other than Rodas5). On 2 cores 2 devices "
        "ran the seed protocol 1.7x faster than 1. --chunk-size is rounded up to a multiple of N",
    )
    sweep.add_argument("--chunk-size", type=COUNT, default=64, help="conditions per compiled call")
    sweep.add_argument("--batch-size", type=COUNT, help="conditions vmapped at once per device")
    sweep.add_argument("--memory-limit-gib", type=POSITIVE, help="per device (default: 80%% free)")
    sweep.add_argument("--out", default="sweep.nc", help="NetCDF output file")
    sweep.add_argument("--plot", help="PNG path (default: the output's name with .png)")
    sweep.add_argument("--overwrite", action="store_true", help="replace an existing result")
    sweep.add_argument(
        "--part",
        type=part_of,
        metavar="I/N",
        help="compute only part I of N (1 <= I <= N): chunks I, I+N, I+2N, ... into OUT.partial/, "
        "e.g. one job of a scheduler's array each, at the same time or not; write no result: "
        "plastic merge OUT does, once every part has run",
    )
    add_process_options(sweep)
    sweep.set_defaults(run=_sweep)


def add_merge_command(commands) -> None:
    """The ``merge`` command: the result file of a sweep run in parts."""
    merge = commands.add_parser(
        "merge",
        help="write the result file of a sweep run in parts (plastic sweep --part I/N), and plot",
        description="Assembles OUT from OUT.partial/ once every part's chunks are there (the "
        "missing chunks are named otherwise): the file an unsplit sweep writes, apart from the "
        "provenance of the command. Nothing is recomputed.",
    )
    merge.add_argument("out", metavar="OUT", help="the sweep's NetCDF output file (its --out)")
    merge.add_argument("--plot", help="PNG path (default: the output's name with .png)")
    merge.set_defaults(run=_merge)
