"""Running one command as several processes, on one machine or many, with multi-process JAX
(`jax.distributed`): the same command in every process, each told the coordinator's address,
the number of processes and its own index, or reading them from the cluster's environment (Slurm,
Open MPI). A sweep splits its chunks between the processes, a fit its starts; the results are
those of one process."""

import argparse
import re

from plastic.cli.arguments import fail


def coordinator_address(text: str) -> str:
    """A converter for ``--coordinator HOST:PORT``."""
    match = re.fullmatch(r"\s*(\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})\s*", text, flags=re.ASCII)
    if match and 0 < int(match.group(2)) < 65536:
        return f"{match.group(1)}:{match.group(2)}"
    raise argparse.ArgumentTypeError(f"must be HOST:PORT with a port in [1, 65535]; got {text!r}")


def add_process_options(parser: argparse.ArgumentParser) -> None:
    """The options of a command that can run as several processes."""
    group = parser.add_argument_group(
        "several processes (multi-process JAX; every process runs the same command)"
    )
    group.add_argument(
        "--coordinator",
        type=coordinator_address,
        metavar="HOST:PORT",
        help="where process 0 listens for the others (with --num-processes and --process-id)",
    )
    group.add_argument(
        "--num-processes", type=int, metavar="N", help="processes in the run, N >= 1"
    )
    group.add_argument(
        "--process-id", type=int, metavar="I", help="this process's index, 0 <= I < N"
    )
    group.add_argument(
        "--distributed",
        action="store_true",
        help="take the coordinator, process count and index from the cluster's environment "
        "(Slurm, Open MPI), as jax.distributed.initialize() does",
    )


def start_processes(args) -> None:
    """Join the multi-process run the options describe (none: run alone), before any JAX
    computation; refuse an incomplete or contradictory description."""
    given = {
        "--coordinator": args.coordinator,
        "--num-processes": args.num_processes,
        "--process-id": args.process_id,
    }
    named = [option for option, value in given.items() if value is not None]
    if args.distributed and named:
        fail(args.command, f"--distributed takes the processes from the environment; drop {named}")
    if named and len(named) < 3:
        missing = [option for option in given if option not in named]
        fail(args.command, f"{named} need {missing} too: a process needs all three")
    if named:
        if args.num_processes < 1:
            fail(args.command, f"--num-processes must be >= 1; got {args.num_processes}")
        if not 0 <= args.process_id < args.num_processes:
            fail(
                args.command,
                f"--process-id must be in [0, {args.num_processes - 1}] (0 <= I < "
                f"--num-processes); got {args.process_id}",
            )
    if not (named or args.distributed):
        return
    if getattr(args, "part", None) is not None:
        fail(args.command, "--part cannot be combined with several processes: they are the parts")
    import jax

    if named:
        jax.distributed.initialize(
            args.coordinator, num_processes=args.num_processes, process_id=args.process_id
        )
    else:
        jax.distributed.initialize()
