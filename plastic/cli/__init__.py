"""The `plastic` command."""

import argparse
import os
import sys

from plastic.cli.arguments import fail
from plastic.cli.fit import add_fit_command
from plastic.cli.processes import start_processes
from plastic.cli.simulate import add_simulate_command
from plastic.cli.studies import add_studies_command
from plastic.cli.sweep import add_merge_command, add_sweep_command, use_cpu_devices
from plastic.cli.sweep import parse_values as parse_values
from plastic.cli.uncertainty import add_uncertainty_command

_VALUE_OPTIONS = ("--dt", "--delta-t", "--distance")


def main(argv=None) -> None:
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
    add_simulate_command(commands, compiling)
    add_sweep_command(commands, compiling)
    add_merge_command(commands)
    fit = add_fit_command(commands, compiling)
    add_uncertainty_command(commands, fit)
    add_studies_command(commands)

    argv = list(sys.argv[1:] if argv is None else argv)
    # A range that starts with a minus sign (--dt -50:50:1) would read as an option: attach it.
    for i in range(len(argv) - 2, -1, -1):
        following = argv[i + 1]
        if argv[i] in _VALUE_OPTIONS and following[:1] == "-" and following[1:2].isdigit():
            argv[i : i + 2] = [f"{argv[i]}={following}"]
    args = parser.parse_args(argv)
    import plastic  # noqa: F401  (float64)

    if hasattr(args, "cpu_devices"):
        # diffrax's implicit solvers run their devices in step, one condition at a time
        # (`plastic.sweep.run_sweep`): one batched device is faster.
        implicit = getattr(args, "solver", None) not in (None, "Rodas5")
        use_cpu_devices(1 if args.cpu_devices is None and implicit else args.cpu_devices)
    if hasattr(args, "distributed"):
        start_processes(args)  # before anything starts JAX's backend
    from plastic import program_cache

    kept_programs = program_cache.program_cache_folder()
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
    finally:
        # A command run from Python (a test, a notebook) leaves the caller's program cache as
        # it found it.
        if kept_programs is None:
            program_cache.disable_program_cache()
        else:
            program_cache.enable_program_cache(kept_programs)


def _compile_cache(args) -> None:
    """JAX's persistent compilation cache for a command that compiles, before it compiles."""
    from plastic.compile_times import disable_compile_cache, enable_compile_cache
    from plastic.program_cache import disable_program_cache, enable_program_cache

    if not hasattr(args, "no_compile_cache"):  # studies, merge: nothing to compile
        return
    off_by_default = os.environ.get("PLASTIC_COMPILE_CACHE", "").lower() in ("0", "off", "no")
    if args.no_compile_cache or (off_by_default and args.compile_cache is None):
        disable_compile_cache()
        disable_program_cache()
        return
    try:
        folder = enable_compile_cache(args.compile_cache)
    except OSError as error:  # a cache is a speed-up: run without it
        print(f"plastic {args.command}: compile cache off: {error}", file=sys.stderr)
        return
    # The traced programs beside the compiled ones: a second run neither traces nor compiles.
    enable_program_cache(folder / "programs")


def _version() -> str:
    # Without importing plastic (and jax): --version answers at once.
    import importlib.metadata

    try:
        return importlib.metadata.version("plastic")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
