"""Benchmark against the closest peer, Jaxley: a short electrical run of a passive cell.

The cell of issue 24 item 7: soma, 200 um dendrite, two spines at 50 and 55 um, a 0.5 nS AMPA
conductance (dual exponential, plastic's kinetics at 21 degC: 0.49 / 4.2 ms) on spine 0,
opened by a 2 ms glutamate pulse at 5 ms, 50 ms simulated, float64. Built three times:

- plastic: a passive `SpineModel` (no NMDA, VGCC or spike currents; calcium and receptor
  states still solved, 60 states), 10 um compartments, `Rodas5` at the default tolerances;
  peaks read at ``--save-dt`` (0.1 ms) from the dense output;
- Jaxley (``pip install -e ".[bench]"``; `_jaxley_cell.py`): backward Euler at ``--jaxley-dt``
  (0.1 ms), ``--jaxley-dx`` (10 um) compartments, the potential under the spine at its branch
  point;
- NEURON (`tests/neuron_reference.py`, the reference of plastic's electrics tests): CVODE at
  1e-7, 401 dendritic segments, the same conductance time course.

For plastic and Jaxley, measured one after the other in the same process: compile (tracing
included) and the best of ``--repeats`` runs of one simulation, of a vmapped batch of
``--batch`` conductances (0.25-0.75 nS) and of the gradient of the peak head depolarisation with
respect to the conductance (reverse mode); the peak depolarisation at head, parent and soma and
that gradient against NEURON's (a central finite difference), as relative errors. NEURON's
time is one run of its reference, building included. Prints a markdown table with the ratio
plastic / Jaxley of every time and writes ``summary.json`` under ``--out``. The default
(batch 1,000, 3 repeats) runs in about 2 minutes on 2 CPU cores; ``--batch 100 --repeats 1``
for a quick look. ``--seed-protocol`` also times one simulation of the seed protocol's
length (40 uncagings at 0.5 Hz, 25 quiet minutes) on the same cell: adaptive steps against
15.8 million fixed ones.

    python experiments/bench_jaxley.py
    python experiments/bench_jaxley.py --batch 100 --repeats 1
    python experiments/bench_jaxley.py --seed-protocol   # + the seed protocol's 26 min: ~2 min
"""

import argparse
import json
import os
import pathlib
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import plastic  # noqa: F401  (float64)
from plastic.biophysics import NMDAReceptor, SomaticSpike, VoltageGatedCalciumChannel
from plastic.geometry import Geometry, Spines
from plastic.model import SpineModel
from plastic.protocols import event_protocol
from plastic.rosenbrock import Rodas5
from plastic.simulate import SolverSettings, simulate

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.neuron_reference
sys.path.insert(0, str(ROOT / "experiments"))

SITES = ("head", "parent", "soma")
POSITIONS = (50.0, 55.0)  # um
BATCH_RANGE = (0.25, 0.75)  # nS
FINITE_DIFFERENCE = 1e-3  # relative step of NEURON's gradient


def settings(args) -> SolverSettings:
    """The default tolerances, with ``--linear-algebra``'s Rodas5."""
    return SolverSettings(solver=Rodas5(sparse=args.linear_algebra == "sparse"))


def passive_model(conductance: float, dendrite_length: float, n_compartments: int) -> SpineModel:
    """The two-spine `SpineModel` without NMDA, calcium channels or spike currents."""
    geometry = Geometry(spines=Spines(position=POSITIONS), n_compartments=n_compartments)
    geometry = eqx.tree_at(lambda g: g.dendrite.length, geometry, jnp.asarray(dendrite_length))
    model = SpineModel(geometry=geometry)
    return eqx.tree_at(
        lambda m: (m.nmda, m.vgcc, m.spike, m.ampa.conductance),
        model,
        (
            NMDAReceptor(conductance=0.0),
            VoltageGatedCalciumChannel(density=0.0, dendrite_density=0.0),
            SomaticSpike(sodium_conductance=0.0, potassium_conductance=0.0),
            jnp.asarray(conductance),
        ),
    )


