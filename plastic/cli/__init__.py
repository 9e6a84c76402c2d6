"""The `plastic` command."""

import argparse
import os
import sys

import numpy as np

from plastic.cli.arguments import (
    COUNT,
    FINITE,
    NON_NEGATIVE,
    POSITIVE,
    RELATIVE_TOLERANCE,
    SEED,
    fail,
    part_of,
)
from plastic.cli.fit import _fit as _fit
from plastic.cli.fit import _weigh_length_constants as _weigh_length_constants
from plastic.cli.fit import selection as selection
from plastic.cli.sweep import _SOLVERS as _SOLVERS
from plastic.cli.sweep import _merge, _named_values, _sweep
from plastic.cli.sweep import build_sweep as build_sweep
from plastic.cli.sweep import parse_values as parse_values
from plastic.cli.uncertainty import add_uncertainty_options, uncertainty_of_saved_fit

_VALUE_OPTIONS = ("--dt", "--delta-t", "--distance")


def _simulate(args) -> None:
    if args.study is not None:
        if args.save_traces:
            fail("simulate", "--save-traces saves the spine model's pairing traces, not a study's")
        from plastic.cli.studies import simulate_study

        return simulate_study(args)
    from plastic.cli.simulate import simulate_pairing

    simulate_pairing(args)


def _studies(args) -> None:
    from plastic.cli.studies import list_studies

    list_studies(args)


def main(argv=None) -> None:
    from plastic.experiment import DEFAULT_DISTANCE, SPINE_READOUTS

    parser = argparse.ArgumentParser(prog="plastic", description=__doc__)
    parser.add_argument("--version", action="version", version=f"plastic {_version()}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback of an error instead of its one-line message",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    # The commands that compile keep their programs for the next run (`enable_compile_cache`).
    compiling = argparse.ArgumentParser(add_help=False)
    cache = compiling.add_mutually_exclusive_group()
    cache.add_argument(
        "--compile-cache",
        metavar="DIR",
        help="keep compiled programs in DIR, so that the next run with the same shapes loads "
        "them instead of compiling (default: $PLASTIC_CACHE_DIR/jax, else "
        "~/.cache/plastic/jax)",
    )
    cache.add_argument(
        "--no-compile-cache",
        action="store_true",
        help="compile everything afresh and keep nothing (also the default when the "
        "environment has PLASTIC_COMPILE_CACHE=0 and no --compile-cache is given)",
    )
    sim = commands.add_parser(
        "simulate",
        parents=[compiling],
        help="run the Tazerart 2020 pairing protocol on the fitted spine model, or one condition "
        "of a study",
    )
    sim.add_argument(
        "--study",
        help="run one condition of this study's experiment (plastic studies lists them; set its "
        "fields with --condition) and print its readouts; default: the spine model's pairing "
        "protocol, traces and plot",
    )
    sim.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a condition field of the study (repeatable; the others at their defaults)",
    )
    sim.add_argument(
        "--model",
        help="a model.eqx of a fit (default: the Tazerart study's fitted model, or the study's "
        "rule's start values)",
    )
    sim.add_argument(
        "--rule",
        help="kinase_competition (default: the fitted model) or none (its biophysics alone); for "
        "a study, one of its rules",
    )
    sim.add_argument(
        "--delta-t",
        type=FINITE,
        help="current onset minus uncaging onset, ms (default 13)",
    )
    sim.add_argument(
        "--n-pairings", type=COUNT, help="default 40; for tazerart2020, its count of pairings"
    )
    sim.add_argument(
        "--quiet-min",
        type=NON_NEGATIVE,
        help="quiet after pairing, min (default 25; for tazerart2020, before its readouts: 20)",
    )
    sim.add_argument("--current", type=FINITE, default=500.0, help="somatic current, pA")
    sim.add_argument("--position", type=NON_NEGATIVE, default=40.0, help="spine 0 from soma, um")
    sim.add_argument(
        "--distance", type=FINITE, default=DEFAULT_DISTANCE, help="inter-spine distance, um"
    )
    sim.add_argument("--two-spines", action="store_true", help="uncage both spines")
    sim.add_argument(
        "--max-steps",
        type=COUNT,
        help="solver steps allowed (default: the engine's, 200000); raise it for long protocols",
    )
    sim.add_argument(
        "--save-traces",
        action="store_true",
        help="also write OUT/traces.nc (NetCDF): the plotted window's soma, head and dendrite "
        "voltages and calcium against time (ms), the pulses and the calcium per pairing",
    )
    sim.add_argument("--out", default="out", help="output folder for the plot (and traces)")
    sim.set_defaults(run=_simulate)

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
        help="Rodas5 with a structurally sparse Jacobian and LU: faster per step, about a minute "
        "longer to compile (worth it for long sweeps)",
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
    sweep.set_defaults(run=_sweep)

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
    fit.add_argument("--out", default="out/fit")
    add_uncertainty_options(fit)
    fit.set_defaults(run=_fit)

    uncertainty = commands.add_parser(
        "uncertainty",
        help="how sure a fit is: intervals, correlations, unconstrained directions, profiles "
        "and prediction bands of the fit in DIR (written by plastic fit --out DIR)",
    )
    uncertainty.add_argument("directory", metavar="DIR", help="the --out folder of plastic fit")
    add_uncertainty_options(uncertainty, method_default="laplace")
    uncertainty.set_defaults(run=lambda args: uncertainty_of_saved_fit(args, fit))

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

    _compile_cache(args)

    try:
        args.run(args)
    except KeyboardInterrupt:
        # The sweep or fit has said what it saved and how to resume.
        if args.debug:
            raise
        print(f"plastic {args.command}: interrupted", file=sys.stderr)
        sys.exit(130)
    except (ValueError, FileExistsError, NotADirectoryError) as error:
        # Inputs refused once the work has started (a value only a model can check).
        if args.debug:
            raise
        fail(args.command, error)
    except Exception as error:
        # A failed solve, checked on the host after the compiled call, names what failed.
        from plastic.solver_status import SolveFailedError

        if args.debug or not isinstance(error, SolveFailedError):
            raise
        from plastic.simulate import SolverSettings

        limit = getattr(args, "max_steps", None) or SolverSettings().max_steps
        option = f" (the step limit was {limit}; rerun with a larger --max-steps)"
        fail(args.command, f"{error}{option if hasattr(args, 'max_steps') else ''}")


def _compile_cache(args) -> None:
    """JAX's persistent compilation cache for a command that compiles, before it compiles."""
    from plastic.compile_times import disable_compile_cache, enable_compile_cache

    if not hasattr(args, "no_compile_cache"):  # studies, merge: nothing to compile
        return
    off_by_default = os.environ.get("PLASTIC_COMPILE_CACHE", "").lower() in ("0", "off", "no")
    if args.no_compile_cache or (off_by_default and args.compile_cache is None):
        disable_compile_cache()
        return
    try:
        enable_compile_cache(args.compile_cache)
    except OSError as error:  # a cache is a speed-up: run without it
        print(f"plastic {args.command}: compile cache off: {error}", file=sys.stderr)


def _version() -> str:
    # Without importing plastic (and jax): --version answers at once.
    import importlib.metadata

    try:
        return importlib.metadata.version("plastic")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
