"""The default kinase-competition rule: the calcium-control map, rest, gradients, batching.

The expected plateau map is the specification of the task (Tazerart et al. 2020, seed 000): for a
plateau of 0.05 + A uM lasting T, read 25 min later, no change at low A, LTD at moderate A, a
neutral band, LTP at high A, with LTP growing with T and LTD needing sustained calcium.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

import plastic  # noqa: F401  (float64)
from plastic.biophysics.kinetics import hill
from plastic.rules.base import SynapseSignals
from plastic.rules.kinase_competition import KinaseCompetition
from plastic.rules.standalone import MINUTE, CalciumPlateau, plateau_efficacy, solve_rule

AMPLITUDES = np.array([0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 1.0, 1.5, 2.0, 3.0])
DURATIONS = np.array([1.0, 3.0, 10.0, 60.0]) * 1000.0


@jax.jit
def _plateau_map(rule, amplitudes, durations):
    def change(a, d):
        return plateau_efficacy(rule, a, d, consolidation=25 * MINUTE) - 1.0

    return jax.vmap(jax.vmap(change, (None, 0)), (0, None))(amplitudes, durations)


@pytest.fixture(scope="module")
def plateau_map():
    changes = np.asarray(_plateau_map(KinaseCompetition(), AMPLITUDES, DURATIONS))
    return {
        (a, d): c
        for a, row in zip(AMPLITUDES, changes, strict=True)
        for d, c in zip(DURATIONS, row, strict=True)
    }


def _at(plateau_map, amplitudes, duration):
    return np.array([plateau_map[(a, duration)] for a in amplitudes])


def _over_durations(plateau_map, amplitude):
    return np.array([plateau_map[(amplitude, d)] for d in DURATIONS])


def test_calcium_control_regions_for_a_long_plateau(plateau_map):
    long = 60_000.0
    no_change = _at(plateau_map, [0.0, 0.05, 0.1], long)
    ltd = _at(plateau_map, [0.2, 0.3, 0.4, 0.5], long)
    neutral = _at(plateau_map, [0.7, 0.8, 1.0], long)
    ltp = _at(plateau_map, [1.5, 2.0, 3.0], long)
    assert np.all(np.abs(no_change) < 0.015), no_change
    assert np.all(ltd < -0.1), ltd
    assert np.all(np.abs(neutral) < 0.03), neutral
    assert np.all(ltp > 0.3), ltp
    # The ordering along calcium: nothing, then down, then back to nothing, then up.
    assert ltd.min() < -0.25 and ltp.min() > 2 * np.abs(neutral).max()


def _resting_signals(rule):
    """Resting calcium, resting voltages, no glutamate."""
    rest = jnp.asarray(rule.calcium_rest)
    return SynapseSignals(rest, jnp.asarray(-65.0), jnp.asarray(0.0), jnp.asarray(-65.0))


def test_rest_is_stable(plateau_map):
    # A = 0: 25 min plus up to 1 min at resting calcium from the resting state.
    assert all(abs(plateau_map[(0.0, d)]) < 1e-5 for d in DURATIONS)
    rule = KinaseCompetition()
    derivative = rule.vector_field(0.0, rule.initial_state(), _resting_signals(rule))
    for name in ("camkii", "can", "dapk1", "pp1", "pka", "camkii_n2b", "dapk1_n2b"):
        assert abs(float(getattr(derivative, name))) < 1e-15, name
    assert abs(float(derivative.weight)) < 1e-11  # per ms: < 4e-5 per hour


def _camkii_after(rule, amplitude, duration=5_000.0, quiet=10 * MINUTE):
    """CaMKII's active fraction ``quiet`` ms after a plateau of ``0.05 + amplitude`` uM."""
    plateau = CalciumPlateau(amplitude, duration)
    solution = solve_rule(rule, plateau, 0.0, duration + quiet, jump_ts=plateau.edges)
    return float(solution.final_state.camkii)


