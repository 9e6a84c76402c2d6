"""The diffrax solve: against scipy, pulse edges, vmap against a loop, gradients against FD."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastic.experiment import AFTER_PAIRING_DELAY, dendrite_calcium_at_spines
from plastic.geometry import Geometry, Spines
from plastic.model import SpineModel
from plastic.protocols import event_protocol, pairing_protocol
from plastic.reference import solve_with_scipy
from plastic.simulate import SolverSettings, simulate
from plastic.solver_status import SolveFailedError
from tests.conftest import simulate_jit

SHORT = dict(n_pairings=2, period=400.0, first_pairing=50.0, quiet=100.0)


def _peaks_and_integrals(times, calcium, starts, window=300.0):
    """Per pairing and spine: peak and trapezoid integral of head calcium over the window."""
    peaks, integrals = [], []
    for start in starts:
        inside = (times >= start) & (times <= start + window)
        peaks.append(calcium[inside].max(axis=0))
        integrals.append(np.trapezoid(calcium[inside], times[inside], axis=0))
    return np.array(peaks), np.array(integrals)


def test_full_model_matches_scipy_radau(default_model):
    protocol = pairing_protocol(13.0, uncaged_spines=(0, 1), **SHORT)
    times = np.arange(0.0, float(protocol.duration), 0.05)
    ours = simulate_jit(
        default_model, protocol, jnp.asarray(times), SolverSettings(rtol=1e-8, atol=1e-8)
    )
    reference, _ = solve_with_scipy(default_model, protocol, times, rtol=1e-10, atol=1e-12)
    starts = np.asarray(protocol.pairing_start)
    our_peak, our_integral = _peaks_and_integrals(
        times, np.asarray(ours.states.head_calcium), starts
    )
    ref_peak, ref_integral = _peaks_and_integrals(times, np.asarray(reference.head_calcium), starts)
    np.testing.assert_allclose(our_peak, ref_peak, rtol=1e-4)
    np.testing.assert_allclose(our_integral, ref_integral, rtol=1e-4)
    # The readout is a real calcium transient, not a resting trace.
    assert np.all(ref_peak > 5 * float(default_model.calcium.resting_calcium))


def test_a_pulse_cannot_be_stepped_over(default_model):
    # One uncaging pulse after a long quiet stretch in which the steps have grown large, against
    # the same pulse at the start (from rest, the response is invariant under a time shift).
    late = event_protocol([[3000.0], []], [], duration=3400.0)
    early = event_protocol([[10.0], []], [], duration=410.0)
    declared = simulate_jit(default_model, late, jnp.arange(2990.0, 3400.0, 0.1))
    reference = simulate_jit(default_model, early, jnp.arange(0.0, 410.0, 0.1))
    peak_fine = float(reference.states.head_voltage[:, 0].max())
    np.testing.assert_allclose(
        float(declared.states.head_voltage[:, 0].max()), peak_fine, rtol=1e-3
    )
    times = jnp.arange(2990.0, 3400.0, 0.1)
    # Without the edges the controller, seeing only rest, steps over the 2 ms pulse.
    blind = simulate_jit(default_model, late, times, SolverSettings(declare_pulse_edges=False))
    rest = float(default_model.geometry.dendrite.resting_potential)
    assert float(blind.states.head_voltage[:, 0].max()) - rest < 0.1 * (peak_fine - rest)


def _distance_model(distance):
    return SpineModel(geometry=Geometry(spines=Spines(position=(30.0, 30.0 + distance))))


def test_vmap_over_delta_t_and_distance_equals_a_loop():
    delta_ts = jnp.array([-15.0, 7.0, 13.0])
    distances = jnp.array([2.0, 40.0, 90.0])
    kwargs = dict(n_pairings=1, first_pairing=20.0, quiet=60.0, uncaged_spines=(0, 1))
    # Batched Newton iterations run until every element converges, so vmap and a loop agree to
    # the solver tolerance, not to the last bit: solve tightly.
    settings = SolverSettings(rtol=1e-10, atol=1e-10)

    def readout(delta_t, distance):
        model, protocol = _distance_model(distance), pairing_protocol(delta_t, **kwargs)
        at = protocol.pairing_end[:1] + AFTER_PAIRING_DELAY
        sim = simulate(model, protocol, at, settings=settings)
        states = sim.states
        return jnp.stack([states.head_calcium[0], dendrite_calcium_at_spines(model, states)[0]])

    batched = eqx.filter_jit(jax.vmap(readout))(delta_ts, distances)
    single = eqx.filter_jit(readout)
    looped = np.stack([single(dt, d) for dt, d in zip(delta_ts, distances)])
    np.testing.assert_allclose(np.asarray(batched), looped, rtol=1e-8)
    assert len({round(float(x), 6) for x in np.asarray(batched)[:, 0, 0]}) == 3


PARAMETERS = {
    "ampa.conductance": lambda m: m.ampa.conductance,
    "nmda.conductance": lambda m: m.nmda.conductance,
    "nmda.tau_decay": lambda m: m.nmda.tau_decay,
    "vgcc.density": lambda m: m.vgcc.density,
    "calcium.head_extrusion_rate": lambda m: m.calcium.head_extrusion_rate,
    "spines.neck_length": lambda m: m.geometry.spines.neck_length,
}


def test_gradient_of_calcium_readout_matches_finite_differences(default_model):
    protocol = pairing_protocol(10.0, n_pairings=1, first_pairing=5.0, quiet=0.0, period=40.0)
    # Tight tolerances make the solution smooth in the parameters to far below the FD error.
    settings = SolverSettings(rtol=1e-9, atol=1e-9, max_steps=2048)
    getters = list(PARAMETERS.values())

    def with_parameters(values):
        model = default_model
        for getter, value in zip(getters, values):
            model = eqx.tree_at(getter, model, value)
        return model

    def readout(values):
        at = protocol.pairing_end + AFTER_PAIRING_DELAY
        sim = simulate(with_parameters(values), protocol, at, settings=settings)
        return sim.states.head_calcium[0, 0]

    values = [jnp.asarray(getter(default_model)) for getter in getters]
    gradient = eqx.filter_jit(jax.grad(readout))(values)
    evaluate = eqx.filter_jit(readout)
    for index, name in enumerate(PARAMETERS):
        step = 1e-3 * jnp.maximum(jnp.abs(values[index]), 1e-3)
        basis = jnp.zeros_like(values[index]).at[(0,) * values[index].ndim].set(1.0)
        plus = [v + step * basis if i == index else v for i, v in enumerate(values)]
        minus = [v - step * basis if i == index else v for i, v in enumerate(values)]
        finite_difference = (evaluate(plus) - evaluate(minus)) / (2 * float(np.ravel(step)[0]))
        analytic = float(np.ravel(gradient[index])[0])
        assert analytic == pytest.approx(float(finite_difference), rel=1e-4), name
        assert abs(analytic) > 1e-8, name  # every parameter really moves the readout


def test_nan_parameter_is_rejected_not_propagated():
    from plastic.biophysics import AMPAReceptor, CalciumHandling

    with pytest.raises(ValueError, match="AMPAReceptor.tau_decay"):
        AMPAReceptor(tau_decay=float("nan"))
    with pytest.raises(ValueError, match="CalciumHandling.head_extrusion_rate"):
        CalciumHandling(head_extrusion_rate=-1.0)
    with pytest.raises(ValueError, match="tau_decay must be greater than tau_rise"):
        AMPAReceptor(tau_rise=2.0, tau_decay=1.0)


def test_a_failed_solve_raises_eagerly_and_is_reported_under_jit(default_model):
    protocol = pairing_protocol(10.0, n_pairings=1, first_pairing=5.0, quiet=0.0, period=40.0)
    settings = SolverSettings(max_steps=16)
    with pytest.raises(SolveFailedError, match="maximum number of solver steps"):
        simulate(default_model, protocol, settings=settings)
    # Under jit nothing raises inside the program (no host callback): the code comes out.
    simulation = eqx.filter_jit(simulate)(default_model, protocol, settings=settings)
    assert int(simulation.solver_result) == int(diffrax.RESULTS.max_steps_reached._value)
    assert not np.all(np.isfinite(np.asarray(simulation.final_state.soma_voltage)))
    with pytest.raises(SolveFailedError, match="simulate: the solve failed"):
        simulation.raise_if_failed()
