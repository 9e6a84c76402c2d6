"""GPU benchmark in one command, for a GPU lent for minutes: spine protocol, STDP window, fit step.

Items, in order of importance (the budget may not reach the last ones):
- the full seed protocol (`bench_spine.py`: two spines, 40 pairings, 25 quiet minutes,
  `tazerart_model()`, Rodas5 dense or sparse) at 1,024, 8,192 and 65,536 conditions on the GPU,
  each batch one compiled call of the sweep's chunk function, vmapped whole (``--vmap``); and
  16 conditions on the CPU in the same run, for the per-condition ratio;
- the Graupner-Brunel STDP window (`bench_gb.py`'s plastic path: 60 pairs at 1 Hz) at 10^6
  delta-t on the GPU, 10^4 on the CPU;
- one step of ``plastic fit`` of the Tazerart 2020 study in replay mode (its default rows and
  parameters; the loss and its gradient at ``--fit-starts`` starts, vmapped as a fit step does),
  on the GPU and on the CPU (the same recording, moved).

Each item: compile time, throughput (conditions or fit steps per second), peak memory (the
device's ``peak_bytes_in_use``, a high-water mark over the whole run; peak RSS on the CPU), and
for the GPU items the ratio of CPU to GPU time per condition (or per step). Items run while the
budget (``--budget-s``) allows: the next item's time is estimated from the last measurement of
a similar item (`_bench_budget.py`), and an item that would overrun is skipped and reported. Every
item's result is written to ``results.json`` as soon as it is measured, so a run killed by the
machine's time limit keeps what it measured. A failing item (e.g. out of memory) is reported
and the next one runs.

    python experiments/bench_gpu.py --out out/bench_gpu             # on a GPU, ~7 min
    python experiments/bench_gpu.py --smoke --allow-cpu --out out/bench_gpu_smoke   # here
    python experiments/bench_gpu.py --roofline                      # the H100 roofline, CPU

``--roofline`` prints the flop and bytes per Rodas5 step and per condition of the spine model
(XLA's cost analysis of the right-hand side and Jacobian; LU and solves counted by hand),
the steps per condition measured on the CPU, and the throughput an H100 SXM allows at its
quoted float64 and memory ceilings (`_bench_roofline.py`).
"""

import argparse
import dataclasses
import json
import os
import pathlib
import sys
import time
import traceback
import types

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _bench_budget import Budget, estimate_seconds, similarity_keys  # noqa: E402
from _bench_floor import peak_flops  # noqa: E402
from _bench_roofline import (  # noqa: E402
    H100_SXM,
    H100_SXM_TENSOR,
    factor_bytes,
    kernel_bytes,
    predict,
)
from bench_gb import plastic_window  # noqa: E402
from bench_spine import (  # noqa: E402
    GIB,
    AcceptedSteps,
    operation_counts,
    peak_memory,
    reset_peak_memory,
    run_batch,
    sample_conditions,
    seed_evaluation,
)

import plastic  # noqa: E402, F401  (float64)
from plastic.experiment import FinalEfficacy, Predictor  # noqa: E402
from plastic.fit import FitParameters, Objective  # noqa: E402
from plastic.protocols import MINUTE  # noqa: E402
from plastic.rules.graupner_brunel import GraupnerBrunel, GraupnerBrunelCalcium  # noqa: E402
from plastic.studies import get_study  # noqa: E402
from plastic.studies.tazerart2020 import TazerartExperiment  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Sizes:
    """What the items measure.

    Attributes:
        n_pairings, quiet_min: the spine protocol (pairings at 0.5 Hz; quiet after, min).
        spine_batches: conditions per GPU item of the spine protocol.
        spine_cpu: conditions of its CPU measurement.
        gb, gb_cpu: delta-t of the STDP window on the GPU and on the CPU.
        fit_rows: ``DataSet.select`` keywords of the fitted rows (None: the study's default).
        fit_readout_min: quiet before the fit's readouts, min.
    """

    n_pairings: int
    quiet_min: float
    spine_batches: tuple[int, ...]
    spine_cpu: int
    gb: int
    gb_cpu: int
    fit_rows: dict | None
    fit_readout_min: float


