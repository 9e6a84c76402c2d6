"""Graupner-Brunel driven by a prescribed spine-calcium trace (the in-model path): gradients with
respect to every parameter against finite differences, smooth thresholds against the exact
Heaviside rule, and vmap over parameter sets against a loop.

With the published Heaviside thresholds the vector field is piecewise constant in calcium, so
autodiff through a solve gives zero for ``theta_d``, ``theta_p`` and ``calcium_scale`` although
moving a threshold moves the crossing times (the spike-driven solvers of
``graupner_brunel_simulate`` locate crossings exactly and are differentiated in
``test_graupner_brunel.py``). With ``threshold_width > 0`` every parameter has a gradient, checked
here.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
from jaxtyping import Array, Float

import plastic  # noqa: F401  (float64)
from plastic.rules import GraupnerBrunel
from plastic.rules.standalone import solve_rule
from tests.rules.gb_reference import rho_between_crossings

FIELDS = (
    "theta_d",
    "theta_p",
    "gamma_d",
    "gamma_p",
    "tau",
    "rho_star",
    "sigma",
    "beta",
    "b",
    "calcium_scale",
    "threshold_width",
)
REST, PEAK, RISE = 0.07, 0.8, 10.0  # uM, uM above rest, ms
T_END = 120.0  # ms


class AlphaCalcium(eqx.Module):
    """``REST + PEAK (t / RISE) exp(1 - t / RISE)`` uM: a smooth spine transient peaking at
    ``RISE`` ms, above 0.4 uM from about 3 to 24 ms and above 0.52 uM from about 4.5 to 19 ms."""

    peak: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=PEAK)

    def __call__(self, t):
        return REST + self.peak * (t / RISE) * jnp.exp(1.0 - t / RISE)


def _rule(threshold_width):
    # DP, with the thresholds at 0.4 and 0.52 uM; a faster tau so that the 20 ms above threshold
    # moves rho by ~0.4 and the cubic term matters.
    return eqx.tree_at(
        lambda r: r.tau,
        GraupnerBrunel.from_published("DP", calcium_scale=0.4, threshold_width=threshold_width),
        jnp.asarray(10_000.0),
    )


@jax.jit
def efficacy(rule):
    solution = solve_rule(rule, AlphaCalcium(), 0.0, T_END, rtol=1e-11, atol=1e-13)
    return solution.efficacy


def _finite_difference(rule, field, relative_step=1e-5):
    value = getattr(rule, field)
    step = relative_step * abs(float(value))

    def at(x):
        return efficacy(eqx.tree_at(lambda r: getattr(r, field), rule, value + x))

    return float(at(step) - at(-step)) / (2 * step)


def test_gradients_with_smooth_thresholds_match_finite_differences():
    rule = _rule(threshold_width=0.05)
    grads = jax.jit(jax.grad(efficacy))(rule)
    # Sensitivities to relative changes; the largest sets the scale of the absolute floor.
    scale = max(abs(float(getattr(grads, f)) * float(getattr(rule, f))) for f in FIELDS)
    for field in FIELDS:
        if field == "sigma":  # the noise amplitude: no effect on the deterministic rule
            assert float(grads.sigma) == 0.0
            continue
        fd = _finite_difference(rule, field)
        tolerance = 1e-4 * abs(fd) + 1e-7 * scale / float(getattr(rule, field))
        assert abs(float(getattr(grads, field)) - fd) <= tolerance, (field, grads, fd)
    # The thresholds matter: moving one moves the crossings. (The width matters much less: a
    # symmetric logistic's first-order effect cancels across a crossing.)
    for field in ("theta_d", "theta_p", "calcium_scale"):
        assert abs(float(getattr(grads, field)) * float(getattr(rule, field))) > 1e-3 * scale


def _exact_heaviside_efficacy(rule):
    """Independent reference: crossings of the transient by brentq, DOP853 between them."""
    levels = [0.4 * float(rule.theta_d), 0.4 * float(rule.theta_p)]

    def calcium(t):
        return REST + PEAK * (t / RISE) * np.exp(1.0 - t / RISE)

    # Below the peak (at RISE) the transient rises, above it it decays: one crossing on each side.
    crossings = [
        scipy.optimize.brentq(lambda t, lv=lv: calcium(t) - lv, a, b, xtol=1e-14)
        for lv in levels
        for a, b in ((0.0, RISE), (RISE, T_END))
    ]
    breaks = [0.0, *sorted(crossings), T_END]
    rho = rho_between_crossings(rule, calcium, breaks, levels)
    beta, b = float(rule.beta), float(rule.b)
    weights = (1 - rho) + b * rho
    return (beta * weights[0] + (1 - beta) * weights[1]) / (beta + (1 - beta) * b)


def test_smooth_thresholds_converge_to_the_heaviside_rule():
    exact = _exact_heaviside_efficacy(_rule(0.0))
    # The published rule itself, solved with the discontinuity left to the step-size controller.
    assert float(efficacy(_rule(0.0))) == pytest.approx(exact, abs=1e-9)
    assert abs(exact - 1.0) > 0.01
    # A symmetric logistic errs on both sides of a crossing: the first-order terms cancel where
    # calcium is locally linear in time, so the error falls like width^2.
    widths = np.array([0.04, 0.02, 0.01])
    errors = np.array([abs(float(efficacy(_rule(w))) - exact) for w in widths])
    assert np.all(errors[1:] < errors[:-1] / 3), errors
    assert errors[-1] < 1e-3 * abs(exact - 1.0), errors


def test_vmap_over_parameter_sets_matches_loop():
    rules = [
        _rule(0.0),
        _rule(0.05),
        eqx.tree_at(
            lambda r: (r.theta_p, r.gamma_d), _rule(0.02), (jnp.asarray(1.5), jnp.asarray(150.0))
        ),
        GraupnerBrunel.from_published("cortical_slices", calcium_scale=0.3, threshold_width=0.01),
    ]
    batched = jax.jit(jax.vmap(efficacy))(jax.tree.map(lambda *x: jnp.stack(x), *rules))
    looped = [float(efficacy(rule)) for rule in rules]
    # Batched adaptive solves need not take bit-identical steps; the Heaviside rule's crossings
    # are located to the solver's tolerance (measured: 7e-10).
    np.testing.assert_allclose(batched, looped, rtol=0, atol=1e-8)
    assert len(set(np.round(looped, 8))) == len(rules)


def test_invalid_threshold_width():
    with pytest.raises(ValueError, match=r"GraupnerBrunel\.threshold_width must be a number"):
        GraupnerBrunel.from_published("DP", threshold_width=-0.1)
