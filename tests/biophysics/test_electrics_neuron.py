"""Electrics against NEURON: the same passive geometry, the same AMPA conductance."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

from plastic.geometry import Geometry, Spines
from plastic.model import SpineModel
from plastic.protocols import event_protocol
from plastic.simulate import SolverSettings
from tests.conftest import passive, simulate_jit
from tests.neuron_reference import run_passive

pytest.importorskip("neuron")

TIGHT = SolverSettings(rtol=1e-8, atol=1e-8)
REST = -70.0


def _model(first, distance):
    geometry = Geometry(spines=Spines(position=(first, first + distance)))
    return passive(SpineModel(geometry=geometry))


@pytest.mark.parametrize("distance", [1.0, 3.0, 10.0, 25.0, 50.0, 100.0])
def test_uncaging_epsp_peaks_match_neuron(distance):
    model = _model(33.0, distance)
    protocol = event_protocol([[5.0], []], [], duration=80.0)
    times = jnp.arange(5.0, 80.0, 0.01)
    states = simulate_jit(model, protocol, times, TIGHT).states
    reference = run_passive(model, uncaging_onset=5.0, t_stop=80.0)
    ours = {
        "head": np.asarray(states.head_voltage.max(0)) - REST,
        "parent": np.asarray(model.parent_voltage(states).max(0)) - REST,
        "soma": float(states.soma_voltage.max()) - REST,
    }
    for key in ("head", "parent", "soma"):
        np.testing.assert_allclose(ours[key], reference[key], rtol=0.05, err_msg=key)
    # The comparison is not vacuous: the response attenuates from head to soma.
    assert reference["head"][0] > 2 * reference["parent"][0] > 2 * reference["soma"]


def test_somatic_current_step_attenuation_matches_neuron():
    model = _model(40.0, 2.0)
    protocol = event_protocol([[], []], [5.0], duration=60.0, current_amplitude=200.0)
    positions = np.array([0.0, 25.0, 50.0, 100.0, 150.0, 195.0])
    times = jnp.arange(5.0, 60.0, 0.02)
    states = simulate_jit(model, protocol, times, TIGHT).states
    geo = model.geometry
    weights = geo.attachment_weights(jnp.asarray(positions))
    nodes = jnp.concatenate([states.soma_voltage[:, None], states.dendrite_voltage], axis=1)
    ours = np.asarray((nodes @ weights.T).max(0)) - REST
    reference = run_passive(
        model, current=(5.0, 10.0, 200.0), record_positions=positions, t_stop=60.0
    )
    np.testing.assert_allclose(ours, reference["dendrite"], rtol=0.05)
    assert reference["dendrite"][-1] < reference["dendrite"][0]


@pytest.mark.parametrize("amplitude", [400.0, 500.0, 600.0])
def test_seed_current_injection_fires_one_backpropagating_ap(default_model, amplitude):
    protocol = event_protocol([[], []], [10.0], duration=80.0, current_amplitude=amplitude)
    times = jnp.arange(0.0, 80.0, 0.02)
    states = simulate_jit(default_model, protocol, times).states
    soma = np.asarray(states.soma_voltage)
    crossings = np.flatnonzero((soma[1:] > 0.0) & (soma[:-1] <= 0.0))
    assert len(crossings) == 1
    latency = times[crossings[0]] - 10.0
    assert 3.0 < latency < 10.0
    # The bAP attenuates along the dendrite (passive back-propagation).
    dendrite_peak = np.asarray(states.dendrite_voltage.max(0))
    assert soma.max() > dendrite_peak[0] > dendrite_peak[-1] > -20.0


def test_invalid_temperature_is_rejected():
    with pytest.raises(ValueError, match="temperature"):
        eqx.tree_at(lambda m: m.temperature, SpineModel(), jnp.asarray(float("nan"))).__class__(
            temperature=float("nan")
        )
