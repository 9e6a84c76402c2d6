"""The calcium imaging of Tazerart et al. 2020 (Figs. 6-8) on the model, as it was measured:
Delta G / R of a loaded indicator, not free calcium (issue 21, items 2-3).

One command::

    python experiments/tazerart_imaging.py --out out/tazerart_imaging

For `tazerart_model()` as fitted, with `physiological_calcium`, and refitted on it
(`physiological_tazerart_model`; ``--models``), with Fluo-4
loaded (``--concentration`` uM, ``--dissociation-constant`` uM; the seed's imaging pipette held
300 uM), every imaged protocol of the paper's calcium findings (`imaged_conditions`: single and
clustered +7 ms, clustered +7 ms under AP5, single +13 ms, single and clustered -15 ms) runs its
40 pairings with the rule and expression coupled. Printed per model: every calcium finding with
the paper's outcome and P value, the model's index (`plastic.studies.tazerart2020.imaging`:
1 = no change from repetitions 1-5 to 35-40) and the verdict (increase: index >= 1.10; no
change: below 1.05); the paper's orderings of the before-pairing build-up in the head; the peak
free calcium and Delta G / R after the first pairing.

Outputs under ``--out``: ``imaging_<model>.png`` (Delta G / R before and after each pairing,
head and dendrite, one line per protocol) and ``summary.json``.
"""

import argparse
import json
import pathlib
import time

import equinox as eqx
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import plastic  # noqa: E402, F401  (float64)
from plastic.biophysics import CalciumIndicator  # noqa: E402
from plastic.studies.spine_calcium import physiological_calcium  # noqa: E402
from plastic.studies.tazerart2020 import (  # noqa: E402
    imaged_conditions,
    imaged_signals,
    imaging_index,
    imaging_table,
    paper_findings,
    physiological_tazerart_model,
    tazerart_model,
    with_indicator,
)
from plastic.studies.tazerart2020.comparison import (  # noqa: E402
    ACCUMULATION_ORDER,
    LATE_PAIRINGS,
)

MODELS = {
    "fitted": lambda: tazerart_model(),
    "calibrated": lambda: physiological_calcium(tazerart_model()),
    "refitted": lambda: physiological_tazerart_model(),
}
"""``--models`` choices: the seed's fitted model, the same with its spine calcium sources at
physiological sizes (`physiological_calcium`), and the seed's plasticity refitted on that
calcium (`physiological_tazerart_model`)."""


def run_model(model, conditions):
    measure = eqx.filter_jit(
        lambda m, c: imaged_signals(m, c, n_pairings=LATE_PAIRINGS[1]),
    )
    signals = {}
    for label, condition in conditions.items():
        start = time.perf_counter()
        values = measure(model, {k: jnp.asarray(v) for k, v in condition.items()})
        signals[label] = {name: np.asarray(v) for name, v in values.items()}
        print(f"  {label:22s} {time.perf_counter() - start:6.1f} s", flush=True)
    return signals


def plot(signals, path, title):
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    for label, values in signals.items():
        repetition = np.arange(1, len(values["head_delta_g_over_r_after_per_pairing"]) + 1)
        for row, compartment in enumerate(("head", "dendrite")):
            for column, moment in enumerate(("before", "after")):
                name = f"{compartment}_delta_g_over_r_{moment}_per_pairing"
                axes[row, column].plot(repetition, values[name], label=label)
                axes[row, column].set_title(f"{compartment}, {moment} each pairing")
    for ax in axes[:, 0]:
        ax.set_ylabel("Delta G / R (of saturated G / R)")
    for ax in axes[1]:
        ax.set_xlabel("repetition")
    axes[0, 1].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/tazerart_imaging"))
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    parser.add_argument("--concentration", type=float, default=300.0, help="dye, uM")
    parser.add_argument("--dissociation-constant", type=float, default=0.345, help="Kd, uM")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    indicator = CalciumIndicator(
        concentration=args.concentration, dissociation_constant=args.dissociation_constant
    )
    findings = paper_findings()
    conditions = imaged_conditions(findings)
    summary = dict(indicator=dict(concentration=args.concentration, kd=args.dissociation_constant))
    for name in args.models:
        print(f"\n{name} model, {args.concentration:g} uM dye of Kd {args.dissociation_constant:g}")
        signals = run_model(with_indicator(MODELS[name](), indicator), conditions)
        table = imaging_table(signals, findings)
        print(f"\n{'condition':22s} {'observable':15s} {'site':10s} {'paper':22s} index   verdict")
        for record in table:
            paper = record["outcome"] + (f" (P {record['p_value']})" if record["p_value"] else "")
            print(
                f"{record['condition']:22s} {record['observable']:15s} {record['site']:10s} "
                f"{paper:22s} {record['model_index']:6.3f}  {record['verdict']}"
            )
        verdicts = [record["verdict"] for record in table]
        print(f"in direction: {verdicts.count('in direction')} of {len(verdicts)}")
        order = {}
        for more, less in ACCUMULATION_ORDER:
            high = imaging_index(signals[more], "calcium_before", "activated")
            low = imaging_index(signals[less], "calcium_before", "activated")
            order[f"{more} > {less}"] = dict(more=high, less=low, holds=bool(high > low))
            print(f"ordering {more} ({high:.4f}) > {less} ({low:.4f}): {high > low}")
        for label, values in signals.items():
            print(
                f"{label:22s} first pairing: head {values['head_calcium_after_per_pairing'][0]:.3f}"
                f" uM free, Delta G / R {values['head_delta_g_over_r_after_per_pairing'][0]:.4f}"
            )
        plot(signals, args.out / f"imaging_{name}.png", f"{name} model, Fluo-4-like dye")
        summary[name] = dict(
            table=table,
            orderings=order,
            signals={k: {n: v.tolist() for n, v in s.items()} for k, s in signals.items()},
        )
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\nwrote {args.out}/summary.json and imaging_*.png")


if __name__ == "__main__":
    main()