FULL = Sizes(
    n_pairings=40,
    quiet_min=25.0,
    spine_batches=(1024, 8192, 65536),
    spine_cpu=16,
    gb=10**6,
    gb_cpu=10**4,
    fit_rows=None,
    fit_readout_min=20.0,  # plastic fit's default
)
SMOKE = Sizes(
    n_pairings=2,
    quiet_min=0.1,
    spine_batches=(4, 8),
    spine_cpu=2,
    gb=1000,
    gb_cpu=100,
    # Neck and head rows only: no uEPSP test recording to differentiate (minutes to compile).
    fit_rows=dict(condition="single +13 ms", readout=("neck_length", "head_volume")),
    fit_readout_min=0.1,
)
GB_SET = "DP"
GB_PAIRS, GB_PERIOD = 60, 1000.0  # bench_gb.py's defaults: 60 pairs at 1 Hz (period ms)
GB_CHUNK = 2**17  # delta-t vmapped together (lax.map beyond): each holds 361 calcium segments


@dataclasses.dataclass(frozen=True)
class Item:
    """One measurement: ``name`` in the results, ``kind`` (``program-device``, e.g.
    ``spine-sparse-gpu``; see `similarity_keys`), ``work`` (conditions, or fit steps), ``device``
    ("gpu" or "cpu"), and ``run``, a function of the device returning the measured fields
    (``compile_s``, ``run_s`` and whatever else)."""

    name: str
    kind: str
    work: float
    device: str
    run: object


def protocol_arguments(sizes, linear_algebra: str):
    """What `bench_spine.seed_evaluation` reads of its command line."""
    return types.SimpleNamespace(
        n_pairings=sizes.n_pairings,
        quiet_min=sizes.quiet_min,
        linear_algebra=linear_algebra,
        model=None,
    )


def spine_item(sizes, linear_algebra: str, batch: int, device: str, vmap: int | None) -> Item:
    def run(jax_device):
        with jax.default_device(jax_device):
            evaluation = seed_evaluation(
                protocol_arguments(sizes, linear_algebra), (FinalEfficacy(), AcceptedSteps())
            )
            together = batch if vmap is None else vmap
            row = run_batch(evaluation, sample_conditions(batch), [jax_device], together, 1)
        return dict(
            compile_s=row["compile_s"],
            run_s=row["wall_s"],
            conditions_per_s=batch / row["wall_s"],
            steps_mean=float(row["steps"].mean()),
            steps_max=float(row["steps"].max()),
            efficacy_finite=bool(np.all(np.isfinite(row["efficacy"]))),
            peak_rss_gib=row["peak_rss_gib"],
        )

    kind = f"spine-{linear_algebra}-{device}"
    return Item(f"{kind}-{batch}", kind, batch, device, run)


def gb_item(n: int, device: str) -> Item:
    def run(jax_device):
        rule = GraupnerBrunel.from_published(GB_SET)
        calcium = GraupnerBrunelCalcium.from_published(GB_SET)
        delta_ts = np.linspace(-100.0, 100.0, n)  # ms

        def window(rule, calcium, delta_ts, period):
            # Chunks bound the memory of the calcium segments at any n.
            return jax.lax.map(
                lambda d: plastic_window(rule, calcium, d[None], period, GB_PAIRS),
                delta_ts,
                batch_size=min(n, GB_CHUNK),
            )

        arguments = jax.device_put(
            (rule, calcium, jnp.asarray(delta_ts), jnp.asarray(GB_PERIOD)), jax_device
        )
        reset_peak_memory()
        began = time.perf_counter()
        compiled = jax.jit(window).lower(*arguments).compile()
        compile_s = time.perf_counter() - began
        began = time.perf_counter()
        solution = jax.block_until_ready(compiled(*arguments))
        run_s = time.perf_counter() - began
        return dict(
            compile_s=compile_s,
            run_s=run_s,
            conditions_per_s=n / run_s,
            rho_finite=bool(jnp.all(jnp.isfinite(solution.rho.rho_up))),
            peak_rss_gib=peak_memory() / GIB,
        )

    return Item(f"gb-{device}-{n}", f"gb-{device}", n, device, run)


