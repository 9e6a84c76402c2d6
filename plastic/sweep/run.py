"""Running a sweep in chunks: sharded over devices, memory-checked, written chunk by chunk so
that an interrupted sweep resumes.
"""

import functools
import math
import os
import re
import time
from collections.abc import Callable, Sequence

import diffrax
import equinox as eqx
import jax
import numpy as np
import xarray as xr
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from plastic._atomic import write_atomically
from plastic._modules import find_modules
from plastic.compile_times import CompileClock, computation_key
from plastic.program_cache import lower_kept
from plastic.rosenbrock import with_sequential_lu
from plastic.solver_status import raise_if_failed
from plastic.sweep.memory import (
    MEMORY_FRACTION,
    SweepTooLargeError,
    device_memory_limit,
    format_bytes,
    host_memory_available,
    memory_needed,
)
from plastic.sweep.parts import (
    assemble,
    merge_across_processes,
    merge_hint,
    print_progress,
    sweep_lock,
)
from plastic.sweep.store import (
    chunk_file,
    describe_changes,
    discard_if_empty,
    finished_chunks,
    open_partial,
    read_manifest,
    sweep_fingerprint,
    sweep_layout,
)

CONDITION = "condition"
"""The mesh axis that a chunk of conditions is split along."""


def evaluate_chunk(evaluation, conditions, mesh, batch_size, per_device=True):
    """Evaluate a chunk, ``(chunk, n_axes)`` axis values, sharded over ``mesh``: one array per
    readout with a leading axis of the chunk's length, and the solves' result codes. The
    function `run_sweep` compiles.

    With ``per_device`` (static), each device runs its own share (`jax.shard_map`), with no
    traffic between devices. Otherwise the chunk is one vmapped program that the compiler
    partitions: the solver's while loop is then one loop over the whole chunk, with an
    all-reduce of "any condition left?" between the devices at every step (measured: 2 CPU
    devices 3x slower than 1). Only for solvers that fail under `jax.shard_map` (diffrax's
    implicit solvers: their lineax linear solves, lineax issue 185).
    """
    if not per_device:
        # (chunk, n_axes) -> (devices, share, n_axes), sharded along the leading axis: a batch
        # of `jax.lax.map` then spans every device instead of the scan running over a sharded
        # axis.
        on_devices = NamedSharding(mesh, P(CONDITION))
        shares = conditions.reshape(mesh.size, -1, conditions.shape[-1])
        shares = jax.lax.with_sharding_constraint(shares, on_devices)
        outputs = jax.lax.with_sharding_constraint(
            jax.vmap(functools.partial(_evaluate_share, evaluation, batch_size))(shares),
            on_devices,
        )
        return jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), outputs)
    dynamic, static = eqx.partition(evaluation, eqx.is_array)

    def on_device(dynamic, share):
        return _evaluate_share(eqx.combine(dynamic, static), batch_size, share)

    # check_vma off: solver loops (diffrax's, ours) start their carries from constants that are
    # the same on every device, which its type check would ask to be marked per device.
    return jax.shard_map(
        on_device,
        mesh=mesh,
        in_specs=(P(), P(CONDITION)),
        out_specs=P(CONDITION),
        check_vma=False,
    )(dynamic, conditions)


def _evaluate_share(evaluation, batch_size, share):
    """One device's share of a chunk: vmapped, or in batches of ``batch_size``."""
    if batch_size is None:
        return jax.vmap(evaluation)(share)
    return jax.lax.map(evaluation, share, batch_size=batch_size)


def batched_lapack_calls(program: str) -> list[str]:
    """The LAPACK custom calls of a lowered ``program`` (StableHLO text) that take a batch of
    matrices (an operand of rank 3 or more), by target name."""
    found = set()
    for line in program.splitlines():
        call = re.search(r"custom_call @(lapack_\w+)", line)
        if call is None:
            continue
        operands = line.rsplit(" : ", 1)[-1].split("->")[0]
        # "tensor<3x9x9xf64>": as many "x" as dimensions.
        if any(shape.count("x") >= 3 for shape in re.findall(r"tensor<([^>]*)>", operands)):
            found.add(call.group(1))
    return sorted(found)


