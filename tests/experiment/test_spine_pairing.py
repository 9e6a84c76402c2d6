"""`SpinePairingExperiment`: its condition fields are `pairing_protocol`'s arguments with that
function's defaults, a condition sets up the model and protocol it names, bad conditions and
models are refused before anything is compiled, one simulation is saved only where the readouts
asked for need it, and a predictor refuses rows it cannot map onto a per-spine readout.
(Its values against direct solves: `tests/test_sweep.py`.)"""

import dataclasses
import importlib
import inspect
import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.experiment import (
    CALCIUM_PER_PAIRING,
    DEFAULT_DISTANCE,
    CalciumPerPairing,
    DendriteCalciumAfter,
    FinalEfficacy,
    HeadCalciumAfter,
    PeakHeadCalcium,
    Predictor,
    SpikePairingExperiment,
    SpinePairingExperiment,
    dataset_from_records,
    dendrite_calcium_at_spines,
)
from plastic.geometry import Geometry
from plastic.model import SpineModel
from plastic.protocols import pairing_protocol
from plastic.rules import GraupnerBrunelSynapse
from tests.conftest import simulate_jit

MODEL = SpineModel(geometry=Geometry(n_compartments=4))
EXPERIMENT = SpinePairingExperiment(n_pairings=2, uncaged_spines=(0, 1))


def condition(**values):
    """Every field at its default, ``delta_t`` 7 ms, and ``values``."""
    defaults = {field.name: field.default for field in EXPERIMENT.fields}
    return {**defaults, "delta_t": 7.0, **values}


def test_fields_are_the_protocol_arguments_with_its_defaults():
    arguments = inspect.signature(pairing_protocol).parameters
    fields = {field.name: field for field in EXPERIMENT.fields}
    assert set(fields) == {"distance"} | set(arguments) - {
        "n_pairings",
        "uncaged_spines",
        "n_spines",
    }
    assert fields["delta_t"].default is None  # every row or sweep must give it
    for name, field in fields.items():
        if name not in ("delta_t", "distance"):
            assert field.default == arguments[name].default, name
    assert fields["distance"].default == DEFAULT_DISTANCE and fields["distance"].unit == "um"
    assert fields["current_amplitude"].unit == "pA" and fields["period"].unit == "ms"
    default = SpinePairingExperiment()
    assert default.n_pairings == arguments["n_pairings"].default
    assert default.uncaged_spines == arguments["uncaged_spines"].default