class FitStep:
    """The Tazerart replay fit's objective, recorded once on the first device that asks."""

    def __init__(self, sizes, n_starts: int):
        self.sizes, self.n_starts = sizes, n_starts
        self.recorded = None

    def objective(self, jax_device, label: str):
        """The objective and parameters on ``jax_device``, the recording's seconds and the
        label ("gpu", "cpu") of the device it was made on."""
        if self.recorded is None:
            study = get_study("tazerart2020")
            choice = study.rule()  # the default, as plastic fit
            data = study.data().select(**(self.sizes.fit_rows or study.fitted_by_default))
            experiment = TazerartExperiment(
                mode="replay",
                n_pairings=self.sizes.n_pairings,
                readout_delay=self.sizes.fit_readout_min * MINUTE,
            )
            model = choice.model()
            began = time.perf_counter()
            with jax.default_device(jax_device):
                predictor = Predictor.from_data(experiment, data, model=model)
                objective = Objective(predictor, data)
                jax.block_until_ready(eqx.filter(objective, eqx.is_array))
            parameters = FitParameters(model, choice.parameters())
            self.recorded = (objective, parameters, time.perf_counter() - began, label)
        objective, parameters, record_s, recorded_on = self.recorded
        # The same recording on another device: arrays moved, nothing recomputed.
        arrays, rest = eqx.partition((objective, parameters), eqx.is_array)
        return (*eqx.combine(jax.device_put(arrays, jax_device), rest), record_s, recorded_on)

    def item(self, device: str) -> Item:
        def run(jax_device):
            objective, parameters, record_s, recorded_on = self.objective(jax_device, device)

            def loss(unconstrained, objective, parameters):
                return objective(parameters.to_model(unconstrained))

            # As `plastic.fit`'s step: the loss and its gradient of every start, vmapped.
            step = eqx.filter_jit(jax.vmap(jax.value_and_grad(loss), in_axes=(0, None, None)))
            starts = jax.device_put(
                parameters.sample_starts(jax.random.key(0), self.n_starts), jax_device
            )
            reset_peak_memory()
            began = time.perf_counter()
            compiled = step.lower(starts, objective, parameters).compile()
            compile_s = time.perf_counter() - began
            began = time.perf_counter()
            value, gradient = jax.block_until_ready(compiled(starts, objective, parameters))
            run_s = time.perf_counter() - began
            per_start = [
                np.all(np.isfinite(g), axis=tuple(range(1, np.ndim(g))))
                for g in jax.tree.leaves(gradient)
            ]
            finite = np.isfinite(np.asarray(value)) & np.all(per_start, axis=0)
            return dict(
                record_s=record_s,
                recorded_on=recorded_on,
                compile_s=compile_s,
                run_s=run_s,
                steps_per_s=1.0 / run_s,
                conditions=objective.predict.n_conditions,
                rows=objective.n_rows,
                starts=self.n_starts,
                starts_finite=int(finite.sum()),
                peak_rss_gib=peak_memory() / GIB,
            )

        return Item(f"fit-step-{device}", f"fit-{device}", 1, device, run)


def plan(sizes, n_starts: int, vmap: int | None) -> list[Item]:
    """The items in order of importance: a first spine batch with its CPU reference, the cheap
    STDP window, larger spine batches, sparse linear algebra, the fit step, the largest batches."""
    batches = sizes.spine_batches
    small, middle, large = batches[0], batches[1:-1], batches[-1]
    fit = FitStep(sizes, n_starts)
    return [
        spine_item(sizes, "dense", small, "gpu", vmap),
        spine_item(sizes, "dense", sizes.spine_cpu, "cpu", None),
        gb_item(sizes.gb, "gpu"),
        gb_item(sizes.gb_cpu, "cpu"),
        *(spine_item(sizes, "dense", b, "gpu", vmap) for b in middle),
        spine_item(sizes, "sparse", small, "gpu", vmap),
        spine_item(sizes, "sparse", sizes.spine_cpu, "cpu", None),
        fit.item("gpu"),
        fit.item("cpu"),
        spine_item(sizes, "dense", large, "gpu", vmap),
        *(spine_item(sizes, "sparse", b, "gpu", vmap) for b in middle),
        spine_item(sizes, "sparse", large, "gpu", vmap),
    ]


