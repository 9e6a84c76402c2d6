"""Benchmark of the full seed protocol on two spines with the Tazerart model, per condition.

The protocol of Tazerart et al. 2020 (seed 000): 40 pairings at 0.5 Hz, both spines uncaged (the
second 2.1 ms after the first), then 25 quiet minutes; the model `tazerart_model()`
(kinase competition rule, AMPAR trafficking and actin remodelling, messenger coupling) with its
fitted defaults (`plastic.studies.tazerart2020.FITTED_PARAMETERS`), or another fitted one
(``--model out/fit/model.eqx``, written by ``plastic fit``). Conditions are delta-t (-30 to
30 ms) x inter-spine distance (1 to 80 um), drawn at random once (seed 0) so that every batch is
a prefix of the largest one.

Measured, on the CPU (or ``--device gpu``; scipy always runs on the CPU):
- throughput in conditions per second against batch size: each batch is one compiled call of the
  chunk function of `plastic.sweep.run_sweep`, vmapped ``--vmap`` conditions at a time
  (`jax.lax.map` beyond that, so memory stays bounded at any batch size) on one CPU device or
  split over every GPU; compile time and peak resident memory apart. One CPU device unless
  ``--cpu-devices N``: then the batch is split over N CPU devices, and Rodas5 factorises one
  matrix at a time (`plastic.rosenbrock.with_sequential_lu`, as `plastic.sweep.run_sweep`
  does there: jaxlib's batched LU, ``lapack_dgetrf_ffi``, blocks threads of the pool the
  devices share waiting for tasks that need a free thread, and with as many devices as
  threads the run hangs);
- the gradient of a sweep-level loss (mean final efficacy over ``--gradient-batch`` conditions)
  with respect to ``nmda.conductance`` and ``rule.cam_half``, reverse mode, against the forward
  pass of the same loss (both timed after their compile);
- the same equations with scipy's Radau per condition (`plastic.reference.solve_with_scipy`, the
  same per-state tolerances), its jitted RHS and Jacobian compile timed apart;
- a floor for each: operations per step (XLA's cost analysis of the right-hand side and of the
  forward-mode Jacobian; LU and triangular solves counted by hand) x accepted steps, at the
  measured float64 peak (`_bench_floor.py`).

Wall times are the best of ``--repeats`` runs after the compile (one by default; on a shared
machine the load shows in the times). Prints a markdown table and the targets (>= 50x scipy per
condition; gradient <= 5x forward; 10,000 conditions in < 8 GiB); writes ``summary.json`` and
``throughput.png`` under ``--out``.

    python experiments/bench_spine.py                  # everything: ~8 h on 2 CPU cores
    python experiments/bench_spine.py --batches 1,4,16 --n-pairings 4 --quiet-min 1 --scipy 1
    python experiments/bench_spine.py --device gpu     # plastic on a GPU, scipy on the CPU
    python experiments/bench_spine.py --cpu-devices 2  # the batch split over 2 CPU devices
"""

import argparse
import json
import os
import pathlib
import resource
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import plastic  # noqa: E402, F401  (float64)
from plastic.experiment import (  # noqa: E402
    AbstractSpineReadout,
    FinalEfficacy,
    SpinePairingExperiment,
)
from plastic.fit import load_model  # noqa: E402
from plastic.protocols import MINUTE  # noqa: E402
from plastic.reference import solve_with_scipy  # noqa: E402
from plastic.rosenbrock import Rodas5, with_sequential_lu  # noqa: E402
from plastic.simulate import SolverSettings  # noqa: E402
from plastic.sparse_lu import SparseLU  # noqa: E402
from plastic.sparsity import column_colouring, jacobian_sparsity, jacobian_structure  # noqa: E402
from plastic.studies.tazerart2020 import tazerart_model  # noqa: E402
from plastic.sweep import (  # noqa: E402
    CONDITION,
    ExperimentEvaluation,
    ExperimentSweep,
    evaluate_chunk,  # the chunk function of run_sweep: the benchmark times what a sweep runs
)

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _bench_floor import Floor, cost_per_call, peak_flops  # noqa: E402