def test_a_condition_sets_up_its_model_and_protocol():
    model, protocol = EXPERIMENT.configure(MODEL, condition(distance=12.5, period=300.0))
    position = MODEL.geometry.spines.position
    np.testing.assert_array_equal(model.geometry.spines.position, [position[0], position[0] + 12.5])
    expected = pairing_protocol(7.0, n_pairings=2, period=300.0, uncaged_spines=(0, 1))
    for a, b in zip(jax.tree.leaves(protocol), jax.tree.leaves(expected), strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_conditions_and_models_are_refused():
    columns = {name: np.array([value]) for name, value in condition(delta_t=300.0).items()}
    with pytest.raises(ValueError, match=r"delta_t must be .*fit inside the 2000 ms period"):
        EXPERIMENT.sized_for({**columns, "delta_t": np.array([2500.0])})
    with pytest.raises(ValueError, match="uncaging_duration must be"):
        EXPERIMENT.sized_for({**columns, "uncaging_duration": np.array([0.0])})
    assert EXPERIMENT.sized_for(columns) is EXPERIMENT
    with pytest.raises(ValueError, match="runs a SpineModel; got GraupnerBrunelSynapse"):
        EXPERIMENT.check_model(GraupnerBrunelSynapse.from_published("DP"))
    with pytest.raises(ValueError, match=r"uncaged_spines \(0, 2\) needs a model of more than 2"):
        dataclasses.replace(EXPERIMENT, uncaged_spines=(0, 2)).check_model(MODEL)
    with pytest.raises(ValueError, match="'efficacy' needs a model with a plasticity rule"):
        SpinePairingExperiment(readouts=(FinalEfficacy(),)).check_model(MODEL)
    with pytest.raises(ValueError, match="readout names must be distinct"):
        SpinePairingExperiment(readouts=(HeadCalciumAfter(), HeadCalciumAfter()))
    with pytest.raises(ValueError, match="n_pairings must be an integer >= 1"):
        SpinePairingExperiment(n_pairings=0)
    # A one-spine model has no spine 1: only the default distance.
    one = eqx.tree_at(
        lambda m: m.geometry.spines, MODEL, jax.tree.map(lambda x: x[:1], MODEL.geometry.spines)
    )
    single = dataclasses.replace(EXPERIMENT, uncaged_spines=(0,))
    assert single.model_in_condition(one, condition()) is one
    with pytest.raises(ValueError, match="distance 5 um needs a model of >= 2 spines"):
        single.model_in_condition(one, condition(distance=5.0))


def test_attributes_record_the_static_settings_and_the_solver():
    attributes = EXPERIMENT.attributes()
    assert json.loads(attributes["protocol_arguments"]) == dict(n_pairings=2, uncaged_spines=[0, 1])
    solver = json.loads(attributes["solver"])
    assert solver == EXPERIMENT.settings.describe() and solver["solver"] == "Rodas5"
    assert solver["rtol"] == EXPERIMENT.settings.rtol


def test_one_simulation_saves_only_what_the_readouts_asked_for_need(monkeypatch):
    saved = []

    def recording(model, protocol, save_times, settings):
        saved.append(save_times.shape)
        return simulate(model, protocol, save_times, settings)

    # The module (the package's name ``plastic.simulate`` is the function).
    module = importlib.import_module("plastic.simulate")
    simulate = module.simulate
    monkeypatch.setattr(module, "simulate", recording)
    arrays = {name: jnp.asarray(value) for name, value in condition().items()}
    both = ("head_calcium_after", "peak_head_calcium")
    shapes = eqx.filter_eval_shape(EXPERIMENT.measure_each, MODEL, arrays, both)
    assert [s.shape for s in shapes] == [(2,), (2,)]
    eqx.filter_eval_shape(EXPERIMENT.measure_each, MODEL, arrays, ("head_calcium_after",))
    # The peak's 1001 samples only when it is read, the calcium after the last pairing at its
    # one time; one solve each time.
    n_peak = int(round(PeakHeadCalcium().window / PeakHeadCalcium().resolution)) + 1
    assert saved == [(1 + n_peak,), (1,)]


def test_calcium_readouts_are_the_states_at_their_times():
    """Head and shaft calcium at the start of each pairing and 4 ms after its end, per pairing
    and after the last one, equal the states of a solve saved at those times, read directly."""
    readouts = (*CALCIUM_PER_PAIRING, HeadCalciumAfter(), DendriteCalciumAfter())
    experiment = dataclasses.replace(EXPERIMENT, readouts=readouts)
    names = tuple(readout.name for readout in readouts)
    arrays = {name: jnp.asarray(value) for name, value in condition().items()}
    values = dict(zip(names, eqx.filter_jit(experiment.measure_each)(MODEL, arrays, names)))
    model, protocol = experiment.configure(MODEL, condition())
    times = jnp.concatenate([protocol.pairing_start, protocol.pairing_end + 4.0])
    states = simulate_jit(model, protocol, times).states
    head, shaft = states.head_calcium, dendrite_calcium_at_spines(model, states)
    expected = {
        "head_calcium_before_per_pairing": head[:2],
        "head_calcium_after_per_pairing": head[2:],
        "dendrite_calcium_before_per_pairing": shaft[:2],
        "dendrite_calcium_after_per_pairing": shaft[2:],
        "head_calcium_after": head[-1],
        "dendrite_calcium_after": shaft[-1],
    }
    for name in names:
        assert values[name].shape == expected[name].shape, name
        np.testing.assert_allclose(values[name], expected[name], rtol=1e-10, err_msg=name)
    # The times tell the readings apart: each pairing raises the uncaged heads' calcium.
    assert np.all(head[2:] > 2.0 * head[:2])
    with pytest.raises(ValueError, match=r"HeadCalciumAfter.delay must be a number in \[0, inf\)"):
        HeadCalciumAfter(delay=-1.0)
    with pytest.raises(ValueError, match="compartment must be 'head' or 'dendrite'"):
        CalciumPerPairing("neck")


def test_a_predictor_refuses_rows_of_a_readout_without_sites():
    row = dict(condition="c", readout="head_calcium_after", mean=1.0, sem=0.1, n=1, unit="uM",
               source="test", delta_t=7.0)  # fmt: skip
    with pytest.raises(ValueError, match=r"'head_calcium_after' has dims \('spine',\); a row"):
        Predictor.from_data(EXPERIMENT, dataset_from_records([row]))
    # Readouts of one value, or that name their sites, are mapped as before.
    weight = dict(row, readout="weight", unit="ratio", n_bursts=1, burst_period=1000.0)
    predictor = Predictor.from_data(SpikePairingExperiment(), dataset_from_records([weight]))
    assert predictor.n_conditions == 1