def add_ratios(entries: list[dict]) -> None:
    """Set ``cpu_over_gpu_per_unit`` of every measured GPU entry whose kind has a measured CPU
    entry: CPU time per unit of work over the GPU's (per condition; per fit step). The CPU
    item may run after its GPU items, so this is redone after every item."""
    cpu = {e["kind"]: e for e in entries if e["status"] == "measured" and e["device"] == "cpu"}
    for entry in entries:
        reference = cpu.get(entry["kind"].replace("-gpu", "-cpu"))
        if entry["device"] == "gpu" and entry["status"] == "measured" and reference is not None:
            entry["cpu_over_gpu_per_unit"] = (reference["run_s"] / reference["work"]) / (
                entry["run_s"] / entry["work"]
            )


def describe_devices(gpu, cpu) -> dict:
    # What JAX's allocator may use (by default it takes 75 % of the GPU); None on the CPU.
    limit = (gpu.memory_stats() or {}).get("bytes_limit")
    return dict(
        gpu=f"{gpu.device_kind} ({gpu.platform})",
        gpu_memory_gib=None if limit is None else limit / GIB,
        cpu_cores=os.cpu_count(),
        jax=jax.__version__,
    )


def write(out: pathlib.Path, results: dict) -> None:
    """``results.json``, replaced whole (a half-written file never stands)."""
    partial = out / "results.json.partial"
    partial.write_text(json.dumps(results, indent=1, default=float))
    os.replace(partial, out / "results.json")


def device_peak(device) -> float | None:
    """The device's peak bytes in use since the process started (None on the CPU)."""
    return (device.memory_stats() or {}).get("peak_bytes_in_use")


def run_items(items, devices, budget: Budget, results: dict, out) -> None:
    measured, last_total_s = {}, None  # the last measured item under each `similarity_keys`
    for item in items:
        keys = similarity_keys(item.kind, item.device)
        similar = next((measured[key] for key in keys if key in measured), None)
        estimate = estimate_seconds(similar, item.work, last_total_s)
        entry = dict(name=item.name, kind=item.kind, device=item.device, work=item.work)
        if not budget.allows(estimate):
            entry.update(status="skipped", estimate_s=estimate)
            print(
                f"{item.name}: skipped: would exceed budget, estimated {estimate:.0f} s "
                f"({budget.left():.0f} s left)",
                flush=True,
            )
        else:
            print(f"{item.name}: running (estimated {estimate:.0f} s) ...", flush=True)
            peak_before = device_peak(devices[item.device])
            began = time.perf_counter()
            try:
                entry.update(item.run(devices[item.device]), status="measured")
            except Exception as error:  # e.g. out of device memory: the next item still runs
                entry.update(status="failed", error=f"{type(error).__name__}: {error}"[:2000])
                traceback.print_exc()
            last_total_s = time.perf_counter() - began
            entry["total_s"] = last_total_s
            peak = device_peak(devices[item.device])
            if peak is not None:
                # JAX cannot reset the device's high-water mark: an item's own peak is known
                # only where it raised the mark.
                entry["device_peak_gib_so_far"] = peak / GIB
                entry["device_peak_raised_here"] = peak > peak_before
            if entry["status"] == "measured":
                measured.update(dict.fromkeys(keys, entry))
        results["items"].append(entry)
        add_ratios(results["items"])
        if "total_s" in entry:
            print(summary_line(entry), flush=True)
        write(out, results)


def summary_line(entry: dict) -> str:
    if entry["status"] == "skipped":
        estimate = entry["estimate_s"]
        return f"{entry['name']}: skipped: would exceed budget, estimated {estimate:.0f} s"
    if entry["status"] != "measured":
        return f"{entry['name']}: {entry['status']}: {entry.get('error', '')}"
    rate = (
        f"{entry['steps_per_s']:.3g} fit steps/s ({entry['starts']} starts, "
        f"{entry['conditions']} conditions; recording {entry['record_s']:.1f} s on the "
        f"{entry['recorded_on']})"
        if "steps_per_s" in entry
        else f"{entry['conditions_per_s']:.4g} conditions/s"
    )
    memory = (
        f"device peak so far {entry['device_peak_gib_so_far']:.2f} GiB"
        + (" (raised by this item)" if entry["device_peak_raised_here"] else "")
        if "device_peak_gib_so_far" in entry
        else f"peak RSS {entry['peak_rss_gib']:.2f} GiB"
    )
    ratio = entry.get("cpu_over_gpu_per_unit")
    versus = "" if ratio is None else f"; CPU / GPU time per unit of work {ratio:.3g}"
    steps = ""
    if "steps_mean" in entry:
        steps = f", steps mean {entry['steps_mean']:.0f} max {entry['steps_max']:.0f}"
    return (
        f"{entry['name']}: compile {entry['compile_s']:.1f} s, run {entry['run_s']:.3g} s, "
        f"{rate}{steps}, {memory}{versus}"
    )


