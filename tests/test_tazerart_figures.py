"""The bookkeeping of ``experiments/tazerart_figures.py``, without simulations (the script
itself is run end to end by hand: its one compilation takes about a minute).

Checked: ranges starting with a minus sign reach the parser; conditions are deduplicated
across panels and match those `TazerartExperiment.conditions_of` builds from
`tazerart2020_data`; the accumulation index, the agreement statistics and the eq. 2 fit of a
model curve."""

import importlib.util
import math
import pathlib

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).parents[1] / "experiments" / "tazerart_figures.py"


@pytest.fixture(scope="module")
def figures():
    spec = importlib.util.spec_from_file_location("tazerart_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_negative_ranges_reach_the_parser(figures):
    argv = ["--delta-ts", "-30:30:5", "--distances", "0,5", "--n-pairings", "2"]
    assert figures._attach_negative_values(argv) == [
        "--delta-ts=-30:30:5",
        "--distances",
        "0,5",
        "--n-pairings",
        "2",
    ]


def test_conditions_are_shared_between_panels_and_data(figures):
    from plastic.studies.tazerart2020 import NEIGHBOUR_DISTANCE, tazerart2020_data

    pool = figures.ConditionPool()
    records = figures.data_predictions(tazerart2020_data(), pool)
    n_data = len(pool.conditions)
    # The single-spine -15 ms data condition, and an integer-valued duplicate of a curve point.
    single = pool.add(figures.make_condition(-15.0, 1, NEIGHBOUR_DISTANCE))
    first = pool.add(figures.make_condition(7.0, 2, 10.0))
    again = pool.add(figures.make_condition(7, 2, 10))
    ap5 = pool.add(figures.make_condition(-15.0, 1, NEIGHBOUR_DISTANCE, drug="AP5"))
    assert first == again and single != ap5
    assert len(pool.conditions) == n_data + 2
    assert any(r["key"] == single for r in records if r["condition"] == "single -15 ms")
    # 11 distinct data conditions: 4 single, 7 two-spine (drugs and 32 degC included).
    assert n_data == 11


def test_accumulation_index(figures):
    before = np.concatenate([np.full(5, 0.1), np.full(29, 0.15), np.full(6, 0.3)])
    assert figures.accumulation_index(before) == pytest.approx(3.0)
    # Fewer pairings than the windows: clipped to those there are.
    assert figures.accumulation_index(np.array([0.1, 0.2])) == pytest.approx(2.0 / 1.5)


def test_agreement_and_table(figures):
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
    figures.add_residuals(records)
    stats = figures.agreement(records)
    assert stats["n_uepsp_rows"] == 3
    assert stats["uepsp_within_1_sem"] == pytest.approx(1 / 3)
    assert stats["uepsp_within_2_sem"] == pytest.approx(2 / 3)
    # uEPSP and neck rows only: (0.8^2 + 1.8^2 + 4^2 + 2^2) / 4.
    assert stats["chi_square_per_point"] == pytest.approx((0.64 + 3.24 + 16 + 4) / 4)
    table = figures.markdown_table(records).splitlines()
    assert len(table) == 2 + len(records)
    assert table[-1].endswith("| 5.70 |  | 6.00 |  |")


def test_length_constant_of_a_model_curve(figures):
    distances = np.array([0, 1, 2, 3, 4, 6, 8, 10, 15, 20, 30, 40, 60, 80, 100.0])
    fit = figures.length_constant_fit(distances, 20.0 * np.exp(-distances / 5.7) + 100.0)
    assert fit["converged"]
    assert fit["length_constant"] == pytest.approx(5.7, rel=1e-6)
    assert fit["alpha"] == pytest.approx(20.0, rel=1e-6)


def test_ordering_verdict(figures):
    assert figures.ordering_verdict(1.5, 1.1) == "holds"
    assert figures.ordering_verdict(1.1, 1.5) == "FAILS"
    assert figures.ordering_verdict(1.00005, 1.00001) == "tie"
