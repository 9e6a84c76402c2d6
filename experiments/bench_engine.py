"""Benchmark of the spine engine: the seed protocol batched over delta-t x distance, on CPU.

Measures compile time, wall time per condition, solver steps per pairing cycle and in the quiet
period, peak memory, and the same equations solved condition by condition with scipy's Radau at
the same tolerance (`plastic.reference.solve_with_scipy`) in the same run; prints a table and the
ratio.

    python experiments/bench_engine.py --batch 256            # the issue's setting
    python experiments/bench_engine.py --batch 4 --scipy 1    # a quick look
"""

import argparse
import resource
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import plastic  # noqa: F401
from plastic import raise_if_failed
from plastic.experiment import CalciumPerPairing
from plastic.geometry import Geometry, Spines
from plastic.model import SpineModel
from plastic.protocols import MINUTE, pairing_protocol
from plastic.reference import solve_with_scipy
from plastic.simulate import SolverSettings, simulate


def conditions(batch: int):
    side = max(int(round(np.sqrt(batch))), 1)
    delta_t = np.linspace(-30.0, 30.0, side)
    distance = np.linspace(1.0, 100.0, int(np.ceil(batch / side)))
    grid = np.array([(d, x) for d in delta_t for x in distance])[:batch]
    return jnp.asarray(grid[:, 0]), jnp.asarray(grid[:, 1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--n-pairings", type=int, default=40)
    parser.add_argument("--quiet-min", type=float, default=25.0)
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--scipy", type=int, default=1, help="conditions solved with scipy")
    args = parser.parse_args()
    settings = SolverSettings(rtol=args.rtol)

    def run(delta_t, distance, quiet):
        model = SpineModel(geometry=Geometry(spines=Spines(position=(30.0, 30.0 + distance))))
        protocol = pairing_protocol(
            delta_t, n_pairings=args.n_pairings, uncaged_spines=(0, 1), quiet=quiet
        )
        after = CalciumPerPairing("head", "after")
        sim = simulate(model, protocol, after.save_times(protocol), settings)
        return after.read(model, protocol, sim), sim.num_steps, sim.solver_result

    batched = eqx.filter_jit(jax.vmap(run, in_axes=(0, 0, None)))
    delta_t, distance = conditions(args.batch)
    quiet = jnp.asarray(args.quiet_min * MINUTE)  # an input of the compiled solve, not a constant

    began = time.perf_counter()
    compiled = batched.lower(delta_t, distance, quiet).compile()
    compile_s = time.perf_counter() - began
    began = time.perf_counter()
    _, steps, result = jax.block_until_ready(compiled(delta_t, distance, quiet))
    wall_s = time.perf_counter() - began
    _, steps_no_quiet, result_no_quiet = jax.block_until_ready(
        compiled(delta_t, distance, jnp.zeros(()))
    )
    raise_if_failed(np.concatenate([result, result_no_quiet]), "bench_engine")
    steps, steps_no_quiet = np.asarray(steps), np.asarray(steps_no_quiet)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    scipy_times, scipy_nfev = [], []
    for i in range(min(args.scipy, args.batch)):
        model = SpineModel(geometry=Geometry(spines=Spines(position=(30.0, 30.0 + distance[i]))))
        protocol = pairing_protocol(
            delta_t[i], n_pairings=args.n_pairings, uncaged_spines=(0, 1), quiet=quiet
        )
        began = time.perf_counter()
        atol = settings.absolute_tolerances(model.resting_state())
        _, stats = solve_with_scipy(
            model, protocol, [float(protocol.duration)], rtol=args.rtol, atol=atol
        )
        scipy_times.append(time.perf_counter() - began)
        scipy_nfev.append(stats["nfev"])

    per_condition = wall_s / args.batch
    print(
        f"\nseed protocol: 2 spines, {args.n_pairings} pairings at 0.5 Hz, "
        f"{args.quiet_min:g} min quiet; float64, rtol {args.rtol:g}, atol "
        f"{settings.voltage_atol:g} mV / {settings.calcium_atol:g} uM / {settings.gating_atol:g}; "
        f"{jax.devices()[0].platform}, batch {args.batch}"
    )
    print("| quantity | value |\n|---|---|")
    print(f"| compile time | {compile_s:.1f} s |")
    print(f"| wall time, whole batch | {wall_s:.1f} s |")
    print(f"| wall time per condition | {per_condition:.3f} s |")
    print(
        f"| solver steps per pairing cycle (mean) | {steps_no_quiet.mean() / args.n_pairings:.0f} |"
    )
    print(f"| solver steps in the quiet period (mean) | {(steps - steps_no_quiet).mean():.0f} |")
    print(f"| peak resident memory | {peak_gib:.2f} GiB |")
    if scipy_times:
        scipy_per = float(np.mean(scipy_times))
        print(
            f"| scipy Radau per condition (jitted RHS and Jacobian, {len(scipy_times)} run) | "
            f"{scipy_per:.1f} s ({int(np.mean(scipy_nfev))} RHS evaluations) |"
        )
        print(f"| speed-up per condition, plastic vs scipy | {scipy_per / per_condition:.1f}x |")


if __name__ == "__main__":
    main()