def plastic_peaks(
    model: SpineModel, onset: float, duration: float, save_dt: float, settings: SolverSettings
):
    """``peaks(conductance) -> (3,)`` mV above rest at head 0, under it and at the soma, and
    ``steps(conductance)``, accepted Rodas5 steps; both traceable."""
    protocol = event_protocol([[onset], []], [], duration=duration)
    times = jnp.arange(0.0, duration, save_dt)
    rest = model.geometry.dendrite.resting_potential

    def solve(conductance):
        with_g = eqx.tree_at(lambda m: m.ampa.conductance, model, conductance)
        return with_g, simulate(with_g, protocol, times, settings)

    def peaks(conductance):
        with_g, simulation = solve(conductance)
        states = simulation.states
        return (
            jnp.stack(
                [
                    states.head_voltage[:, 0].max(),
                    with_g.parent_voltage(states)[:, 0].max(),
                    states.soma_voltage.max(),
                ]
            )
            - rest
        )

    def steps(conductance):
        return solve(conductance)[1].num_steps

    return peaks, steps


def seed_protocol(args, model: SpineModel, cell_type) -> dict:
    """The timing of the seed protocol on this cell: spine 0 uncaged ``--seed-pairings`` times
    at 0.5 Hz, then ``--seed-quiet-min`` quiet minutes; one simulation each (compile and run),
    the peaks of the last EPSP (in the 45 ms after its onset) against NEURON's single one."""
    period = 2000.0
    last = args.onset + (args.seed_pairings - 1) * period
    duration = args.seed_pairings * period + args.seed_quiet_min * 60_000.0
    onsets = args.onset + period * np.arange(args.seed_pairings)
    protocol = event_protocol([onsets, []], [], duration=duration)
    times = jnp.arange(last, last + 45.0, args.save_dt)
    rest = model.geometry.dendrite.resting_potential

    def plastic_run(conductance):
        with_g = eqx.tree_at(lambda m: m.ampa.conductance, model, conductance)
        simulation = simulate(with_g, protocol, times, settings(args))
        states = simulation.states
        peaks = jnp.stack(
            [
                states.head_voltage[:, 0].max(),
                with_g.parent_voltage(states)[:, 0].max(),
                states.soma_voltage.max(),
            ]
        )
        return peaks - rest, simulation.num_steps

    cell = cell_type(model, args.onset, args.jaxley_dx, period=period, count=args.seed_pairings)

    def jaxley_run(conductance):
        return cell.peaks(conductance, args.jaxley_dt, duration, after=last), jnp.zeros(())

    result = dict(duration_ms=duration)
    g = jnp.asarray(args.conductance)
    for name, run in (("plastic", plastic_run), ("Jaxley", jaxley_run)):
        program, compile_s = compiled(run, g)
        (peaks, steps), wall_s = best_of(1, program, g)
        result[name] = dict(
            compile_s=compile_s,
            single_s=wall_s,
            peaks=dict(zip(SITES, np.asarray(peaks).tolist())),
            steps=int(steps) if name == "plastic" else int(round(duration / args.jaxley_dt)),
        )
    return result


