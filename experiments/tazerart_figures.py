"""Model and data side by side for the figures of Tazerart et al. 2020 (seed 000).

One command::

    python experiments/tazerart_figures.py --model out/fit/model.eqx --out out/tazerart_figures

Every readout comes from the full coupled model, `TazerartExperiment` of
`plastic.studies.tazerart2020` in mode "coupled" (biophysics, rule and expression solved
together through ``--n-pairings`` pairings at 0.5 Hz and ``--readout-min`` minutes of quiet),
with `tazerart_model()` (its fitted defaults) or, given ``--model``, the fitted model in that
``model.eqx``. The conditions of all panels are the rows of one `plastic.experiment.Predictor`
(`Panels.rows`: the data rows and a row per panel condition); each distinct condition is solved
once, ``--chunk`` at a time (one compilation), and the calcium of Figs. 6-8 is read from the same
solves (`Predictor.condition_values`).

Panels under ``--out`` (one PNG each; every number plotted is also in ``summary.json``):

1. ``fig2g_single_spine.png``: uEPSP, neck length and head volume (% of baseline) of the
   activated spine after single-spine pairings at +13, +7, -15 and -23 ms.
2. ``fig3e_5e_distance.png``: uEPSP (%) against the distance between two co-activated spines
   at +7 ms and -15 ms, with eq. 2 (``alpha exp(-x / lambda) + beta``) fitted to the model's
   curve, and the clustered / distributed data and the paper's lambda.
3. ``fig9_heatmap.png``: uEPSP (%) of two spines over delta-t x distance.
4. ``fig6_8_calcium.png``: head and dendrite calcium of the activated spine just before and
   just after each pairing for the five imaged protocols, and the accumulation index.
5. ``drugs.png``: clustered +7 ms under PEP1-TGL and latrunculin-A, single -15 ms under AP5.

With ``--draws DIR/draws.npz`` (written by ``plastic uncertainty DIR`` for the fit of
``--model``), panels 1 and 2 also show the model's band over those draws of the fitted
parameters, and the eq. 2 lambda gets the band of the lambdas of the drawn curves
(`predict_bands`: replay mode, each condition's biophysics recorded once; in ``summary.json``
under ``bands``, with the replay's curve at the fit beside the coupled one).

It also prints a markdown table of every data row against the model, the fraction of uEPSP
rows within 1 and 2 SEM and the chi-square per point of the uEPSP and neck-length rows.
"""

import argparse
import json
import math
import operator
import pathlib
import sys
import time

import equinox as eqx
import jax
import numpy as np

import plastic  # noqa: F401  (float64)
from plastic.cli import parse_values
from plastic.experiment import Predictor
from plastic.fit import load_model
from plastic.protocols import MINUTE
from plastic.studies.tazerart2020 import (
    CALCIUM_READOUTS,
    TazerartExperiment,
    figures,
    paper_results,
    tazerart_model,
)
from plastic.studies.tazerart2020 import comparison as cmp
from plastic.studies.tazerart2020.panels import DISTANCE_DELTA_TS, Panels
from plastic.uncertainty import load_draws

VALUE_OPTIONS = ("--distances", "--delta-ts", "--heatmap-distances")
BAND_BATCH = 10
"""Draws replayed per compiled call (progress is reported after each)."""


