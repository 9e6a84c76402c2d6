"""The spine model's vector field: charge and calcium bookkeeping (Faraday), and the rest state."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np

import plastic  # noqa: F401
from plastic.model import SpineModel
from plastic.protocols import Drive
from plastic.units import FARADAY


def test_head_calcium_influx_obeys_faraday():
    # No extrusion, no neck exchange: every coulomb of calcium current into the head must show
    # up as calcium (free + buffered) in the head volume, 1 / (2 F) mol per coulomb.
    state = SpineModel().resting_state()
    model = eqx.tree_at(
        lambda m: (m.calcium.head_extrusion_rate, m.calcium.diffusion_coefficient),
        SpineModel(),
        (jnp.asarray(0.0), jnp.asarray(0.0)),
    )
    state = eqx.tree_at(
        lambda s: (s.head_voltage, s.nmda, s.vgcc),
        state,
        (jnp.array([-20.0, -70.0]), jnp.array([[0.0, 0.5], [0.0, 0.0]]), state.vgcc.at[0].set(0.5)),
    )
    drive = Drive(glutamate=jnp.zeros(2), soma_current=jnp.zeros(()))
    derivative = model.derivative(state, drive)
    temperature = model.temperature
    calcium_current = model.nmda.calcium_current(
        state.nmda, state.head_voltage, temperature
    ) + model.vgcc.head_current(state.vgcc, state.head_voltage, model.geometry.spines.head_area)
    assert float(calcium_current[0]) < -0.01  # a real inward calcium current, pA
    # pA = 1e-12 C/s = 1e-15 C/ms; moles per ms / volume (fL = 1e-15 L) -> M/ms -> uM/ms.
    expected = (
        -np.asarray(calcium_current)
        * 1e-15
        / (2 * FARADAY)
        / (np.asarray(model.geometry.spines.head_volume) * 1e-15)
        * 1e6
    )
    total = np.asarray(derivative.head_calcium) * (1 + float(model.calcium.head_buffer_capacity))
    np.testing.assert_allclose(total, expected, rtol=1e-12, atol=1e-15)


def test_nmda_calcium_flows_in_past_the_nmda_reversal():
    # During a back-propagating spike the head passes 0 mV: the NMDA current turns outward but
    # its calcium part (E_Ca ~ +130 mV) still flows in.
    nmda = SpineModel().nmda
    gating = jnp.array([[0.0, 0.5]])
    for voltage in (-70.0, -20.0, 20.0):
        v = jnp.array([voltage])
        assert float(nmda.calcium_current(gating, v, 21.0)[0]) < 0.0
    assert float(nmda.current(gating, jnp.array([20.0]), 21.0)[0]) > 0.0
    # At the reference potential the calcium part is `calcium_fraction` of the total.
    v = jnp.array([float(nmda.calcium_reference_potential)])
    ratio = nmda.calcium_current(gating, v, 21.0) / nmda.current(gating, v, 21.0)
    np.testing.assert_allclose(np.asarray(ratio), float(nmda.calcium_fraction), rtol=1e-12)
