"""Benchmark: the Urakubo 2008 model's stiff solve (Rodas5) against the Go code's scheme (forward
Euler at 5 us, `plastic.rules.euler_solve`) on the same equations, same machine, same run.

Protocol: ``--n-pairs`` pre/post pairs at +10 ms, 1 Hz, GENESIS waveforms (`UrakuboSynapse`), the
weight read ``--tail`` ms after. Accuracy: each scheme's weight change against Rodas5 at rtol
1e-10 (the reference). Rodas5 runs at rtol 1e-2 to 1e-8 (atol rtol x 1e-4 uM), so that its speed
can be read at Euler's accuracy ("at equal or better accuracy": the loosest rtol whose error is
at most Euler's). Then Rodas5 batched over ``--batch`` delta_t values (vmapped, at
``--batch-rtol``): time per condition. The full STDP curve of issue 23 (21 delta_t x 100 pairs
+ 50 s) takes 150 s of model time per condition; the times here scale with model time (Euler:
exactly; Rodas5: with the number of spikes and the quiet time between them).

One command::

    python experiments/bench_urakubo.py [--n-pairs 5] [--tail 5000] [--batch 8]
    python experiments/bench_urakubo.py --n-pairs 100 --tail 50000   # one STDP-curve condition

Prints one table and writes ``--out`` (JSON).
"""

import argparse
import dataclasses
import json
import pathlib
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import plastic  # noqa: F401  (float64)
from plastic.protocols import spike_lists
from plastic.rosenbrock import Rodas5
from plastic.rules import Urakubo2008, UrakuboSynapse, equilibrate, euler_solve, solve_urakubo


def timed(function, *args):
    """(result, first call seconds (compile + run), second call seconds (run))."""
    began = time.perf_counter()
    out = jax.block_until_ready(function(*args))
    first = time.perf_counter() - began
    began = time.perf_counter()
    out = jax.block_until_ready(function(*args))
    return out, first, time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pairs", type=int, default=5)
    parser.add_argument("--tail", type=float, default=5000.0, help="ms after the last period")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batch-rtol", type=float, default=1e-6)
    parser.add_argument(
        "--rtols",
        default="1e-2,3e-3,1e-3,1e-4,1e-5,1e-6,1e-8",
        help="Rodas5 tolerances to time (comma-separated)",
    )
    parser.add_argument(
        "--linear-algebra",
        choices=("dense", "sparse"),
        default="dense",
        help="Rodas5's: dense LU with pivoting (solve_urakubo's default) or Rodas5(sparse=True)",
    )
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/bench_urakubo.json"))
    args = parser.parse_args()

    solver = Rodas5(sparse=args.linear_algebra == "sparse")
    rest = equilibrate(Urakubo2008())
    posts = 1000.0 * np.arange(args.n_pairs) + 100.0
    duration = 1000.0 * args.n_pairs + args.tail
    trains = spike_lists(posts - 10.0, posts, duration=duration)
    synapse = UrakuboSynapse(rest, solver=solver)
    rule, drive = synapse.driven(trains)

    def rodas5(rtol):
        return eqx.filter_jit(
            lambda r, d: solve_urakubo(r, d, 0.0, duration, rtol=rtol, atol=rtol * 1e-4,
                                       max_steps=2_000_000, solver=solver).efficacy
        )  # fmt: skip

    reference, _, _ = timed(rodas5(1e-10), rule, drive)
    change = float(reference) - 1.0
    rows = {}
    for rtol in (float(r) for r in args.rtols.split(",")):
        efficacy, first, second = timed(rodas5(rtol), rule, drive)
        rows[f"Rodas5 rtol {rtol:g}"] = (float(efficacy), first, second)

    dt = 0.005
    save_every = 20_000  # 100 ms blocks
    n_saves = int(np.ceil(duration / (dt * save_every)))

    @eqx.filter_jit
    def euler(r, d):
        _, states = euler_solve(r, d, 0.0, n_saves, save_every, dt=dt)
        return r.efficacy(states[-1])

    efficacy, first, second = timed(euler, rule, drive)
    model_time = n_saves * save_every * dt
    rows["forward Euler 5 us"] = (float(efficacy), first, second)

    delta_ts = jnp.linspace(-40.0, 40.0, args.batch)

    batch_trains = jax.vmap(lambda dt_: eqx.tree_at(lambda t: t.pre, trains, trains.post - dt_))(
        delta_ts
    )
    batch_synapse = dataclasses.replace(synapse, rtol=args.batch_rtol, atol=args.batch_rtol * 1e-4)
    batched = jax.jit(jax.vmap(batch_synapse.efficacy))
    _, batch_first, batch_second = timed(batched, batch_trains)

    print(f"{args.n_pairs} pairs at +10 ms, {duration / 1000:g} s of model time "
          f"(Euler: {model_time / 1000:g} s); reference weight change {change:+.6%}")  # fmt: skip
    print(f"{'scheme':24s} {'change error':>14s} {'compile+run s':>14s} {'run s':>9s} "
          f"{'speed-up vs Euler':>18s}")  # fmt: skip
    euler_run = rows["forward Euler 5 us"][2] * duration / model_time
    results = {}
    for name, (value, first, second) in rows.items():
        error = abs((value - 1.0) - change) / abs(change)
        speedup = euler_run / second
        results[name] = dict(efficacy=value, relative_error=error, first_s=first, run_s=second,
                             speedup_vs_euler=speedup)  # fmt: skip
        print(f"{name:24s} {error:14.2e} {first:14.2f} {second:9.2f} {speedup:18.1f}")
    euler_error = results["forward Euler 5 us"]["relative_error"]
    as_accurate = [
        name for name, r in results.items()
        if name.startswith("Rodas5") and r["relative_error"] <= euler_error
    ]  # fmt: skip
    fastest = max(as_accurate, key=lambda name: results[name]["speedup_vs_euler"])
    print(f"at equal or better accuracy than Euler: {fastest}, "
          f"{results[fastest]['speedup_vs_euler']:.1f}x faster")  # fmt: skip
    per_condition = batch_second / args.batch
    print(f"Rodas5 rtol {args.batch_rtol:g} vmapped over {args.batch} delta_t: {per_condition:.2f} "
          f"s per condition ({batch_first:.1f} s first call); {args.linear_algebra} linear "
          "algebra")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            dict(n_pairs=args.n_pairs, duration_ms=duration, reference_change=change,
                 schemes=results, fastest_as_accurate_as_euler=fastest, batch=args.batch,
                 batch_rtol=args.batch_rtol, batch_s_per_condition=per_condition,
                 linear_algebra=args.linear_algebra,
                 device=str(jax.devices()[0])),
            indent=2,
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
