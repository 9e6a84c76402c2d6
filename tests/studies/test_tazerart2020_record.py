import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest

import plastic  # noqa: F401  (enables float64)
from plastic.protocols import pairing_protocol
from plastic.studies.tazerart2020 import paper_findings, paper_properties, paper_results
from plastic.studies.tazerart2020.results import COLUMNS, read_results

SHIPPED = Path(plastic.__file__).parent / "data" / "tazerart2020.csv"
# The seed paper, at ../shared from the project root for every developer and for CI.
SEED = next((Path(__file__).parents[3] / "shared" / "seeds").glob("000_*.txt"), None)


def _normalise(text: str) -> str:
    """The paper's typography in the ASCII of the data files."""
    for fancy, plain in (("µ", "u"), ("μ", "u"), ("−", "-"), ("–", "-"), ("—", "-"), ("’", "'")):
        text = text.replace(fancy, plain)
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def paper() -> str:
    if SEED is None:
        pytest.skip("the seed paper (../shared/seeds/000_*.txt) is not available")
    return _normalise(SEED.read_text(encoding="utf-8"))


def _printed_numbers(paper: str, pattern: str) -> set[float]:
    return {float(m) for m in re.findall(pattern, paper)}


def test_every_mean_and_sem_in_the_paper_is_in_the_data_and_back(paper):
    printed = {
        (float(mean), float(sem))
        for mean, sem in re.findall(r"(-?\d+(?:\.\d+)?) ?± ?(\d+(?:\.\d+)?)", paper)
    }
    stored = {(r.mean, r.sem) for r in paper_results() if not math.isnan(r.sem)}
    stored |= {(p.mean, p.sem) for p in paper_properties() if not math.isnan(p.sem)}
    assert stored - printed == set(), "numbers in the data that the paper does not print"
    assert printed - stored == set(), "mean +- SEM printed in the paper but missing from the data"


def test_p_values_n_and_length_constants_are_printed_in_the_paper(paper):
    results = paper_results()
    printed_p = _printed_numbers(paper, r"P ?= ?(\d*\.\d+|1)\b")
    for p in [r.p_value for r in results if not math.isnan(r.p_value)]:
        assert p in printed_p, f"P = {p} is not printed in the paper"
    printed_n = _printed_numbers(paper, r"n ?= ?(\d+)")
    for n in [r.n for r in results if not math.isnan(r.n)]:
        assert n in printed_n, f"n = {n} is not printed in the paper"
    printed_lambda = _printed_numbers(paper, r"\(λ\) of (\d+\.\d+) um")
    lambdas = {r.mean for r in results if r.readout == "length_constant"}
    assert lambdas == printed_lambda == {5.7, 39.7}
    texts = [f.statement for f in paper_findings()]
    texts += [p.note for p in paper_properties()] + [r.note for r in results]
    for text in texts:
        for quoted in re.findall(r"'([^']+)'", text):
            assert quoted in paper, f"not a quotation of the paper: {quoted!r}"


@pytest.fixture(scope="module")
def protocols():
    """The default two-spine pairing protocol at every delta_t of the data set."""
    delta_t = np.unique([r.delta_t for r in paper_results()])
    return delta_t, pairing_protocol(delta_t, uncaged_spines=(0, 1), quiet=0.0)


def test_sign_convention_matches_the_paper_and_the_protocols(paper, protocols):
    # Methods: "+7 and +13 ms (pre leads post)"; and +13 ms gives t-LTP, -15 ms t-LTD.
    assert "+7 and +13 ms (pre leads post)" in paper
    by_delta_t = {
        r.delta_t: (r.mean, r.p_value)
        for r in paper_results()
        if r.readout == "uepsp" and r.n_spines_uncaged == 1
    }
    assert by_delta_t[13.0][0] > 100 and by_delta_t[13.0][1] < 0.05
    assert by_delta_t[-15.0][0] < 100 and by_delta_t[-15.0][1] < 0.05
    delta_t, protocol = protocols
    # delta_t = current onset - onset of the first uncaging, at every pairing.
    lag = np.asarray(protocol.current_onset - protocol.uncaging_onset[:, 0])
    np.testing.assert_allclose(lag, np.broadcast_to(delta_t[:, None], lag.shape))


def test_protocol_defaults_are_the_papers_protocol(protocols):
    stated = {(p.quantity, p.condition): p for p in paper_properties()}
    _, protocol = protocols
    assert protocol.n_pairings == stated["n_pairings", "STDP protocol"].mean
    np.testing.assert_allclose(
        np.diff(protocol.current_onset), stated["pairing_period", "STDP protocol"].mean
    )
    np.testing.assert_array_equal(
        protocol.uncaging_duration, stated["uncaging_duration", "STDP protocol"].mean
    )
    np.testing.assert_array_equal(
        protocol.current_duration, stated["current_duration", "STDP protocol"].mean
    )
    amplitude = stated["current_amplitude", "STDP protocol"]
    assert np.all(amplitude.minimum <= protocol.current_amplitude)
    assert np.all(protocol.current_amplitude <= amplitude.maximum)
    np.testing.assert_allclose(
        protocol.uncaging_onset[:, 1] - protocol.uncaging_onset[:, 0],
        stated["second_spine_delay", "STDP protocol"].mean,
    )


def test_calcium_accumulation_goes_with_t_ltp():
    # The paper's thesis (Figs. 6-8): calcium before each pairing accumulates in the activated
    # spine exactly in the drug-free single/clustered conditions that give t-LTP.
    uepsp = {r.condition: r for r in paper_results() if r.readout == "uepsp"}
    accumulates = {
        f.condition: f.outcome == "increase"
        for f in paper_findings()
        if f.observable == "calcium_before" and f.site == "activated" and f.drug == "none"
    }
    assert set(accumulates) == {"single +7 ms", "single +13 ms", "single -15 ms", "clustered +7 ms"}
    for condition, accumulated in accumulates.items():
        potentiated = uepsp[condition].mean > 100 and uepsp[condition].p_value < 0.05
        assert accumulated == potentiated, condition


