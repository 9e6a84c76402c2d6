"""Rate protocols of the Urakubo 2008 spine model against the Go re-implementation's tables:
200 ms "Poisson" trains (the Go code's nearly regular generator, pattern ``axon_poisson``),
10 repeats 1 s apart, pre x post rate 10-100 Hz, read 100 s after; and regular out-of-phase
trains (send 50 or 100 Hz, receive 10-100 Hz, 200-1000 ms, one repeat, read 101 s after).

One command (resumable: finished chunks are kept under ``--out``)::

    python experiments/urakubo_rates.py --out out/urakubo_rates [--quick] [--pump go]

``--pump go`` runs the model with the Go code's cytosolic Ca pump (4x GENESIS's, which the model
follows by default) to separate that difference from the neuron's.

The model runs as `plastic.rules.UrakuboSynapse` (GENESIS bAP, VGCC influx and EPSP waveforms at
every spike, `genesis_waveforms`) through `plastic.experiment.RateTrainExperiment` and
`plastic.sweep.run_sweep`; postsynaptic spikes 5 ms after their stimulus, as in the Go code. The
Go runs drive a one-compartment AdEx neuron instead: compare signs and shapes, not digits.

Outputs under ``--out``: one NetCDF file per protocol, ``rates.json`` (model and Go weight
changes, sign agreement), ``rates.png`` (model and Go side by side) and ``rates.csv`` (every
condition as a data row of `plastic.studies.urakubo2008`'s experiment, to fit a rule to:
``plastic fit --study urakubo2008 --data OUT/rates.csv --sem-floor 0.02``).
"""

import argparse
import importlib.resources
import json
import pathlib
import time

import numpy as np

from plastic.cli.sweep import use_cpu_devices

PUMP_HELP = "cytosolic Ca pump: GENESIS's (the model's default) or the Go code's, 4x faster"

TAIL = 100_000.0
"""ms between the end of the last repeat period and the readout (the Go runs' 100 s;
`plastic.studies.urakubo2008.data.READOUT_DELAY`)."""
RATES = np.arange(10.0, 101.0, 10.0)
DURATIONS = np.arange(200.0, 1001.0, 100.0)
POISSON = {
    "pattern": "axon_poisson",
    "duration": 200.0,
    "n_repeats": 10,
    "repeat_period": 1200.0,
    "post_delay": 5.0,
    "seed": 0,
}
OUT_OF_PHASE = {
    "pattern": "out_of_phase",
    "n_repeats": 1,
    # The Go code waits 1 s after a train of any duration, then 100 s: the longest train's
    # period here, so the readout comes 0-0.8 s later than Go's for shorter trains.
    "repeat_period": 1000.0,
    "post_delay": 5.0,
}
GO_TABLES = {
    "poisson": "fig_urakubo22_poisson_200msec_isi1_final100_10rep.tsv",
    "out_of_phase_50": "fig_urakubo22_opphasedur_50shz_final100_1rep.tsv",
    "out_of_phase_100": "fig_urakubo22_opphasedur_100shz_final100_1rep.tsv",
}


def go_table(name: str) -> dict[tuple[float, float], float]:
    """(X, Y) -> weight change of a Go table (X: receiving rate, Hz)."""
    text = importlib.resources.files("plastic.rules.urakubo").joinpath("reference", GO_TABLES[name])
    rows = np.loadtxt(text.open(), skiprows=1)
    return {(float(x), float(y)): float(d) for x, y, d in rows}


