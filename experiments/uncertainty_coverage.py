"""Coverage of the Laplace intervals on synthetic data: the Graupner-Brunel rule on the Markram
1997 protocol.

The Markram 1997 study's rows (bursts of 5 pairs at 2-40 Hz, +-10 ms at 10 Hz) are simulated with
the Graupner-Brunel rule at known parameters (the published DP set), Gaussian noise at the data's
SEMs is added, and each replicate is fitted (Levenberg-Marquardt from the truth: the question is
the intervals, not the search) and given its 95 % Laplace intervals (data only, no prior). A
calibrated method covers the truth in about 95 % of the replicates, for every parameter the data
identify. The coverage is also given over the replicates where a parameter's data-only standard
deviation is at most 1 unconstrained unit (what `plastic uncertainty` calls constrained by the
data): where the Laplace approximation claims to know a value, it should be right.
``--intervals profile`` uses profile-likelihood intervals instead (one re-optimised grid per
parameter and replicate: about 40 s each on 2 cores).

    python experiments/uncertainty_coverage.py                 # 100 replicates, 3 parameters
    python experiments/uncertainty_coverage.py --replicates 20 --out out/coverage_small
    python experiments/uncertainty_coverage.py --intervals profile --out out/coverage_profile

Progress is saved after every replicate (``OUT/coverage.json``): an interrupted run resumes
where it stopped. Writes ``OUT/coverage.json`` and ``OUT/coverage.png``.
"""

import argparse
import json
import os
import time
from statistics import NormalDist

import numpy as np
from matplotlib.figure import Figure

import plastic  # noqa: F401  (float64)
from plastic.experiment import Predictor
from plastic.fit import FitParameters, Objective
from plastic.provenance import provenance
from plastic.studies import get_study
from plastic.studies.markram1997 import graupner_brunel_parameters
from plastic.uncertainty import laplace, polish, profile

DEFAULT_PARAMETERS = ("rule.theta_p", "rule.gamma_p", "rule.gamma_d")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument(
        "--parameter",
        action="append",
        help=f"a fitted parameter of the study's rule (repeatable; default {DEFAULT_PARAMETERS})",
    )
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--polish-steps", type=int, default=60)
    parser.add_argument(
        "--intervals",
        choices=("laplace", "profile"),
        default="laplace",
        help="Laplace intervals, or profile-likelihood intervals of each parameter (slower: a "
        "re-optimised grid per parameter and replicate)",
    )
    parser.add_argument("--profile-points", type=int, default=9)
    parser.add_argument("--profile-steps", type=int, default=32)
    parser.add_argument("--out", default="out/uncertainty_coverage")
    args = parser.parse_args()
    names = tuple(args.parameter or DEFAULT_PARAMETERS)

    study = get_study("markram1997")
    choice = study.rule("graupner-brunel")
    truth_model = choice.model()
    known = {p.path: p for p in graupner_brunel_parameters()}
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"--parameter {unknown}: not among {list(known)}")
    parameters = FitParameters(truth_model, [known[name] for name in names])
    data = study.data()
    predictor = Predictor.from_data(study.experiment, data, model=truth_model)
    clean = np.asarray(predictor(truth_model))
    sem = np.asarray(data.sem)
    truth = np.array([float(np.ravel(parameters.to_values(
        parameters.to_unconstrained(truth_model))[name])[0]) for name in names])  # fmt: skip

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "coverage.json")
    settings = {"replicates": args.replicates, "parameters": list(names), "level": args.level,
                "seed": args.seed, "polish_steps": args.polish_steps}  # fmt: skip
    if args.intervals == "profile":  # a Laplace run's file keeps its settings as they were
        settings.update(intervals="profile", profile_points=args.profile_points,
                        profile_steps=args.profile_steps)  # fmt: skip
    record = {"settings": settings, "truth": truth.tolist(), "replicates": []}
    if os.path.exists(path):
        with open(path) as file:
            saved = json.load(file)
        if saved.get("settings") != settings:
            parser.error(f"{path} holds another run ({saved.get('settings')}); choose --out")
        record = saved
        print(f"resuming: {len(record['replicates'])} of {args.replicates} replicates done")
    rng = np.random.default_rng(args.seed)
    noise = rng.normal(size=(args.replicates, data.n_rows))  # fixed per seed: resumes agree
    began = time.perf_counter()
    for replicate in range(len(record["replicates"]), args.replicates):
        objective = Objective(predictor, data.with_mean(clean + sem * noise[replicate]))
        fitted = polish(objective, parameters, max_steps=args.polish_steps)
        approx = laplace(objective, parameters, fitted.model, prior="none")
        if args.intervals == "profile":
            # A side where the profile stays below the threshold is unbounded (None).
            profiles = [
                profile(objective, approx, name, n_points=args.profile_points, level=args.level,
                        max_steps=args.profile_steps)
                for name in names
            ]  # fmt: skip
            low = [None if p.open_low else float(p.low) for p in profiles]
            high = [None if p.open_high else float(p.high) for p in profiles]
        else:
            low, high = (np.asarray(x).tolist() for x in approx.interval(args.level))
        record["replicates"].append(
            {
                "chi_square": fitted.chi_square,
                "converged": fitted.converged,
                "values": np.asarray(approx.values).tolist(),
                "low": low,
                "high": high,
                "standard_error": np.asarray(approx.standard_error).tolist(),
                "distance_to_optimum": float(np.max(approx.distance_to_optimum())),
            }
        )
        with open(path + ".tmp", "w") as file:
            json.dump(record, file)
        os.replace(path + ".tmp", path)
        done = replicate + 1
        print(f"replicate {done}/{args.replicates}  chi2 {fitted.chi_square:.3g}  "
              f"{'converged' if fitted.converged else 'NOT converged'}  "
              f"{time.perf_counter() - began:.0f} s", flush=True)  # fmt: skip

    coverage = summarise(record, names, args.level)
    record["coverage"] = dict(zip(names, coverage.tolist()))
    record["provenance"] = provenance()
    with open(path, "w") as file:
        json.dump(record, file, indent=1)
    plot(record, names, coverage, args.level, os.path.join(args.out, "coverage.png"))
    print(f"wrote {path} and coverage.png")


