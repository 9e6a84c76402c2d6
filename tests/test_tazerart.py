"""The seed experiments on the model: conditions from the data rows, the uEPSP measurement, and
the predictor the fit uses (short protocols: the numerics are tested in test_simulate)."""

import equinox as eqx
import numpy as np
import pytest

import plastic  # noqa: F401
from plastic.data import load_tazerart2020
from plastic.tazerart import (
    NEIGHBOUR_DISTANCE,
    UNBOUNDED_DISTANCE_MARGIN,
    TazerartPredictor,
    conditions_of,
    tazerart_model,
)

DATA = load_tazerart2020()


def test_conditions_follow_the_rows():
    rows = DATA.select(readout=("uepsp",))
    conditions, index = conditions_of(rows)
    for row in range(rows.n_rows):
        condition, i = conditions, index[row]
        two = int(rows.n_spines_uncaged[row]) == 2
        assert float(condition.delta_t[i]) == float(rows.delta_t[row])
        assert float(condition.two_spines[i]) == float(two)
        low, high = float(rows.distance_min[row]), float(rows.distance_max[row])
        expected = (
            NEIGHBOUR_DISTANCE
            if not two
            else (0.5 * (low + high) if np.isfinite(high) else low + UNBOUNDED_DISTANCE_MARGIN)
        )
        assert float(condition.distance[i]) == expected
        assert float(condition.temperature[i]) == float(rows.temperature[row])
        drug = rows.drug[row]
        assert float(condition.drugs.latrunculin[i]) == float(drug == "latrunculin-A")
        assert float(condition.drugs.pep1_tgl[i]) == float(drug == "PEP1-TGL")
    # Distinct rows, distinct conditions: every uEPSP row here is its own experiment.
    assert len(set(index.tolist())) == rows.n_rows


def test_unmodelled_readout_is_named():
    with pytest.raises(ValueError, match="length_constant"):
        conditions_of(DATA.select(readout=("length_constant",)))


def test_predictor_on_a_short_protocol():
    rows = DATA.select(condition=("single +13 ms", "clustered +7 ms"))
    predictor = TazerartPredictor.from_data(rows, n_pairings=2, readout_delay=60_000.0)
    prediction = np.asarray(eqx.filter_jit(lambda m, p: p(m))(tazerart_model(), predictor))
    assert prediction.shape == (rows.n_rows,) and np.all(np.isfinite(prediction))
    by_row = {
        (c, r, s): p for c, r, s, p in zip(rows.condition, rows.readout, rows.site, prediction)
    }
    single = by_row[("single +13 ms", "uepsp_initial", "activated")]
    pair = by_row[("clustered +7 ms", "uepsp_initial", "activated")]
    # Small uEPSPs sum nearly linearly at the soma: two spines give about twice one.
    assert pair == pytest.approx(2 * single, rel=0.15)
    # The model's baseline uEPSP is of the seed's size (0.49-0.59 mV, Fig. 2 legends).
    assert 0.3 < single < 1.0
    # Two pairings change nothing measurable (plasticity needs the full protocol).
    for readout in ("uepsp", "neck_length", "head_volume"):
        assert by_row[("single +13 ms", readout, "activated")] == pytest.approx(100.0, abs=1.0)