def sweeps(quick: bool):
    """name -> (axes, fixed): the Poisson grid and the two out-of-phase grids."""
    rates = np.array([10.0, 50.0, 100.0]) if quick else RATES
    durations = np.array([200.0, 600.0, 1000.0]) if quick else DURATIONS
    out = {"poisson": ({"post_rate": rates, "pre_rate": rates}, POISSON)}
    for send in (50.0, 100.0):
        fixed = {**OUT_OF_PHASE, "pre_rate": send}
        out[f"out_of_phase_{send:g}"] = ({"post_rate": rates, "duration": durations}, fixed)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/urakubo_rates"))
    parser.add_argument("--quick", action="store_true", help="3 x 3 grids, not 10 x 10 / 10 x 9")
    parser.add_argument("--cpu-devices", type=int, default=None, help="default: one per core")
    parser.add_argument("--chunk-size", type=int, default=8)
    parser.add_argument("--pump", choices=("genesis", "go"), default="genesis", help=PUMP_HELP)
    args = parser.parse_args()
    use_cpu_devices(args.cpu_devices)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plastic.experiment import RateTrainExperiment, dataset_from_records, save_dataset
    from plastic.rosenbrock import Rodas5
    from plastic.rules import UrakuboSynapse
    from plastic.sweep import ExperimentSweep, run_sweep

    args.out.mkdir(parents=True, exist_ok=True)
    # Sparse linear algebra: 2.7x less time per condition than dense in a batch.
    synapse = UrakuboSynapse.at_rest(args.pump, solver=Rodas5(sparse=True))
    experiment = RateTrainExperiment(tail=TAIL)
    summary, records = {}, []
    grids = sweeps(args.quick)
    fig, axes = plt.subplots(2, len(grids), figsize=(4.2 * len(grids), 7), squeeze=False)
    for column, (name, (axes_values, fixed)) in enumerate(grids.items()):
        began = time.perf_counter()
        sweep = ExperimentSweep.build(
            experiment,
            synapse,
            axes_values,
            fixed=fixed,
            model_description=f"UrakuboSynapse, {args.pump} cytosolic pump",
        )
        result = run_sweep(sweep, str(args.out / f"{name}.nc"), chunk_size=args.chunk_size)
        model = result["weight"].values - 1.0
        x_name, y_name = axes_values
        xs, ys = axes_values[x_name], axes_values[y_name]
        go = go_table(name)
        pairs = [
            (model[i, j], go[(x, y)])
            for i, x in enumerate(xs)
            for j, y in enumerate(ys)
            if (x, y) in go
        ]
        ours, theirs = np.array(pairs).T if pairs else (np.array([]), np.array([]))
        agree = int(np.sum(np.sign(ours) == np.sign(theirs)))
        summary[name] = {
            "x": x_name,
            "y": y_name,
            "x_values": xs.tolist(),
            "y_values": ys.tolist(),
            "fixed": fixed,
            "model": model.tolist(),
            "go": {f"{x:g},{y:g}": d for (x, y), d in go.items()},
            "signs_agree": agree,
            "compared": len(pairs),
            "correlation": float(np.corrcoef(ours, theirs)[0, 1]) if len(pairs) > 2 else None,
            "seconds": time.perf_counter() - began,
        }
        print(
            f"{name}: signs agree at {agree}/{len(pairs)} Go points, r = "
            f"{summary[name]['correlation']}, {summary[name]['seconds']:.0f} s",
            flush=True,
        )
        limit = max(0.7, float(np.nanmax(np.abs(model))))
        go_grid = np.full_like(model, np.nan)
        for i, x in enumerate(xs):
            for j, y in enumerate(ys):
                go_grid[i, j] = go.get((x, y), np.nan)
        for row, (values, who) in enumerate(((model, "this model"), (go_grid, "Go"))):
            ax = axes[row, column]
            image = ax.pcolormesh(
                xs, ys, 100 * values.T, cmap="RdBu_r", vmin=-100 * limit, vmax=100 * limit
            )
            ax.set_xlabel(f"{x_name} (Hz)")
            ax.set_ylabel(f"{y_name} ({'ms' if y_name == 'duration' else 'Hz'})")
            ax.set_title(f"{name}: {who}")
            fig.colorbar(image, ax=ax, label="weight change (%)")
        for i, x in enumerate(xs):
            for j, y in enumerate(ys):
                values = {**fixed, x_name: float(x), y_name: float(y)}
                records.append(
                    dict(
                        condition=f"{name} {x_name} {x:g} {y_name} {y:g}",
                        readout="weight",
                        mean=float(result["weight"].values[i, j]),
                        sem=float("nan"),
                        n=1,
                        unit="ratio",
                        source=f"experiments/urakubo_rates.py, {args.pump} pump",
                        **values,
                    )
                )
    fig.tight_layout()
    fig.savefig(args.out / "rates.png", dpi=110)
    save_dataset(
        dataset_from_records(records),
        args.out / "rates.csv",
        header="Weight changes of plastic's Urakubo2008 (UrakuboSynapse) under the rate "
        "protocols of plastic.studies.urakubo2008; a model's output, without SEM: fit with "
        "--sem-floor.",
    )
    (args.out / "rates.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.out / 'rates.png'} and rates.json")


if __name__ == "__main__":
    main()
