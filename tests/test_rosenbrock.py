"""Rodas5: convergence order of the step and of the dense output, a stiff problem against scipy,
and gradients through the solve against finite differences."""

import functools

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import plastic  # noqa: F401  (float64)
from plastic.rosenbrock import Rodas5, linear_algebra
from plastic.rosenbrock.linear_algebra import _linear_algebra
from plastic.rosenbrock.stages import _stage_values, _stages
from plastic.rosenbrock.tableau import Rodas5Tableau

RATES = jnp.array([1.0, 0.1, 2.5])


def _forced_decay(t, y, args):
    # Non-autonomous, so the df/dt term of the method is exercised.
    return -RATES * (y - jnp.sin(t)) + jnp.cos(t)


def _exact(t):
    return jnp.sin(t) + jnp.exp(-RATES * t)


def _fixed_step_errors(n_steps):
    step = 2.0 / n_steps
    probe = 1.0 + 0.5 * step  # the middle of a step: where the interpolant is weakest
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(_forced_decay),
        Rodas5(),
        0.0,
        2.0,
        step,
        _exact(0.0),
        saveat=diffrax.SaveAt(ts=jnp.array([probe, 2.0])),
        stepsize_controller=diffrax.ConstantStepSize(),
    )
    errors = np.abs(np.asarray(solution.ys) - np.asarray(jax.vmap(_exact)(solution.ts)))
    return errors.max(axis=1)


def test_step_is_fifth_order_and_dense_output_at_least_fourth():
    counts = [8, 16, 32]
    errors = np.array([_fixed_step_errors(n) for n in counts])  # (count, [dense, end])
    orders = np.log2(errors[:-1] / errors[1:])
    assert np.all(orders[:, 1] > 4.7), orders  # the step: order 5
    assert np.all(orders[:, 0] > 3.8), orders  # dense output: order 4


def _robertson(t, y, args):
    a, b, c = y
    return jnp.stack([-0.04 * a + 1e4 * b * c, 0.04 * a - 1e4 * b * c - 3e7 * b**2, 3e7 * b**2])


def test_stiff_robertson_matches_scipy_radau():
    y0 = jnp.array([1.0, 0.0, 0.0])
    times = np.array([0.4, 40.0, 400.0, 4e4])
    ours = diffrax.diffeqsolve(
        diffrax.ODETerm(_robertson),
        Rodas5(),
        0.0,
        4e4,
        1e-6,
        y0,
        saveat=diffrax.SaveAt(ts=jnp.asarray(times)),
        stepsize_controller=diffrax.PIDController(rtol=1e-9, atol=1e-13),
        max_steps=100_000,
    )

    def robertson_numpy(t, y):
        a, b, c = y
        return [-0.04 * a + 1e4 * b * c, 0.04 * a - 1e4 * b * c - 3e7 * b**2, 3e7 * b**2]

    reference = solve_ivp(
        robertson_numpy,
        (0.0, 4e4),
        np.asarray(y0),
        method="Radau",
        rtol=1e-12,
        atol=1e-16,
        t_eval=times,
    )
    np.testing.assert_allclose(np.asarray(ours.ys), reference.y.T, rtol=1e-6, atol=1e-14)
    # A stiff problem in few steps: an explicit method would need ~1e6 here.
    assert int(ours.stats["num_steps"]) < 2000


def _forced_riccati(rate, t_end, tolerance, saveat=None):
    """y' = -rate y^2 + cos t, y(0) = 1, solved by Rodas5 over [0, t_end] at rtol = atol =
    ``tolerance``; saved at ``saveat`` (default: the end)."""

    def field(t, y, args):
        return -rate * y**2 + jnp.cos(t)

    return diffrax.diffeqsolve(
        diffrax.ODETerm(field),
        Rodas5(),
        0.0,
        t_end,
        0.01,
        jnp.array([1.0]),
        saveat=diffrax.SaveAt(t1=True) if saveat is None else saveat,
        stepsize_controller=diffrax.PIDController(rtol=tolerance, atol=tolerance),
    )