def _attach_negative_values(argv: list[str]) -> list[str]:
    """``--delta-ts -30:30:5`` as ``--delta-ts=-30:30:5``: argparse would otherwise take a
    range starting with a minus sign for an option."""
    out = []
    for i, token in enumerate(argv):
        previous = argv[i - 1] if i > 0 else ""
        if previous in VALUE_OPTIONS and token.startswith("-") and token[1:2].isdigit():
            out[-1] = f"{previous}={token}"
        else:
            out.append(token)
    return out


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=pathlib.Path, help="a fitted model.eqx (default: none)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/tazerart_figures"))
    parser.add_argument("--n-pairings", type=int, default=40)
    parser.add_argument("--readout-min", type=float, default=20.0, help="quiet before readout")
    parser.add_argument(
        "--distances",
        type=parse_values,
        default=parse_values("0,1,2,3,4,6,8,10,15,20,30,40,60,80,100"),
        help="um, for the distance curves (comma list or START:STOP:STEP)",
    )
    parser.add_argument(
        "--delta-ts", type=parse_values, default=parse_values("-30:30:5"), help="ms, heatmap"
    )
    parser.add_argument(
        "--heatmap-distances",
        type=parse_values,
        default=parse_values("0,2,5,10,20,40,80"),
        help="um, heatmap",
    )
    parser.add_argument("--chunk", type=int, default=16, help="conditions per vmapped batch")
    parser.add_argument(
        "--draws",
        type=pathlib.Path,
        help="draws.npz of `plastic uncertainty` on the fit of --model: adds the model's band "
        "over those parameter draws to the single-spine and distance panels (default: none)",
    )
    parser.add_argument("--band-draws", type=int, default=100, help="draws used for the bands")
    parser.add_argument("--level", type=float, default=0.95, help="the bands' probability")
    args = parser.parse_args(_attach_negative_values(argv))
    if args.band_draws < 2:
        parser.error(f"--band-draws must be at least 2; got {args.band_draws}")
    if not 0.0 < args.level < 1.0:
        parser.error(f"--level must be in (0, 1); got {args.level}")
    if args.draws is not None and not args.draws.is_file():
        parser.error(f"--draws {args.draws}: no such file (plastic uncertainty writes draws.npz)")
    return args


def _json(value):
    """JSON-safe: NaN and inf as None, numpy as lists/floats."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json(value.tolist())
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def predict(model, args) -> dict:
    """Every panel's numbers (`Panels.read`) from one predictor of the coupled experiment."""
    experiment = TazerartExperiment(
        mode="coupled", n_pairings=args.n_pairings, readout_delay=args.readout_min * MINUTE
    )
    panels = Panels(tuple(args.distances), tuple(args.delta_ts), tuple(args.heatmap_distances))
    rows = panels.rows()
    predictor = Predictor.from_data(experiment, rows, model=model, batch_size=args.chunk)
    names = predictor.readout_names + tuple(readout.name for readout in CALCIUM_READOUTS)
    print(
        f"running {predictor.n_conditions} conditions, {args.chunk} at a time ({args.n_pairings} "
        f"pairings + {args.readout_min:g} min); one compilation",
        flush=True,
    )
    tic = time.perf_counter()
    values = eqx.filter_jit(lambda m, p: p.condition_values(m, names))(model, predictor)
    shown = panels.read(rows, predictor, values)
    print(f"  done in {time.perf_counter() - tic:.1f} s", flush=True)
    return shown


