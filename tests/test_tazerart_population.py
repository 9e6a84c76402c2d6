"""``experiments/tazerart_population.py`` without simulations (run end to end by hand: about
5 min per model on 2 cores): the rows it reads, the members' receptors, and the verdicts of its
summary on synthetic member predictions whose answers are known."""

import importlib.util
import pathlib
import types

import jax.numpy as jnp
import numpy as np
import pytest

from plastic.studies.tazerart2020 import physiological_tazerart_model, tazerart_model

SCRIPT = pathlib.Path(__file__).parents[1] / "experiments" / "tazerart_population.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("tazerart_population", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_are_the_uepsp_neck_and_head_rows_with_their_p_values(script):
    data, results = script.rows()
    assert data.n_rows == len(results) == 35
    assert set(data.readout) == {"uepsp", "neck_length", "head_volume"}
    for row, result in enumerate(results):
        assert (data.condition[row], data.readout[row]) == (result.condition, result.readout)
        assert float(data.mean[row]) == result.mean


def test_head_volume_receptors_scale_both_conductances_with_each_head(script):
    model = script.per_spine_receptors(physiological_tazerart_model())
    assert model.nmda.conductance.shape == model.ampa.conductance.shape == (2,)
    args = types.SimpleNamespace(n_spines=8, seed=3)
    fixed = script.population_values(model, "fixed", args)
    scaled = script.population_values(model, "head-volume", args)
    np.testing.assert_array_equal(fixed["spines.head_volume"], scaled["spines.head_volume"])
    assert set(fixed) == {"spines.head_volume", "spines.neck_length"}
    ratio = scaled["spines.head_volume"] / 0.07
    np.testing.assert_allclose(scaled["nmda.conductance"], model.nmda.conductance * ratio)
    np.testing.assert_allclose(scaled["ampa.conductance"], model.ampa.conductance * ratio)
    volumes = np.asarray(fixed["spines.head_volume"])
    assert volumes.min() >= 0.026 and volumes.max() <= 0.148


def test_summary_verdicts_on_known_members(script):
    data, results = script.rows()
    n_members = 4
    members = np.full((n_members, data.n_rows), 100.0)
    index = {(r.condition, r.readout, r.site): i for i, r in enumerate(results)}
    plus13 = index[("single +13 ms", "uepsp", "activated")]
    plus7 = index[("single +7 ms", "uepsp", "activated")]
    members[:, plus13] = [130.0, 125.0, 95.0, 110.0]  # mean 115: LTP kept, 3 of 4 above 100
    members[:, plus7] = [100.0, 100.0, 100.0, 120.0]  # +13 - +7: 30, 25, -5, -10
    head_volume = jnp.asarray([0.03, 0.05, 0.1, 0.14])
    default = members[0]
    table, contrasts, correlations = script.summarise(data, results, default, members, head_volume)
    row = table[plus13]
    assert row["significant"] and row["sign_kept"]
    assert row["population_mean"] == pytest.approx(115.0)
    assert row["fraction_on_data_side"] == pytest.approx(0.75)
    neck = table[index[("single +13 ms", "neck_length", "activated")]]
    assert neck["significant"] and not neck["sign_kept"]  # unchanged at 100: the sign is lost
    contrast = next(c for c in contrasts if (c["a"], c["b"]) == ("single +13 ms", "single +7 ms"))
    assert contrast["population"] == pytest.approx(10.0) and contrast["kept"]
    assert contrast["fraction_of_members"] == pytest.approx(0.5)
    expected = np.corrcoef(np.asarray(head_volume), members[:, plus13])[0, 1]
    assert correlations["single +13 ms"] == pytest.approx(expected)


def test_an_interrupted_population_resumes_only_from_its_own_chunks(script, tmp_path, monkeypatch):
    """Chunks are kept as they finish; the same run again computes nothing, while another
    model or chunk size does not pick up the kept chunks."""
    calls = []

    def members(population, model):
        calls.append(population.n_members)
        first = np.asarray(population.values[0])[:, 0]  # a stand-in prediction per member
        return np.repeat(first[:, None], 3, axis=1), np.zeros((population.n_members, 2))

    monkeypatch.setattr(script, "_members", members)
    model = script.per_spine_receptors(physiological_tazerart_model())
    args = types.SimpleNamespace(n_spines=5, seed=0, chunk=2)
    values = script.population_values(model, "fixed", args)
    first = script.run_population("m, fixed", model, None, values, args, tmp_path)
    assert calls == [2, 2, 1] and first.shape == (5, 3)
    np.testing.assert_array_equal(first[:, 0], np.asarray(values["spines.head_volume"])[:, 0])
    again = script.run_population("m, fixed", model, None, values, args, tmp_path)
    assert calls == [2, 2, 1]  # resumed: nothing recomputed
    np.testing.assert_array_equal(again, first)
    other = script.per_spine_receptors(tazerart_model())
    script.run_population("m, fixed", other, None, values, args, tmp_path)
    assert calls == [2, 2, 1, 2, 2, 1]  # another model computes afresh
    args.chunk = 3
    script.run_population("m, fixed", model, None, values, args, tmp_path)
    assert calls[-2:] == [3, 2]  # another chunk size too
