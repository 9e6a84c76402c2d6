"""The spine model as a spike-driven synapse: spike-train protocols and the voltage clamp."""

import equinox as eqx
import jax
import numpy as np
import pytest

from plastic.experiment import SpikePairingExperiment, SpineSynapse, VoltageClampExperiment
from plastic.model import SpineModel
from plastic.rules import KinaseCompetition, PairSTDP, STDPSynapse
from plastic.studies.tazerart2020 import tazerart_model


def _run_batch(experiment, model, conditions):
    prepared, arrays = experiment.prepare(conditions, ("weight",), model)
    return np.asarray(eqx.filter_jit(jax.vmap(lambda c: prepared.run(model, c)))(arrays))


def test_bursts_on_the_spine_model_pad_without_changing_a_condition():
    synapse = SpineSynapse(tazerart_model())
    experiment = SpikePairingExperiment(tail=200.0)
    both = dict(
        delta_t=np.array([10.0, 10.0]),
        frequency=np.array([20.0, 20.0]),
        n_per_burst=np.array([3.0, 2.0]),
        n_bursts=np.array([2.0, 1.0]),
        burst_period=np.array([1000.0, 1000.0]),
    )
    batched = _run_batch(experiment, synapse, both)
    alone = _run_batch(experiment, synapse, {name: v[1:] for name, v in both.items()})
    # The second condition, padded to 3 x 2 pairs in the batch, is the same as on its own.
    np.testing.assert_allclose(batched[1], alone[0], rtol=1e-10)
    assert batched[0] != batched[1]


def test_voltage_clamp_on_the_spine_model_depolarised_hold_drives_more_plasticity():
    synapse = SpineSynapse(tazerart_model())
    experiment = VoltageClampExperiment(tail=500.0)
    experiment.check_model(synapse)
    conditions = dict(
        v_clamp=np.array([-70.0, -40.0, -10.0]),
        n_pulses=np.array([10.0, 10.0, 10.0]),
        frequency=np.array([10.0, 10.0, 10.0]),
    )
    weights = _run_batch(experiment, synapse, conditions)
    # Held at rest the NMDA receptors stay blocked: nothing; unblocked, the kinase is driven.
    np.testing.assert_allclose(weights[0], 1.0, atol=1e-6)
    assert weights[0] < weights[1] < weights[2]


def test_held_spine_synapse_clamps_the_soma_and_blocks_its_spike_channels():
    held = SpineSynapse(SpineModel(rule=KinaseCompetition())).held_at(-30.0)
    assert float(held.clamp.voltage) == -30.0 and float(held.clamp.position) == 0.0
    assert float(held.model.spike.sodium_conductance) == 0.0
    assert float(held.model.spike.potassium_conductance) == 0.0
    kept = SpineSynapse(SpineModel(rule=KinaseCompetition()), pipette_blocks_spike_channels=False)
    assert float(kept.held_at(-30.0).model.spike.sodium_conductance) > 0.0


def test_spine_synapse_needs_a_rule_and_clamping_needs_a_membrane():
    with pytest.raises(ValueError, match="rule"):
        SpineSynapse(SpineModel())
    with pytest.raises(ValueError, match="synapse_spines"):
        SpineSynapse(SpineModel(rule=KinaseCompetition()), synapse_spines=(2,))
    with pytest.raises(ValueError, match="membrane to hold"):
        VoltageClampExperiment().check_model(STDPSynapse(PairSTDP.song_miller_abbott()))