def test_gradient_through_adaptive_solve_matches_finite_differences():
    def final_value(rate):
        return _forced_riccati(rate, 3.0, 1e-10).ys[-1, 0]

    rate, step = 0.7, 1e-5
    gradient = jax.grad(final_value)(rate)
    evaluate = jax.jit(final_value)
    finite_difference = (evaluate(rate + step) - evaluate(rate - step)) / (2 * step)
    assert float(gradient) == pytest.approx(float(finite_difference), rel=1e-6)


def test_vmapped_gradient_with_conditions_finishing_at_different_times_is_finite():
    # Under vmap the condition that finishes first keeps taking zero-length steps; their
    # discarded results must not turn its gradient into NaN.
    def final_value(rate, t_end):
        saveat = diffrax.SaveAt(t1=True, ts=jnp.array([0.5]))
        solution = _forced_riccati(rate, t_end, 1e-8, saveat)
        return solution.ys[-1, 0] + solution.ys[0, 0]

    ends = jnp.array([1.0, 3.0])
    batched = jax.vmap(jax.grad(final_value), in_axes=(None, 0))(0.7, ends)
    looped = [jax.grad(final_value)(0.7, end) for end in ends]
    assert np.all(np.isfinite(np.asarray(batched)))
    np.testing.assert_allclose(np.asarray(batched), np.asarray(looped), rtol=1e-8)


@pytest.mark.parametrize(
    "sparse, sequential_lu, coloured",
    [(False, False, True), (False, False, False), (True, False, True), (False, True, True)],
)
def test_written_out_reverse_mode_of_the_stages_equals_autodiff(sparse, sequential_lu, coloured):
    """The stages' hand-written discrete adjoint against JAX's reverse mode through the same
    computation (dense Jacobian by forward mode, LU, eight solves), for every input: time,
    step, state, and a parameter that reaches the right-hand side only through its closure."""
    coupling = jnp.array([[0.0, 3.0, -1.0], [0.5, 0.0, 2.0], [-2.0, 1.0, 0.0]])

    def rhs(t, y, parameters):
        rates, coupling = parameters
        # Stiff, nonlinear and non-autonomous, so that J, its derivatives and df/dt all matter.
        return -rates * y**3 + jnp.tanh(coupling @ y) * jnp.cos(3.0 * t) + jnp.sin(t) * y[::-1]

    t0, h = jnp.asarray(0.3), jnp.asarray(0.05)
    y0 = jnp.array([0.8, -0.4, 1.3])
    rates = jnp.array([50.0, 2.0, 0.3])
    cotangent = jax.random.normal(jax.random.key(0), (len(Rodas5Tableau.c), 3))

    def autodiff(t0, h, y0, rates, coupling):
        return _stage_values(rhs, (False, False, False), t0, h, y0, (rates, coupling))[0]

    def written_out(t0, h, y0, rates, coupling):
        method = (sparse, sequential_lu, coloured)
        return _stages(rhs, method, t0, h, y0, (rates, coupling))

    stages, pullback = jax.vjp(written_out, t0, h, y0, rates, coupling)
    expected_stages, expected_pullback = jax.vjp(autodiff, t0, h, y0, rates, coupling)
    # The sparse LU does not pivot: the same stages up to rounding of a different elimination.
    np.testing.assert_allclose(
        np.asarray(stages), np.asarray(expected_stages), rtol=1e-9 if sparse else 1e-14
    )
    got = pullback(cotangent)
    expected = expected_pullback(cotangent)
    for name, g, e in zip(("t0", "h", "y0", "rates", "coupling"), got, expected):
        np.testing.assert_allclose(
            np.asarray(g), np.asarray(e), rtol=1e-10, atol=1e-12, err_msg=name
        )


