"""Shouval, Bear & Cooper 2002: Omega and eta landmarks, the exact solution under constant calcium,
gradients, batching and parameter checks."""

import math

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.rules import SHOUVAL_PARAMETER_SETS, ShouvalBearCooper, SynapseSignals

FIELDS = ("alpha1", "alpha2", "beta1", "beta2", "p1", "p2", "p3", "p4", "lambda_", "calcium_rest")
REST = 0.07  # uM


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def test_omega_landmarks_2002():
    rule = ShouvalBearCooper.from_published("2002", calcium_rest=REST)
    # At rest: 0.25 + e^{-44} - 0.25 e^{-28}, i.e. 0.25 to 1e-12.
    np.testing.assert_allclose(rule.omega(0.0), 0.25, atol=1e-12)
    # In the LTD window (midway between 0.35 and 0.55 uM): 0.25 + sig(-8) - 0.25 sig(8).
    np.testing.assert_allclose(rule.omega(0.45), 0.25 + sigmoid(-8) - 0.25 * sigmoid(8), rtol=1e-12)
    assert rule.omega(0.45) < 0.001
    # At the LTP onset alpha2: 0.25 + 1/2 - 0.25 sig(80 * 0.2); high calcium: 1.
    np.testing.assert_allclose(rule.omega(0.55), 0.75 - 0.25 * sigmoid(16), rtol=1e-12)
    np.testing.assert_allclose(rule.omega(5.0), 1.0, atol=1e-12)


def test_learning_time_in_ms():
    rule = ShouvalBearCooper.from_published("2002", calcium_rest=REST)
    # tau(0) = P1/P2 + P4 = 0.1 s / 1e-5 + 1 s = 10001 s; tau(Ca) -> P4 = 1 s at high calcium.
    np.testing.assert_allclose(rule.learning_time(0.0), 10_001_000.0, rtol=1e-12)
    np.testing.assert_allclose(rule.learning_time(-0.02), 10_001_000.0, rtol=1e-12)
    np.testing.assert_allclose(rule.learning_time(1.0), 100.0 / (1e-5 + 1.0) + 1000.0, rtol=1e-12)
    np.testing.assert_allclose(rule.learning_time(100.0), 1000.0, rtol=1e-6)


def test_2004_set():
    p = SHOUVAL_PARAMETER_SETS["2004"]
    assert (p["alpha1"], p["alpha2"], p["beta1"], p["beta2"]) == (0.40, 0.65, 30.0, 30.0)
    rule = ShouvalBearCooper.from_published("2004", calcium_rest=REST)
    np.testing.assert_allclose(rule.omega(0.65), 0.75 - 0.25 * sigmoid(30 * 0.25), rtol=1e-12)


def test_rest_is_a_fixed_point_with_unit_efficacy():
    rule = ShouvalBearCooper.from_published("2002", calcium_rest=REST)
    state = rule.initial_state()
    assert rule.efficacy(state) == 1.0
    signals = SynapseSignals(*(jnp.asarray(x) for x in (REST, -65.0, 0.0, -65.0)))
    assert rule.vector_field(0.0, state, signals) == 0.0


@eqx.filter_jit
def plateau_efficacy(rule, amplitude, duration=2000.0, t_end=3000.0):
    """Efficacy after calcium ``REST + amplitude`` uM for ``duration`` ms, then ``REST``."""

    def vector_field(t, state, args):
        calcium = REST + jnp.where(t < duration, amplitude, 0.0)
        return rule.vector_field(t, state, SynapseSignals(calcium, *jnp.zeros(3)))

    solution = dfx.diffeqsolve(
        dfx.ODETerm(vector_field),
        dfx.Tsit5(),
        0.0,
        t_end,
        None,
        rule.initial_state(),
        stepsize_controller=dfx.ClipStepSizeController(
            dfx.PIDController(rtol=1e-11, atol=1e-13), jump_ts=jnp.array([duration])
        ),
        adjoint=dfx.ForwardMode(),  # gradients by jax.jacfwd: ten parameters, cheap to compile
    )
    return rule.efficacy(solution.ys[-1])


@pytest.mark.parametrize(("amplitude", "sign"), [(0.45, -1), (1.0, 1)])
def test_constant_calcium_exact_solution(amplitude, sign):
    # Constant calcium: W relaxes exponentially to Omega/lambda with time constant tau(Ca)/lambda;
    # then, back at rest, to Omega(0)/lambda with tau(0)/lambda.
    rule = ShouvalBearCooper.from_published("2002", calcium_rest=REST)
    w0 = 0.25 + sigmoid(-44.0) - 0.25 * sigmoid(-28.0)
    omega = 0.25 + sigmoid(80 * (amplitude - 0.55)) - 0.25 * sigmoid(80 * (amplitude - 0.35))
    tau = 100.0 / (1e-5 + amplitude**3) + 1000.0
    w = omega + (w0 - omega) * math.exp(-2000.0 / tau)
    w = w0 + (w - w0) * math.exp(-1000.0 / 10_001_000.0)
    efficacy = plateau_efficacy(rule, amplitude)
    np.testing.assert_allclose(efficacy, w / w0, rtol=1e-9)
    assert sign * (efficacy - 1.0) > 0.1  # 1 uM potentiates, 0.45 uM depresses


def test_gradients_match_finite_differences():
    rule = ShouvalBearCooper.from_published("2002", calcium_rest=REST)
    amplitude = 0.5  # between the two sigmoids' steep parts, all terms contribute
    grads = jax.jacfwd(plateau_efficacy)(rule, amplitude)
    for field in FIELDS:
        value = getattr(rule, field)
        step = 1e-6 * abs(float(value))

        def at(x, field=field, value=value):
            return plateau_efficacy(
                eqx.tree_at(lambda r: getattr(r, field), rule, value + x), amplitude
            )

        fd = (at(step) - at(-step)) / (2 * step)
        np.testing.assert_allclose(getattr(grads, field), fd, rtol=1e-4, atol=1e-12, err_msg=field)


def test_vmap_over_parameter_sets_equals_loop():
    rules = [ShouvalBearCooper.from_published(name, calcium_rest=REST) for name in ("2002", "2004")]
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *rules)
    batched = jax.vmap(plateau_efficacy, in_axes=(0, None))(stacked, 0.6)
    looped = [plateau_efficacy(rule, 0.6) for rule in rules]
    np.testing.assert_allclose(batched, looped, rtol=1e-12)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("p1", -100.0, r"ShouvalBearCooper\.p1 must be a number in \(0, inf\) ms uM\^p3"),
        ("p4", -1.0, r"ShouvalBearCooper\.p4 must be a number in \[0, inf\) ms"),
        ("alpha2", float("nan"), r"ShouvalBearCooper\.alpha2 must be a number"),
        (
            "calcium_rest",
            -0.01,
            r"ShouvalBearCooper\.calcium_rest must be a number in \[0, inf\) uM",
        ),
        ("beta1", 0.0, r"ShouvalBearCooper\.beta1 must be a number in \(0, inf\)"),
    ],
)
def test_invalid_parameters_raise(field, value, match):
    fields = {**SHOUVAL_PARAMETER_SETS["2002"], "calcium_rest": REST}
    with pytest.raises(ValueError, match=match):
        ShouvalBearCooper(**{**fields, field: value})
