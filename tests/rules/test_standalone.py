"""Standalone drive of a rule by prescribed calcium, checked on a linear rule with closed forms.

The test rule is a leaky integrator of calcium above rest: tau dx/dt = (Ca - rest) - x, efficacy
1 + x. For a plateau of height A over [0, T] followed by rest:
  x(t) = A (1 - exp(-t/tau))                     for t <= T
  x(t) = A (1 - exp(-T/tau)) exp(-(t - T)/tau)    for t > T
and for a ramp Ca - rest = a t: x(t) = a (t - tau (1 - exp(-t/tau))).
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import plastic  # noqa: F401  (float64)
from plastic.rules.base import AbstractRule
from plastic.rules.standalone import (
    CalciumPlateau,
    InterpolatedCalcium,
    plateau_efficacy,
    solve_rule,
)


class LeakyIntegrator(AbstractRule):
    tau: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=50.0)
    rest: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.05)

    def initial_state(self):
        return jnp.zeros_like(self.tau)

    def vector_field(self, t, state, signals):
        return (signals.calcium - self.rest - state) / self.tau

    def efficacy(self, state):
        return 1.0 + state


def plateau_closed_form(amplitude, duration, tau, t):
    t = np.asarray(t, dtype=float)
    during = amplitude * (1.0 - np.exp(-np.minimum(t, duration) / tau))
    return np.where(t <= duration, during, during * np.exp(-(t - duration) / tau))


def test_plateau_and_interpolated_traces():
    plateau = CalciumPlateau(amplitude=0.4, duration=100.0, rest=0.05, onset=20.0)
    values = jax.vmap(plateau)(jnp.array([0.0, 19.999, 20.0, 119.999, 120.0, 500.0]))
    np.testing.assert_allclose(values, [0.05, 0.05, 0.45, 0.45, 0.05, 0.05])
    np.testing.assert_allclose(plateau.edges, [20.0, 120.0])
    ts, ys = np.array([0.0, 10.0, 30.0]), np.array([0.1, 0.3, 0.2])
    trace = InterpolatedCalcium(ts, ys)
    query = np.array([-5.0, 0.0, 5.0, 10.0, 20.0, 30.0, 40.0])
    np.testing.assert_allclose(jax.vmap(trace)(jnp.asarray(query)), np.interp(query, ts, ys))


@jax.jit
def _plateau_solution(rule, plateau, save_ts):
    return solve_rule(rule, plateau, 0.0, 400.0, jump_ts=plateau.edges, save_ts=save_ts)


def test_plateau_response_matches_closed_form():
    rule = LeakyIntegrator(tau=50.0)
    save_ts = jnp.array([10.0, 60.0, 120.0, 150.0, 300.0])
    solution = _plateau_solution(rule, CalciumPlateau(0.8, 120.0), save_ts)
    np.testing.assert_allclose(solution.ts, save_ts)
    np.testing.assert_allclose(
        solution.states, plateau_closed_form(0.8, 120.0, 50.0, save_ts), rtol=1e-6, atol=1e-9
    )
    expected_end = 1.0 + plateau_closed_form(0.8, 120.0, 50.0, 400.0)
    assert float(solution.efficacy) == pytest.approx(float(expected_end), rel=1e-7)


def test_jump_ts_catch_a_brief_pulse_late_in_a_long_quiet_solve():
    # From rest the vector field is zero, so without the edges the controller's steps grow far
    # beyond a 2 ms pulse at t = 5 s and can step over it; with them the pulse is resolved.
    rule = LeakyIntegrator(tau=20.0)
    pulse = CalciumPlateau(amplitude=1.0, duration=2.0, onset=5000.0)
    expected = plateau_closed_form(1.0, 2.0, 20.0, 10.0)  # 8 ms after the pulse ends
    with_edges = solve_rule(rule, pulse, 0.0, 5010.0, jump_ts=pulse.edges)
    without_edges = solve_rule(rule, pulse, 0.0, 5010.0)
    assert float(with_edges.final_state) == pytest.approx(float(expected), rel=1e-6)
    assert abs(float(without_edges.final_state) - float(expected)) > 0.5 * float(expected)


def test_interpolated_ramp_matches_closed_form():
    rule = LeakyIntegrator(tau=30.0, rest=0.0)
    ramp = InterpolatedCalcium(jnp.array([0.0, 100.0]), jnp.array([0.0, 2.0]))  # a = 0.02 uM/ms
    solution = solve_rule(rule, ramp, 0.0, 100.0, save_ts=jnp.array([25.0, 50.0, 99.0]))
    t = np.array([25.0, 50.0, 99.0])
    np.testing.assert_allclose(
        solution.states, 0.02 * (t - 30.0 * (1.0 - np.exp(-t / 30.0))), rtol=1e-6
    )


def test_implicit_solver_on_a_stiff_rule():
    # tau = 1 us over a 1 s solve: a stiffness ratio of 1e6.
    rule = LeakyIntegrator(tau=1e-3)
    plateau = CalciumPlateau(0.5, 600.0)
    solution = solve_rule(
        rule,
        plateau,
        0.0,
        1000.0,
        jump_ts=plateau.edges,
        solver=diffrax.Kvaerno3(),
        save_ts=jnp.array([300.0, 1000.0]),
    )
    np.testing.assert_allclose(solution.states, [0.5, 0.0], atol=1e-6)


def test_gradients_with_respect_to_the_plateau_match_closed_form():
    tau, amplitude, duration, consolidation = 40.0, 0.6, 30.0, 50.0
    rule = LeakyIntegrator(tau=tau)

    def change(a, d):
        return plateau_efficacy(rule, a, d, consolidation=consolidation) - 1.0

    g_amplitude, g_duration = jax.jit(jax.grad(change, argnums=(0, 1)))(amplitude, duration)
    decay = np.exp(-consolidation / tau)
    # x_end = A (1 - exp(-T/tau)) exp(-C/tau): d/dA and d/dT by hand.
    assert float(g_amplitude) == pytest.approx((1 - np.exp(-duration / tau)) * decay, rel=1e-5)
    expected_duration = amplitude * np.exp(-duration / tau) / tau * decay
    assert float(g_duration) == pytest.approx(expected_duration, rel=1e-5)


def test_vmap_over_plateaus_matches_loop():
    rule = LeakyIntegrator()
    amplitudes = jnp.array([0.1, 0.5, 1.0])
    durations = jnp.array([10.0, 100.0, 300.0])
    batched = jax.jit(jax.vmap(lambda a, d: plateau_efficacy(rule, a, d, consolidation=100.0)))(
        amplitudes, durations
    )
    for a, d, b in zip(amplitudes, durations, batched, strict=True):
        expected = 1.0 + plateau_closed_form(float(a), float(d), 50.0, float(d) + 100.0)
        assert float(b) == pytest.approx(float(expected), rel=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(amplitude=0.5, duration=-1.0), r"CalciumPlateau\.duration"),
        (dict(amplitude=0.5, duration=10.0, rest=float("nan")), r"CalciumPlateau\.rest"),
        (dict(amplitude=-0.2, duration=10.0, rest=0.05), r"CalciumPlateau\.amplitude"),
    ],
)
def test_invalid_plateau(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CalciumPlateau(**kwargs)