def roofline(sizes, batch: int) -> dict:
    """Print and return the flop and bytes per Rodas5 step and per condition of the spine
    model, dense and sparse, the steps per condition of ``batch`` conditions solved here on
    the CPU, and what an H100 SXM allows at batch 65,536 (`_bench_roofline.py`)."""
    cpu = jax.devices("cpu")[0]
    print(
        f"spine model: seed protocol, {sizes.n_pairings} pairings, {sizes.quiet_min:g} min "
        f"quiet; steps per condition from {batch} conditions on the CPU ...",
        flush=True,
    )
    row = spine_item(sizes, "dense", batch, "cpu", None).run(cpu)
    steps = row["steps_max"]  # under vmap every condition runs as long as the slowest
    report = dict(
        steps_mean=row["steps_mean"],
        steps_max=steps,
        cpu_seconds_per_condition=row["run_s"] / batch,
    )
    print(
        f"accepted Rodas5 steps per condition: mean {row['steps_mean']:.0f}, max {steps:.0f} "
        f"over {batch} ({row['run_s'] / batch:.3g} s per condition here, dense); per condition "
        f"below: the max"
    )
    for linear_algebra in ("dense", "sparse"):
        with jax.default_device(cpu):
            evaluation = seed_evaluation(
                protocol_arguments(sizes, linear_algebra), (FinalEfficacy(),)
            )
            operations = operation_counts(evaluation, sparse=linear_algebra == "sparse")
        flop = operations["rodas5_step"]
        least = factor_bytes(operations)
        most = least + kernel_bytes(operations)
        print(
            f"\n{linear_algebra}: {operations['n_states']} states, W's factors "
            f"{operations['factor_entries']} entries. Per step: flop = RHS "
            f"{operations['rhs']:.0f} x 7 + Jacobian {operations['rodas5_jacobian']:.3g} "
            f"({operations['directions']} JVPs) + LU and 8 solve pairs "
            f"{operations['linear_algebra']:.3g} = {flop:.3g}; bytes {least:.3g} (factors, "
            f"12 passes) to {most:.3g} (+ RHS and Jacobian kernels); {flop / most:.2g} to "
            f"{flop / least:.2g} flop/byte. Per condition: {flop * steps:.3g} flop, "
            f"{least * steps:.3g} to {most * steps:.3g} bytes"
        )
        entry = dict(operations=operations, step_flop=flop, step_bytes=(least, most))
        for device in (H100_SXM, H100_SXM_TENSOR):
            bounds = [predict(flop * steps, moved * steps, device) for moved in (most, least)]
            entry[device.name] = bounds
            rates = [bound["conditions_per_s"] for bound in bounds]
            print(
                f"  {device.name} ({device.flops / 1e12:g} Tflop/s, "
                f"{device.bandwidth / 1e12:g} TB/s, ridge {device.flops / device.bandwidth:.3g} "
                f"flop/byte): compute {bounds[0]['compute_s'] * 1e3:.3g} ms, memory "
                f"{bounds[1]['memory_s'] * 1e3:.3g} to {bounds[0]['memory_s'] * 1e3:.3g} ms per "
                f"condition: {'/'.join(sorted({b['bound'] for b in bounds}))}-bound, at most "
                f"{rates[0]:.3g} to {rates[1]:.3g} conditions/s; batch 65,536 in at least "
                f"{65536 / rates[1]:.3g} to {65536 / rates[0]:.3g} s"
            )
        report[linear_algebra] = entry
    print(f"\nsource of the H100 numbers: {H100_SXM.source}")
    return report


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/bench_gpu"))
    parser.add_argument("--budget-s", type=float, default=420.0, help="whole run, s")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes: 2 pairings, 0.1 quiet min, spine batches 4 and 8, 1,000 GB delta-t",
    )
    parser.add_argument(
        "--allow-cpu", action="store_true", help="without a GPU, run the 'GPU' items on the CPU"
    )
    parser.add_argument(
        "--vmap",
        type=int,
        help="spine conditions vmapped together on the GPU (default: the whole batch; "
        "larger batches then run in chunks of this size, for less memory)",
    )
    parser.add_argument("--fit-starts", type=int, default=3, help="as plastic fit's default")
    parser.add_argument(
        "--only", help="comma-separated item names to run (e.g. gb-gpu-1000000,gb-cpu-10000)"
    )
    parser.add_argument(
        "--roofline",
        action="store_true",
        help="print the flop and bytes per step and per condition and the H100 roofline "
        "(on the CPU; with --smoke, of the smoke protocol)",
    )
    parser.add_argument(
        "--roofline-batch", type=int, default=16, help="CPU conditions for the steps count"
    )
    return parser.parse_args()


