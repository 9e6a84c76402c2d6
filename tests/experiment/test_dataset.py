"""`DataSet`: CSV round trip, and errors that name the file, line and column."""

import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.experiment import dataset_from_records, load_dataset, save_dataset
from plastic.studies import get_study

HEADER = "condition,readout,delta_t,frequency,drug,mean,sem,n,unit,source\n"


def _write(tmp_path, body, header=HEADER):
    path = tmp_path / "data.csv"
    path.write_text("# a comment\n" + header + body)
    return path


def test_round_trip_keeps_every_value(tmp_path):
    path = _write(
        tmp_path,
        "a,weight,5,10,none,1.2,0.06,9,ratio,Fig. 1\nb,weight,-10,10,AP5,0.8,,,ratio,Fig. 2\n",
    )
    data = load_dataset(path)
    assert data.column_names == ("delta_t", "frequency", "drug")
    assert data.column("drug") == ("none", "AP5") and data.column("delta_t") == (5.0, -10.0)
    assert np.isnan(data.sem[1]) and np.isnan(data.n[1])
    save_dataset(data, tmp_path / "again.csv", header="written by a test")
    again = load_dataset(tmp_path / "again.csv")
    assert again.label_columns() == data.label_columns() and again.source == data.source
    np.testing.assert_array_equal(again.mean, data.mean)
    np.testing.assert_array_equal(again.sem, data.sem)


@pytest.mark.parametrize(
    "body, message",
    [
        ("a,weight,5,10,none,inf,0.1,3,ratio,x\n", r"line 3: mean must be a number"),
        ("a,weight,5,10,none,1.0,-0.1,3,ratio,x\n", r"line 3: sem \(or empty\) must be"),
        ("a,weight,5,10,none,1.0,0.1,2.5,ratio,x\n", r"line 3: column 'n' must be a whole"),
        ("a,weight,5,10,none,one,0.1,3,ratio,x\n", r"line 3: column 'mean' must be a number"),
        ("a,weight,5,10,none,1,0.1,3,,x\n", r"line 3: column 'unit' is empty"),
        ("a,weight,5,10,none,1,0.1,3,ratio,x\nb,weight,5,10,none,2,0.1,3,ratio,y\n",
         r"line 4: the same condition, readout and site as .*line 3"),
        ("a,weight,inf,10,none,1,0.1,3,ratio,x\n", r"line 3: condition column 'delta_t' is inf"),
    ],
)  # fmt: skip
def test_bad_cells_are_refused_with_file_line_and_column(tmp_path, body, message):
    with pytest.raises(ValueError, match=message):
        load_dataset(_write(tmp_path, body))


def test_missing_required_column_is_named(tmp_path):
    path = _write(
        tmp_path, "a,weight,1.0,0.1,3,x\n", header="condition,readout,mean,sem,n,source\n"
    )
    with pytest.raises(ValueError, match=r"missing column\(s\) \['unit'\]"):
        load_dataset(path)


def test_select_by_condition_column_and_refusal_of_unknown_names():
    data = get_study("markram1997").data()
    ten_hz = data.select(frequency=10.0)
    assert ten_hz.n_rows == 3 and set(ten_hz.column("delta_t")) == {5.0, 10.0, -10.0}
    with pytest.raises(ValueError, match="'freq' is not a column"):
        data.select(freq=10.0)
    with pytest.raises(ValueError, match="no row matches"):
        data.select(frequency=11.0)


def test_records_leave_absent_condition_cells_empty_and_need_the_required_columns():
    good = dict(condition="a", readout="w", mean=1.0, sem=0.1, n=3, unit="ratio", source="s")
    data = dataset_from_records([{**good, "delta_t": 5.0}, {**good, "condition": "b"}])
    assert data.column("delta_t")[0] == 5.0 and np.isnan(data.column("delta_t")[1])
    with pytest.raises(ValueError, match=r"row 1: missing column\(s\) \['unit'\]"):
        dataset_from_records([good, {k: v for k, v in good.items() if k != "unit"}])


def test_bounds_round_trip_and_bad_relations_are_refused(tmp_path):
    header = HEADER.replace("source\n", "source,relation\n")
    path = _write(
        tmp_path,
        "a,weight,5,10,none,1.1,0.05,9,ratio,Fig. 1,>=\nb,weight,-10,10,none,0.8,0.1,,ratio,x,\n",
        header=header,
    )
    data = load_dataset(path)
    assert data.relations == (">=", "=")
    assert data.rows([1]).relation == () and data.rows([0, 1]).relation == (">=", "=")
    save_dataset(data, tmp_path / "again.csv")
    assert load_dataset(tmp_path / "again.csv").relations == (">=", "=")
    # Without any bound the column is neither required nor written.
    plain = load_dataset(_write(tmp_path, "a,weight,5,10,none,1.1,0.05,9,ratio,Fig. 1\n"))
    assert plain.relation == () and plain.relations == ("=",)
    save_dataset(plain, tmp_path / "plain.csv")
    assert "relation" not in (tmp_path / "plain.csv").read_text()
    bad = _write(tmp_path, "a,weight,5,10,none,1.1,0.05,9,ratio,x,>\n", header=header)
    with pytest.raises(ValueError, match=r"line 3: column 'relation' must be empty or one of"):
        load_dataset(bad)
