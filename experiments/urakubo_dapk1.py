"""Strong-then-weak against weak-then-strong activity in the Urakubo 2008 model, with and without
the DAPK1 variant (CaMKII and DAPK1 competing for GluN2B, `plastic.rules.urakubo.glun2b`).

Seed 003 (after Jiang et al. 2025): activity that starts strong and drops should give LTD (a
prediction not met), activity that starts weak and rises LTP. The stimulus is the emer/axon
re-implementation's ``ThetaErr`` protocol: 200 ms of pre- and postsynaptic trains (its nearly
regular generator, `plastic.protocols.rate_trains` ``axon_poisson``) at one rate for 100 ms and
another for the next 100 ms, 10 repeats 1.2 s apart, read 50 s after; 25 -> 50 Hz, 50 -> 25 Hz,
and the constant 25 and 50 Hz controls, each over ``--seeds`` draws of the trains, and an
unstimulated run for the drift of the resting state (the variant's GluN2B binding is not at
steady state after the 500 s rest, as the AMPAR trafficking is not in GENESIS). The Go code's
cytosolic Ca pump by default (it reproduces the Go rate tables, `experiments/urakubo_rates.py`).

    python experiments/urakubo_dapk1.py --out out/urakubo_dapk1 [--seeds 4] [--pump go] [--scan]

Writes ``dapk1.json`` (every run's weight change), ``dapk1.csv`` and ``dapk1.png`` (mean and
spread per stimulus, both models); a finished model's runs are kept, so an interrupted run
resumes there. ``--scan`` also runs the two rate steps (2 seeds) over the variant's two free
parameters, its Ser308 autophosphorylation scale (0.29, 1, 3 per s) and DAPK1's inhibition of
CaMKII at the AMPARs (0.5, 1, 2), and prints the order effect (50 -> 25 minus 25 -> 50 Hz) at
each (``scan.json``, ``scan.csv``).
"""

import argparse
import json
import pathlib
import time

import numpy as np

STIMULI = {
    "25 -> 50 Hz": (25.0, 50.0),
    "50 -> 25 Hz": (50.0, 25.0),
    "25 Hz": (25.0, 25.0),
    "50 Hz": (50.0, 50.0),
    "none": (0.0, 0.0),
}
"""name -> (rate in the first 100 ms, rate in the second), pre and post alike."""
PROTOCOL = {
    "pattern": "axon_poisson",
    "duration": 200.0,
    "late_fraction": 0.5,
    "n_repeats": 10,
    "repeat_period": 1200.0,
    "post_delay": 5.0,
}
TAIL = 50_000.0
"""ms from the end of the last repeat period to the readout (the Go code's FinalSecs)."""
MODELS = {"Urakubo 2008": False, "with DAPK1": True}
SCAN_AUTOPHOSPHORYLATION = (0.29, 1.0, 3.0)
SCAN_INHIBITION = (0.5, 1.0, 2.0)
SCAN_STIMULI = ("25 -> 50 Hz", "50 -> 25 Hz", "none")


def records(n_seeds: int, stimuli=tuple(STIMULI)) -> list[dict]:
    rows = []
    for name in stimuli:
        early, late = STIMULI[name]
        for seed in range(1 if name == "none" else n_seeds):
            rows.append(
                dict(
                    condition=f"{name} seed {seed}",
                    readout="weight",
                    mean=1.0,
                    sem=1.0,
                    n=1,
                    unit="ratio",
                    source="experiments/urakubo_dapk1.py",
                    pre_rate=early,
                    post_rate=early,
                    late_pre_rate=late,
                    late_post_rate=late,
                    seed=seed,
                    **PROTOCOL,
                )
            )
    return rows