def bounds(record) -> tuple[np.ndarray, np.ndarray]:
    """The intervals of every replicate, ``(n_replicates, n_parameters)``: unbounded sides
    (None) as -inf and +inf."""
    low = np.array([[-np.inf if x is None else x for x in r["low"]] for r in record["replicates"]])
    high = np.array([[np.inf if x is None else x for x in r["high"]] for r in record["replicates"]])
    return low, high


def summarise(record, names, level) -> np.ndarray:
    truth = np.asarray(record["truth"])
    low, high = bounds(record)
    covered = (low < truth) & (truth < high)
    coverage = covered.mean(axis=0)
    n = len(low)
    spread = NormalDist().inv_cdf(0.975) * np.sqrt(level * (1 - level) / n)
    print(f"coverage of the {level:.0%} intervals over {n} replicates "
          f"(a calibrated method: {level:.3f} +- {spread:.3f}):")  # fmt: skip
    # Where the data constrain the parameter by the tool's own test (data-only sd <= 1).
    constrained = np.array([r["standard_error"] for r in record["replicates"]]) <= 1.0
    for i, (name, value) in enumerate(zip(names, coverage)):
        where = constrained[:, i]
        among = f"{covered[where, i].mean():.3f}" if where.any() else "-"
        print(f"  {name:<16} {value:.3f}   where constrained: {among} ({where.sum()} replicates)")
    converged = np.mean([r["converged"] for r in record["replicates"]])
    print(f"  polish converged in {converged:.0%} of the replicates")
    return coverage


def plot(record, names, coverage, level, path) -> None:
    n = len(record["replicates"])
    truth = np.asarray(record["truth"])
    values = np.array([r["values"] for r in record["replicates"]])
    low, high = bounds(record)
    # Unbounded sides drawn a decade beyond every finite bound and estimate.
    edge_low = np.min(np.vstack([np.where(np.isfinite(low), low, np.inf), values]), axis=0) / 10
    edge_high = np.max(np.vstack([np.where(np.isfinite(high), high, -np.inf), values]), axis=0) * 10
    low = np.where(np.isfinite(low), low, edge_low)
    high = np.where(np.isfinite(high), high, edge_high)
    figure = Figure(figsize=(4 + 3 * len(names), 3.6), layout="constrained")
    axes = figure.subplots(1, len(names) + 1)
    spread = NormalDist().inv_cdf(0.975) * np.sqrt(level * (1 - level) / n)
    axes[0].bar(range(len(names)), coverage, color="0.5")
    axes[0].axhspan(level - spread, level + spread, color="tab:blue", alpha=0.2)
    axes[0].axhline(level, color="tab:blue", lw=1)
    axes[0].set(ylim=(0.5, 1.0), ylabel="fraction of replicates covering the truth (1)",
                title=f"coverage, {n} replicates")  # fmt: skip
    axes[0].set_xticks(range(len(names)), names, rotation=30, fontsize=7)
    for i, (ax, name) in enumerate(zip(axes[1:], names)):
        order = np.argsort(values[:, i])
        hit = (low[order, i] < truth[i]) & (truth[i] < high[order, i])
        for k, j in enumerate(order):
            ax.plot([low[j, i], high[j, i]], [k, k], color="k" if hit[k] else "tab:red", lw=0.7)
        ax.axvline(truth[i], color="tab:blue")
        if high[:, i].max() / low[:, i].min() > 10:
            ax.set_xscale("log")
        ax.set(xlabel=name, ylabel="replicate (sorted by estimate)", title=f"{level:.0%} intervals")
    method = "Profile-likelihood" if record["settings"].get("intervals") == "profile" else "Laplace"
    figure.suptitle(f"{method} intervals, Graupner-Brunel rule on the Markram 1997 protocol, "
                    "synthetic data at the published DP set", fontsize=9)  # fmt: skip
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