DELTA_T_RANGE = (-30.0, 30.0)  # ms
DISTANCE_RANGE = (1.0, 80.0)  # um; the second spine stays on the 200 um dendrite
TARGET_SPEEDUP = 50.0  # per condition, plastic vs scipy
TARGET_GRADIENT_RATIO = 5.0  # gradient / forward
TARGET_SWEEP = (10_000, 8.0)  # conditions, GiB
GIB = 2.0**30
RODAS5_STAGES = 8  # per step: the first stage's RHS comes with the Jacobian, 7 more RHS calls


class AcceptedSteps(AbstractSpineReadout):
    """Accepted solver steps of the condition; shape ``()``."""

    name: str = eqx.field(static=True, default="accepted_steps")
    unit: str = eqx.field(static=True, default="1")
    dims: tuple[str, ...] = eqx.field(static=True, default=())
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def read(self, model, protocol, simulation):
        return simulation.num_steps


def sample_conditions(n: int) -> np.ndarray:
    """``(n, 2)`` conditions (delta-t ms, distance um), uniform at random with seed 0."""
    rng = np.random.default_rng(0)
    return np.stack([rng.uniform(*DELTA_T_RANGE, n), rng.uniform(*DISTANCE_RANGE, n)], axis=-1)


def model_name(args) -> str:
    return "tazerart_model() (fitted defaults)" if args.model is None else f"fitted, {args.model}"


def seed_evaluation(args, readouts) -> ExperimentEvaluation:
    """The seed protocol on the model, as a function of (delta-t, distance): the evaluation of
    a sweep over their ranges (its corners checked), whose fixed fields (the quiet time among
    them) are arrays, inputs of the compiled solve and not constants folded into it."""
    experiment = SpinePairingExperiment(
        readouts=readouts,
        n_pairings=args.n_pairings,
        uncaged_spines=(0, 1),
        settings=SolverSettings(solver=Rodas5(sparse=args.linear_algebra == "sparse")),
    )
    model = tazerart_model() if args.model is None else load_model(args.model, tazerart_model())
    ranges = {"delta_t": np.array(DELTA_T_RANGE), "distance": np.array(DISTANCE_RANGE)}
    sweep = ExperimentSweep.build(experiment, model, ranges, {"quiet": args.quiet_min * MINUTE})
    if getattr(args, "cpu_devices", 1) > 1 and args.device == "cpu":
        return with_sequential_lu(sweep.evaluation)
    return sweep.evaluation


def configure(evaluation: ExperimentEvaluation, values):
    """The model and protocol of the condition ``values`` (delta-t ms, distance um)."""
    return evaluation.experiment.configure(*evaluation.setup(jnp.asarray(values)))


def reset_peak_memory() -> None:
    """Start a new peak-RSS window (Linux: ``clear_refs`` 5 resets ``VmHWM``)."""
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
    except OSError:
        pass  # elsewhere the peak is the process's since its start


def peak_memory() -> float:
    """Peak resident memory since `reset_peak_memory`, bytes."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


def layout(n: int, devices, vmap: int):
    """The mesh for ``n`` conditions (every device if they divide evenly, else one) and the
    `jax.lax.map` batch size of each device's share (None: the whole share is vmapped)."""
    used = devices if n % len(devices) == 0 else devices[:1]
    share = n // len(used)
    return Mesh(np.asarray(used), (CONDITION,)), None if share <= vmap else vmap


def on_mesh(values, mesh):
    return jax.device_put(jnp.asarray(values), NamedSharding(mesh, P(CONDITION)))