def test_autophosphorylation_makes_camkii_bistable():
    inactivation = float(KinaseCompetition().k_camkii_inact)
    bistable = KinaseCompetition(k_camkii_auto=3.0 * inactivation)
    # Rest: the lowest steady state, not the self-sustained one.
    initial = bistable.initial_state()
    derivative = bistable.vector_field(0.0, initial, _resting_signals(bistable))
    assert abs(float(derivative.camkii)) < 1e-15
    assert float(initial.camkii) < 1e-6
    # The other steady states of c' = 3 k_inact h(c; 0.3, 4) (1 - c) - k_inact c at rest
    # (activation by Ca-CaM is ~1e-10 there): unstable near 0.15, stable near 0.74.
    high = brentq(lambda c: 3.0 * c**4 / (c**4 + 0.3**4) * (1.0 - c) - c, 0.5, 0.99)
    # 3 uM for 5 s activates most CaMKII, which then keeps itself on at rest; without
    # autophosphorylation it decays with k_inact (10 min = 300 time constants).
    assert _camkii_after(bistable, 3.0) == pytest.approx(high, abs=1e-4)
    assert _camkii_after(KinaseCompetition(), 3.0) < 1e-6
    # 0.5 uM leaves Ca-CaM far below CaMKII's threshold: no switch.
    assert _camkii_after(bistable, 0.5) < 1e-6


def test_duration_dependence(plateau_map):
    ltp = _over_durations(plateau_map, 2.0)  # a high plateau, 1 s to 60 s
    assert np.all(np.diff(ltp) > 0), ltp
    assert ltp[0] < 0.1 * ltp[-1], "a brief high plateau gives (almost) no LTP"
    ltd = _over_durations(plateau_map, 0.3)  # moderate calcium
    assert abs(ltd[0]) < 0.01, "a brief moderate plateau gives no LTD"
    assert np.all(np.diff(ltd) < 0) and ltd[-1] < -0.25, ltd


def test_half_activation_calcium():
    rule = KinaseCompetition()
    camkii, can, pka = rule.half_activation_calcium()
    # By hand from the defaults: 2 uM (h / (1 - h))^(1/4) for h = 0.2, 8e-4 and 0.04.
    np.testing.assert_allclose(
        [camkii, can, pka], [2 * 0.25**0.25, 2 * (8e-4 / (1 - 8e-4)) ** 0.25, 2 / 24**0.25]
    )
    # The branch's Hill function of Ca-CaM is one half there (whatever its coefficient).
    for level, half in ((camkii, rule.camkii_half), (can, rule.can_half), (pka, rule.pka_half)):
        assert float(hill(rule.calmodulin(level), half, 3.0)) == pytest.approx(0.5)


def test_hill_function():
    # x^n / (x^n + K^n) by hand: 0.5 at x = K, 1/17 at x = K/2 with n = 4, 0 at x = 0.
    assert float(hill(2.0, 2.0, 4.0)) == pytest.approx(0.5)
    assert float(hill(1.0, 2.0, 4.0)) == pytest.approx(1.0 / 17.0)
    assert float(hill(0.0, 2.0, 4.0)) == 0.0
    g = jax.grad(hill, argnums=(0, 1, 2))(0.0, 2.0, 4.0)
    assert all(np.isfinite(float(x)) for x in g)


def _parameters(rule):
    return {f: float(getattr(rule, f)) for f in rule.__dataclass_fields__}


def _change(parameters, amplitude, duration):
    rule = KinaseCompetition(**parameters)
    efficacy = plateau_efficacy(
        rule, amplitude, duration, consolidation=2 * MINUTE, rtol=1e-9, atol=1e-11
    )
    return efficacy - 1.0


# Module level, so that both operating points share one compilation.
_change_jit = jax.jit(_change)
_change_grad = jax.jit(jax.grad(_change))