def predict_bands(model, args) -> dict:
    """The plasticity panels at each of the fit's parameter draws (``--draws``): the data
    rows, the distance curves and the one-spine references in replay mode (each condition's
    biophysics recorded once with ``model``, the plasticity replayed per draw), as
    `Panels.read_bands`, with the eq. 2 length constant of each draw's curves."""
    draws = load_draws(args.draws).thinned(args.band_draws)
    experiment = TazerartExperiment(
        mode="replay", n_pairings=args.n_pairings, readout_delay=args.readout_min * MINUTE
    )
    experiment.check_parameters(list(draws.values))  # a replay moves only replayable leaves
    panels = Panels(tuple(args.distances), tuple(args.delta_ts), tuple(args.heatmap_distances))
    rows = panels.rows(heatmap=False, imaging=False)
    tic = time.perf_counter()
    predictor = Predictor.from_data(experiment, rows, model=model, batch_size=args.chunk)
    print(
        f"bands: recorded the biophysics of {predictor.n_conditions} conditions in "
        f"{time.perf_counter() - tic:.0f} s; replaying {draws.n_draws} {draws.method} draws",
        flush=True,
    )
    models = draws.models(model)
    predict_many = eqx.filter_jit(lambda batch, p: jax.lax.map(p, batch))
    per_call = min(BAND_BATCH, draws.n_draws)
    predictions = []
    for start in range(0, draws.n_draws, per_call):
        # The last batch is padded with its last draw: one compiled shape for every batch.
        picked = np.minimum(np.arange(start, start + per_call), draws.n_draws - 1)
        batch = jax.tree.map(operator.itemgetter(picked), models)
        predictions.append(np.asarray(predict_many(batch, predictor))[: draws.n_draws - start])
        done = min(start + per_call, draws.n_draws)
        elapsed = time.perf_counter() - tic
        print(f"  {done}/{draws.n_draws} draws, {elapsed:.0f} s", flush=True)
    predictions = np.concatenate(predictions)
    bands = panels.read_bands(rows, predictions, args.level)
    distances = np.asarray(args.distances)
    bands["length_constant"], bands["length_constant_converged"] = {}, {}
    for delta_t, curves in bands["curve_draws"].items():
        interval, n_finite = cmp.length_constant_band(distances, curves, args.level)
        bands["length_constant"][delta_t] = interval
        bands["length_constant_converged"][delta_t] = n_finite
    at_fit = np.asarray(predictor(model))
    bands.update(
        level=args.level,
        method=draws.method,
        n_draws=draws.n_draws,
        n_failed=int(np.sum(~np.isfinite(predictions).all(axis=1))),
        replay_at_fit=panels.read_bands(rows, at_fit[None], args.level)["curves"],
    )
    return bands


