"""XCAL check-mark: exact breakpoints and values derived by hand from the definition.

With theta = 2, d_rev = 0.1, d_thr = 1e-4:
- xy < d_thr: 0.
- d_thr <= xy <= d_rev theta = 0.2: -xy (1 - 0.1) / 0.1 = -9 xy, so -0.9 at 0.1 and
  -1.8 = -0.9 theta at 0.2 (the minimum).
- xy > 0.2: xy - 2, so -1.8 just above 0.2 (continuous), 0 at theta = 2, +1 at 3.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.rules.kinase_cascade import KinaseCascade, KinaseCascadeState
from plastic.rules.xcal import Xcal, xcal


@pytest.mark.parametrize(
    "xy, expected",
    [
        (0.0, 0.0),
        (0.5e-4, 0.0),  # below d_thr
        (2e-4, -9 * 2e-4),  # just above d_thr: on the falling piece
        (0.1, -0.9),
        (0.2, -1.8),  # the minimum, -0.9 theta at d_rev theta
        (0.2 + 1e-9, -1.8 + 1e-9),  # the rising piece starts where the falling one ends
        (1.0, -1.0),
        (2.0, 0.0),  # zero crossing at theta
        (3.0, 1.0),  # slope 1 above d_rev theta
    ],
)
def test_values_and_breakpoints(xy, expected):
    assert float(xcal(jnp.asarray(xy), 2.0)) == pytest.approx(expected, abs=1e-12)


def test_minimum_is_minus_point_nine_theta_at_point_one_theta():
    theta = 0.7
    xs = jnp.linspace(0.0, 2.0, 200_001)
    values = xcal(xs, theta)
    i = int(jnp.argmin(values))
    assert float(values[i]) == pytest.approx(-0.9 * theta, rel=1e-4)
    assert float(xs[i]) == pytest.approx(0.1 * theta, abs=2e-5)


def test_other_reversal_point():
    # d_rev = 0.25: falling slope -(0.75 / 0.25) = -3, minimum -0.75 theta at 0.25 theta.
    f = Xcal(d_rev=0.25, d_thr=0.0)
    assert float(f(0.1, 1.0)) == pytest.approx(-0.3)
    assert float(f(0.25, 1.0)) == pytest.approx(-0.75)
    assert float(f(0.5, 1.0)) == pytest.approx(-0.5)


def test_gradients_away_from_kinks():
    d_rev, theta = 0.1, 2.0
    # Falling piece, xy = 0.1: df/dxy = -(1 - d_rev) / d_rev = -9, df/dtheta = 0,
    # df/dd_rev = xy / d_rev^2 = 10.
    g = jax.grad(xcal, argnums=(0, 1, 2))(0.1, theta, d_rev)
    np.testing.assert_allclose(g, (-9.0, 0.0, 10.0), rtol=1e-12)
    # Rising piece, xy = 1: df/dxy = 1, df/dtheta = -1, df/dd_rev = 0.
    g = jax.grad(xcal, argnums=(0, 1, 2))(1.0, theta, d_rev)
    np.testing.assert_allclose(g, (1.0, -1.0, 0.0), rtol=1e-12)


def test_vmap_over_parameters_matches_loop():
    rules = [Xcal(d_rev=d, d_thr=t) for d, t in [(0.1, 1e-4), (0.2, 1e-3), (0.3, 0.0)]]
    stacked = jax.tree.map(lambda *x: jnp.stack(x), *rules)
    xy = jnp.array([0.05, 0.15, 0.5])
    batched = jax.vmap(lambda f: f(xy, 1.0))(stacked)
    for i, f in enumerate(rules):
        np.testing.assert_array_equal(batched[i], f(xy, 1.0))


def test_kinase_cascade_uses_xcal_of_cap_and_cad():
    state = KinaseCascadeState(cam=jnp.asarray(0.0), cap=jnp.asarray(0.05), cad=jnp.asarray(1.0))
    # CaP = 0.05 < 0.1 CaD: falling piece, -9 * 0.05; plain dW would be CaP - CaD = -0.95.
    assert float(KinaseCascade(xcal=Xcal()).weight_change(state)) == pytest.approx(-0.45)
    assert float(KinaseCascade().weight_change(state)) == pytest.approx(-0.95)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(d_rev=0.0), r"Xcal\.d_rev.*\(0, 1\]"),
        (dict(d_rev=1.5), r"Xcal\.d_rev"),
        (dict(d_thr=-1e-3), r"Xcal\.d_thr.*\[0, inf"),
        (dict(d_rev=float("nan")), r"Xcal\.d_rev"),
    ],
)
def test_invalid_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Xcal(**kwargs)
