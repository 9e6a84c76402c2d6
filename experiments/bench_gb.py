"""Benchmark: the Graupner-Brunel STDP window by plastic, by Brian2 (runtime, standalone), by scipy.

Protocol: pre/post pairs (60 at 1 Hz by default), ``delta_t = t_post - t_pre`` from -100 to +100
ms in 1 ms steps (201 values), deterministic (noise-free) synapse, published parameter set DP by
default; readouts are the final ``rho_down`` / ``rho_up`` (synapses starting DOWN / UP) and the
synaptic change (`GraupnerBrunel.efficacy`). Side by side, in one run:

- plastic: exact calcium segments (jumps and threshold crossings in closed form) and one Tsit5
  step per segment (`graupner_brunel_simulate`), jitted and vmapped over the 201 delta-t;
- scipy: one `solve_ivp` loop per delta-t (DOP853, float64, rtol 1e-10), calcium integrated as a
  state, jumps exact between pieces, crossings by event location (`_gb_scipy.py`);
- Brian2 runtime mode (Cython) and C++ standalone mode, the same equations on Brian2's clock
  (dt 0.1 ms, Brian2's default; `_gb_brian2.py`), compile times shown apart.

For each, a floor: operations per right-hand-side evaluation (XLA cost analysis) x evaluations,
at the machine's measured float64 peak (`_bench_floor.py`). Prints a table of times, ratios and
max |rho difference| to plastic, checks the targets, and writes ``gb_window.png`` and
``summary.json`` under ``--out``.

    python experiments/bench_gb.py                         # everything, ~8 min on 2 cores
    python experiments/bench_gb.py --scipy-stride 20 --peers scipy brian2-standalone  # a look
    python experiments/bench_gb.py --device gpu            # plastic on a GPU, peers on the CPU

Brian2 is optional (``pip install -e .[bench]``); without it its rows are skipped.
"""

import argparse
import json
import os
import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import plastic  # noqa: E402, F401  (float64)
from plastic.rules import GRAUPNER_BRUNEL_PARAMETER_SETS  # noqa: E402
from plastic.rules.graupner_brunel import (  # noqa: E402
    GraupnerBrunel,
    GraupnerBrunelCalcium,
    GraupnerBrunelState,
)
from plastic.rules.graupner_brunel_simulate import (  # noqa: E402
    calcium_segments,
    pair_spike_times,
    solve_rho,
)

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _bench_floor import Floor, flops_per_call, peak_flops  # noqa: E402
from _gb_brian2 import STAGES, brian2_runtime, brian2_standalone  # noqa: E402
from _gb_scipy import scipy_window  # noqa: E402

PEERS = ("scipy", "brian2-runtime", "brian2-standalone")
TSIT5_EVALUATIONS = 7  # per step: the first stage (re-initialised per segment) + six more
TARGET_AGREEMENT = 1e-6  # max |rho_plastic - rho_scipy|
TARGET_SPEEDUP = {"brian2-standalone": 5.0, "scipy": 100.0}


def plastic_window(rule, calcium, delta_ts, period, n_pairings: int):
    """Final rho (`RhoSolution`, batched over ``delta_ts``, ms) of ``n_pairings`` pairs."""

    def one(delta_t):
        pre, post = pair_spike_times(delta_t, period, n_pairings)
        return solve_rho(rule, calcium_segments(rule, calcium, pre, post, n_pairings * period))

    return jax.vmap(one)(delta_ts)


def pair_trains(delta_ts, period, n_pairings):
    """The same pairs in numpy for the peers: ``(pre, post)``, ms, shape ``(n_delta_t, n)``."""
    first = period * np.arange(n_pairings)[None, :] + np.maximum(0.0, -delta_ts)[:, None]
    return first, first + delta_ts[:, None]


def run_plastic(args, device, rule, calcium, delta_ts):
    rule, calcium, delta_ts, period = jax.device_put(
        (rule, calcium, jnp.asarray(delta_ts), jnp.asarray(args.period)), device
    )
    window = jax.jit(plastic_window, static_argnums=4)
    began = time.perf_counter()
    compiled = window.lower(rule, calcium, delta_ts, period, args.n_pairings).compile()
    compile_s = time.perf_counter() - began
    times = []
    for _ in range(args.repeats):
        began = time.perf_counter()
        solution = jax.block_until_ready(compiled(rule, calcium, delta_ts, period))
        times.append(time.perf_counter() - began)
    rho = np.stack([solution.rho.rho_down, solution.rho.rho_up], axis=1)
    return dict(
        rho=rho,
        compile_s=compile_s,
        run_s=min(times),
        run_median_s=float(np.median(times)),
        error_estimate=float(jnp.max(solution.error_estimate)),
    )


