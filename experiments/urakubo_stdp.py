"""STDP curve of the Urakubo 2008 spine model: 100 pairs at 1 Hz, delta_t = t_post - t_pre from -50
to +50 ms, trapped AMPAR read 50 s after the last pair, against the Go re-implementation's curve
(`reference/fig_urakubo22_stdp_100rep_final50.tsv`).

One command (resumable: finished chunks are kept under ``--out``)::

    python experiments/urakubo_stdp.py --out out/urakubo_stdp [--step 5] [--pump go]

The model runs as `plastic.rules.UrakuboSynapse` through
`plastic.experiment.SpikePairingExperiment` and `plastic.sweep.run_sweep`: at every postsynaptic
spike the bAP and VGCC influx of the authors' GENESIS trace, at every presynaptic spike a release
and the trace's EPSP (`plastic.rules.genesis_waveforms`; linear superposition where they
overlap). The Go curve comes from a one-compartment AdEx neuron instead: compare shapes and
signs, not digits. ``--pump go`` runs the model with the Go code's cytosolic Ca pump (4x
GENESIS's, which the model follows by default).

Outputs under ``--out``: ``stdp.nc``, ``stdp.png`` and ``stdp.json``; the curve is printed.
"""

import argparse
import importlib.resources
import json
import pathlib

import numpy as np

from plastic.cli.sweep import use_cpu_devices

PUMP_HELP = "cytosolic Ca pump: GENESIS's (the model's default) or the Go code's, 4x faster"

N_PAIRS = 100
PERIOD = 1000.0
READOUT = 50_000.0
"""ms after the last pair's period."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/urakubo_stdp"))
    parser.add_argument("--step", type=float, default=5.0, help="delta_t grid step, ms")
    parser.add_argument("--cpu-devices", type=int, default=None, help="default: one per core")
    parser.add_argument("--pump", choices=("genesis", "go"), default="genesis", help=PUMP_HELP)
    parser.add_argument(
        "--interpolation",
        choices=("linear", "exponential"),
        default="linear",
        help="how the waveforms' voltage and VGCC influx are read between their samples "
        "(UrakuboSynapse.interpolation)",
    )
    args = parser.parse_args()
    use_cpu_devices(args.cpu_devices)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plastic.experiment import SpikePairingExperiment
    from plastic.rosenbrock import Rodas5
    from plastic.rules import UrakuboSynapse
    from plastic.sweep import ExperimentSweep, run_sweep

    args.out.mkdir(parents=True, exist_ok=True)
    name = "fig_urakubo22_stdp_100rep_final50.tsv"
    text = importlib.resources.files("plastic.rules.urakubo").joinpath("reference", name)
    reference = np.loadtxt(text.open(), skiprows=1, usecols=(0, 2))
    delta_ts = np.arange(-50.0, 50.0 + 1e-9, args.step)
    sweep = ExperimentSweep.build(
        SpikePairingExperiment(tail=READOUT),
        # Sparse linear algebra: 2.7x less time per condition than dense in a batch
        # (README, "Urakubo et al. 2008"), the same weights to 1e-14.
        UrakuboSynapse.at_rest(
            args.pump, solver=Rodas5(sparse=True), interpolation=args.interpolation
        ),
        {"delta_t": delta_ts},
        fixed={"n_bursts": N_PAIRS, "burst_period": PERIOD},
        model_description=(
            f"UrakuboSynapse, {args.pump} cytosolic pump, {args.interpolation} interpolation"
        ),
    )
    result = run_sweep(sweep, str(args.out / "stdp.nc"), chunk_size=2)
    changes = result["weight"].values - 1.0
    go = np.interp(delta_ts, reference[:, 0], reference[:, 1])
    for delta_t, change, theirs in zip(delta_ts, changes, go, strict=True):
        print(f"delta_t {delta_t:+6.1f} ms: model {change:+7.1%}, Go {theirs:+7.1%}")
    (args.out / "stdp.json").write_text(
        json.dumps(
            {
                "delta_t_ms": delta_ts.tolist(),
                "model": changes.tolist(),
                "go_delta_t_ms": reference[:, 0].tolist(),
                "go": reference[:, 1].tolist(),
            },
            indent=2,
        )
    )
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.plot(reference[:, 0], 100 * reference[:, 1], "ks-", ms=3, label="Go re-implementation")
    ax.plot(delta_ts, 100 * changes, "C1o-", ms=4, label="this model")
    ax.set_xlabel("delta_t = t_post - t_pre (ms)")
    ax.set_ylabel("trapped AMPAR change, 50 s after (%)")
    ax.set_title(f"{N_PAIRS} pairs at 1 Hz")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / "stdp.png", dpi=120)
    print(f"wrote {args.out / 'stdp.png'}")


if __name__ == "__main__":
    main()