def main(argv=None):
    """Run the experiment; ``argv`` are the command-line arguments (default ``sys.argv[1:]``)."""
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model = tazerart_model()
    if args.model is not None:
        model = load_model(args.model, model)
    print(f"model: {args.model or 'tazerart_model() (fitted defaults)'}", flush=True)
    shown = predict(model, args)
    records, paper, out = shown["records"], paper_results(), args.out
    bands = None
    if args.draws is not None:
        bands = predict_bands(model, args)
        for record, band in zip(records, bands["records"], strict=True):
            record["band"] = band
    summary = dict(
        model=str(args.model) if args.model else None,
        n_pairings=args.n_pairings,
        readout_min=args.readout_min,
    )

    # 1. Single spine.
    summary["fig2g_single_spine"] = figures.plot_single_spine(
        records, args.n_pairings, out / "fig2g_single_spine.png"
    )

    # 2. Distance dependence and the length constants (which join the table).
    distances, curves = np.asarray(args.distances), shown["curves"]
    fits = {d: cmp.length_constant_fit(distances, curves[d]) for d in DISTANCE_DELTA_TS}
    lambdas = {d: cmp.paper_lambda(paper, d) for d in DISTANCE_DELTA_TS}
    points = {d: cmp.distance_data(paper, d) for d in DISTANCE_DELTA_TS}
    single = shown["single"]
    figures.plot_distance(
        distances, curves, fits, points, lambdas, single, out / "fig3e_5e_distance.png", bands
    )
    summary["fig3e_5e_distance"] = {
        f"{d:+g}": dict(
            distance_um=distances,
            model_uepsp=curves[d],
            model_one_spine_uepsp=single[d],
            fit=fits[d],
            paper_lambda_um=lambdas[d],
            data=points[d],
        )
        for d in DISTANCE_DELTA_TS
    }
    print("\nLength constants (eq. 2 fitted to the model's uEPSP-vs-distance curve):")
    for d in DISTANCE_DELTA_TS:
        fit = fits[d]
        found = (
            f"{fit['length_constant']:.2f} +- {fit['length_constant_se']:.2f} um"
            if fit["converged"]
            else "no finite lambda (flat curve)"
        )
        print(
            f"  {d:+g} ms: model lambda = {found} (alpha {fit['alpha']:+.2f} %, beta "
            f"{fit['beta']:.2f} %); paper {lambdas[d]:g} um"
        )
        if bands is not None:
            low, high = bands["length_constant"][d]
            print(
                f"    {args.level:.0%} band over {bands['n_draws']} draws: {low:.2f}-{high:.2f} "
                f"um ({bands['length_constant_converged'][d]} draws with a finite lambda)"
            )
        records.extend(cmp.length_constant_records(paper, d, fit))

    # 3. Heatmap.
    heatmap = shown["heatmap"]
    figures.plot_heatmap(
        np.asarray(args.delta_ts),
        args.heatmap_distances,
        heatmap,
        args.n_pairings,
        out / "fig9_heatmap.png",
    )
    summary["fig9_heatmap"] = dict(
        delta_t_ms=args.delta_ts, distance_um=args.heatmap_distances, uepsp_percent=heatmap
    )

    # 4. Calcium during induction.
    traces, findings = shown["traces"], cmp.calcium_findings()
    figures.plot_calcium(traces, findings, out / "fig6_8_calcium.png")
    summary["fig6_8_calcium_uM"] = traces
    summary["fig6_8_paper_findings"] = {" / ".join(k): v for k, v in findings.items()}
    early, late = cmp.EARLY_PAIRINGS, cmp.LATE_PAIRINGS
    print(
        f"\nAccumulation index (before-pairing head calcium, pairings {late[0]}-{late[1]} / "
        f"{early[0]}-{early[1]}):"
    )
    for label, trace in traces.items():
        print(
            f"  {label:18s} head {trace['accumulation_index']:.6f}, dendrite "
            f"{trace['dendrite_accumulation_index']:.6f}  (head before pairing 1: "
            f"{trace['head_before'][0]:.5f} uM, last: {trace['head_before'][-1]:.5f} uM)"
        )
    order = {}
    for more, less in cmp.ACCUMULATION_ORDER:
        high, low = traces[more]["accumulation_index"], traces[less]["accumulation_index"]
        order[f"{more} > {less}"] = verdict = cmp.ordering_verdict(high, low)
        print(f"  paper's ordering {more} ({high:.6f}) > {less} ({low:.6f}): {verdict}")
    summary["accumulation_order"] = order

    # 5. Drugs.
    finding = cmp.ap5_statement()
    summary["drugs"] = figures.plot_drugs(records, shown["ap5"], finding, out / "drugs.png")
    print(f"\nAP5 at -15 ms: model uEPSP {shown['ap5']:.1f} %; paper: {finding}")

    # The table and the agreement.
    cmp.add_residuals(records)
    stats = cmp.agreement(records)
    print("\nData vs model, every data row:\n")
    print(cmp.markdown_table(records))
    print(
        f"\nuEPSP rows within 1 SEM: {stats['uepsp_within_1_sem']:.2f}, within 2 SEM: "
        f"{stats['uepsp_within_2_sem']:.2f} (of {stats['n_uepsp_rows']}); chi-square per point "
        f"over uEPSP and neck rows: {stats['chi_square_per_point']:.2f} "
        f"({stats['n_chi_square_rows']} rows)"
    )
    summary["data_vs_model"] = records
    if bands is not None:
        summary["bands"] = dict(
            draws=str(args.draws),
            **{k: bands[k] for k in ("level", "method", "n_draws", "n_failed")},
            note="replay mode: each condition's biophysics recorded once with the fitted model, "
            "the plasticity replayed at each draw of the fitted parameters",
            length_constant_um={f"{d:+g}": v for d, v in bands["length_constant"].items()},
            curves={f"{d:+g}": dict(low=lo, high=hi) for d, (lo, hi) in bands["curves"].items()},
            single={f"{d:+g}": v for d, v in bands["single"].items()},
            replay_curve_at_fit={f"{d:+g}": v[0] for d, v in bands["replay_at_fit"].items()},
        )
    summary["agreement"] = stats
    summary["wall_time_s"] = time.perf_counter() - started
    (out / "summary.json").write_text(json.dumps(_json(summary), indent=1))
    print(
        f"\nWrote fig2g_single_spine.png, fig3e_5e_distance.png, fig9_heatmap.png, "
        f"fig6_8_calcium.png, drugs.png and summary.json to {out} "
        f"({summary['wall_time_s']:.0f} s)"
    )


if __name__ == "__main__":
    main()
