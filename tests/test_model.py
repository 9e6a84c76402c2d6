"""The spine model's vector field: charge and calcium bookkeeping (Faraday), and the rest state."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401
from plastic.geometry import Geometry, Spines
from plastic.model import SpineModel
from plastic.protocols import Drive
from plastic.rules.base import SynapseSignals
from plastic.studies.tazerart2020 import tazerart_model
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


def _plasticity_trajectory(model, signals, t1):
    """Rule and expression state of every spine after ``t1`` ms of constant ``signals``."""
    state = model.resting_state()
    y0 = (state.rule, state.expression)

    def vector_field(t, y, args):
        return model.plasticity_derivative(y[0], y[1], signals)

    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(vector_field),
        diffrax.Tsit5(),
        0.0,
        t1,
        1e-3,
        y0,
        stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-12),
        max_steps=100_000,
    )
    return jax.tree.map(lambda x: np.asarray(x[-1]), solution.ys)


def test_plasticity_q10_rescales_time_of_rule_coupling_and_expression():
    """At 10 degC above the reference, Q10 = 2.5 makes the whole cascade run 2.5x faster: 40 s
    under constant calcium reach the states that 100 s reach at the reference temperature
    (every leaf: a rate left unscaled would break the match). At the reference it does nothing."""
    model = tazerart_model()
    # uM: above the fitted rule's structural thresholds at the uncaged spine, some at its neighbour
    calcium = jnp.array([10.0, 2.5])
    signals = SynapseSignals(calcium, jnp.full(2, -40.0), jnp.zeros(2), jnp.full(2, -60.0))
    # Calcium sensitivity left at Q10 = 1: this test isolates the time scaling.
    reference = eqx.tree_at(
        lambda m: (m.plasticity_q10, m.calcium_sensitivity_q10), model, (2.5, 1.0)
    )
    warm = eqx.tree_at(lambda m: m.temperature, reference, reference.temperature + 10.0)
    fast = _plasticity_trajectory(warm, signals, 40_000.0)
    slow = _plasticity_trajectory(reference, signals, 100_000.0)
    resting = model.resting_state()
    # Long enough for the slow expression (insertion, neck, head) to move too: head volume moves
    # least (0.2% in 100 s), still 10^6 x the tolerance below.
    moved = jax.tree.map(np.subtract, slow[1], resting.expression)
    assert all(float(np.abs(x).max()) > 1e-3 for x in jax.tree.leaves(moved))
    for got, want in zip(jax.tree.leaves(fast), jax.tree.leaves(slow)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)

    state = model.resting_state()
    unscaled = model.plasticity_derivative(state.rule, state.expression, signals)
    scaled = reference.plasticity_derivative(state.rule, state.expression, signals)
    for got, want in zip(jax.tree.leaves(scaled), jax.tree.leaves(unscaled)):
        np.testing.assert_allclose(got, want, rtol=1e-14)


def test_calcium_sensitivity_q10_lowers_the_rule_thresholds():
    """At 11 degC above the reference, calcium_sensitivity_q10 = 1.8 gives the rule the same
    derivative as the reference temperature with Ca-CaM half-activated at 1.8 ** 1.1 times less
    calcium (every calcium threshold of the rule moves with it); the rest of the model does not
    see it. At the reference it does nothing."""
    # Rates independent of temperature, so that only the thresholds move.
    model = eqx.tree_at(lambda m: m.plasticity_q10, tazerart_model(), 1.0)
    calcium = jnp.array([2.5, 0.5])  # uM: below the CaMKII threshold at the uncaged spine
    signals = SynapseSignals(calcium, jnp.full(2, -40.0), jnp.zeros(2), jnp.full(2, -60.0))
    state = model.resting_state()
    sensitive = eqx.tree_at(lambda m: m.calcium_sensitivity_q10, model, 1.8)
    warm = eqx.tree_at(lambda m: m.temperature, sensitive, sensitive.temperature + 11.0)
    shifted = eqx.tree_at(lambda m: m.rule.cam_half, model, model.rule.cam_half / 1.8**1.1)
    got = warm.plasticity_derivative(state.rule, state.expression, signals)
    want = shifted.plasticity_derivative(state.rule, state.expression, signals)
    baseline = model.plasticity_derivative(state.rule, state.expression, signals)
    assert float(got[0].camkii[0]) > 2.0 * float(baseline[0].camkii[0])
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    at_reference = sensitive.plasticity_derivative(state.rule, state.expression, signals)
    for a, b in zip(jax.tree.leaves(at_reference), jax.tree.leaves(baseline)):
        np.testing.assert_allclose(a, b, rtol=1e-14)


@pytest.mark.parametrize("field", ["plasticity_q10", "calcium_sensitivity_q10"])
@pytest.mark.parametrize("q10", [-1.0, 0.0, float("nan")])
def test_bad_q10_is_refused_by_name(field, q10):
    with pytest.raises(ValueError, match=f"SpineModel.{field}"):
        SpineModel(**{field: q10})


def test_resting_state_gradient_matches_finite_differences():
    # The rest is differentiated implicitly (jax.lax.custom_root), not through Newton's steps.
    def rest(parameters):
        model = eqx.tree_at(
            lambda m: (
                m.vgcc.density,
                m.spike.potassium_conductance,
                m.geometry.soma.leak_conductance,
            ),
            SpineModel(),
            (parameters[0], parameters[1], parameters[2]),
        )
        state = model.resting_state()
        return state.soma_voltage + state.head_calcium.sum() + state.vgcc[:, 0].sum()

    model = SpineModel()
    parameters = jnp.stack(
        [
            model.vgcc.density,
            model.spike.potassium_conductance,
            model.geometry.soma.leak_conductance,
        ]
    )
    gradient = np.asarray(jax.grad(rest)(parameters))
    steps = 1e-3 * np.abs(np.asarray(parameters))
    expected = [
        (rest(parameters.at[i].add(step)) - rest(parameters.at[i].add(-step))) / (2 * step)
        for i, step in enumerate(steps)
    ]
    assert np.all(np.abs(gradient) > 0)  # each parameter moves the rest
    np.testing.assert_allclose(gradient, expected, rtol=1e-4)


def test_neck_currents_solve_the_coupled_attachment_system():
    # Three spines between the same two nodes are coupled through the cable between them.
    spines = Spines(
        position=(41.0, 43.0, 44.5),
        neck_length=(1.0, 1.2, 0.8),
        neck_diameter=(0.1, 0.12, 0.1),
        head_volume=(0.07, 0.05, 0.1),
    )
    geometry = Geometry(spines=spines)
    model = SpineModel(geometry=geometry)
    state = model.resting_state()
    rng = np.random.default_rng(0)
    state = eqx.tree_at(
        lambda s: (s.dendrite_voltage, s.head_voltage),
        state,
        (
            jnp.asarray(-70.0 + 10 * rng.random(20)),
            jnp.asarray(-70.0 + 10 * rng.random(3)),
        ),
    )
    resistance = np.asarray(geometry.attachment_resistance(geometry.spines.position))
    assert resistance[0, 2] > 0  # coupled
    g = np.asarray(geometry.neck_conductance)
    nodes = np.concatenate([[float(state.soma_voltage)], np.asarray(state.dendrite_voltage)])
    weights = np.asarray(geometry.attachment_weights(geometry.spines.position))
    drive = g * (weights @ nodes - np.asarray(state.head_voltage))
    expected = np.linalg.solve(np.eye(3) + g[:, None] * resistance, drive)
    np.testing.assert_allclose(model.neck_current(state), expected, rtol=1e-12)
