"""``plastic sweep``: the grid from the command line, run and plotted."""

import argparse
import math
import os
import time

import numpy as np

from plastic.cli.arguments import fail

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
        dataset = run_sweep(
            sweep,
            args.out,
            chunk_size=args.chunk_size,
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