# The chunk's name in the cache of traced programs (`plastic.program_cache`).
_CHUNK = "plastic.sweep.evaluate_chunk"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def run_sweep(
    sweep,
    path: str,
    *,
    chunk_size: int = 64,
    batch_size: int | None = None,
    devices: Sequence[jax.Device] | None = None,
    memory_limit: int | None = None,
    overwrite: bool = False,
    part: tuple[int, int] | None = None,
    progress: Callable[[str], None] | None = print_progress,
) -> xr.Dataset | None:
    """Evaluate every condition of ``sweep`` and write the labelled result to ``path`` (NetCDF).

    Args:
        sweep: the grid and readouts, an `ExperimentSweep`.
        path: the output file. Finished chunks are kept in ``path + ".partial"`` until the end;
            a later call with the same sweep and chunk size resumes from there (on any number
            of devices), and a call whose ``path`` already holds this sweep's result loads it.
        chunk_size: conditions per compiled call, a multiple of the number of devices; it
            bounds memory (capped at the grid size rounded up to that multiple).
        batch_size: conditions vmapped together on a device; the rest of the device's share of
            a chunk runs batch after batch (`jax.lax.map`). Default: the whole share at once.
            On several CPU devices, every dense `Rodas5` in the sweep factorises and solves
            its batch one matrix at a time (`with_sequential_lu`; same results): jaxlib's
            batched LAPACK calls split a batch into tasks on the thread pool the devices share
            and block until they finish, and with as many devices as pool threads the run
            waits forever. A solver that still makes batched LAPACK calls there (e.g. a
            diffrax implicit solver) runs with batch size 1, and the progress says so.
        devices: the devices to split chunks over (default: all of `jax.devices()`).
        memory_limit: bytes one chunk may use on each device (default `device_memory_limit`).
        overwrite: replace an existing result, or partial results of a different sweep (not with
            ``part``: the parts share the partial results).
        part: ``(i, n)``, 1 <= i <= n: compute only part i of n of the chunks, those numbered
            (from 1) i, i + n, i + 2n, ... (interleaved, so that parts take as long as each
            other when the cost varies along an axis), into ``path + ".partial"``, and write
            no result file: `merge_sweep` assembles it once every part has run. Parts are
            separate processes (e.g. jobs of a scheduler's array), at the same time or not,
            each holding its own lock ``path + ".part-I-of-N.lock"``.

            Under multi-process JAX (`jax.distributed.initialize`; ``plastic sweep
            --coordinator ...`` or ``--distributed``), a call without ``part`` in every
            process splits the chunks so: process i computes part i + 1 of
            `jax.process_count` on its own devices (default `jax.local_devices`), then
            process 0 merges and every process returns the result.
            ``path`` must be on a file system all processes share.
        progress: called with one line per chunk (done/total, conditions/s, ETA); None for
            silence.

    Returns:
        The result: one variable per readout with dims ``(*axis names, *readout dims)`` and
        coordinates with units. None for a ``part``.

    Raises:
        SweepTooLargeError: before any chunk runs, if a chunk or the result would not fit.
        FileExistsError: if ``path`` holds a different result and ``overwrite`` is False.
        RuntimeError: if a chunk fails; `plastic.solver_status.SolveFailedError` (a
            RuntimeError) if a solve fails, naming its conditions (e.g. it reached
            ``max_steps``). Finished chunks are kept for a rerun.
    """
    if jax.process_count() > 1 and part is None:
        if overwrite:
            raise ValueError(
                "overwrite=True (--overwrite) cannot be combined with a run over several "
                f"processes: they share the partial results in {path}.partial; delete them (and "
                f"{path}) to start again"
            )
        # Each process computes its share as a part, on its own devices; process 0 merges.
        share = (jax.process_index() + 1, jax.process_count())
        run_sweep(
            sweep, path, chunk_size=chunk_size, batch_size=batch_size,
            devices=jax.local_devices() if devices is None else devices,
            memory_limit=memory_limit, part=share, progress=progress,
        )  # fmt: skip
        return merge_across_processes(path, progress)
    report = progress if progress is not None else (lambda line: None)
    devices = tuple(jax.devices() if devices is None else devices)
    n_devices = len(devices)
    if chunk_size < 1 or chunk_size % n_devices:
        raise ValueError(
            f"chunk_size must be a positive multiple of the number of devices ({n_devices}); "
            f"got {chunk_size}"
        )
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 or None; got {batch_size}")
    if part is not None:
        i, n = part
        if not (isinstance(i, int) and isinstance(n, int) and 1 <= i <= n):
            raise ValueError(f"part must be (i, n) with whole numbers 1 <= i <= n; got {part}")
        if overwrite:
            raise ValueError(
                "overwrite=True (--overwrite) cannot be combined with part: the parts share the "
                f"partial results in {path}.partial; delete them (and {path}) to start again"
            )
    n_conditions = sweep.n_conditions
    chunk_size = min(chunk_size, -(-n_conditions // n_devices) * n_devices)
    n_chunks = -(-n_conditions // chunk_size)
    with sweep_lock(path, part):
        fingerprint = sweep_fingerprint(sweep, chunk_size)

        if os.path.exists(path) and not overwrite:
            try:
                existing = xr.load_dataset(path, engine="scipy")
            except (OSError, TypeError, ValueError):
                raise FileExistsError(
                    f"{path} exists and is not a sweep's NetCDF file; choose another output file, "
                    "or delete it (or pass overwrite=True) to replace it"
                ) from None
            if existing.attrs.get("fingerprint") == fingerprint:
                if part is not None:
                    report(f"{path} already holds this sweep; part {part[0]}/{part[1]} is done")
                    return None
                report(f"{path} already holds this sweep; loaded it")
                return existing
            changed = describe_changes(existing, sweep, chunk_size)
            raise FileExistsError(
                f"{path} holds a different result ({changed}); delete it, choose another "
                "output file or pass overwrite=True (--overwrite)"
            )

        # Partial results are checked before anything is compiled.
        folder = path + ".partial"
        finished = open_partial(folder, fingerprint, overwrite, sweep_layout(sweep, chunk_size))
        # This process's chunks: all of them, or every n-th from the part's first.
        mine = range(n_chunks) if part is None else range(part[0] - 1, n_chunks, part[1])
        share = "" if part is None else f"part {part[0]}/{part[1]}: "
        if part is not None and not set(mine) - finished:
            report(f"{share}its {len(mine)} of the {n_chunks} chunks are done; {merge_hint(path)}")
            return None
        grid = " x ".join(f"{a.name} {a.values.size}" for a in sweep.axes)
        clock = CompileClock(
            computation_key("sweep chunk", sweep.evaluation, chunk_size, batch_size, n_devices)
        )
        chunks = f"{n_chunks} chunks" if part is None else f"{len(mine)} of {n_chunks} chunks"
        report(
            f"{share}sweep of {n_conditions} conditions ({grid}) in {chunks} of {chunk_size} on "
            f"{n_devices} {devices[0].platform} device(s); {clock.message('a chunk')}"
        )
        mesh = Mesh(np.asarray(devices), (CONDITION,))
        several_cpus = n_devices > 1 and devices[0].platform == "cpu"
        evaluation = with_sequential_lu(sweep.evaluation) if several_cpus else sweep.evaluation
        per_device = not find_modules(evaluation, diffrax.AbstractImplicitSolver)
        if n_devices > 1 and not per_device:
            report(
                "the devices step together (one program partitioned over them): diffrax's "
                "implicit solvers fail under jax.shard_map (lineax issue 185); Rodas5 does not"
            )
        dynamic, static = eqx.partition(evaluation, eqx.is_array)
        evaluation = eqx.combine(jax.device_put(dynamic, NamedSharding(mesh, P())), static)
        on_devices = NamedSharding(mesh, P(CONDITION))

        def chunk(index):
            start = index * chunk_size
            values = sweep.conditions(start, min(start + chunk_size, n_conditions))
            # The last chunk repeats its last condition so that every chunk has the compiled shape.
            padded = np.concatenate([values, np.repeat(values[-1:], chunk_size - len(values), 0)])
            return jax.device_put(padded, on_devices), len(values)

        arguments = (evaluation, chunk(0)[0], mesh, batch_size, per_device)
        # Traced once, or not at all where the command line keeps traced programs on disk.
        lowered, shapes = lower_kept(_CHUNK, evaluate_chunk, *arguments)
        result_bytes = n_conditions * sum(8 * math.prod(s.shape[1:]) for s in shapes[0])
        host_limit = int(MEMORY_FRACTION * host_memory_available())
        if result_bytes > host_limit:
            if part is None:  # sibling parts may be writing to it
                discard_if_empty(folder, finished)
            raise SweepTooLargeError(
                f"the result of {n_conditions} conditions needs {format_bytes(result_bytes)} of "
                f"host memory but the limit is {format_bytes(host_limit)}; split the grid into "
                "several sweeps",
                result_bytes,
                host_limit,
            )

        batched = batched_lapack_calls(lowered.as_text()) if several_cpus else []
        if batched and batch_size != 1:
            report(
                f"batch_size {batch_size} -> 1 on {n_devices} CPU devices: the solver makes "
                f"batched LAPACK calls ({', '.join(batched)}), which deadlock the devices' "
                "shared thread pool"
            )
            batch_size = 1
            arguments = (evaluation, chunk(0)[0], mesh, batch_size, per_device)
            lowered, _ = lower_kept(_CHUNK, evaluate_chunk, *arguments)
        compiled = lowered.compile()
        compile_seconds = clock.stop()
        needed = memory_needed(compiled)
        limit = device_memory_limit(devices) if memory_limit is None else memory_limit
        if needed > limit:
            fits = max(n_devices, int(chunk_size * limit / needed) // n_devices * n_devices)
            if part is None:  # sibling parts may be writing to it
                discard_if_empty(folder, finished)
            raise SweepTooLargeError(
                f"a chunk of {chunk_size} conditions needs {format_bytes(needed)} per device "
                f"({format_bytes(needed * n_devices / chunk_size)} per condition, from the "
                f"compiled function's memory analysis) but the limit is {format_bytes(limit)}; use "
                f"chunk_size <= {fits} or a larger memory_limit",
                needed,
                limit,
            )
        report(
            f"compiled in {compile_seconds:.1f} s; a chunk needs {format_bytes(needed)} per "
            f"device (limit {format_bytes(limit)}); {len(finished & set(mine))} of {len(mine)} "
            "chunks already done"
        )

        def size(index):
            return min(chunk_size, n_conditions - index * chunk_size)

        began = time.perf_counter()
        total = sum(size(i) for i in mine)
        done_before = sum(size(i) for i in finished & set(mine))
        done_now = 0
        try:
            for index in mine:
                if index in finished:
                    continue
                conditions, n_real = chunk(index)
                start = index * chunk_size
                where = (
                    f"chunk {index + 1}/{n_chunks} (conditions {start}:{start + n_real}) failed; "
                    f"finished chunks are kept in {folder} for a rerun"
                )
                try:
                    outputs, codes = compiled(evaluation, conditions, mesh, batch_size, per_device)
                    outputs = [np.asarray(out)[:n_real] for out in outputs]
                except jax.errors.JaxRuntimeError as error:
                    raise RuntimeError(where) from error
                # The solves report failure as a code, not an error inside the compiled chunk
                # (a host callback would keep it out of the persistent compilation cache).
                raise_if_failed(
                    np.asarray(codes)[:n_real],
                    where,
                    labels=_condition_labels(sweep, np.asarray(conditions)[:n_real]),
                    hint="a larger max_steps (--max-steps) or looser tolerances may help",
                )
                named = {r.name: out for r, out in zip(sweep.readouts, outputs)}
                write_atomically(chunk_file(folder, index), functools.partial(np.savez, **named))
                finished.add(index)
                done_now += n_real
                rate = done_now / (time.perf_counter() - began)
                remaining = total - done_before - done_now
                report(
                    f"{share}chunk {len(finished & set(mine))}/{len(mine)}: "
                    f"{done_before + done_now}/{total} conditions, {rate:.3g} conditions/s, "
                    f"ETA {_duration(remaining / rate)}"
                )
        except KeyboardInterrupt:
            report(
                f"{share}interrupted: {len(finished)} of {n_chunks} chunks are saved in {folder}; "
                "rerun the same sweep (or part) to resume from them"
            )
            raise
        if part is not None:
            # Siblings may have finished meanwhile: count what the folder holds now.
            done = len(finished_chunks(folder))
            report(
                f"{share}wrote its {len(mine)} chunks to {folder} ({done} of {n_chunks} done); "
                + merge_hint(path)
            )
            return None
        return assemble(path, folder, read_manifest(folder), report)


def _condition_labels(sweep, values: np.ndarray) -> list[str]:
    """Each condition's axis values, ``"name=value, ..."``: how a failure names them."""
    names = [a.name for a in sweep.axes]
    return [", ".join(f"{n}={v:g}" for n, v in zip(names, row)) for row in values]