@pytest.mark.parametrize(
    "amplitude, duration, autophosphorylation",
    # Away from saturation: the rising edge of the CaMKII threshold (LTP), and an LTD plateau;
    # and the LTP edge with (monostable) autophosphorylation, whose rate is 0 by default.
    [(1.3, 20_000.0, 0.0), (0.35, 30_000.0, 0.0), (1.3, 20_000.0, 2.5e-4)],
)
def test_gradient_matches_finite_differences_for_every_parameter(
    amplitude, duration, autophosphorylation
):
    params = _parameters(KinaseCompetition(k_camkii_auto=autophosphorylation))
    grads = _change_grad(params, amplitude, duration)
    # Sensitivities to relative changes, d change / d log p; the largest sets the scale.
    scale = max(abs(float(grads[f]) * v) for f, v in params.items())
    for name, value in params.items():
        if value == 0.0:
            continue  # a relative step of a rate that is off; the third case turns it on
        h = 1e-5 * abs(value)
        plus = _change_jit({**params, name: value + h}, amplitude, duration)
        minus = _change_jit({**params, name: value - h}, amplitude, duration)
        fd = float(plus - minus) / (2 * h)
        # Relative 1e-4, with a floor for sensitivities 1e6 times below the largest.
        assert float(grads[name]) == pytest.approx(fd, rel=1e-4, abs=1e-6 * scale / value), name


def test_vmap_over_parameter_sets_matches_loop(plateau_map):
    rules = [
        KinaseCompetition(),
        KinaseCompetition(camkii_half=0.25, k_remove=2e-5),
        KinaseCompetition(can_half=5e-4, k_insert=2e-6),
    ]
    stacked = jax.tree.map(lambda *x: jnp.stack(x), *rules)
    batched = jax.jit(jax.vmap(_plateau_map, (0, None, None)))(stacked, AMPLITUDES, DURATIONS)
    for rule, values in zip(rules, batched, strict=True):
        np.testing.assert_allclose(
            values, _plateau_map(rule, AMPLITUDES, DURATIONS), rtol=1e-9, atol=1e-12
        )
    assert not np.allclose(batched[0], batched[1]) and not np.allclose(batched[0], batched[2])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(k_camkii_inact=-1e-3), r"KinaseCompetition\.k_camkii_inact.*\(0, inf. 1/ms"),
        (dict(k_remove=-1.0), r"KinaseCompetition\.k_remove.*\[0, inf. 1/ms"),
        (dict(k_dapk1_n2b_off=0.0), r"KinaseCompetition\.k_dapk1_n2b_off"),
        (dict(cam_half=float("nan")), r"KinaseCompetition\.cam_half.*uM"),
        (dict(camkii_hill=-4.0), r"KinaseCompetition\.camkii_hill"),
        (dict(weight_min=1.5), r"KinaseCompetition\.weight_min.*\[0, 1\]"),
        (dict(weight_max=0.5), r"KinaseCompetition\.weight_max"),
        (dict(calcium_rest=-0.05), r"KinaseCompetition\.calcium_rest"),
    ],
)
def test_invalid_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        KinaseCompetition(**kwargs)


def test_validation_is_skipped_under_tracing():
    # Building a rule from traced values (inside jit or vmap) must not try to check them.
    values = jnp.array([1e-4, 2e-4])
    rules = jax.vmap(lambda k: KinaseCompetition(k_dapk1_dephos=k))(values)
    np.testing.assert_array_equal(rules.k_dapk1_dephos, values)
    assert isinstance(
        eqx.filter_jit(lambda k: KinaseCompetition(k_remove=k))(1e-5), KinaseCompetition
    )


def test_hill_second_derivatives_stay_finite_at_and_below_zero():
    # The Rosenbrock solver differentiates the vector field, and reverse mode differentiates that
    # Jacobian again: second derivatives must be finite where round-off makes a fraction <= 0.
    for x in (0.0, -1e-12, 1e-200, 1e-5):
        second = jax.hessian(hill, argnums=(0, 1, 2))(jnp.asarray(x), 0.3, 3.0)
        assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in jax.tree.leaves(second))