def _cable_with_a_spine(t, y, args):
    """Eight passive nodes in a chain and a spine head attached between two of them at
    weights given at run time (stiff: the head charges 100x faster than the chain)."""
    weights, neck_conductance = args
    nodes, head = y[:-1], y[-1]
    chain = jnp.concatenate([nodes[1:], nodes[-1:]]) + jnp.concatenate([nodes[:1], nodes[:-1]])
    neck_current = neck_conductance * (weights @ nodes - head)
    drive = jnp.where((t > 1.0) & (t < 2.0), 5.0, 0.0)
    d_nodes = chain - 2 * nodes - weights * neck_current - 0.1 * nodes
    d_head = 100.0 * (neck_current + drive - jnp.tanh(head))
    return jnp.concatenate([d_nodes, jnp.stack([d_head])])


def _cable_solve(sparse, neck_conductance, weights, sequential_lu=False):
    return diffrax.diffeqsolve(
        diffrax.ODETerm(_cable_with_a_spine),
        Rodas5(sparse=sparse, sequential_lu=sequential_lu),
        0.0,
        6.0,
        1e-3,
        jnp.zeros(9),
        args=(weights, neck_conductance),
        saveat=diffrax.SaveAt(ts=jnp.linspace(0.5, 6.0, 12)),
        stepsize_controller=diffrax.ClipStepSizeController(
            diffrax.PIDController(rtol=1e-8, atol=1e-10), jump_ts=jnp.array([1.0, 2.0])
        ),
    )


def test_sparse_linear_algebra_gives_the_dense_solution_and_gradient_under_vmap():
    weights = jnp.zeros(8).at[jnp.array([3, 4])].set(jnp.array([0.3, 0.7]))
    conductances = jnp.array([0.5, 2.0])

    def loss(sparse, neck_conductance):
        return jnp.sum(_cable_solve(sparse, neck_conductance, weights).ys[:, -1] ** 2)

    dense = jax.vmap(jax.value_and_grad(lambda g: loss(False, g)))(conductances)
    sparse = jax.vmap(jax.value_and_grad(lambda g: loss(True, g)))(conductances)
    np.testing.assert_allclose(np.asarray(sparse[0]), np.asarray(dense[0]), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(sparse[1]), np.asarray(dense[1]), rtol=1e-8)
    steps = [int(_cable_solve(s, 2.0, weights).stats["num_steps"]) for s in (False, True)]
    assert steps[0] == steps[1]


def test_sequential_lu_equals_the_batched_one_under_vmap():
    """One matrix at a time (the CPU multi-device path) against one batched call: the same
    LAPACK arithmetic per matrix, so the same solution and gradient to rounding; and its
    program makes one-matrix library calls inside a loop over the batch."""
    weights = jnp.zeros(8).at[jnp.array([3, 4])].set(jnp.array([0.3, 0.7]))
    conductances = jnp.array([0.5, 2.0, 3.0])

    def loss(sequential_lu, neck_conductance):
        solution = _cable_solve(False, neck_conductance, weights, sequential_lu)
        return jnp.sum(solution.ys[:, -1] ** 2)

    batched = jax.vmap(jax.value_and_grad(lambda g: loss(False, g)))(conductances)
    sequential = jax.vmap(jax.value_and_grad(lambda g: loss(True, g)))(conductances)
    np.testing.assert_allclose(np.asarray(sequential[0]), np.asarray(batched[0]), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(sequential[1]), np.asarray(batched[1]), rtol=1e-11)
    for sequential_lu, factorised in ((False, "tensor<3x9x9xf64>"), (True, "tensor<9x9xf64>")):
        program = jax.jit(jax.vmap(functools.partial(loss, sequential_lu))).lower(conductances)
        calls = [line for line in program.as_text().splitlines() if "lapack_dgetrf" in line]
        # The factorised operand: the whole batch in one call, or one matrix per call.
        assert calls and all(f"({factorised})" in line for line in calls), calls


def _nonlinear_chain(t, y, args):
    """Twelve nodes in a chain, each with a nonlinear leak: a tridiagonal Jacobian."""
    (rate,) = args
    chain = jnp.concatenate([y[1:], y[-1:]]) + jnp.concatenate([y[:1], y[:-1]]) - 2 * y
    return 50.0 * chain - rate * jnp.tanh(y) + jnp.where(t < 1.0, 1.0, 0.0)