def chosen_items(args, sizes) -> list[Item]:
    """The planned items, or those named by ``--only``; every option checked before any work."""
    for name, value in (("--vmap", args.vmap), ("--fit-starts", args.fit_starts)):
        if value is not None and value < 1:
            raise SystemExit(f"{name} must be >= 1; got {value}")
    if not args.budget_s > 0:
        raise SystemExit(f"--budget-s must be > 0; got {args.budget_s}")
    items = plan(sizes, args.fit_starts, args.vmap)
    if args.only is None:
        return items
    wanted = set(args.only.split(","))
    unknown = wanted - {item.name for item in items}
    if unknown:
        names = ", ".join(item.name for item in items)
        raise SystemExit(f"--only: unknown item(s) {sorted(unknown)}; the items: {names}")
    return [item for item in items if item.name in wanted]


def main():
    args = parse_arguments()
    sizes = SMOKE if args.smoke else FULL
    args.out.mkdir(parents=True, exist_ok=True)
    if args.roofline:
        report = roofline(sizes, args.roofline_batch)
        (args.out / "roofline.json").write_text(json.dumps(report, indent=1, default=float))
        print(f"wrote {args.out / 'roofline.json'}")
        return
    items = chosen_items(args, sizes)
    budget = Budget(args.budget_s)
    cpu = jax.devices("cpu")[0]
    try:
        gpu = jax.devices("gpu")[0]
    except RuntimeError:
        platforms = sorted({d.platform for d in jax.devices()})
        if not args.allow_cpu:
            print(
                f"No GPU seen by JAX (it sees: {', '.join(platforms)}): nothing to benchmark. "
                "Install jax[cuda12] on a machine with a GPU, or pass --allow-cpu to run the "
                "GPU items on the CPU (a smoke test of this script).",
                file=sys.stderr,
            )
            sys.exit(2)
        gpu = cpu
    results = dict(
        settings={k: str(v) for k, v in vars(args).items()},
        sizes=dataclasses.asdict(sizes),
        devices=describe_devices(gpu, cpu),
        load_average_start=os.getloadavg()[0],
        items=[],
    )
    limit = results["devices"]["gpu_memory_gib"]
    memory = "unknown" if limit is None else f"{limit:.1f} GiB"
    print(
        f"device: {results['devices']['gpu']}, memory for JAX {memory}; CPU: "
        f"{os.cpu_count()} cores; budget {args.budget_s:.0f} s",
        flush=True,
    )
    results["peak_flops"] = dict(gpu=peak_flops(gpu))
    print(f"measured float64 matmul peak: {results['peak_flops']['gpu'] / 1e12:.3g} Tflop/s")
    write(args.out, results)
    run_items(items, dict(gpu=gpu, cpu=cpu), budget, results, args.out)
    results["load_average_end"] = os.getloadavg()[0]
    results["elapsed_s"] = args.budget_s - budget.left()
    write(args.out, results)
    measured = sum(item["status"] == "measured" for item in results["items"])
    print("\nSummary (CPU / GPU: the ratio of times per condition, or per fit step):")
    for entry in results["items"]:
        print(f"- {summary_line(entry)}")
    print(
        f"\n{measured} of {len(results['items'])} items measured in {results['elapsed_s']:.0f} s; "
        f"wrote {args.out / 'results.json'}"
    )


if __name__ == "__main__":
    main()