def best_of(repeats: int, function, *arguments):
    """The result of ``function(*arguments)`` and the least of ``repeats`` wall times, s."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        result = jax.block_until_ready(function(*arguments))
        times.append(time.perf_counter() - began)
    return result, min(times)


def run_batch(evaluation, values, devices, vmap: int, repeats: int) -> dict:
    """Compile and run one batch; compile and (best) wall seconds, peak RSS, efficacy, steps."""
    mesh, batch_size = layout(len(values), devices, vmap)
    conditions = on_mesh(values, mesh)
    function = eqx.filter_jit(evaluate_chunk)
    reset_peak_memory()
    began = time.perf_counter()
    compiled = function.lower(evaluation, conditions, mesh, batch_size).compile()
    compile_s = time.perf_counter() - began
    ((efficacy, steps), _), wall_s = best_of(
        repeats, compiled, evaluation, conditions, mesh, batch_size
    )
    return dict(
        batch=len(values),
        compile_s=compile_s,
        wall_s=wall_s,
        peak_rss_gib=peak_memory() / GIB,
        efficacy=np.asarray(efficacy),
        steps=np.asarray(steps),
    )


def sweep_loss(parameters, evaluation, conditions, mesh, batch_size):
    """Mean final efficacy over the conditions and both spines, with ``parameters`` = (NMDA
    conductance nS, Ca4-CaM half-activation uM) set in the model."""
    evaluation = eqx.tree_at(
        lambda e: (e.model.nmda.conductance, e.model.rule.cam_half),
        evaluation,
        (parameters[0], parameters[1]),
    )
    (efficacy,), _ = evaluate_chunk(evaluation, conditions, mesh, batch_size)
    return jnp.mean(efficacy)


def run_gradient(evaluation, values, devices, vmap: int, repeats: int) -> dict:
    """Forward and reverse-mode gradient of `sweep_loss`, each compiled, then timed."""
    mesh, batch_size = layout(len(values), devices, vmap)
    conditions = on_mesh(values, mesh)
    model = evaluation.model
    parameters = jnp.stack([model.nmda.conductance, model.rule.cam_half])
    result = {}
    for name, function in (("forward", sweep_loss), ("gradient", jax.grad(sweep_loss))):
        reset_peak_memory()
        began = time.perf_counter()
        compiled = (
            eqx.filter_jit(function)
            .lower(parameters, evaluation, conditions, mesh, batch_size)
            .compile()
        )
        compile_s = time.perf_counter() - began
        value, wall_s = best_of(
            repeats, compiled, parameters, evaluation, conditions, mesh, batch_size
        )
        result[name] = dict(
            compile_s=compile_s,
            wall_s=wall_s,
            peak_rss_gib=peak_memory() / GIB,
            # None for a non-finite entry: the summary stays strict JSON.
            value=[float(v) if np.isfinite(v) else None for v in np.ravel(value)],
        )
    return result


def scipy_compile_seconds(model, protocol) -> float:
    """Compile time of the jitted RHS and Jacobian that `solve_with_scipy` builds (the same
    functions, built here so their compile can be taken out of its wall time)."""
    y0, unravel = ravel_pytree(model.resting_state())

    def rhs(y, drive_time):
        return ravel_pytree(model.derivative(unravel(y), protocol.drive(drive_time)))[0]

    began = time.perf_counter()
    for function in (rhs, jax.jacfwd(rhs)):
        jax.jit(function).lower(y0, jnp.zeros(())).compile()
    return time.perf_counter() - began


def run_scipy(evaluation, values) -> dict:
    """Radau per condition at the solver's tolerances; seconds (compile apart), statistics."""
    settings = evaluation.experiment.settings
    rows = []
    for condition in values:
        model, protocol = configure(evaluation, condition)
        atol = settings.absolute_tolerances(model.resting_state())
        began = time.perf_counter()
        states, stats = solve_with_scipy(
            model, protocol, [float(protocol.duration)], rtol=settings.rtol, atol=atol
        )
        total_s = time.perf_counter() - began
        compile_s = scipy_compile_seconds(model, protocol)
        efficacy = jax.vmap(model.rule.efficacy)(jax.tree.map(lambda x: x[-1], states.rule))
        rows.append(dict(total_s=total_s, compile_s=compile_s, efficacy=np.asarray(efficacy)))
        rows[-1].update(stats)
    solve_s = [max(r["total_s"] - r["compile_s"], 0.0) for r in rows]
    return dict(
        per_condition_s=float(np.mean(solve_s)),
        compile_s=float(np.mean([r["compile_s"] for r in rows])),
        efficacy=np.stack([r["efficacy"] for r in rows]),
        **{k: float(np.mean([r[k] for r in rows])) for k in ("nfev", "njev", "nlu", "n_pieces")},
    )


