"""Benchmark: a 10,000-condition sweep of the full seed protocol, and its figure.

The sweep is `plastic sweep` itself (run in this process, so that its peak memory is this
process's): the Tazerart study's fitted model, both spines uncaged, 40 pairings at 0.5 Hz and
25 quiet minutes, over delta-t (-30 to 30 ms, 25 values) x inter-spine distance (1 to 77 um,
20 values) x NMDA conductance (0.3 to 1.25 nS, 20 values), reading each spine's final efficacy.
Sparse Rodas5, one CPU device per core. Interrupted, it resumes from its finished chunks; rerun
on a finished result, it loads it and redraws the figure.

Prints the wall time (compile included) and the peak resident memory (target: under 8 GiB),
and writes ``sweep.nc``, ``efficacy.png`` (efficacy over delta-t x distance at four NMDA
conductances, both spines) and ``summary.json`` under ``--out``.

    python experiments/bench_sweep_10k.py                      # ~30 min on 2 CPU cores
    python experiments/bench_sweep_10k.py --n-pairings 1 --quiet-min 0 --dt -10,10 \\
        --distance 2,20 --conductance 0.5,1 --out out/sweep_smoke      # a smoke run
"""

import argparse
import json
import pathlib
import time

import numpy as np

GIB = 2.0**30


def plot(dataset, path: pathlib.Path) -> None:
    """Final efficacy over delta-t (x) and distance (y), one panel per spine and per four of
    the NMDA conductances, on one colour scale centred on 1 (no change)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    efficacy = dataset["efficacy"]
    conductances = efficacy["nmda.conductance"].values
    shown = conductances[np.unique(np.linspace(0, len(conductances) - 1, 4).round().astype(int))]
    spread = float(np.nanmax(np.abs(efficacy.values - 1.0)))
    fig, axes = plt.subplots(
        2, len(shown), figsize=(3.2 * len(shown), 6), squeeze=False, constrained_layout=True
    )
    for column, conductance in enumerate(shown):
        for spine in range(efficacy.sizes["spine"]):
            ax = axes[spine, column]
            panel = efficacy.sel({"nmda.conductance": conductance, "spine": spine})
            mesh = ax.pcolormesh(
                panel["delta_t"],
                panel["distance"],
                panel.transpose("distance", "delta_t"),
                cmap="RdBu_r",
                vmin=1.0 - spread,
                vmax=1.0 + spread,
                shading="nearest",
            )
            ax.set_title(f"spine {spine}, NMDA {conductance:.3g} nS", fontsize=9)
            ax.set_xlabel("delta-t (ms)")
            ax.set_ylabel("distance (um)")
    fig.colorbar(mesh, ax=axes.ravel().tolist(), label="final efficacy (1 = unchanged)")
    n = efficacy.sizes["delta_t"] * efficacy.sizes["distance"] * len(conductances)
    fig.suptitle(f"Seed protocol over {n:,} conditions: efficacy after 40 pairings and 25 min")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dt", default="-30:30:2.5", help="delta-t values, ms (25)")
    parser.add_argument("--distance", default="1:77:4", help="inter-spine distances, um (20)")
    parser.add_argument("--conductance", default="0.3:1.25:0.05", help="NMDA, nS (20)")
    parser.add_argument("--n-pairings", type=int, default=40)
    parser.add_argument("--quiet-min", type=float, default=25.0)
    parser.add_argument("--cpu-devices", type=int, help="default: one per core (at most 8)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/sweep_10k"))
    args = parser.parse_args()

    from plastic import cli

    args.out.mkdir(parents=True, exist_ok=True)
    result = args.out / "sweep.nc"
    command = [
        "sweep",
        f"--dt={args.dt}",
        f"--distance={args.distance}",
        f"--axis=nmda.conductance={args.conductance}",
        "--two-spines",
        "--readout",
        "efficacy",
        "--sparse-jacobian",
        f"--n-pairings={args.n_pairings}",
        f"--quiet-min={args.quiet_min:g}",
        "--out",
        str(result),
    ]
    if args.cpu_devices is not None:
        command.append(f"--cpu-devices={args.cpu_devices}")
    print("plastic " + " ".join(command), flush=True)
    began = time.perf_counter()
    cli.main(command)
    wall_s = time.perf_counter() - began
    from bench_spine import peak_memory  # this script's folder is on sys.path

    peak_gib = peak_memory() / GIB

    import jax
    import xarray as xr

    dataset = xr.load_dataset(result)
    plot(dataset, args.out / "efficacy.png")
    axes = ("delta_t", "distance", "nmda.conductance")
    n = int(np.prod([dataset.sizes[axis] for axis in axes]))
    devices = jax.devices()
    summary = dict(
        conditions=n,
        grid={axis: dataset.sizes[axis] for axis in axes},
        n_pairings=args.n_pairings,
        quiet_min=args.quiet_min,
        devices=f"{len(devices)} x {devices[0].device_kind} ({devices[0].platform})",
        wall_s=wall_s,
        s_per_condition=wall_s / n,
        peak_rss_gib=peak_gib,
        efficacy_range=[float(dataset["efficacy"].min()), float(dataset["efficacy"].max())],
    )
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(
        f"{n:,} conditions in {wall_s:.0f} s ({wall_s / n:.3g} s each, compile included; a "
        f"resumed or loaded run counts only this run) on {summary['devices']}; peak RSS "
        f"{peak_gib:.2f} GiB (target < 8); wrote {args.out}/efficacy.png and summary.json"
    )


if __name__ == "__main__":
    main()
