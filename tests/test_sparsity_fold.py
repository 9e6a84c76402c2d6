"""Constant folding in NumPy (`plastic.sparsity.fold`) against JAX's own evaluation."""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import plastic  # noqa: F401  (float64)
from plastic.sparsity.fold import fold_constants, numpy_fold, supported


def _fold_jaxpr(closed, *args):
    """Every equation of ``closed`` folded with `fold_constants`, each result checked against
    binding the primitive (values and dtype); the outputs, and the primitives NumPy folded."""
    values = {v: np.asarray(c) for v, c in zip(closed.jaxpr.constvars, closed.consts)}
    values.update({v: np.asarray(a) for v, a in zip(closed.jaxpr.invars, args)})
    folded = set()

    def read(atom):
        return np.asarray(atom.val) if isinstance(atom, jax.extend.core.Literal) else values[atom]

    for eqn in closed.jaxpr.eqns:
        operands = [read(a) for a in eqn.invars]
        out = fold_constants(eqn, operands)
        bound = eqn.primitive.bind(*operands, **eqn.primitive.get_bind_params(eqn.params))
        bound = bound if eqn.primitive.multiple_results else [bound]
        for var, value, reference in zip(eqn.outvars, out, bound):
            assert value.dtype == np.asarray(reference).dtype, eqn
            assert value.shape == var.aval.shape, eqn
            np.testing.assert_allclose(value, np.asarray(reference), rtol=1e-14, atol=0)
            values[var] = value
        if numpy_fold(eqn, operands) is not None:
            folded.add(eqn.primitive.name)
    return [read(a) for a in closed.jaxpr.outvars], folded


def _everything(x, k):
    """Floats ``x`` (3, 4) and integers ``k`` (3, 4) through every primitive with a rule."""
    y = jnp.exp(x) - jnp.log(jnp.abs(x) + 1.0) * jnp.sqrt(jnp.abs(x)) / (x**2 + 1.0)
    y = jnp.maximum(y, -x) + jnp.minimum(y, x) - jnp.power(jnp.abs(x) + 0.5, 1.7)
    y = y + jnp.floor(x) * jnp.ceil(x) + jnp.sign(x) - (-x)
    mask = (x < 0.3) & ~(x >= 1.0) | (x == 0.0) | (x != x) | (x > 2.0) | (x <= -1.0)
    y = jnp.where(mask, y, 2.0 * y)
    bits = (k & 6) | (k ^ 1) & ~k
    choice = lax.select_n(jnp.clip(k, 0, 2), x, y, -y)
    shifted = jnp.concatenate([choice[:, 1:], choice[:, :1]], axis=1).T.reshape(2, 6)
    total = shifted.sum(0) + shifted.max(0) - shifted.min(0)
    ramp = lax.broadcasted_iota(jnp.int32, (3, 4), 1) + k // 2
    return total, bits, ramp.astype(jnp.float64)[None][0] + x[:, :, None].squeeze(2)


def test_folded_values_equal_jax_and_cover_the_rules():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4))
    k = rng.integers(-5, 9, size=(3, 4)).astype(np.int32)
    closed = jax.make_jaxpr(_everything)(x, k)
    outputs, folded = _fold_jaxpr(closed, x, k)
    for value, expected in zip(outputs, _everything(x, k)):
        np.testing.assert_allclose(value, np.asarray(expected), rtol=1e-14)
    assert folded == set(supported()), set(supported()) ^ folded


def test_integer_division_is_left_to_xla():
    """C-style division truncates towards zero where NumPy floors: it is bound, not folded."""
    x = np.array([-7, 7, -1], dtype=np.int32)
    closed = jax.make_jaxpr(lambda a: lax.div(a, np.int32(2)))(x)
    (value,), folded = _fold_jaxpr(closed, x)
    np.testing.assert_array_equal(value, [-3, 3, 0])
    assert "div" not in folded