def operation_counts(evaluation, sparse: bool) -> dict:
    """Flop of one RHS, one forward-mode Jacobian (with the RHS and df/dt, as `Rodas5` forms
    it), one Rodas5 step (dense or sparse linear algebra) and one Radau factorisation, for the
    model of ``evaluation``; the bytes XLA's kernels move in one RHS and one Jacobian, and the
    entries of ``W``'s factors (``n^2`` dense, the sparse LU's stored entries), for the
    memory side of a roofline (``bench_gpu.py --roofline``)."""
    model, protocol = configure(evaluation, sample_conditions(1)[0])
    y0, unravel = ravel_pytree(model.resting_state())
    n = y0.size
    dynamic, static = eqx.partition(model, eqx.is_array)

    # Parameters and protocol are arguments, as inside the solve: no constant folding.
    def rhs(t, y, dynamic, protocol):
        model = eqx.combine(dynamic, static)
        return ravel_pytree(model.vector_field(t, unravel(y), protocol))[0]

    def jacobian(t, y, dynamic, protocol):
        def directional(tangent):
            return jax.jvp(
                lambda t, y: rhs(t, y, dynamic, protocol), (t, y), (tangent[0], tangent[1:])
            )

        return jax.vmap(directional, out_axes=(None, 0))(jnp.eye(n + 1))

    arguments = (jnp.asarray(100.0), y0, dynamic, protocol)
    rhs_cost = cost_per_call(rhs, *arguments)
    jacobian_cost = cost_per_call(jacobian, *arguments)
    rhs_flop, jacobian_flop = rhs_cost["flops"], jacobian_cost["flops"]
    # LU of W (2/3 n^3), a forward and a back substitution per stage (2 n^2 each).
    linear_algebra = 2.0 / 3.0 * n**3 + RODAS5_STAGES * 2.0 * n**2
    factor_entries = n * n
    # As Rodas5(): one JVP per colour of the columns of the plain pattern, plus df/dt.
    pattern = jacobian_sparsity(jax.make_jaxpr(rhs)(*arguments), argnum=1)
    directions = int(column_colouring(pattern).max()) + 2
    step_jacobian = jacobian_flop * directions / (n + 1)
    if sparse:
        # As Rodas5(sparse=True): one JVP per colour plus df/dt, the LU's own count, and per
        # stage a multiply-add per stored factor entry.
        structure = jacobian_structure(jax.make_jaxpr(rhs)(*arguments), argnum=1)
        lu = SparseLU(structure.pattern)
        directions = int(column_colouring(structure.pattern).max()) + 2
        step_jacobian = jacobian_flop * directions / (n + 1)
        linear_algebra = lu.flops + RODAS5_STAGES * 2.0 * lu.nnz
        factor_entries = lu.nnz
    return dict(
        n_states=n,
        rhs=rhs_flop,
        jacobian=jacobian_flop,
        directions=directions,
        rodas5_jacobian=step_jacobian,
        rodas5_step=(RODAS5_STAGES - 1) * rhs_flop + step_jacobian + linear_algebra,
        linear_algebra=linear_algebra,
        rhs_bytes=rhs_cost["bytes"],
        rodas5_jacobian_bytes=jacobian_cost["bytes"] * directions / (n + 1),
        factor_entries=factor_entries,
        # Radau IIA (3 stages): a real and a complex n x n LU (a complex flop is ~4 real ones).
        radau_factorisation=(1.0 + 4.0) * 2.0 / 3.0 * n**3,
    )


def floors(rows, scipy, operations, device_peak, cpu_peak) -> None:
    """Add the floor (`Floor`) of every batch row and of scipy's mean condition."""
    for row in rows:
        row["floor"] = Floor(row["steps"].sum() * operations["rodas5_step"], device_peak)
    if scipy is not None:
        n = operations["n_states"]
        jacobian = operations["jacobian"] * n / (n + 1)  # jacfwd: n tangents, no df/dt
        flop = (
            scipy["nfev"] * operations["rhs"]
            + scipy["njev"] * jacobian
            + scipy["nlu"] * operations["radau_factorisation"]
        )
        scipy["floor"] = Floor(flop, cpu_peak)