def test_coloured_jacobian_takes_three_directions_for_a_chain_and_equals_the_unit_ones():
    """The dense path's Jacobian from one direction per colour: three for a tridiagonal
    pattern, and the same Jacobian, solution and gradient as from ``n`` unit directions."""
    y0 = jnp.linspace(-1.0, 1.0, 12)
    t0, h = jnp.asarray(0.2), jnp.asarray(0.01)

    def rhs(t, y, parameters):
        return _nonlinear_chain(t, y, parameters)

    coloured, unit = (
        _linear_algebra((False, False, c), rhs, t0, y0, (0.7,)) for c in (True, False)
    )
    assert int(coloured.colour.max()) + 1 == 3
    w_coloured = coloured.factorise(rhs, t0, h, y0, (0.7,))
    w_unit = unit.factorise(rhs, t0, h, y0, (0.7,))
    for got, expected in zip(jax.tree.leaves(w_coloured), jax.tree.leaves(w_unit)):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))

    def final(rate, coloured_jacobian):
        solution = diffrax.diffeqsolve(
            diffrax.ODETerm(_nonlinear_chain),
            Rodas5(coloured_jacobian=coloured_jacobian),
            0.0,
            3.0,
            1e-3,
            y0,
            args=(rate,),
            stepsize_controller=diffrax.ClipStepSizeController(
                diffrax.PIDController(rtol=1e-8, atol=1e-10), jump_ts=jnp.array([1.0])
            ),
        )
        return jnp.sum(solution.ys[-1] ** 2)

    rates = jnp.array([0.3, 2.0])
    got = jax.vmap(jax.value_and_grad(lambda r: final(r, True)))(rates)
    expected = jax.vmap(jax.value_and_grad(lambda r: final(r, False)))(rates)
    np.testing.assert_allclose(np.asarray(got[0]), np.asarray(expected[0]), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(got[1]), np.asarray(expected[1]), rtol=1e-12)


def test_constants_under_jit_are_known_to_the_jacobian_pattern():
    """Each node driven by the one an index array names, the array made inside the jit from
    static data (as a reaction network turns its stoichiometry into gathers), and a spine on
    the chain at a fixed position (its interpolation weights found by a loop): under
    `jax.jit` both are tracers, constants whose values are known, and the pattern is exact:
    the diagonal, one neighbour a row and the two nodes under the spine."""
    n = 10
    neighbour = tuple(np.roll(np.arange(n), 3).tolist())
    nodes, position = jnp.linspace(0.0, 90.0, n), jnp.asarray(42.0)

    @functools.partial(jax.jit, static_argnums=1)
    def solve(rate, sparse):
        index = jnp.asarray(neighbour)

        def field(t, y, args):
            # As the spine model does: the weights from the geometry in the vector field.
            right = jnp.searchsorted(nodes, position, method="scan")
            fraction = (position - nodes[right - 1]) / (nodes[right] - nodes[right - 1])
            weights = jnp.zeros(n).at[right - 1].set(1.0 - fraction).at[right].set(fraction)
            return -rate * y + jnp.tanh(y[index]) + weights * jnp.tanh(weights @ y)

        return diffrax.diffeqsolve(
            diffrax.ODETerm(field),
            Rodas5(sparse=sparse),
            0.0,
            1.0,
            0.01,
            jnp.linspace(0.1, 1.0, n),
            stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-10),
        ).ys[-1]

    under_spine = np.isin(np.arange(n), [4, 5])
    expected = (
        np.eye(n, dtype=bool)
        | (np.arange(n)[None, :] == np.asarray(neighbour)[:, None])
        | np.outer(under_spine, under_spine)
    )
    linear_algebra._ANALYSIS_CACHE.clear()
    dense, sparse = solve(5.0, False), solve(5.0, True)
    np.testing.assert_allclose(np.asarray(sparse), np.asarray(dense), rtol=1e-10)
    analyses = dict((key[0], value) for key, value in linear_algebra._ANALYSIS_CACHE.items())
    pattern, _ = analyses["dense"]
    np.testing.assert_array_equal(pattern, expected)
    structure, _, _ = analyses["sparse"]
    np.testing.assert_array_equal(structure.pattern, expected)