def best_of(repeats: int, function, *arguments):
    """The result of ``function(*arguments)`` and the least of ``repeats`` wall times, s."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        result = jax.block_until_ready(function(*arguments))
        times.append(time.perf_counter() - began)
    return result, min(times)


def compiled(function, *arguments):
    """``function`` jitted, traced and compiled for ``arguments``; and the seconds it took."""
    began = time.perf_counter()
    program = jax.jit(function).lower(*arguments).compile()
    return program, time.perf_counter() - began


def measure(peaks, conductance: float, batch: int, repeats: int) -> dict:
    """Compile and wall seconds of one simulation, a vmapped batch and the gradient of the
    peak head depolarisation (reverse mode), for ``peaks(conductance) -> (3,)``."""
    g = jnp.asarray(conductance)
    values = jnp.linspace(*BATCH_RANGE, batch)
    result = {}
    program, result["compile_s"] = compiled(peaks, g)
    single, result["single_s"] = best_of(repeats, program, g)
    program, result["batch_compile_s"] = compiled(jax.vmap(peaks), values)
    batched, result["batch_s"] = best_of(repeats, program, values)
    program, result["gradient_compile_s"] = compiled(jax.grad(lambda g: peaks(g)[0]), g)
    gradient, result["gradient_s"] = best_of(repeats, program, g)
    result["peaks"] = dict(zip(SITES, np.asarray(single).tolist()))
    result["gradient"] = float(gradient)
    result["batch_peak_head_range"] = [float(batched[:, 0].min()), float(batched[:, 0].max())]
    return result


def run_neuron(model: SpineModel, onset: float, duration: float) -> dict:
    """NEURON's reference peaks, the central finite difference of the head's peak in the
    conductance (mV/nS), and the seconds of one run (building the cell included)."""
    from tests.neuron_reference import run_passive

    began = time.perf_counter()
    reference = run_passive(model, uncaging_onset=onset, t_stop=duration)
    seconds = time.perf_counter() - began
    conductance = float(model.ampa.conductance)
    step = FINITE_DIFFERENCE * conductance
    heads = []
    for sign in (1.0, -1.0):
        moved = eqx.tree_at(
            lambda m: m.ampa.conductance, model, jnp.asarray(conductance + sign * step)
        )
        heads.append(run_passive(moved, uncaging_onset=onset, t_stop=duration)["head"][0])
    return dict(
        single_s=seconds,
        peaks=dict(
            head=float(reference["head"][0]),
            parent=float(reference["parent"][0]),
            soma=float(reference["soma"]),
        ),
        gradient=(heads[0] - heads[1]) / (2.0 * step),
    )


def relative_errors(result: dict, neuron: dict) -> dict:
    errors = {site: result["peaks"][site] / neuron["peaks"][site] - 1.0 for site in SITES}
    errors["gradient"] = result["gradient"] / neuron["gradient"] - 1.0
    return errors


TIMES = (
    ("compile (s)", "compile_s", "{:.2f}"),
    ("1 simulation (ms)", "single_s", "{:.3g}", 1e3),
    ("batch compile (s)", "batch_compile_s", "{:.2f}"),
    ("batch (s)", "batch_s", "{:.3g}"),
    ("gradient compile (s)", "gradient_compile_s", "{:.2f}"),
    ("gradient (ms)", "gradient_s", "{:.3g}", 1e3),
)


def print_table(results: dict, batch: int) -> None:
    names = list(results)
    print("\n| quantity | " + " | ".join(names) + " | plastic / Jaxley |")
    print("|---|" + "---|" * (len(names) + 1))
    for label, key, form, *scale in TIMES:
        factor = scale[0] if scale else 1.0
        cells = [form.format(results[n][key] * factor) if key in results[n] else "-" for n in names]
        ratio = results["plastic"][key] / results["Jaxley"][key]
        print(
            f"| {label.replace('batch', f'batch of {batch:,}')} | "
            + " | ".join(cells)
            + f" | {ratio:.3g} |"
        )
    for site in (*SITES, "gradient"):
        label = f"error, peak {site}" if site != "gradient" else "error, d(peak head)/dg"
        cells = [
            f"{results[n]['errors'][site]:+.2%}" if "errors" in results[n] else "reference"
            for n in names
        ]
        print(f"| {label} | " + " | ".join(cells) + " | - |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000, help="conductances in the vmapped batch")
    parser.add_argument("--repeats", type=int, default=3, help="runs timed, the best kept")
    parser.add_argument("--conductance", type=float, default=0.5, help="AMPA, nS")
    parser.add_argument("--onset", type=float, default=5.0, help="ms")
    parser.add_argument("--duration", type=float, default=50.0, help="ms")
    parser.add_argument("--dendrite-length", type=float, default=200.0, help="um")
    parser.add_argument("--compartments", type=int, default=20, help="plastic's dendrite")
    parser.add_argument(
        "--linear-algebra",
        choices=("dense", "sparse"),
        default="dense",
        help="plastic's Rodas5: dense LU, or Rodas5(sparse=True) (compiles ~1.7x longer)",
    )
    parser.add_argument("--save-dt", type=float, default=0.1, help="plastic's readout grid, ms")
    parser.add_argument("--jaxley-dt", type=float, default=0.1, help="ms")
    parser.add_argument("--jaxley-dx", type=float, default=10.0, help="um")
    parser.add_argument(
        "--seed-protocol",
        action="store_true",
        help="also time one simulation of the seed protocol's length on the same cell",
    )
    parser.add_argument("--seed-pairings", type=int, default=40, help="at 0.5 Hz")
    parser.add_argument("--seed-quiet-min", type=float, default=25.0, help="minutes")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/bench_jaxley"))
    args = parser.parse_args()

    from _jaxley_cell import JaxleyCell

    load_at_start = os.getloadavg()[0]
    model = passive_model(args.conductance, args.dendrite_length, args.compartments)
    peaks, steps = plastic_peaks(model, args.onset, args.duration, args.save_dt, settings(args))
    results = {"plastic": measure(peaks, args.conductance, args.batch, args.repeats)}
    results["plastic"]["steps"] = int(jax.jit(steps)(jnp.asarray(args.conductance)))

    cell = JaxleyCell(model, args.onset, args.jaxley_dx)

    def jaxley_peaks(conductance):
        return cell.peaks(conductance, args.jaxley_dt, args.duration)

    results["Jaxley"] = measure(jaxley_peaks, args.conductance, args.batch, args.repeats)
    results["Jaxley"]["steps"] = int(round(args.duration / args.jaxley_dt))
    results["NEURON"] = run_neuron(model, args.onset, args.duration)
    for name in ("plastic", "Jaxley"):
        results[name]["errors"] = relative_errors(results[name], results["NEURON"])
    seed = seed_protocol(args, model, JaxleyCell) if args.seed_protocol else None
    if seed is not None:
        for name in ("plastic", "Jaxley"):
            seed[name]["errors"] = {
                site: seed[name]["peaks"][site] / results["NEURON"]["peaks"][site] - 1.0
                for site in SITES
            }
    load_at_end = os.getloadavg()[0]

    import jaxley

    print(
        f"\nPassive cell, spines at {POSITIONS[0]:g} and {POSITIONS[1]:g} um on a "
        f"{args.dendrite_length:g} um dendrite, {args.conductance:g} nS AMPA on spine 0 at "
        f"{args.onset:g} ms, {args.duration:g} ms; float64, {jax.devices()[0].platform}. "
        f"plastic: Rodas5 ({args.linear_algebra}), {args.compartments} compartments, default "
        "tolerances, "
        f"{results['plastic']['steps']} steps. Jaxley {jaxley.__version__}: backward Euler, "
        f"dt {args.jaxley_dt:g} ms, {args.jaxley_dx:g} um compartments. NEURON: CVODE 1e-7, "
        f"401 segments (reference, 1 run, building included). Batch: vmap over {args.batch:,} "
        f"conductances {BATCH_RANGE[0]:g}-{BATCH_RANGE[1]:g} nS. Gradient: d(peak head "
        f"depolarisation)/d(conductance), reverse mode, against NEURON's central difference."
    )
    print_table(results, args.batch)
    if seed is not None:
        print(
            f"\nThe seed protocol's length on the same cell ({args.seed_pairings} uncagings of "
            f"spine 0 at 0.5 Hz, {args.seed_quiet_min:g} quiet minutes, "
            f"{seed['duration_ms'] / 1e3:g} s), one simulation:\n"
        )
        print("| | compile (s) | run (s) | steps | last EPSP head / parent / soma vs NEURON |")
        print("|---|---|---|---|---|")
        for name in ("plastic", "Jaxley"):
            row = seed[name]
            errors = " / ".join(f"{row['errors'][site]:+.2%}" for site in SITES)
            print(
                f"| {name} | {row['compile_s']:.2f} | {row['single_s']:.3g} | "
                f"{row['steps']:,} | {errors} |"
            )
    print(
        f"\nLoad average (1 min): {load_at_start:.1f} at the start, {load_at_end:.1f} at the "
        f"end, on {os.cpu_count()} cores; times are the best of {args.repeats} run(s)."
    )
    args.out.mkdir(parents=True, exist_ok=True)
    summary = dict(
        settings={k: str(v) for k, v in vars(args).items()},
        jax=jax.__version__,
        jaxley=jaxley.__version__,
        device=jax.devices()[0].device_kind,
        load_average=[load_at_start, load_at_end],
        results=results,
        seed_protocol=seed,
    )
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"Wrote {args.out / 'summary.json'}")


if __name__ == "__main__":
    main()