def run_peers(args, peers, parameters, delta_ts, t_end):
    """Run the chosen peers on the same pairs; a dict of their results by name."""
    results = {}
    pre, post = pair_trains(delta_ts, args.period, args.n_pairings)
    if "scipy" in peers:
        subset = slice(None, None, args.scipy_stride)
        print(f"scipy: {delta_ts[subset].size} conditions, one solve_ivp loop each ...", flush=True)
        rho, run_s, evaluations = scipy_window(
            parameters, pre[subset], post[subset], t_end, args.scipy_rtol, args.scipy_atol
        )
        # A subset is scaled to the whole window (time and evaluations per condition).
        scale = delta_ts.size / delta_ts[subset].size
        results["scipy"] = dict(
            rho=rho,
            subset=subset,
            compile_s=None,
            run_s=run_s * scale,
            evaluations=evaluations * scale,
        )
    brian2_evaluations = round(t_end / args.brian2_dt) * delta_ts.size * STAGES[args.brian2_method]
    brian2_arguments = (parameters, pre, post, t_end, args.brian2_dt, args.brian2_method)
    if "brian2-runtime" in peers:
        print(f"Brian2 runtime ({args.brian2_target}) ...")
        rho, compile_s, run_s = brian2_runtime(*brian2_arguments, args.brian2_target)
        results["brian2-runtime"] = dict(rho=rho, compile_s=compile_s, run_s=run_s)
    if "brian2-standalone" in peers:
        print("Brian2 C++ standalone: generating and compiling, then running ...")
        rho, compile_s, run_s = brian2_standalone(*brian2_arguments, args.brian2_repeats)
        results["brian2-standalone"] = dict(rho=rho, compile_s=compile_s, run_s=run_s)
    for name in ("brian2-runtime", "brian2-standalone"):
        if name in results:
            results[name]["evaluations"] = brian2_evaluations
    return results


def rhs_operations(rule, calcium):
    """Flop per right-hand-side evaluation: plastic's (rho only), the peers' (calcium and rho)."""
    above = jnp.zeros(())  # traced, as in the solve: no constant folding of the rates
    plastic_rhs = flops_per_call(
        lambda rho, above_d, above_p: rule.rho_drift(rho, above_d, above_p),
        jnp.zeros(2),
        above,
        above,
    )

    def peer_rhs(y):
        c, rho = y[0], y[1:]
        above_d = (c >= rule.theta_d).astype(c.dtype)
        above_p = (c >= rule.theta_p).astype(c.dtype)
        return jnp.concatenate([(-c / calcium.tau_ca)[None], rule.rho_drift(rho, above_d, above_p)])

    return plastic_rhs, flops_per_call(peer_rhs, jnp.zeros(3))