def test_every_row_is_sourced_and_keyed_once():
    results = paper_results()
    keys = [(r.condition, r.readout, r.site) for r in results]
    assert len(keys) == len(set(keys))
    assert all(r.source for r in results)
    # Not given in the paper: NaN with a note saying so.
    for r in results:
        if math.isnan(r.sem) or math.isnan(r.n):
            assert "not given" in r.note or "no SEM, n" in r.note
    # The conditions the issue lists.
    uepsp = [r for r in results if r.readout == "uepsp"]
    single = [r.delta_t for r in uepsp if r.n_spines_uncaged == 1 and r.drug == "none"]
    assert sorted(single) == [-23.0, -15.0, 7.0, 13.0]
    assert {(r.delta_t, r.drug, r.temperature) for r in uepsp if r.n_spines_uncaged == 2} == {
        (7.0, "none", 21.0),
        (-15.0, "none", 21.0),
        (7.0, "PEP1-TGL", 21.0),
        (7.0, "latrunculin-A", 21.0),
        (7.0, "none", 32.0),
    }


def test_the_record_is_what_the_csv_module_reads():
    lines = [line for line in SHIPPED.read_text().splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    assert len(paper_results()) == len(rows)
    for result, row in zip(paper_results(), rows):
        for name in COLUMNS:
            value = getattr(result, name)
            if isinstance(value, str):
                assert value == row[name], name
            else:
                expected = float(row[name]) if row[name] else math.nan
                np.testing.assert_array_equal(value, expected, err_msg=name)


_GOOD_ROW = {
    "condition": "my clustered +10 ms",
    "readout": "uepsp",
    "site": "activated",
    "delta_t": "10",
    "n_spines_uncaged": "2",
    "distance_min": "2",
    "distance_max": "4",
    "drug": "none",
    "drug_concentration": "0",
    "temperature": "34",
    "mean": "118.5",
    "sem": "6.1",
    "n": "7",
    "unit": "%",
    "p_value": "",
    "source": "my lab book, p. 12",
    "note": "",
}


def _write(tmp_path, rows, columns=None):
    path = tmp_path / "mine.csv"
    columns = columns or list(rows[0])
    with path.open("w", newline="") as file:
        file.write("# my own data\n")
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_empty_optional_cells_read_as_not_given(tmp_path):
    single = {**_GOOD_ROW, "n_spines_uncaged": "1", "distance_min": "", "distance_max": ""}
    single |= {"sem": "", "n": "", "readout": "uepsp_initial", "unit": "mV", "mean": "0.8"}
    pair, one = read_results(_write(tmp_path, [_GOOD_ROW, single]))
    assert (pair.mean, pair.sem, pair.n_spines_uncaged, pair.distance_max) == (118.5, 6.1, 2, 4.0)
    assert one.mean == 0.8 and all(math.isnan(x) for x in (one.sem, one.n, one.distance_min))
    assert math.isnan(pair.p_value) and pair.note == one.note == ""


@pytest.mark.parametrize(
    "change, message",
    [
        ({"sem": "-1"}, r"line 3: sem \(or empty\) must be a number in \[0, inf\)"),
        ({"n": "0"}, r"line 3: n \(or empty\) must be a number in \[1, inf\)"),
        ({"n": "2.5"}, r"line 3: column 'n' must be a whole number"),
        ({"readout": "epsp"}, r"line 3: column 'readout' must be one of \['uepsp'"),
        ({"unit": "fraction"}, r"line 3: readout 'uepsp' must be given in unit '%'"),
        ({"mean": "big"}, r"line 3: column 'mean' must be a number; got 'big'"),
        ({"mean": ""}, r"line 3: column 'mean' is empty"),
        ({"drug": "APV"}, r"line 3: column 'drug' must be one of \['none', 'AP5'"),
        ({"drug_concentration": "50"}, r"line 3: drug_concentration must be .* uM \(no drug\)"),
        ({"distance_max": "1"}, r"line 3: distance_max must be a number in \[2, inf\]"),
        ({"n_spines_uncaged": "1"}, r"line 3: distance_min and distance_max must be empty"),
        ({"temperature": "60"}, r"line 3: temperature must be a number in \(0, 45\] degC"),
        ({"delta_t": "nan"}, r"line 3: column 'delta_t' is NaN"),
        ({"p_value": "2"}, r"line 3: p_value \(or empty\) must be a number in \[0, 1\]"),
        ({"site": "dendrite"}, r"line 3: column 'site' must be one of \['activated'"),
    ],
)
def test_a_bad_cell_is_refused_naming_its_line_column_and_range(tmp_path, change, message):
    path = _write(tmp_path, [{**_GOOD_ROW, **change}])
    with pytest.raises(ValueError, match=message):
        read_results(path)


def test_missing_and_unknown_columns_are_refused(tmp_path):
    without_sem = {k: v for k, v in _GOOD_ROW.items() if k != "sem"}
    with pytest.raises(ValueError, match=r"missing column\(s\) \['sem'\]"):
        read_results(_write(tmp_path, [without_sem]))
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['SEM'\]"):
        read_results(_write(tmp_path, [{**without_sem, "SEM": "1", "sem": "1"}]))
    with pytest.raises(ValueError, match="has a header but no data rows"):
        read_results(_write(tmp_path, [], columns=list(_GOOD_ROW)))