def print_table(rows, scipy, vmap: int, n_devices: int) -> None:
    print(
        "\n| batch | devices x vmap | compile (s) | wall (s) | conditions/s | s per condition "
        "| steps per condition | peak RSS (GiB) | floor (s) | wall / floor |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        used = n_devices if row["batch"] % n_devices == 0 else 1
        share = row["batch"] // used
        split = f"{used} x {share}" if share <= vmap else f"{used} x {vmap} (lax.map)"
        print(
            f"| {row['batch']} | {split} | {row['compile_s']:.1f} | {row['wall_s']:.3g} | "
            f"{row['batch'] / row['wall_s']:.3g} | {row['wall_s'] / row['batch']:.3g} | "
            f"{row['steps'].mean():.0f} | {row['peak_rss_gib']:.2f} | "
            f"{row['floor'].seconds:.3g} | {row['floor'].distance(row['wall_s']):.3g} |"
        )
    if scipy is not None:
        print(
            f"| scipy Radau, per condition ({scipy['n']} run) | 1 x 1 | "
            f"{scipy['compile_s']:.1f} (RHS, Jacobian) | {scipy['per_condition_s']:.3g} | "
            f"{1.0 / scipy['per_condition_s']:.3g} | {scipy['per_condition_s']:.3g} | "
            f"{scipy['nfev']:.0f} RHS, {scipy['njev']:.0f} Jacobians, {scipy['nlu']:.0f} LU | - | "
            f"{scipy['floor'].seconds:.3g} | "
            f"{scipy['floor'].distance(scipy['per_condition_s']):.3g} |"
        )


def plot(path, rows, scipy, device_name: str, protocol: str) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    batch = np.array([row["batch"] for row in rows])
    measured = batch / np.array([row["wall_s"] for row in rows])
    at_floor = batch / np.array([row["floor"].seconds for row in rows])
    ax.loglog(batch, measured, "o-", color="k", label=f"plastic ({device_name})")
    ax.loglog(batch, at_floor, ":", color="grey", label="plastic at the floor")
    if scipy is not None:
        ax.axhline(1.0 / scipy["per_condition_s"], color="tab:blue", ls="--", label="scipy Radau")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch (conditions per compiled call)")
    ax.set_ylabel("conditions per second")
    ax.set_title(f"Seed protocol ({protocol}), two spines, default model", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def print_targets(rows, scipy, gradient) -> dict:
    """Print each target as met / NOT met / not measured; the same as a dict."""
    targets = {}
    best = min(rows, key=lambda row: row["wall_s"] / row["batch"])
    best_s = best["wall_s"] / best["batch"]
    print("\nTargets:")
    if scipy is not None:
        speedup = scipy["per_condition_s"] / best_s
        met = speedup >= TARGET_SPEEDUP
        print(
            f"- plastic {speedup:.3g}x faster per condition than scipy (best batch, "
            f"{best['batch']}; batch {rows[0]['batch']}: "
            f"{scipy['per_condition_s'] * rows[0]['batch'] / rows[0]['wall_s']:.3g}x) "
            f"(>= {TARGET_SPEEDUP:g}x): {'met' if met else 'NOT met'}"
        )
        targets["speedup_vs_scipy"] = dict(value=speedup, met=bool(met))
    if gradient is not None:
        ratio = gradient["gradient"]["wall_s"] / gradient["forward"]["wall_s"]
        met = ratio <= TARGET_GRADIENT_RATIO
        print(
            f"- gradient {ratio:.3g}x the forward pass (<= {TARGET_GRADIENT_RATIO:g}x): "
            f"{'met' if met else 'NOT met'}"
        )
        targets["gradient_over_forward"] = dict(value=ratio, met=bool(met))
    n_target, gib_target = TARGET_SWEEP
    large = [row for row in rows if row["batch"] >= n_target]
    if large:
        row = large[0]
        seconds = row["wall_s"] * n_target / row["batch"]
        met = row["peak_rss_gib"] < gib_target
        print(
            f"- {n_target} conditions: batch {row['batch']} finished in {row['wall_s']:.0f} s "
            f"({seconds:.0f} s per {n_target}), peak RSS {row['peak_rss_gib']:.2f} GiB "
            f"(< {gib_target:g} GiB): {'met' if met else 'NOT met'}"
        )
        targets["sweep_10000"] = dict(seconds=seconds, peak_rss_gib=row["peak_rss_gib"], met=met)
    else:
        hours = n_target * best_s / 3600.0
        print(
            f"- {n_target} conditions: not measured (largest batch {rows[-1]['batch']}); at the "
            f"best measured rate they would take {hours:.2g} h"
        )
        targets["sweep_10000"] = dict(estimated_hours=hours, met=None)
    return targets


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batches",
        type=lambda text: [int(b) for b in text.split(",")],
        default=[1, 4, 16, 64, 256, 1024, 4096, 16384],
        help="comma-separated batch sizes (the default list, 21,845 conditions at ~1.2 s each, "
        "takes ~8 h on 2 CPU cores)",
    )
    parser.add_argument("--n-pairings", type=int, default=40)
    parser.add_argument("--quiet-min", type=float, default=25.0, help="quiet after the pairings")
    parser.add_argument("--scipy", type=int, default=1, help="conditions solved with scipy")
    parser.add_argument("--gradient", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--gradient-batch", type=int, default=16, help="conditions in the loss")
    parser.add_argument(
        "--vmap",
        type=int,
        default=256,
        help="conditions vmapped together per device; larger shares run in batches of this size "
        "(on a GPU, try the largest batch)",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="timed runs of each compiled call (best is kept)"
    )
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="for plastic")
    parser.add_argument(
        "--linear-algebra",
        choices=("dense", "sparse"),
        default="dense",
        help="Rodas5's Jacobian and LU: dense, or structurally sparse (LU level by level)",
    )
    parser.add_argument(
        "--cpu-devices",
        type=int,
        default=1,
        help="CPU devices to split each batch over (with --device cpu); Rodas5 then factorises "
        "one matrix at a time",
    )
    parser.add_argument("--model", help="a fitted model.eqx (default: tazerart_model())")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/bench_spine"))
    return parser.parse_args()


def main():
    args = parse_arguments()
    if args.device == "gpu":
        try:
            devices = jax.devices("gpu")
        except RuntimeError:
            platforms = sorted({d.platform for d in jax.devices()})
            print(f"No GPU present (JAX sees: {', '.join(platforms)}); nothing to run on a GPU.")
            return
    else:
        if args.cpu_devices < 1:
            raise SystemExit(f"--cpu-devices must be >= 1; got {args.cpu_devices}")
        # Before the CPU backend starts: afterwards its device count is fixed.
        jax.config.update("jax_num_cpu_devices", args.cpu_devices)
        devices = jax.devices("cpu")
        if len(devices) != args.cpu_devices:
            raise SystemExit(f"asked for {args.cpu_devices} CPU devices, JAX has {len(devices)}")
    cpu = jax.devices("cpu")[0]
    batches = sorted(set(args.batches))
    values = sample_conditions(max(batches))
    load_at_start = os.getloadavg()[0]
    print(
        f"seed protocol: 2 spines uncaged, {args.n_pairings} pairings at 0.5 Hz, "
        f"{args.quiet_min:g} min quiet; model {model_name(args)}; float64, Rodas5 "
        f"({args.linear_algebra} linear algebra), "
        f"rtol {SolverSettings().rtol:g}; {len(devices)} "
        f"{devices[0].device_kind} device(s) ({devices[0].platform}); scipy on the CPU"
    )

    with jax.default_device(devices[0]):
        evaluation = seed_evaluation(args, (FinalEfficacy(), AcceptedSteps()))
        operations = operation_counts(evaluation, sparse=args.linear_algebra == "sparse")
        rows = []
        for batch in batches:
            # One compiled call per row gives no progress of its own: a large row runs for hours.
            expected = (
                f", about {batch * rows[-1]['wall_s'] / rows[-1]['batch']:.3g} s at the last "
                "row's rate"
                if rows
                else ""
            )
            print(f"batch {batch}: compiling, then running{expected} ...", flush=True)
            rows.append(run_batch(evaluation, values[:batch], devices, args.vmap, args.repeats))
            row = rows[-1]
            print(
                f"batch {batch}: compile {row['compile_s']:.1f} s, wall {row['wall_s']:.3g} s, "
                f"{batch / row['wall_s']:.3g} conditions/s, peak RSS {row['peak_rss_gib']:.2f} GiB",
                flush=True,
            )
        gradient = None
        if args.gradient:
            print(f"gradient of the mean efficacy over {args.gradient_batch} conditions ...")
            gradient = run_gradient(
                seed_evaluation(args, (FinalEfficacy(),)),
                values[: args.gradient_batch],
                devices,
                args.vmap,
                args.repeats,
            )
    scipy = None
    if args.scipy > 0:
        n = min(args.scipy, batches[-1])
        print(f"scipy Radau: {n} condition(s), one at a time ...", flush=True)
        with jax.default_device(cpu):
            scipy = run_scipy(seed_evaluation(args, (FinalEfficacy(),)), values[:n])
        scipy["n"] = n
        scipy["max_efficacy_difference"] = float(
            np.max(np.abs(scipy.pop("efficacy") - rows[-1]["efficacy"][:n]))
        )

    # Last, so that the BLAS threads it wakes cannot slow down the timings above.
    print("measuring the float64 peak (matrix product) ...", flush=True)
    cpu_peak = peak_flops(cpu)
    device_peak = cpu_peak if args.device == "cpu" else peak_flops(devices[0])
    floors(rows, scipy, operations, device_peak, cpu_peak)

    print_table(rows, scipy, args.vmap, len(devices))
    print(
        f"\nFloor: flop per accepted step x accepted steps at the measured float64 peak "
        f"({device_peak / 1e9:.1f} Gflop/s on the {args.device}"
        + ("" if args.device == "cpu" else f", {cpu_peak / 1e9:.1f} on the CPU for scipy")
        + f"). {operations['n_states']} states; per Rodas5 step {RODAS5_STAGES - 1} RHS x "
        f"{operations['rhs']:.0f} flop + Jacobian {operations['rodas5_jacobian']:.3g} flop "
        f"({operations['directions']} JVPs, XLA cost analysis) + LU and "
        f"{RODAS5_STAGES} triangular solve pairs = {operations['rodas5_step']:.3g} flop. "
        "Rejected steps and, under vmap, the steps a condition idles while the slowest of its "
        "batch finishes are not in the floor. Peak RSS: the process's, over the row's compile "
        "and run."
    )
    if scipy is not None:
        print(
            f"scipy: {scipy['n_pieces']:.0f} pieces between pulse edges, jitted RHS and Jacobian "
            f"(their compile, {scipy['compile_s']:.1f} s a condition, is not in its time); max "
            f"|efficacy difference| to plastic {scipy['max_efficacy_difference']:.2e}."
        )
    if gradient is not None:
        forward, backward = gradient["forward"], gradient["gradient"]
        print(
            f"Gradient of the mean final efficacy over {args.gradient_batch} conditions with "
            f"respect to (nmda.conductance, rule.cam_half) = {backward['value']}: forward "
            f"{forward['wall_s']:.3g} s (compile {forward['compile_s']:.1f} s, peak RSS "
            f"{forward['peak_rss_gib']:.2f} GiB), gradient {backward['wall_s']:.3g} s (compile "
            f"{backward['compile_s']:.1f} s, peak RSS {backward['peak_rss_gib']:.2f} GiB): "
            f"{backward['wall_s'] / forward['wall_s']:.3g}x (no floor estimated)."
        )
        if None in backward["value"]:
            print("WARNING: the gradient is not finite; its cost is still measured.")
    device_memory = (devices[0].memory_stats() or {}).get("peak_bytes_in_use")
    if device_memory is not None:
        print(f"Peak {args.device} memory in use (whole run): {device_memory / GIB:.2f} GiB.")
    load_at_end = os.getloadavg()[0]
    print(
        f"Load average (1 min): {load_at_start:.1f} at the start, {load_at_end:.1f} at the end, "
        f"on {os.cpu_count()} cores (other users' work slows every row); plastic's wall times "
        f"are the best of {args.repeats} run(s)."
    )
    targets = print_targets(rows, scipy, gradient)

    args.out.mkdir(parents=True, exist_ok=True)
    protocol = f"{args.n_pairings} pairings, {args.quiet_min:g} min quiet"
    plot(args.out / "throughput.png", rows, scipy, devices[0].platform, protocol)
    summary = dict(
        settings={k: str(v) for k, v in vars(args).items()},
        model=model_name(args),
        device=f"{len(devices)} x {devices[0].device_kind} ({devices[0].platform})",
        load_average=[load_at_start, load_at_end],
        device_peak_memory_gib=None if device_memory is None else device_memory / GIB,
        peak_flops={"cpu": cpu_peak, args.device: device_peak},
        operations=operations,
        rows=[
            dict(
                batch=row["batch"],
                compile_s=row["compile_s"],
                wall_s=row["wall_s"],
                conditions_per_s=row["batch"] / row["wall_s"],
                steps_per_condition=float(row["steps"].mean()),
                peak_rss_gib=row["peak_rss_gib"],
                floor_s=row["floor"].seconds,
            )
            for row in rows
        ],
        scipy=None
        if scipy is None
        else {
            **{k: v for k, v in scipy.items() if k != "floor"},
            "floor_s": scipy["floor"].seconds,
        },
        gradient=gradient,
        targets=targets,
    )
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\nWrote throughput.png and summary.json to {args.out}")


if __name__ == "__main__":
    main()
