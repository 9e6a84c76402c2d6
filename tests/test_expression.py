"""Expression: baseline fixed point, the blocks of PEP1-TGL and latrunculin-A, the trafficking
ODE against scipy, and its feedback into the spine model's electrics."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import plastic.protocols
from plastic.expression import ExpressionState, TraffickingAndRemodelling
from plastic.model import SpineModel
from plastic.rules import KinaseCompetition

EXPRESSION = TraffickingAndRemodelling()


def test_baseline_is_a_fixed_point_without_drive():
    derivative = EXPRESSION.vector_field(EXPRESSION.initial_state(), 0.0, 0.0)
    for leaf in jax.tree.leaves(derivative):
        assert abs(float(leaf)) < 1e-18


@eqx.filter_jit
def _solve_jit(expression, potentiation, depression, minutes):
    def field(t, y, args):
        state = ExpressionState(*y)
        d = expression.vector_field(state, potentiation, depression)
        return jnp.stack([d.psd, d.reserve, d.neck, d.head])

    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(field),
        diffrax.Tsit5(),
        0.0,
        minutes * 60_000.0,
        100.0,
        jnp.ones(4),
        stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-12),
        max_steps=100_000,
    )
    return solution.ys[-1]


def _blocked(expression, insertion_block=0.0, actin_block=0.0):
    return eqx.tree_at(
        lambda e: (e.insertion_block, e.actin_block),
        expression,
        (jnp.asarray(insertion_block), jnp.asarray(actin_block)),
    )


def _solve_with(expression, potentiation, depression, minutes=30.0, **blocks):
    expression = _blocked(expression, **blocks)
    return np.asarray(_solve_jit(expression, potentiation, depression, minutes))


def _solve(potentiation, depression, minutes=30.0, **blocks):
    return _solve_with(EXPRESSION, potentiation, depression, minutes, **blocks)


def _solve_scipy(expression, potentiation, depression, blocks, minutes=30.0):
    # The equations of the docstring, written out independently.
    e, p, d = expression, potentiation, depression
    k_basal, k_insert, k_remove = float(e.k_basal), float(e.k_insert), float(e.k_remove)
    k_cycle = float(e.k_cycle)

    def field(t, y):
        psd, reserve, neck, head = y
        actin = 1 - float(e.actin_dependence) * blocks["actin_block"]
        exocytosis = k_cycle * (1 - blocks["actin_block"]) * p
        insertion = (
            k_basal + k_insert * (1 - blocks["insertion_block"]) * actin * p + exocytosis
        ) * reserve
        removal = (k_basal + k_remove * d + k_cycle * p) * psd
        remodel = (1 - blocks["actin_block"]) * p
        return [
            insertion - removal,
            removal - insertion + float(e.k_supply) * (1 - reserve),
            -float(e.k_neck) * remodel * (neck - float(e.neck_min)) + float(e.k_relax) * (1 - neck),
            float(e.k_head) * remodel * (float(e.head_max) - head) - float(e.k_relax) * (head - 1),
        ]

    solution = solve_ivp(
        field, (0.0, minutes * 60_000.0), [1.0] * 4, method="Radau", rtol=1e-11, atol=1e-13
    )
    return solution.y[:, -1]


@pytest.mark.parametrize(
    "potentiation, depression, blocks, actin_dependence, k_cycle",
    [
        (0.6, 0.0, {}, 0.0, 0.0),
        (0.0, 0.5, {}, 0.0, 0.0),
        (0.6, 0.0, {"insertion_block": 1.0}, 0.0, 0.0),
        (0.6, 0.1, {"actin_block": 1.0}, 0.0, 0.0),
        (0.6, 0.1, {"actin_block": 0.8}, 0.7, 0.0),
        (0.6, 0.1, {}, 0.5, 2e-5),
        (0.6, 0.1, {"actin_block": 0.8, "insertion_block": 0.5}, 0.5, 2e-5),
    ],
)
def test_trafficking_matches_scipy(potentiation, depression, blocks, actin_dependence, k_cycle):
    full = {"insertion_block": 0.0, "actin_block": 0.0, **blocks}
    expression = TraffickingAndRemodelling(actin_dependence=actin_dependence, k_cycle=k_cycle)
    ours = _solve_with(expression, potentiation, depression, **full)
    reference = _solve_scipy(expression, potentiation, depression, full)
    np.testing.assert_allclose(ours, reference, rtol=1e-7)


def test_drugs_block_their_pathways():
    potentiation = 0.8
    plain = _solve(potentiation, 0.0)
    pep1 = _solve(potentiation, 0.0, insertion_block=1.0)
    latrunculin = _solve(potentiation, 0.0, actin_block=1.0)
    psd, neck, head = 0, 2, 3
    assert plain[psd] > 1.2 and plain[neck] < 0.8 and plain[head] > 1.05
    # PEP1-TGL: no receptor gain, neck still shrinks (the seed's Fig. 4).
    assert abs(pep1[psd] - 1.0) < 1e-9 and pep1[neck] == pytest.approx(plain[neck])
    # Latrunculin-A: no structural change, receptor gain untouched.
    assert latrunculin[neck] == pytest.approx(1.0) and latrunculin[head] == pytest.approx(1.0)
    assert latrunculin[psd] == pytest.approx(plain[psd])


def test_insertion_that_needs_actin_is_blocked_by_latrunculin():
    potentiation, depression = 0.8, 0.2
    for dependence in (0.0, 0.5, 1.0):
        expression = TraffickingAndRemodelling(actin_dependence=dependence)
        blocked = _solve_with(expression, potentiation, depression, actin_block=1.0)
        # Full dependence: latrunculin-A leaves only removal, so the PSD shrinks (the seed's
        # Lat-A result); none: the receptor gain of the drug-free case.
        partial = _solve_with(
            TraffickingAndRemodelling(k_insert=expression.k_insert * (1 - dependence)),
            potentiation,
            depression,
        )
        np.testing.assert_allclose(blocked[:2], partial[:2], rtol=1e-9)
    assert blocked[0] < 1.0


def test_activity_driven_cycling_depresses_only_without_actin():
    """With cycling, a potentiation drive under latrunculin-A leaves endocytosis unopposed and
    the PSD loses receptors (seed 000: Lat-A turns t-LTP into depression); under PEP1-TGL the
    cycling stays balanced and the PSD stays at baseline (no t-LTP, no t-LTD). Without cycling
    (and insertion independent of actin) latrunculin-A does not depress."""
    potentiation = 0.8
    cycling = TraffickingAndRemodelling(k_cycle=5e-5)
    latrunculin = _solve_with(cycling, potentiation, 0.0, actin_block=1.0)
    pep1 = _solve_with(cycling, potentiation, 0.0, insertion_block=1.0)
    psd = 0
    assert latrunculin[psd] < 0.8
    assert pep1[psd] == pytest.approx(1.0, abs=1e-9)
    without = _solve_with(EXPRESSION, potentiation, 0.0, actin_block=1.0)
    assert without[psd] > 1.2


@pytest.mark.parametrize(
    "field, value", [("insertion_block", 1.5), ("actin_block", -0.1), ("actin_block", np.nan)]
)
def test_bad_block_fraction_is_rejected(field, value):
    with pytest.raises(ValueError, match=f"TraffickingAndRemodelling.{field}"):
        TraffickingAndRemodelling(**{field: value})


def test_expression_needs_a_rule():
    with pytest.raises(ValueError, match="expression needs a rule"):
        SpineModel(expression=EXPRESSION)


def test_expression_feeds_back_into_electrics():
    model = SpineModel(rule=KinaseCompetition(), expression=EXPRESSION)
    state = model.resting_state()
    changed = eqx.tree_at(
        lambda s: (s.expression.psd, s.expression.neck, s.expression.head),
        state,
        (jnp.array([1.5, 1.0]), jnp.array([0.5, 1.0]), jnp.array([1.0, 2.0])),
    )
    expressed = model.expressed(changed)
    geometry, original = expressed.geometry, model.geometry
    # Neck resistance is proportional to length: half the length, twice the conductance.
    np.testing.assert_allclose(
        np.asarray(geometry.neck_conductance),
        np.asarray(original.neck_conductance) * np.array([2.0, 1.0]),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        np.asarray(geometry.spines.head_volume),
        np.asarray(original.spines.head_volume) * np.array([1.0, 2.0]),
    )
    np.testing.assert_allclose(np.asarray(expressed.ampa.conductance), 0.3 * np.array([1.5, 1.0]))
    assert expressed.nmda.conductance == model.nmda.conductance
    # At rest the state is (nearly) a fixed point: the rule's resting drives are tiny but not
    # zero, so allow a drift below 1e-4 of baseline per hour.
    derivative = model.derivative(
        state,
        plastic.protocols.Drive(glutamate=jnp.zeros(2), soma_current=jnp.zeros(())),
    )
    assert (
        max(np.abs(np.asarray(x)).max() for x in jax.tree.leaves(derivative.expression))
        < 1e-4 / 3.6e6
    )
