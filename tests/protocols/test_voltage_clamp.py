"""The voltage clamp of the spine model against NEURON's SEClamp: the same passive cell, clamped
at the soma or on the dendrite through a series resistance."""

import jax.numpy as jnp
import numpy as np
import pytest

from plastic.geometry import Geometry, Spines
from plastic.model import SpineModel
from plastic.protocols import VoltageClamp, event_protocol
from plastic.simulate import SolverSettings
from tests.conftest import passive, simulate_jit
from tests.neuron_reference import run_passive

pytest.importorskip("neuron")

TIGHT = SolverSettings(rtol=1e-8, atol=1e-8)
POSITIONS = np.array([0.0, 25.0, 50.0, 100.0, 150.0, 195.0])
T_STOP = 60.0


@pytest.mark.parametrize(
    "site, command, series_resistance",
    [(0.0, -60.0, 10.0), (0.0, -40.0, 1.0), (100.0, -50.0, 10.0), (0.0, -90.0, 10.0)],
)
def test_clamped_cell_matches_neuron_seclamp(site, command, series_resistance):
    model = passive(SpineModel(geometry=Geometry(spines=Spines(position=(40.0, 42.0)))))
    clamp = VoltageClamp(command, position=site, conductance=1e3 / series_resistance)
    protocol = event_protocol([[20.0], []], [], duration=T_STOP, clamp=clamp)
    times = jnp.arange(0.0, T_STOP, 0.02)
    states = simulate_jit(model, protocol, times, TIGHT).states
    weights = model.geometry.attachment_weights(jnp.asarray(POSITIONS))
    nodes = jnp.concatenate([states.soma_voltage[:, None], states.dendrite_voltage], axis=1)
    ours = np.asarray(nodes @ weights.T)[-1]
    reference = run_passive(
        model,
        uncaging_onset=20.0,
        clamp=(site, command, series_resistance),
        record_positions=POSITIONS,
        t_stop=T_STOP,
    )
    rest = float(model.geometry.dendrite.resting_potential)
    # The potential along the cell at the end, as a displacement from rest: the clamp pulls
    # the whole cable, most at its site, and the series resistance leaves an error there.
    np.testing.assert_allclose(ours - rest, reference["dendrite_final"] - rest, rtol=0.02)
    np.testing.assert_allclose(
        states.head_voltage[-1] - rest, reference["head_final"] - rest, rtol=0.02
    )
    # The uncaging EPSP in the head rides on the clamped dendrite (the space-clamp error).
    head_peak = float(states.head_voltage[:, 0].max()) - rest
    np.testing.assert_allclose(head_peak, max(reference["head"][0], 0.0), rtol=0.05, atol=1e-6)
    at_site = np.interp(site, POSITIONS, reference["dendrite_final"])
    assert abs(at_site - command) < 0.25 * abs(command - rest)
    assert abs(reference["dendrite_final"][-1] - rest) < abs(at_site - rest)