def print_table(rows, reference_run_s):
    print(
        "\n| code | compile (s) | run (s) | run / plastic | RHS evaluations | floor (s) "
        "| run / floor | max abs d rho vs plastic | max abs d change vs plastic |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        compile_s = "-" if row["compile_s"] is None else f"{row['compile_s']:.2f}"
        difference = "-" if row["d_rho"] is None else f"{row['d_rho']:.2e}"
        change = "-" if row["d_change"] is None else f"{row['d_change']:.2e}"
        print(
            f"| {row['label']} | {compile_s} | {row['run_s']:.4g} | "
            f"{row['run_s'] / reference_run_s:.3g} | {row['evaluations']:.3g} | "
            f"{row['floor_s']:.3g} | {row['run_s'] / row['floor_s']:.3g} | "
            f"{difference} | {change} |"
        )


def plot(path, delta_ts, results, changes, set_name):
    fig, axes = plt.subplots(3, 1, figsize=(7.5, 9.0), sharex=True)
    styles = {
        "plastic": dict(color="k", lw=1.6),
        "scipy": dict(color="tab:blue", ls="none", marker="o", ms=2.5),
        "brian2-runtime": dict(color="tab:orange", ls="--", lw=1.0),
        "brian2-standalone": dict(color="tab:red", ls=":", lw=1.2),
    }
    for name, result in results.items():
        subset = result.get("subset", slice(None))
        x = delta_ts[subset]
        axes[0].plot(x, result["rho"][:, 0], label=name, **styles[name])
        axes[0].plot(x, result["rho"][:, 1], **styles[name])
        axes[1].plot(x, changes[name], label=name, **styles[name])
        if name != "plastic":
            difference = np.max(np.abs(result["rho"] - results["plastic"]["rho"][subset]), axis=1)
            axes[2].semilogy(x, np.maximum(difference, 1e-17), label=name, **styles[name])
    axes[2].axhline(TARGET_AGREEMENT, color="grey", lw=0.8, label="target vs scipy")
    axes[0].set_ylabel("final rho")
    axes[0].set_title(f"Graupner-Brunel {set_name}: final rho (upper: start UP, lower: DOWN)")
    axes[1].set_ylabel("synaptic change (efficacy)")
    axes[2].set_ylabel("max |rho - rho_plastic|")
    axes[2].set_xlabel("delta t = t_post - t_pre (ms)")
    for ax in axes:
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="DP", choices=sorted(GRAUPNER_BRUNEL_PARAMETER_SETS))
    parser.add_argument("--n-pairings", type=int, default=60)
    parser.add_argument("--period", type=float, default=1000.0, help="ms between pairs")
    parser.add_argument("--delta-t-max", type=float, default=100.0, help="ms; step 1 ms")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="for plastic")
    parser.add_argument("--repeats", type=int, default=200, help="timed plastic runs (best)")
    parser.add_argument("--peers", nargs="*", choices=PEERS, default=list(PEERS))
    parser.add_argument("--scipy-rtol", type=float, default=1e-10)
    parser.add_argument("--scipy-atol", type=float, default=1e-12)
    parser.add_argument(
        "--scipy-stride", type=int, default=1, help="solve every k-th delta-t with scipy"
    )
    parser.add_argument("--brian2-dt", type=float, default=0.1, help="ms")
    parser.add_argument(
        "--brian2-method", choices=sorted(STAGES), default="euler", help="Brian2's own choice"
    )
    parser.add_argument("--brian2-target", choices=("cython", "numpy"), default="cython")
    parser.add_argument("--brian2-repeats", type=int, default=10, help="standalone binary runs")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/bench_gb"))
    args = parser.parse_args()
    load_at_start = os.getloadavg()[0]

    if args.device == "gpu":
        try:
            device = jax.devices("gpu")[0]
        except RuntimeError:
            platforms = sorted({d.platform for d in jax.devices()})
            print(f"No GPU present (JAX sees: {', '.join(platforms)}); nothing to run on a GPU.")
            return
    else:
        device = jax.devices("cpu")[0]
    peers = list(args.peers)
    if any(peer.startswith("brian2") for peer in peers):
        try:
            import brian2  # noqa: F401
        except ImportError:
            print("Brian2 is not installed (pip install -e .[bench]): skipping its rows.")
            peers = [peer for peer in peers if not peer.startswith("brian2")]

    parameters = GRAUPNER_BRUNEL_PARAMETER_SETS[args.set]
    rule = GraupnerBrunel.from_published(args.set)
    calcium = GraupnerBrunelCalcium.from_published(args.set)
    delta_ts = np.arange(-args.delta_t_max, args.delta_t_max + 0.5, 1.0)
    t_end = args.n_pairings * args.period
    n_segments = 2 * 3 * args.n_pairings + 1
    print(
        f"Graupner-Brunel {args.set}: {delta_ts.size} delta-t in [{delta_ts[0]:g}, "
        f"{delta_ts[-1]:g}] ms, {args.n_pairings} pairs every {args.period:g} ms; plastic on "
        f"{device.device_kind} ({device.platform}), peers on the CPU"
    )

    plastic_rhs, peer_rhs = rhs_operations(rule, calcium)
    print("plastic: compiling and running ...", flush=True)
    results = {"plastic": run_plastic(args, device, rule, calcium, delta_ts)}
    results["plastic"]["evaluations"] = delta_ts.size * n_segments * TSIT5_EVALUATIONS

    results.update(run_peers(args, peers, parameters, delta_ts, t_end))

    # Last, so that the BLAS threads it wakes cannot slow down the timings above.
    print("measuring the float64 peak (matrix product) ...")
    cpu_peak = peak_flops(jax.devices("cpu")[0])
    device_peak = cpu_peak if device.platform == "cpu" else peak_flops(device)
    for name, result in results.items():
        on_device = name == "plastic"
        per_evaluation = plastic_rhs if on_device else peer_rhs
        result["floor"] = Floor(
            result["evaluations"] * per_evaluation, device_peak if on_device else cpu_peak
        )

    def change(rho):
        state = GraupnerBrunelState(rho_down=jnp.asarray(rho[:, 0]), rho_up=jnp.asarray(rho[:, 1]))
        return np.asarray(rule.efficacy(state))

    changes = {name: change(result["rho"]) for name, result in results.items()}
    labels = {
        "plastic": f"plastic (jit + vmap, {device.platform})",
        "scipy": f"scipy solve_ivp loop (DOP853, rtol {args.scipy_rtol:g})",
        "brian2-runtime": f"Brian2 runtime ({args.brian2_target}, {args.brian2_method})",
        "brian2-standalone": f"Brian2 C++ standalone ({args.brian2_method})",
    }
    rows, summary = [], {}
    plastic_rho, plastic_change = results["plastic"]["rho"], changes["plastic"]
    for name, result in results.items():
        subset = result.get("subset", slice(None))
        d_rho = d_change = None
        if name != "plastic":
            d_rho = float(np.max(np.abs(result["rho"] - plastic_rho[subset])))
            d_change = float(np.max(np.abs(changes[name] - plastic_change[subset])))
        rows.append(
            dict(
                label=labels[name],
                compile_s=result["compile_s"],
                run_s=result["run_s"],
                evaluations=result["evaluations"],
                floor_s=result["floor"].seconds,
                d_rho=d_rho,
                d_change=d_change,
            )
        )
        summary[name] = {k: v for k, v in rows[-1].items() if k != "label"}
    plastic_s = results["plastic"]["run_s"]
    print_table(rows, plastic_s)
    print(
        f"\nrun (s): best of {args.repeats} (plastic; median "
        f"{results['plastic']['run_median_s']:.4g} s), best of {args.brian2_repeats} (Brian2 "
        "standalone binary), one run (Brian2 runtime loop, scipy"
        + (f", scaled from every {args.scipy_stride}th delta-t" if args.scipy_stride > 1 else "")
        + f"). Load average (1 min): {load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} "
        f"at the end, on {os.cpu_count()} cores (other users' work slows every row). "
        f"Peak float64: {cpu_peak / 1e9:.1f} Gflop/s on the CPU"
        + (
            ""
            if device.platform == "cpu"
            else f", {device_peak / 1e9:.1f} on the {device.platform}"
        )
        + f"; RHS: {plastic_rhs:.0f} flop (plastic, rho_down and rho_up), {peer_rhs:.0f} flop "
        f"(peers, with calcium). plastic's Tsit5 embedded error estimate: max "
        f"{results['plastic']['error_estimate']:.1e}."
    )

    print("\nTargets:")
    if "scipy" in results:
        agreement = summary["scipy"]["d_rho"]
        met = "met" if agreement <= TARGET_AGREEMENT else "NOT met"
        print(f"- plastic agrees with scipy: max |d rho| {agreement:.2e} <= 1e-6: {met}")
    for name, target in TARGET_SPEEDUP.items():
        if name in results:
            speedup = results[name]["run_s"] / plastic_s
            met = "met" if speedup >= target else "NOT met"
            print(f"- plastic {speedup:.3g}x faster than {labels[name]} (>= {target:g}x): {met}")

    args.out.mkdir(parents=True, exist_ok=True)
    plot(args.out / "gb_window.png", delta_ts, results, changes, args.set)
    summary["settings"] = {k: str(v) for k, v in vars(args).items()}
    summary["peak_flops"] = {"cpu": cpu_peak, args.device: device_peak}
    summary["rhs_flop"] = {"plastic": plastic_rhs, "peers": peer_rhs}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\nWrote gb_window.png and summary.json to {args.out}")


if __name__ == "__main__":
    main()