def kept_runs(path: pathlib.Path, key: str, synapse_of, rows) -> dict[str, float]:
    """Weight per row condition of the synapse ``synapse_of()`` builds, kept under ``key`` in
    the JSON file ``path`` (run and written only when not there yet, so a run resumes)."""
    from plastic.experiment import Predictor, RateTrainExperiment

    done = json.loads(path.read_text()) if path.exists() else {}
    if key not in done:
        began = time.perf_counter()
        synapse = synapse_of()
        predictor = Predictor.from_data(RateTrainExperiment(tail=TAIL), rows, model=synapse)
        weights = np.asarray(predictor(synapse))
        done[key] = {c: float(w) for c, w in zip(rows.condition, weights, strict=True)}
        path.write_text(json.dumps(done, indent=1))
        print(f"{key}: {rows.n_rows} runs in {time.perf_counter() - began:.0f} s", flush=True)
    return done[key]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/urakubo_dapk1"))
    parser.add_argument("--seeds", type=int, default=4, help="draws of the trains per stimulus")
    parser.add_argument("--pump", choices=("genesis", "go"), default="go")
    parser.add_argument("--scan", action="store_true", help="the variant's two free parameters")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plastic.experiment import dataset_from_records
    from plastic.rules import UrakuboSynapse

    args.out.mkdir(parents=True, exist_ok=True)
    rows = dataset_from_records(records(args.seeds))
    every = {
        label: kept_runs(
            args.out / "dapk1.json",
            f"{label}, {args.pump} pump, {args.seeds} seeds",
            lambda dapk1=dapk1: UrakuboSynapse.at_rest(args.pump, dapk1=dapk1),
            rows,
        )
        for label, dapk1 in MODELS.items()
    }

    lines = ["model,stimulus,mean_change_percent,sd_percent,n,minus_unstimulated_percent"]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(MODELS)
    for m, label in enumerate(MODELS):
        runs = every[label]
        drift = 100.0 * (runs["none seed 0"] - 1.0)
        print(f"\n{label} ({args.pump} pump): weight change, % (unstimulated: {drift:+.2f} %)")
        for s, name in enumerate(STIMULI):
            changes = 100.0 * (
                np.array([w for c, w in runs.items() if c.startswith(f"{name} seed")]) - 1.0
            )
            mean, sd = changes.mean(), changes.std(ddof=1) if changes.size > 1 else 0.0
            lines.append(f"{label},{name},{mean:.3f},{sd:.3f},{changes.size},{mean - drift:.3f}")
            print(
                f"  {name:12s} {mean:+7.2f} +- {sd:5.2f} (n = {changes.size}); "
                f"{mean - drift:+7.2f} against unstimulated"
            )
            x = s + (m - (len(MODELS) - 1) / 2) * width
            ax.bar(x, mean - drift, width, color=f"C{m}", label=label if s == 0 else None)
            ax.plot(np.full(changes.size, x), changes - drift, "k.", ms=3)
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xticks(range(len(STIMULI)), list(STIMULI))
    ax.set_ylabel("weight change against unstimulated (%)")
    ax.set_title(f"ThetaErr stimuli, 10 x 200 ms, read 50 s after ({args.pump} pump)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / "dapk1.png", dpi=110)
    (args.out / "dapk1.csv").write_text("\n".join(lines) + "\n")
    print(f"\nwrote {args.out / 'dapk1.png'}, dapk1.csv and dapk1.json")
    if args.scan:
        scan(args)


def scan(args):
    """The rate steps over the variant's free parameters (resumable per setting)."""
    from plastic.experiment import dataset_from_records
    from plastic.rules import Urakubo2008, UrakuboSynapse, equilibrate
    from plastic.rules.urakubo.network import GO_CYTOSOLIC_PUMP, urakubo_network

    rows = dataset_from_records(records(2, SCAN_STIMULI))
    pump = {"go": dict(pump_cyt=GO_CYTOSOLIC_PUMP), "genesis": {}}[args.pump]
    network = urakubo_network(dapk1=True, **pump)
    lines = ["autophosphorylation_per_s,ampar_inhibition,up_percent,down_percent,order_effect"]
    print(f"\nDAPK1 variant ({args.pump} pump), against unstimulated, %, 2 seeds each:")
    for k in SCAN_AUTOPHOSPHORYLATION:
        for inhibition in SCAN_INHIBITION:
            rule = Urakubo2008(
                network, dapk1_autophosphorylation=k, dapk1_ampar_inhibition=inhibition
            )
            runs = kept_runs(
                args.out / "scan.json",
                f"K {k:g}, inhibition {inhibition:g}, {args.pump} pump",
                lambda rule=rule: UrakuboSynapse(equilibrate(rule)),
                rows,
            )
            drift = runs["none seed 0"]

            def mean_change(name, runs=runs, drift=drift):
                return 100.0 * np.mean([w - drift for c, w in runs.items() if c.startswith(name)])

            up, down = mean_change("25 -> 50 Hz"), mean_change("50 -> 25 Hz")
            lines.append(f"{k:g},{inhibition:g},{up:.3f},{down:.3f},{down - up:.3f}")
            print(
                f"  K {k:4g} /s, inhibition {inhibition:3g}: 25 -> 50 Hz {up:+7.2f}, "
                f"50 -> 25 Hz {down:+7.2f}, order effect {down - up:+6.2f}",
                flush=True,
            )
    (args.out / "scan.csv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
