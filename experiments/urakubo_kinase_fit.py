"""The kinase algorithm fitted to the Urakubo 2008 model's rate protocols (issue 23, item 4).

Two summaries of the same weight changes (the Go re-implementation's tables, the study's default
data, or this package's own model: ``--data OUT/rates.csv`` of ``experiments/urakubo_rates.py``):

1. Seed 003's piecewise-linear summary: ``dW = gain xcal(x, theta, d_rev)`` of the synaptic
   activity ``x = pre_rate x post_rate x duration`` (Hz^2 s, summed over repeats), fitted by a
   grid over ``theta`` and ``d_rev`` with the gain by least squares; Pearson's r over the
   out-of-phase rows (seed 003: r = 0.894 on the GENESIS model's) and over every row.
2. The kinase cascade on spike calcium, ``dW = XCAL(CaP, CaD)`` and ``dW = CaP - CaD``, updated
   once per 1 ms cycle and committed every 200 ms (`plastic.rules.KinaseCycleSynapse`), fitted
   with ``plastic fit --study urakubo2008`` (checkpointed: a rerun resumes); r over the same rows.

One command::

    python experiments/urakubo_kinase_fit.py --out out/urakubo_kinase_fit [--data CSV]
        [--n-steps 150] [--n-starts 2]

Outputs under ``--out``: ``fit_xcal/``, ``fit_cascade/`` (the fits), ``kinase_fit.json`` (r,
fitted values) and ``kinase_fit.png`` (fitted vs model weight change).
"""

import argparse
import csv
import json
import pathlib

import numpy as np

SEM_FLOOR = 0.02
"""The weight of every row (a model's output has no SEM): it scales the chi-square only."""


def synaptic_activity(data) -> np.ndarray:
    """pre_rate x post_rate x duration x n_repeats of each row of ``data``, Hz^2 s (a missing
    or empty ``n_repeats`` is 1, its field's default)."""

    def values(name, default=np.nan):
        if name not in data.column_names:
            return np.full(data.n_rows, default)
        column = np.asarray(data.column(name), float)
        return np.where(np.isnan(column), default, column)

    rates = values("pre_rate") * values("post_rate")
    return rates * values("duration") / 1000.0 * values("n_repeats", 1.0)


def fit_summary(activity: np.ndarray, change: np.ndarray) -> dict:
    """The best ``gain xcal(activity, theta, d_rev)`` on a grid (least-squares gain)."""
    from plastic.rules.xcal import xcal

    best = None
    for theta in np.geomspace(np.min(activity[activity > 0]), np.max(activity), 400):
        for d_rev in np.linspace(0.02, 0.9, 45):
            shape = np.asarray(xcal(activity, theta, d_rev, 0.0))
            denominator = float(shape @ shape)
            if denominator == 0.0:
                continue
            gain = float(shape @ change) / denominator
            error = float(np.sum((gain * shape - change) ** 2))
            if best is None or error < best["sse"]:
                best = dict(theta=float(theta), d_rev=float(d_rev), gain=gain, sse=error)
    best["prediction"] = (
        best["gain"] * np.asarray(xcal(activity, best["theta"], best["d_rev"], 0.0))
    ).tolist()
    return best


def signs_equal(a, b) -> int:
    return int(np.sum(np.sign(np.asarray(a)) == np.sign(np.asarray(b))))


def pearson(a, b) -> float:
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/urakubo_kinase_fit"))
    parser.add_argument("--data", type=pathlib.Path, default=None, help="default: the Go tables")
    parser.add_argument("--n-steps", type=int, default=150)
    parser.add_argument("--n-starts", type=int, default=2)
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plastic import cli
    from plastic.experiment import load_dataset, save_dataset
    from plastic.studies import get_study

    args.out.mkdir(parents=True, exist_ok=True)
    data = get_study("urakubo2008").data() if args.data is None else load_dataset(args.data)
    data_path = args.out / "data.csv"
    save_dataset(data, data_path)
    change = np.asarray(data.mean) - 1.0
    out_of_phase = np.asarray(data.column("pattern")) == "out_of_phase"
    activity = synaptic_activity(data)

    summary = {"data": str(args.data or "the Go tables (plastic.studies.urakubo2008)")}
    piecewise = fit_summary(activity[out_of_phase], change[out_of_phase])
    summary["piecewise_linear_out_of_phase"] = {
        **{k: piecewise[k] for k in ("theta", "d_rev", "gain")},
        "r": pearson(piecewise["prediction"], change[out_of_phase]),
        "signs_equal": signs_equal(piecewise["prediction"], change[out_of_phase]),
        "n_rows": int(out_of_phase.sum()),
    }
    everything = fit_summary(activity, change)
    summary["piecewise_linear_all_rows"] = {
        **{k: everything[k] for k in ("theta", "d_rev", "gain")},
        "r": pearson(everything["prediction"], change),
        "signs_equal": signs_equal(everything["prediction"], change),
        "n_rows": len(change),
    }
    print(
        "piecewise-linear XCAL of pre x post rate x duration: r = "
        f"{summary['piecewise_linear_out_of_phase']['r']:.3f} (out-of-phase rows), "
        f"{summary['piecewise_linear_all_rows']['r']:.3f} (all rows)",
        flush=True,
    )

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    axes[0].plot(change[out_of_phase], piecewise["prediction"], "o", ms=3)
    axes[0].set_title(
        f"XCAL(rates x duration), r = {summary['piecewise_linear_out_of_phase']['r']:.3f}"
    )
    for column, rule in enumerate(("xcal", "cascade"), start=1):
        out = args.out / f"fit_{rule}"
        cli.main(["fit", "--study", "urakubo2008", "--rule", rule, "--data", str(data_path),
                  "--sem-floor", str(SEM_FLOOR), "--n-starts", str(args.n_starts),
                  "--n-steps", str(args.n_steps), "--checkpoint", str(args.out / f"{rule}.ckpt"),
                  "--out", str(out)])  # fmt: skip
        record = json.loads((out / "parameters.json").read_text())
        with (out / "predictions.csv").open() as handle:
            predicted = np.array([float(r["prediction"]) for r in csv.DictReader(handle)]) - 1.0
        summary[f"kinase_{rule}"] = {
            "parameters": record["parameters"],
            "loss": record["loss"],
            "r_all_rows": pearson(predicted, change),
            "r_out_of_phase": pearson(predicted[out_of_phase], change[out_of_phase]),
            "signs_equal": signs_equal(predicted, change),
            "rows_depressed": int(np.sum(change < 0)),
            "rows_predicted_depressed": int(np.sum(predicted < 0)),
        }
        print(
            f"kinase cascade ({rule}): r = {summary[f'kinase_{rule}']['r_all_rows']:.3f} (all "
            f"rows), {summary[f'kinase_{rule}']['r_out_of_phase']:.3f} (out-of-phase rows)",
            flush=True,
        )
        axes[column].plot(change, predicted, "o", ms=3)
        axes[column].set_title(f"kinase {rule}, r = {summary[f'kinase_{rule}']['r_all_rows']:.3f}")
    for ax in axes:
        ax.axline((0, 0), slope=1, color="0.6", lw=0.8)
        ax.set_xlabel("Urakubo weight change")
        ax.set_ylabel("fitted")
    fig.tight_layout()
    fig.savefig(args.out / "kinase_fit.png", dpi=110)
    (args.out / "kinase_fit.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.out / 'kinase_fit.json'} and kinase_fit.png")


if __name__ == "__main__":
    main()
