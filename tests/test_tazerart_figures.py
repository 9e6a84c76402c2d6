"""``experiments/tazerart_figures.py`` and the study modules it draws on
(`plastic.studies.tazerart2020.panels`, `.comparison`, `.figures`), without simulations (the
script itself is run end to end by hand: its one compilation takes about a minute).

Checked: ranges starting with a minus sign reach the parser; the panels' conditions are rows of
one predictor, shared between panels and with the data rows of `tazerart2020_data`; what the
panels read lands at the right conditions and sites; the script writes every figure and the
summary from such readouts; the accumulation index, the agreement statistics and the eq. 2 fit
of a model curve."""

import importlib.util
import json
import math
import pathlib

import numpy as np
import pytest

from plastic.experiment import Predictor
from plastic.studies.tazerart2020 import (
    CALCIUM_READOUTS,
    DRUG_NAMES,
    NEIGHBOUR_DISTANCE,
    TazerartExperiment,
)
from plastic.studies.tazerart2020 import comparison as cmp
from plastic.studies.tazerart2020.panels import (
    CALCIUM_PROTOCOLS,
    DISTANCE_DELTA_TS,
    PANEL_SOURCE,
    Panels,
    panel_label,
)

SCRIPT = pathlib.Path(__file__).parents[1] / "experiments" / "tazerart_figures.py"
N_PAIRINGS = 3


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("tazerart_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_negative_ranges_reach_the_parser(script):
    argv = ["--delta-ts", "-30:30:5", "--distances", "0,5", "--n-pairings", "2"]
    assert script._attach_negative_values(argv) == [
        "--delta-ts=-30:30:5",
        "--distances",
        "0,5",
        "--n-pairings",
        "2",
    ]
    args = script.parse_arguments(argv)
    np.testing.assert_array_equal(args.delta_ts, np.arange(-30.0, 31.0, 5.0))
    assert args.chunk == 16 and args.readout_min == 20.0


PANELS = Panels(distances=(0.0, 10.0), delta_ts=(-15.0, 7), heatmap_distances=(10,))


def _predictor(panels=PANELS):
    rows = panels.rows()
    return rows, Predictor.from_data(TazerartExperiment(mode="coupled"), rows)


def test_conditions_are_shared_between_panels_and_data():
    rows, predictor = _predictor()
    data = rows.select(source=tuple(set(rows.source) - {PANEL_SOURCE}))
    assert "length_constant" not in data.readout  # eq. 2 is fitted to the model's curves
    assert data.n_rows == PANELS.data.n_rows - 2
    panel = [i for i, source in enumerate(rows.source) if source == PANEL_SOURCE]
    # One row a distinct condition: curves 2 x 2; one-spine references 2; the heatmap's two
    # points are curve points (+7 ms given once as 7.0 and once as 7); AP5 1; the imaged
    # protocols 3 (single +7 and -15 ms are the one-spine references).
    assert len(panel) == 4 + 2 + 0 + 1 + 3
    assert len({rows.condition[i] for i in panel}) == len(panel)
    assert {rows.readout[i] for i in panel} == {"uepsp"}
    condition_of = dict(zip(rows.condition, predictor.row_condition))
    first = rows.condition.index("single -15 ms")  # the data condition's uEPSP row
    single = condition_of[panel_label(-15.0, 1, NEIGHBOUR_DISTANCE, "none")]
    assert predictor.row_condition[first] == single
    assert condition_of[panel_label(-15.0, 1, NEIGHBOUR_DISTANCE, "AP5")] != single
    # 11 distinct data conditions (4 single, 7 two-spine, drugs and 32 degC included); the
    # imaged protocols and one-spine references are among them: 5 new (4 curve points, AP5).
    data_conditions = {predictor.row_condition[i] for i in range(rows.n_rows) if i not in panel}
    assert len(data_conditions) == 11
    assert predictor.n_conditions == 11 + 5


LAMBDA = 5.7


def _uepsp(delta_t, distance, drug=0.0):
    """The stand-in uEPSP (%): eq. 2 over distance with lambda `LAMBDA`, shifted by delta_t / 10
    and by 1000 under a drug."""
    return 100.0 + delta_t / 10.0 + 20.0 * np.exp(-distance / LAMBDA) + 1000.0 * (drug > 0)


def _fake_values(predictor, n_pairings=N_PAIRINGS):
    """Readouts that name their condition: uEPSP `_uepsp`; neck and head 90 + site; calcium
    (condition index + pairing / 10 + the readout's index) at the activated spine and 1000 +
    that at its neighbour."""
    conditions = predictor.conditions
    n = predictor.n_conditions
    values = dict(
        uepsp=_uepsp(*(np.asarray(conditions[k]) for k in ("delta_t", "distance", "drug"))),
        uepsp_initial=np.full(n, 0.5),
        neck_length=np.tile([90.0, 91.0], (n, 1)),
        head_volume=np.tile([92.0, 93.0], (n, 1)),
    )
    trace = np.arange(n)[:, None] + np.arange(1, n_pairings + 1)[None, :] / 10.0
    for k, readout in enumerate(CALCIUM_READOUTS):
        values[readout.name] = np.stack([trace + k, 1000.0 + trace], axis=-1)
    return values


def test_the_panels_read_their_conditions_and_sites():
    rows, predictor = _predictor()
    shown = PANELS.read(rows, predictor, _fake_values(predictor))
    for delta_t in (7.0, -15.0):
        np.testing.assert_allclose(shown["curves"][delta_t], _uepsp(delta_t, np.array([0, 10])))
        assert shown["single"][delta_t] == pytest.approx(_uepsp(delta_t, NEIGHBOUR_DISTANCE))
    # (distances, delta_ts)
    np.testing.assert_allclose(shown["heatmap"], [[_uepsp(-15.0, 10.0), _uepsp(7.0, 10.0)]])
    assert DRUG_NAMES.index("AP5") > 0
    assert shown["ap5"] == pytest.approx(_uepsp(-15.0, NEIGHBOUR_DISTANCE, 1.0))
    by_row = {(r["condition"], r["readout"], r["site"]): r for r in shown["records"]}
    assert len(by_row) == len(shown["records"]) == PANELS.data.n_rows - 2
    assert by_row[("single +13 ms", "neck_length", "neighbour")]["prediction"] == 91.0
    assert by_row[("single +13 ms", "head_volume", "activated")]["prediction"] == 92.0
    clustered = by_row[("clustered -15 ms", "uepsp", "activated")]
    assert clustered["prediction"] == pytest.approx(_uepsp(-15.0, 20.5))  # its class's middle
    assert clustered["mean"] == 95.65 and clustered["sem"] == 6.42
    assert list(shown["traces"]) == [label for label, _, _ in CALCIUM_PROTOCOLS]
    trace = shown["traces"]["single +13 ms"]
    index = predictor.row_condition[rows.condition.index("single +13 ms")]
    np.testing.assert_allclose(trace["head_before"], index + np.array([0.1, 0.2, 0.3]))
    np.testing.assert_allclose(trace["dendrite_after"], index + 3 + np.array([0.1, 0.2, 0.3]))
    assert trace["accumulation_index"] == pytest.approx((index + 0.3) / (index + 0.2))


def test_the_script_writes_every_figure_and_the_summary(script, tmp_path, monkeypatch):
    """`main` on readouts that stand in for the solves (`_fake_values`)."""

    def predict(model, args):
        panels = Panels(tuple(args.distances), tuple(args.delta_ts), tuple(args.heatmap_distances))
        rows = panels.rows()
        predictor = Predictor.from_data(TazerartExperiment(), rows)
        return panels.read(rows, predictor, _fake_values(predictor, args.n_pairings))

    monkeypatch.setattr(script, "predict", predict)
    out = tmp_path / "figures"
    script.main(["--n-pairings", str(N_PAIRINGS), "--distances", "1,5,20", "--delta-ts",
                  "-15,7", "--heatmap-distances", "1,5", "--out", str(out)])  # fmt: skip
    names = ["fig2g_single_spine", "fig3e_5e_distance", "fig9_heatmap", "fig6_8_calcium", "drugs"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{n}.png" for n in names] + ["summary.json"]
    )
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == [
        "model", "n_pairings", "readout_min", "fig2g_single_spine", "fig3e_5e_distance",
        "fig9_heatmap", "fig6_8_calcium_uM", "fig6_8_paper_findings", "accumulation_order",
        "drugs", "data_vs_model", "agreement", "wall_time_s",
    ]  # fmt: skip
    heatmap = [[_uepsp(dt, x) for dt in (-15.0, 7.0)] for x in (1.0, 5.0)]
    np.testing.assert_allclose(summary["fig9_heatmap"]["uepsp_percent"], heatmap, rtol=1e-12)
    distances = np.array([1.0, 5.0, 20.0])
    for delta_t, paper in ((7.0, 5.7), (-15.0, 39.7)):
        curve = summary["fig3e_5e_distance"][f"{delta_t:+g}"]
        np.testing.assert_allclose(curve["model_uepsp"], _uepsp(delta_t, distances), rtol=1e-12)
        assert curve["fit"]["converged"] and curve["paper_lambda_um"] == paper
        assert curve["fit"]["length_constant"] == pytest.approx(LAMBDA, rel=1e-6)
    # The paper's length constants join the table with the model's fitted lambda.
    table = summary["data_vs_model"]
    assert [(r["readout"], r["mean"]) for r in table[-2:]] == [
        ("length_constant", 5.7),
        ("length_constant", 39.7),
    ]
    np.testing.assert_allclose([r["prediction"] for r in table[-2:]], LAMBDA, rtol=1e-6)
    traces = summary["fig6_8_calcium_uM"]
    index = {}
    for label, trace in traces.items():
        assert len(trace["head_before"]) == N_PAIRINGS
        # head_before is (condition + pairing / 10): pairing 3 over the mean of pairings 1-3.
        condition = trace["head_before"][0] - 0.1
        assert trace["accumulation_index"] == pytest.approx((condition + 0.3) / (condition + 0.2))
        index[label] = trace["accumulation_index"]
    assert summary["accumulation_order"] == {
        f"{more} > {less}": cmp.ordering_verdict(index[more], index[less])
        for more, less in cmp.ACCUMULATION_ORDER
    }
    assert summary["agreement"]["n_uepsp_rows"] == 11


def test_accumulation_index():
    before = np.concatenate([np.full(5, 0.1), np.full(29, 0.15), np.full(6, 0.3)])
    assert cmp.accumulation_index(before) == pytest.approx(3.0)
    # Fewer pairings than the windows: clipped to those there are.
    assert cmp.accumulation_index(np.array([0.1, 0.2])) == pytest.approx(2.0 / 1.5)


def test_agreement_and_table():
    records = [
        dict(condition="a", readout="uepsp", site="activated", unit="%", mean=100.0, sem=5.0,
             prediction=104.0),
        dict(condition="b", readout="uepsp", site="activated", unit="%", mean=100.0, sem=5.0,
             prediction=109.0),
        dict(condition="c", readout="uepsp", site="activated", unit="%", mean=100.0, sem=5.0,
             prediction=120.0),
        dict(condition="c", readout="neck_length", site="activated", unit="%", mean=80.0,
             sem=10.0, prediction=100.0),
        dict(condition="d", readout="head_volume", site="activated", unit="%", mean=80.0,
             sem=1.0, prediction=100.0),
        dict(condition="e", readout="length_constant", site="activated", unit="um", mean=5.7,
             sem=math.nan, prediction=6.0),
    ]  # fmt: skip
    cmp.add_residuals(records)
    stats = cmp.agreement(records)
    assert stats["n_uepsp_rows"] == 3
    assert stats["uepsp_within_1_sem"] == pytest.approx(1 / 3)
    assert stats["uepsp_within_2_sem"] == pytest.approx(2 / 3)
    # uEPSP and neck rows only: (0.8^2 + 1.8^2 + 4^2 + 2^2) / 4.
    assert stats["chi_square_per_point"] == pytest.approx((0.64 + 3.24 + 16 + 4) / 4)
    table = cmp.markdown_table(records).splitlines()
    assert len(table) == 2 + len(records)
    assert table[-1].endswith("| 5.70 |  | 6.00 |  |")


def test_length_constant_of_a_model_curve():
    distances = np.array([0, 1, 2, 3, 4, 6, 8, 10, 15, 20, 30, 40, 60, 80, 100.0])
    fit = cmp.length_constant_fit(distances, 20.0 * np.exp(-distances / 5.7) + 100.0)
    assert fit["converged"]
    assert fit["length_constant"] == pytest.approx(5.7, rel=1e-6)
    assert fit["alpha"] == pytest.approx(20.0, rel=1e-6)


def test_ordering_verdict():
    assert cmp.ordering_verdict(1.5, 1.1) == "holds"
    assert cmp.ordering_verdict(1.1, 1.5) == "FAILS"
    assert cmp.ordering_verdict(1.00005, 1.00001) == "tie"


def _draw_predictions(rows, n_draws=40):
    """Per draw k, every row's `_uepsp` plus k (a draw that moves every prediction by k %); the
    data rows (no distance dependence needed) are 50 + k."""
    k = np.arange(n_draws)[:, None]
    distance = np.asarray(rows.column("distance"), float)
    delta_t = np.asarray(rows.column("delta_t"), float)
    panel = np.array([source == PANEL_SOURCE for source in rows.source])
    return np.where(panel, _uepsp(delta_t, distance), 50.0) + k


def test_the_bands_read_their_conditions():
    rows = PANELS.rows(heatmap=False, imaging=False)
    # No heatmap or imaged protocol: curves 2 x 2, one-spine references 2, AP5.
    assert sum(source == PANEL_SOURCE for source in rows.source) == 4 + 2 + 1
    predictions = _draw_predictions(rows)
    predictions[3, 0] = np.nan  # a failed draw is left out of its row's quantiles
    bands = PANELS.read_bands(rows, predictions, level=0.5)
    # The central half of 0..39 (percentiles 25 and 75): 9.75 and 29.25 above each prediction.
    for delta_t in DISTANCE_DELTA_TS:
        low, high = bands["curves"][delta_t]
        np.testing.assert_allclose(low, _uepsp(delta_t, np.array([0.0, 10.0])) + 9.75)
        np.testing.assert_allclose(high, _uepsp(delta_t, np.array([0.0, 10.0])) + 29.25)
        assert bands["curve_draws"][delta_t].shape == (40, 2)
        single = _uepsp(delta_t, NEIGHBOUR_DISTANCE)
        assert bands["single"][delta_t] == pytest.approx((single + 9.75, single + 29.25))
    kept = np.delete(np.arange(40.0), 3)
    assert bands["records"][0] == pytest.approx(tuple(50.0 + np.percentile(kept, [25, 75])))
    assert len(bands["records"]) == PANELS.data.n_rows - 2
    with pytest.raises(ValueError, match=r"predictions must be \(n_draws, "):
        PANELS.read_bands(rows, predictions[:, 1:])


def test_length_constant_band_over_drawn_curves():
    distances = np.array([0, 1, 2, 4, 8, 15, 30, 60, 100.0])
    lambdas = np.linspace(4.0, 8.0, 41)
    curves = 20.0 * np.exp(-distances[None, :] / lambdas[:, None]) + 100.0
    curves[0] = 100.0  # flat: no finite lambda, left out
    curves[1, 2] = np.nan  # a failed draw
    (low, high), n_finite = cmp.length_constant_band(distances, curves, level=0.9)
    assert n_finite == 39
    expected = np.percentile(lambdas[2:], [5.0, 95.0])
    assert (low, high) == pytest.approx(tuple(expected), rel=1e-5)
    assert cmp.length_constant_band(distances, np.full((3, 9), 100.0))[1] == 0


def test_the_script_draws_the_bands(script, tmp_path, monkeypatch):
    """`main --draws`: the bands (here of `_draw_predictions`) reach the records, the figures
    and ``summary.json``."""

    def predict(model, args):
        panels = Panels(tuple(args.distances), tuple(args.delta_ts), tuple(args.heatmap_distances))
        rows = panels.rows()
        predictor = Predictor.from_data(TazerartExperiment(), rows)
        return panels.read(rows, predictor, _fake_values(predictor, args.n_pairings))

    def predict_bands(model, args):
        panels = Panels(tuple(args.distances), tuple(args.delta_ts), tuple(args.heatmap_distances))
        rows = panels.rows(heatmap=False, imaging=False)
        bands = panels.read_bands(rows, _draw_predictions(rows), args.level)
        lambdas = {d: (4.0, 8.0) for d in DISTANCE_DELTA_TS}
        return dict(
            bands, length_constant=lambdas, length_constant_converged={d: 40 for d in lambdas},
            level=args.level, method="laplace", n_draws=40, n_failed=0,
            replay_at_fit=bands["curves"],
        )  # fmt: skip

    monkeypatch.setattr(script, "predict", predict)
    monkeypatch.setattr(script, "predict_bands", predict_bands)
    draws = tmp_path / "draws.npz"
    draws.write_bytes(b"")  # only its existence is checked before the (faked) bands
    out = tmp_path / "figures"
    script.main(["--n-pairings", str(N_PAIRINGS), "--distances", "1,5,20", "--delta-ts",
                  "-15,7", "--heatmap-distances", "1", "--out", str(out), "--draws", str(draws),
                  "--level", "0.5"])  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bands"]["length_constant_um"] == {"+7": [4.0, 8.0], "-15": [4.0, 8.0]}
    low = np.asarray(summary["bands"]["curves"]["+7"]["low"])
    np.testing.assert_allclose(low, _uepsp(7.0, np.array([1.0, 5.0, 20.0])) + 9.75)
    # Data rows carry their band (50 + the central half of 0..39).
    first = summary["data_vs_model"][0]
    assert first["band"] == pytest.approx([59.75, 79.25])
    single = summary["fig2g_single_spine"]["uepsp"]
    assert single["model_band"] == [pytest.approx([59.75, 79.25])] * 4
    with pytest.raises(SystemExit):
        script.parse_arguments(["--draws", str(tmp_path / "missing.npz")])
