"""Standalone drive of a rule by prescribed signals, checked on linear rules with closed forms.

The calcium test rule is a leaky integrator of calcium above rest: tau dx/dt = (Ca - rest) - x,
efficacy 1 + x. For a plateau of height A over [0, T] followed by rest:
  x(t) = A (1 - exp(-t/tau))                     for t <= T
  x(t) = A (1 - exp(-T/tau)) exp(-(t - T)/tau)    for t > T
and for a ramp Ca - rest = a t: x(t) = a (t - tau (1 - exp(-t/tau))).
The full-signals drive (`HermiteSignals`) is checked with `SignalIntegrals`, whose state is the
integral of every signal: for polynomial pieces the integrals are exact polynomials.
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import plastic  # noqa: F401  (float64)
from plastic.rules.base import AbstractRule, SynapseSignals
from plastic.rules.standalone import (
    CalciumPlateau,
    HermiteSignals,
    InterpolatedCalcium,
    plateau_efficacy,
    solve_rule,
)
from tests.rules.probes import SignalIntegrals


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


# Piecewise-polynomial signals on [0, 6] ms with nodes NODES (the zero-length interval at 3 ms is
# never used). Calcium (uM) is one cubic throughout; the head voltage (mV) is continuous with a
# kink at 2 ms; glutamate is a pulse on [1, 3) ms; the soma voltage (mV) jumps at 3 ms.
NODES = np.array([0.0, 1.0, 2.0, 3.0, 3.0, 4.5, 6.0])
HERMITE_DATA = ("start", "end", "start_slope", "end_slope")


def _pieces(t, left=False):
    """The four signals at times ``t`` (numpy): limits from the left or from the right."""
    t = np.asarray(t, dtype=float)
    before = (t <= 2.0) if left else (t < 2.0)
    before_jump = (t <= 3.0) if left else (t < 3.0)
    calcium = 0.1 + 0.3 * t - 0.08 * t**2 + 0.006 * t**3
    voltage = np.where(before, -70.0 + 4.0 * t**2, -54.0 + 16.0 * (t - 2) - 3.0 * (t - 2) ** 3)
    pulse_on = (t > 1.0) if left else (t >= 1.0)
    glutamate = (pulse_on & before_jump).astype(float)
    soma_voltage = np.where(before_jump, -65.0 + t**3, -40.0 - 2.0 * (t - 3) ** 2)
    return calcium, voltage, glutamate, soma_voltage


def _slopes(t, left=False):
    """Time derivatives of `_pieces`, per ms, from the left or from the right."""
    t = np.asarray(t, dtype=float)
    before = (t <= 2.0) if left else (t < 2.0)
    before_jump = (t <= 3.0) if left else (t < 3.0)
    calcium = 0.3 - 0.16 * t + 0.018 * t**2
    voltage = np.where(before, 8.0 * t, 16.0 - 9.0 * (t - 2) ** 2)
    soma_voltage = np.where(before_jump, 3.0 * t**2, -4.0 * (t - 3))
    return calcium, voltage, np.zeros_like(t), soma_voltage


def _signals(values):
    return SynapseSignals(*(jnp.asarray(v) for v in values))


def _trace(nodes=NODES):
    starts, ends = nodes[:-1], nodes[1:]
    return HermiteSignals(
        nodes,
        start=_signals(_pieces(starts)),
        end=_signals(_pieces(ends, left=True)),
        start_slope=_signals(_slopes(starts)),
        end_slope=_signals(_slopes(ends, left=True)),
    )


def test_hermite_signals_are_exact_for_cubic_pieces():
    trace = _trace()
    t = np.concatenate([np.linspace(0.0, 6.0, 241), NODES, [-1.0, 7.0]])
    got = jax.vmap(trace)(jnp.asarray(t))
    expected = _pieces(np.clip(t, 0.0, 6.0))
    for name, want in zip(SynapseSignals.__dataclass_fields__, expected, strict=True):
        np.testing.assert_allclose(getattr(got, name), want, rtol=1e-13, atol=1e-12, err_msg=name)


def _integrals_closed_form(t1):
    """The exact integrals of `_pieces` over [0, t1], t1 >= 3."""
    calcium = 0.1 * t1 + 0.15 * t1**2 - 0.08 / 3 * t1**3 + 0.0015 * t1**4
    voltage = (-140.0 + 32.0 / 3) + (-54.0 * (t1 - 2) + 8.0 * (t1 - 2) ** 2 - 0.75 * (t1 - 2) ** 4)
    glutamate = 2.0
    soma = (-195.0 + 81.0 / 4) + (-40.0 * (t1 - 3) - 2.0 / 3 * (t1 - 3) ** 3)
    return calcium, voltage, glutamate, soma


@jax.jit
def _integrate(trace):
    # Steps end on every node, so each lies within one cubic piece (Tsit5 integrates it exactly,
    # and the gradient with respect to the trace is that of the exact integral).
    solution = solve_rule(
        SignalIntegrals(), trace, 0.0, 6.0, jump_ts=trace.ts, rtol=1e-12, atol=1e-12
    )
    return solution.final_state


def test_hermite_signals_drive_a_rule_with_every_signal():
    got = _integrate(_trace())
    for name, want in zip(
        SynapseSignals.__dataclass_fields__, _integrals_closed_form(6.0), strict=True
    ):
        assert float(getattr(got, name)) == pytest.approx(want, rel=1e-10), name
    # A calcium-only drive holds both voltages at ``voltage`` and glutamate at 0.
    calcium_only = solve_rule(
        SignalIntegrals(), InterpolatedCalcium([0.0, 6.0], [0.2, 0.2]), 0.0, 6.0, voltage=-61.0
    ).final_state
    np.testing.assert_allclose(
        [calcium_only.calcium, calcium_only.voltage, calcium_only.glutamate],
        [1.2, -366.0, 0.0],
        rtol=1e-12,
    )
    assert float(calcium_only.soma_voltage) == pytest.approx(-366.0, rel=1e-12)


def test_gradient_with_respect_to_the_trace():
    # The integral of a cubic Hermite piece of width h is h (y0 + y1) / 2 + h^2 (m0 - m1) / 12.
    def calcium_integral(trace):
        return _integrate(trace).calcium

    grads = jax.jit(jax.grad(calcium_integral))(_trace())
    widths = np.diff(NODES)
    np.testing.assert_allclose(grads.start.calcium, widths / 2, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(grads.end_slope.calcium, -(widths**2) / 12, rtol=1e-8, atol=1e-12)


def test_padded_traces_batch_under_vmap():
    trace = _trace()
    # The first three intervals, [0, 3] ms: past 3 ms the end values (left limits) are held.
    short = HermiteSignals(
        NODES[:4], *(jax.tree.map(lambda y: y[:3], getattr(trace, f)) for f in HERMITE_DATA)
    )
    padded = short.pad_to(len(NODES))
    for t in (2.5, 3.0, 5.0):
        for name in SynapseSignals.__dataclass_fields__:
            np.testing.assert_allclose(
                getattr(padded(jnp.asarray(t)), name), getattr(short(jnp.asarray(t)), name)
            )
    np.testing.assert_allclose(padded(jnp.asarray(5.0)).glutamate, 1.0)
    batched = jax.vmap(_integrate)(jax.tree.map(lambda *x: jnp.stack(x), trace, padded))
    for i, expected in enumerate([_integrate(trace), _integrate(padded)]):
        for name in SynapseSignals.__dataclass_fields__:
            np.testing.assert_allclose(
                getattr(batched, name)[i], getattr(expected, name), rtol=1e-12, err_msg=name
            )


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(ts=np.array([0.0])), r"HermiteSignals\.ts needs at least 2 times"),
        (dict(ts=NODES[::-1].copy()), r"HermiteSignals\.ts must be non-decreasing"),
        (dict(ts=np.linspace(0.0, 6.0, 5)), r"HermiteSignals\.start\.calcium must have shape"),
    ],
)
def test_invalid_hermite_signals(change, match):
    trace = _trace()
    fields = {f: getattr(trace, f) for f in ("ts",) + HERMITE_DATA}
    with pytest.raises(ValueError, match=match):
        HermiteSignals(**{**fields, **change})
