"""The fitting machinery, checked against closed forms, scipy, finite differences and loops.

Most tests fit eq. 2 of Tazerart et al. 2020 (``y = alpha exp(-d / lambda) + beta``, uEPSP % against
inter-spine distance), whose weighted least-squares optimum scipy's `curve_fit` finds
independently; they share one data layout, one parameter set and one step count, so that they
share compiled steps.
"""

import csv
import dataclasses
import json
import math
import os
import shutil

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.optimize import curve_fit

import plastic  # noqa: F401  (enables float64)
from plastic.experiment import DataSet
from plastic.fit import (
    PREDICTION_COLUMNS,
    FitParameters,
    Identity,
    InLogSpace,
    Interval,
    LowerBound,
    Objective,
    Parameter,
    UpperBound,
    default_optimiser,
    fit,
    load_model,
    read_parameters,
    transform_for_bounds,
    write_fit,
)
from plastic.rules import GraupnerBrunel, GraupnerBrunelCalcium
from plastic.rules.graupner_brunel_analytic import pair_protocol_change

DISTANCES = np.linspace(1.0, 40.0, 12)  # um
SEM = np.full(DISTANCES.size, 3.0)  # %
N_STEPS = 300


class Decay(eqx.Module):
    """Eq. 2: ``alpha exp(-distance / length_constant) + beta`` (alpha, beta in %, lambda in um)."""

    alpha: jax.Array = eqx.field(converter=jnp.asarray)
    length_constant: jax.Array = eqx.field(converter=jnp.asarray)
    beta: jax.Array = eqx.field(converter=jnp.asarray)


def decay(distance, alpha, length_constant, beta):
    return alpha * np.exp(-distance / length_constant) + beta


def predict(model: Decay, data: DataSet):
    distance = jnp.asarray(data.column("distance"))
    return model.alpha * jnp.exp(-distance / model.length_constant) + model.beta


def measurements(mean, sem=SEM, delta_t=None) -> DataSet:
    """uEPSP rows (%) of pairs at `DISTANCES` (um), or of single spines at ``delta_t`` (ms)."""
    n = len(mean)
    column = ("delta_t", tuple(map(float, delta_t))) if delta_t is not None else None
    return DataSet(
        condition=tuple(f"row {i}" for i in range(n)),
        readout=("uepsp",) * n,
        site=("activated",) * n,
        columns=(column or ("distance", tuple(map(float, DISTANCES))),),
        mean=tuple(mean),
        sem=tuple(sem),
        n=(8.0,) * n,
        unit=("%",) * n,
        source=("synthetic",) * n,
        note=("",) * n,
    )


TRUTH = (30.0, 6.0, 100.0)
TEMPLATE = Decay(10.0, 20.0, 90.0)
PARAMETERS = FitParameters(
    TEMPLATE,
    [
        Parameter("alpha", 0.0, 100.0, unit="%"),
        Parameter("length_constant", 0.5, 100.0, log=True, unit="um"),
        Parameter("beta", unit="%", start=(80.0, 120.0), scale=10.0),
    ],
)


@pytest.fixture(scope="module")
def noisy() -> Objective:
    """Data from `TRUTH` plus Gaussian noise of standard deviation `SEM`."""
    rng = np.random.default_rng(1)
    return Objective(predict, measurements(decay(DISTANCES, *TRUTH) + SEM * rng.normal(size=12)))


@pytest.fixture(scope="module")
def reference(noisy):
    """An uninterrupted fit: 3 starts, seed 0."""
    return fit(noisy, PARAMETERS, n_starts=3, n_steps=N_STEPS, seed=0, progress=False)


def _assert_same_fit(a, b):
    """Bit for bit."""
    np.testing.assert_array_equal(a.loss_history, b.loss_history)
    np.testing.assert_array_equal(a.best_loss, b.best_loss)
    np.testing.assert_array_equal(a.rejections, b.rejections)
    for name in PARAMETERS.names:
        np.testing.assert_array_equal(a.values[name], b.values[name])
        np.testing.assert_array_equal(a.start_values[name], b.start_values[name])


# ---------------------------------------------------------------------------------------------
# Transforms, parameters, objective


@pytest.mark.parametrize(
    "lower, upper, log, kind",
    [
        (None, None, False, Identity),
        (-2.0, None, False, LowerBound),
        (None, -1.0, False, UpperBound),
        (-3.0, 5.0, False, Interval),
        (None, None, True, InLogSpace),  # the plain log transform
        (0.0, 10.0, True, Interval),
        (5.0, None, True, LowerBound),
        (1e-3, 1e3, True, InLogSpace),
    ],
)
def test_transforms_round_trip_and_respect_bounds(lower, upper, log, kind):
    transform = transform_for_bounds("x", lower, upper, log=log)
    assert type(transform) is kind
    rng = np.random.default_rng(0)
    # Any real u maps inside the bounds: strictly, and back to u, where floating point resolves
    # the map from its limits (|u| < 3 for all of these); onto a bound at worst for extreme u.
    u = np.concatenate([rng.uniform(-30.0, 30.0, 2000), rng.normal(size=2000)])
    x = np.asarray(transform.to_constrained(u))
    positive_lower = 0.0 if log and lower is None else lower
    assert np.all(np.isfinite(x))
    strict = np.abs(u) < 3.0
    if positive_lower is not None:
        assert np.all(x >= positive_lower) and np.all(x[strict] > positive_lower)
    if upper is not None:
        assert np.all(x <= upper) and np.all(x[strict] < upper)
    np.testing.assert_allclose(
        np.asarray(transform.to_unconstrained(x))[strict], u[strict], rtol=0.0, atol=1e-9
    )
    assert np.all(np.diff(x[np.argsort(u)]) >= 0.0), "the map must be increasing"
    # Any value inside the bounds maps to a finite u and back to itself.
    low = positive_lower if positive_lower is not None else -50.0
    high = upper if upper is not None else low + 100.0
    if log:
        low, high = math.log(max(low, 1e-12)), math.log(high)
        values = np.exp(rng.uniform(low, high, 2000))
    else:
        values = rng.uniform(low, high, 2000)
    values = values[(values > (positive_lower or -np.inf)) & (values < (upper or np.inf))]
    back = np.asarray(transform.to_unconstrained(values))
    assert np.all(np.isfinite(back))
    np.testing.assert_allclose(np.asarray(transform.to_constrained(back)), values, rtol=1e-12)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Parameter("alpha", 5.0, 5.0), r"upper bound \(must exceed the lower bound\)"),
        (lambda: Parameter("alpha", math.nan, 5.0), "lower bound must be a number"),
        (lambda: Parameter("alpha", -1.0, 5.0, log=True), "lower bound with log=True"),
        (lambda: Parameter("alpha", 0.0, 1.0, start=(0.5, 2.0)), "start high"),
        (lambda: Parameter("alpha.", 0.0, 1.0), "dotted attribute names"),
        (lambda: Parameter.from_spec("alpha:0"), "PATH:LOWER:UPPER"),
        (lambda: Parameter.from_spec("alpha:0:x"), "'x' is not a number"),
        (lambda: FitParameters(TEMPLATE, [Parameter("alpha", 20.0, 50.0)]), "initial value"),
        (
            lambda: FitParameters(Decay(math.nan, 1.0, 1.0), [Parameter("alpha")]),
            "initial value of 'alpha'",
        ),
        (lambda: FitParameters(TEMPLATE, [Parameter("gamma")]), "'gamma' is not a field of Decay"),
        (lambda: FitParameters(TEMPLATE, [Parameter("alpha"), Parameter("alpha")]), "repeated"),
        (
            lambda: FitParameters(
                GraupnerBrunelCalcium.from_published("DP"), [Parameter("tau_ca.x")]
            ),
            "not a field",
        ),
        (
            lambda: FitParameters(Decay(10, 20.0, 90.0), [Parameter("alpha")]),
            "only floating-point leaves",
        ),
        (
            lambda: FitParameters(
                STDPWindow(
                    GraupnerBrunel.from_published("DP"), GraupnerBrunelCalcium.from_published("DP")
                ),
                [Parameter("rule")],
            ),
            "is a GraupnerBrunel, not a number",
        ),
        (lambda: FitParameters(TEMPLATE, [Parameter("beta")]).sample_starts(None, 2), "start box"),
        (lambda: PARAMETERS.check_values({"alpha": [1.0]}, "starts", 1), "exactly the parameters"),
    ],
)
def test_bad_parameters_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "arguments, match",
    [
        (dict(n_steps=0), r"n_steps must be a number in \[1, inf\)"),
        (dict(n_steps=2.5), "n_steps must be an integer"),
        (dict(progress_every=0), "progress_every"),
        (dict(checkpoint_every=0), "checkpoint_every"),
        (dict(n_starts=2), r"'beta': random starts need a start box"),
        (dict(starts={"alpha": [50.0], "length_constant": [200.0]}), "exactly the parameters"),
        (
            dict(starts={"alpha": [50.0], "length_constant": [200.0], "beta": [0.0]}),
            r"\(0.5, 100\)",
        ),
        (dict(progress="yes"), "progress must be True, False or a function"),
    ],
)
def test_bad_fit_arguments_raise_clear_errors(arguments, match):
    objective = Objective(predict, measurements(decay(DISTANCES, *TRUTH)))
    parameters = FitParameters(
        TEMPLATE,
        [Parameter("alpha", 0, 100), Parameter("length_constant", 0.5, 100), Parameter("beta")],
    )
    with pytest.raises(ValueError, match=match):
        fit(objective, parameters, **{"n_steps": 10, **arguments})


def test_parameter_spec_strings():
    tau = Parameter.from_spec("rule.tau:1:1e4:log")
    assert (tau.path, tau.lower, tau.upper, tau.log) == ("rule.tau", 1.0, 1e4, True)
    assert isinstance(tau.transform, InLogSpace) and isinstance(tau.transform.inner, Interval)
    free = Parameter.from_spec("beta")
    assert (free.lower, free.upper, free.log) == (None, None, False)
    assert isinstance(Parameter.from_spec("x:0:").transform, LowerBound)


def test_objective_is_the_sem_weighted_sum_of_squares():
    rng = np.random.default_rng(2)
    mean = 100.0 + 10.0 * rng.normal(size=12)
    sem = rng.uniform(1.0, 5.0, 12)
    objective = Objective(predict, measurements(mean, sem))
    model = Decay(25.0, 8.0, 95.0)
    residual = (decay(DISTANCES, 25.0, 8.0, 95.0) - mean) / sem
    np.testing.assert_allclose(objective.residuals(model), residual, rtol=1e-13)
    np.testing.assert_allclose(objective(model), np.sum(residual**2), rtol=1e-13)
    # Unusable SEMs are an error naming the rows, or weighted with the floor.
    sem[[3, 7]] = [0.0, math.nan]
    with pytest.raises(ValueError, match=r"rows 3 \('row 3', uepsp\), 7 .* sem_floor"):
        Objective(predict, measurements(mean, sem))
    floored = Objective(predict, measurements(mean, sem), sem_floor=2.0)
    expected = np.where(np.isnan(sem) | (sem < 2.0), 2.0, sem)
    np.testing.assert_array_equal(floored.sem, expected)
    np.testing.assert_allclose(
        floored(model), np.sum(((decay(DISTANCES, 25.0, 8.0, 95.0) - mean) / expected) ** 2)
    )
    with pytest.raises(ValueError, match="sem_floor"):
        Objective(predict, measurements(mean, sem), sem_floor=0.0)
    with pytest.raises(ValueError, match=r"one prediction per data row, shape \(12,\)"):
        Objective(lambda m, d: jnp.zeros(3), measurements(mean))(model)


def test_rows_that_state_a_bound_count_only_their_shortfall():
    """Rows 0-3 say "at least", rows 4-7 "at most", the rest "equal": a prediction on the right
    side of its bound adds nothing (nor any gradient), one on the wrong side its full residual."""
    model = Decay(25.0, 8.0, 95.0)
    predicted = decay(DISTANCES, 25.0, 8.0, 95.0)
    mean = predicted + np.array([-1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1]) * 3.0
    relation = (">=",) * 4 + ("<=",) * 4 + ("=",) * 4
    data = dataclasses.replace(measurements(mean), relation=relation)
    objective = Objective(predict, data)
    residual = (predicted - mean) / SEM  # +1 where the mean is below, -1 where above
    expected = np.where(
        np.array(relation) == ">=",
        np.minimum(residual, 0),
        np.where(np.array(relation) == "<=", np.maximum(residual, 0), residual),
    )
    np.testing.assert_allclose(objective.residuals(model), expected, rtol=1e-13)
    np.testing.assert_allclose(expected[:8], [0, -1, 0, -1, 1, 0, 1, 0], atol=1e-12)
    # Moving alpha changes only the rows whose bound is missed and the "=" rows.
    gradient = jax.jacfwd(lambda a: objective.residuals(eqx.tree_at(lambda m: m.alpha, model, a)))
    slope = np.asarray(gradient(jnp.asarray(25.0)))
    assert np.all(slope[[0, 2, 5, 7]] == 0.0) and np.all(slope[[1, 3, 4, 6, 8, 9]] != 0.0)


def test_gradient_of_the_transformed_objective_matches_finite_differences(noisy):
    def loss(u):
        return noisy(PARAMETERS.to_model(u))

    point = tuple(u + 0.3 for u in PARAMETERS.to_unconstrained(TEMPLATE))
    gradient = jax.jit(jax.grad(loss))(point)
    loss_jit = jax.jit(loss)
    for i in range(len(point)):
        h = 1e-5 * max(1.0, abs(float(point[i])))

        def shifted(delta, i=i):
            return tuple(u + delta if j == i else u for j, u in enumerate(point))

        central = (float(loss_jit(shifted(h))) - float(loss_jit(shifted(-h)))) / (2.0 * h)
        np.testing.assert_allclose(float(gradient[i]), central, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Fits


def test_fit_finds_the_weighted_least_squares_optimum(noisy, reference):
    mean = np.asarray(noisy.data.mean)
    optimum, covariance = curve_fit(
        decay, DISTANCES, mean, p0=TRUTH, sigma=SEM, absolute_sigma=True
    )
    standard_error = np.sqrt(np.diag(covariance))
    chi_square = np.sum(((decay(DISTANCES, *optimum) - mean) / SEM) ** 2)
    fitted = np.array([float(reference.best_values[name]) for name in PARAMETERS.names])
    # The fit is scipy's optimum (to a thousandth of a standard error), so the truth lies
    # within the errors scipy derives; every start converged to it.
    assert np.all(np.abs(fitted - optimum) < 1e-3 * standard_error), (fitted, optimum)
    np.testing.assert_allclose(reference.best_loss, chi_square, rtol=1e-8)
    assert np.all(np.abs(fitted - np.array(TRUTH)) < 3.0 * standard_error)
    assert reference.loss_history.shape == (N_STEPS + 1, 3)
    assert np.all(reference.rejections == 0)
    np.testing.assert_allclose(noisy(reference.model), chi_square, rtol=1e-8)


class STDPWindow(eqx.Module):
    """The Graupner-Brunel rule and its spike-driven calcium, read as an STDP window."""

    rule: GraupnerBrunel
    calcium: GraupnerBrunelCalcium


def predict_stdp(model: STDPWindow, data: DataSet):
    """Weight change (%) after 60 pairs at 1 Hz, per row's delta_t (ms), from the analytic
    reduction."""
    return 100.0 * jax.vmap(
        lambda delta_t: pair_protocol_change(model.rule, model.calcium, delta_t, 1000.0, 60)
    )(jnp.asarray(data.column("delta_t")))


def test_fit_recovers_the_graupner_brunel_rates_of_an_stdp_window():
    truth = STDPWindow(
        GraupnerBrunel.from_published("DP"), GraupnerBrunelCalcium.from_published("DP")
    )
    delta_t = np.linspace(-80.0, 80.0, 17)
    rows = measurements(np.full(17, 100.0), np.full(17, 5.0), delta_t)
    window = np.asarray(predict_stdp(truth, rows))
    objective = Objective(predict_stdp, measurements(window, np.full(17, 5.0), delta_t))
    start = eqx.tree_at(lambda m: (m.rule.gamma_p, m.rule.gamma_d), truth, (150.0, 400.0))
    parameters = FitParameters(
        start,
        [
            Parameter("rule.gamma_p", 10.0, 2000.0, log=True),
            Parameter("rule.gamma_d", 10.0, 2000.0, log=True),
        ],
    )
    result = fit(objective, parameters, n_starts=2, n_steps=N_STEPS, seed=0, progress=False)
    np.testing.assert_allclose(result.best_values["rule.gamma_p"], truth.rule.gamma_p, rtol=1e-3)
    np.testing.assert_allclose(result.best_values["rule.gamma_d"], truth.rule.gamma_d, rtol=1e-3)
    assert float(result.model.rule.gamma_p) == float(result.best_values["rule.gamma_p"])
    assert float(result.model.rule.theta_p) == float(truth.rule.theta_p)


def test_vmapped_starts_equal_a_plain_optax_loop_over_starts(noisy):
    # reduce_on_plateau reads the loss at each update (as optax.lbfgs reads it, its gradient and
    # the loss function): the fit must hand it over.
    optimiser = optax.chain(optax.adam(0.1), optax.contrib.reduce_on_plateau(patience=5))
    starts = {
        "alpha": np.array([10.0, 60.0, 95.0]),
        "length_constant": np.array([20.0, 1.0, 50.0]),
        "beta": np.array([90.0, 110.0, 100.0]),
    }
    together = fit(
        noisy, PARAMETERS, starts=starts, n_steps=100, optimiser=optimiser, progress=False
    )

    @jax.jit
    def step(point, state):
        loss, gradient = jax.value_and_grad(lambda u: noisy(PARAMETERS.to_model(u)))(point)
        update, state = optimiser.update(gradient, state, point, value=loss)
        return optax.apply_updates(point, update), state, loss

    first = PARAMETERS.check_values(starts, "starts", batch=3)
    for i in range(3):
        point = tuple(u[i] for u in first)
        state, points, losses = optimiser.init(point), [], []
        for _ in range(101):
            points.append(point)
            point, state, loss = step(point, state)
            losses.append(float(loss))
        assert together.rejections[i] == 0 and float(state[1].scale) < 1.0  # plateaus were seen
        # Batched and single arithmetic may differ in the last bits, no more.
        np.testing.assert_allclose(together.loss_history[:, i], losses, rtol=1e-10)
        # The best of steps whose losses agree to 1e-10 near the (flat) optimum: possibly
        # another step, an optimiser step's length away.
        best = PARAMETERS.to_values(points[int(np.argmin(losses))])
        for name in PARAMETERS.names:
            np.testing.assert_allclose(together.values[name][i], best[name], rtol=1e-6)
            assert together.start_values[name][i] == pytest.approx(starts[name][i], rel=1e-14)


LIMIT = 12.0  # um: the model "fails" for longer length constants


def predict_fails(model: Decay, data: DataSet):
    return jnp.where(model.length_constant < LIMIT, predict(model, data), jnp.nan)


def predict_gradient_fails(model: Decay, data: DataSet):
    # Finite everywhere, but the gradient is NaN beyond LIMIT (the unused branch's sqrt).
    value = predict(model, data)
    return jnp.where(
        model.length_constant < LIMIT, value, value + 0.0 * jnp.sqrt(LIMIT - model.length_constant)
    )


@pytest.mark.parametrize("failing", [predict_fails, predict_gradient_fails])
def test_non_finite_steps_are_rejected_and_counted(failing):
    data = measurements(decay(DISTANCES, 30.0, 10.0, 100.0))
    parameters = FitParameters(
        Decay(30.0, 2.0, 100.0), [Parameter("length_constant", 0.5, 100.0, log=True)]
    )
    objective = Objective(failing, data)
    # Start 0 overshoots the optimum (10 um) into the failing region; start 1 starts inside it.
    with pytest.warns(UserWarning, match=r"not finite at starts \[1\]"):
        result = fit(
            objective,
            parameters,
            starts={"length_constant": [2.0, 20.0]},
            n_steps=200,
            optimiser=optax.adam(0.3),
            progress=False,
        )
    history = np.asarray(result.loss_history)
    # A rejected step leaves the point, hence the loss, exactly as it was; an accepted one moves.
    unchanged = np.sum(np.diff(history[:, 0]) == 0.0)
    assert result.rejections[0] > 0 and result.rejections[0] == unchanged
    assert np.all(np.isfinite(history[:, 0]))
    # It still finds the optimum: the length constant of the data.
    np.testing.assert_allclose(result.values["length_constant"][0], 10.0, rtol=1e-4)
    # The start inside the region never moves, and every one of its evaluations is rejected.
    stuck = result.values["length_constant"][1]
    assert stuck == result.start_values["length_constant"][1] == pytest.approx(20.0, rel=1e-14)
    assert result.rejections[1] == 201
    assert np.all(np.isinf(history[:, 1])) and result.best_start == 0
    with pytest.raises(ValueError, match="not finite at any start"):
        fit(
            objective,
            parameters,
            starts={"length_constant": [20.0, 30.0]},
            n_steps=200,
            optimiser=optax.adam(0.3),
            progress=False,
        )


class Interrupted(Exception):
    pass


def test_an_interrupted_fit_resumes_bit_for_bit(noisy, reference, tmp_path):
    path, copy = tmp_path / "fit.ckpt", tmp_path / "at_step_100.ckpt"

    def interrupt(record):
        if record.step == 100:  # the periodic checkpoint of this step is written: keep it
            shutil.copy(path, copy)
        if record.step == 120:
            raise Interrupted

    settings = dict(n_starts=3, n_steps=N_STEPS, seed=0, checkpoint_every=50, progress_every=10)
    with pytest.raises(Interrupted):
        fit(noisy, PARAMETERS, checkpoint=path, progress=interrupt, **settings)
    for checkpoint, stopped_at in ((path, 120), (copy, 100)):
        steps = []
        resumed = fit(
            noisy,
            PARAMETERS,
            checkpoint=checkpoint,
            progress=lambda r: steps.append(r.step),  # noqa: B023  (runs in this iteration)
            **settings,
        )
        assert steps[0] == stopped_at + 10 and steps[-1] == N_STEPS
        _assert_same_fit(resumed, reference)
    # A finished checkpoint gives the result without a step; another fit's is refused.
    steps = []
    _assert_same_fit(
        fit(
            noisy, PARAMETERS, checkpoint=path, progress=lambda r: steps.append(r.step), **settings
        ),
        reference,
    )
    assert steps == []
    with pytest.raises(ValueError, match=r"different fit: the starts \(seed, number of starts\)"):
        fit(noisy, PARAMETERS, checkpoint=path, **{**settings, "seed": 1})
    # The stale-rerun repro: only the learning rate differs, hidden in the optimiser's closures.
    faster = default_optimiser(N_STEPS, learning_rate=0.5)
    with pytest.raises(ValueError, match=r"different fit: the optimiser \(learning rate"):
        fit(noisy, PARAMETERS, checkpoint=path, optimiser=faster, **settings)


def test_the_seed_makes_the_fit_reproducible(noisy, reference, capsys):
    again = fit(noisy, PARAMETERS, n_starts=3, n_steps=N_STEPS, seed=0, progress_every=100)
    _assert_same_fit(again, reference)
    compiling, *lines = capsys.readouterr().out.splitlines()
    assert compiling.startswith("compiling the loss and its gradient at 3 starts ...")
    assert [line.split()[1] for line in lines] == ["0/300", "100/300", "200/300", "300/300"]
    assert all("steps/s" in line and "rejected 0 [0 0 0]" in line for line in lines)
    # The first report says how long its wait for the program and the first step was.
    waited = lines[0].split("(compiled and ran in ")[1].split(" s; steps/s from the next report)")
    assert float(waited[0]) >= 0.0 and "compiled and ran" not in lines[1]
    other = fit(noisy, PARAMETERS, n_starts=3, n_steps=N_STEPS, seed=1, progress=False)
    for name, (low, high) in (("alpha", (1.0, 99.0)), ("beta", (80.0, 120.0))):
        first, drawn = reference.start_values[name], other.start_values[name]
        assert first[0] == drawn[0] == pytest.approx(float(getattr(TEMPLATE, name)), rel=1e-14)
        assert np.all(first[1:] != drawn[1:])
        assert np.all((drawn[1:] >= low) & (drawn[1:] <= high))


def test_writers_produce_files_that_read_back(noisy, reference, tmp_path):
    paths = write_fit(reference, tmp_path / "fit")
    assert {p.name for p in (tmp_path / "fit").iterdir()} == {
        "parameters.json",
        "model.eqx",
        "predictions.csv",
        "loss.png",
    }
    values = read_parameters(paths["parameters"])
    assert set(values) == set(PARAMETERS.names)
    for name in PARAMETERS.names:
        assert values[name] == float(reference.best_values[name])
    record = json.loads(paths["parameters"].read_text())
    assert record["loss"] == float(reference.best_loss[reference.best_start])
    assert record["parameters"]["length_constant"]["unit"] == "um"
    assert record["parameters"]["beta"]["lower"] is None
    model = load_model(paths["model"], TEMPLATE)
    for name in PARAMETERS.names:
        assert float(getattr(model, name)) == float(reference.best_values[name])
    with open(paths["predictions"]) as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0])[-len(PREDICTION_COLUMNS) :] == PREDICTION_COLUMNS and len(rows) == 12
    assert tuple(rows[0])[:3] == ("condition", "readout", "site")
    mean = np.asarray(noisy.data.mean)
    prediction = decay(DISTANCES, *(float(values[name]) for name in PARAMETERS.names))
    np.testing.assert_array_equal([float(r["mean"]) for r in rows], mean)
    np.testing.assert_allclose([float(r["prediction"]) for r in rows], prediction, rtol=1e-12)
    np.testing.assert_allclose(
        [float(r["residual_sem"]) for r in rows], (prediction - mean) / SEM, rtol=1e-9, atol=1e-12
    )
    assert paths["loss"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class DecayWithOffsetTime(eqx.Module):
    """`Decay` with one more field: a model that gained a parameter since a fit was written."""

    alpha: jax.Array = eqx.field(converter=jnp.asarray)
    length_constant: jax.Array = eqx.field(converter=jnp.asarray)
    onset: jax.Array = eqx.field(converter=jnp.asarray)
    beta: jax.Array = eqx.field(converter=jnp.asarray)


def test_a_model_file_of_another_structure_is_refused_by_name(tmp_path):
    path = tmp_path / "model.eqx"
    eqx.tree_serialise_leaves(path, TEMPLATE)
    with pytest.raises(ValueError, match=r"model\.eqx.*4 leaves.*parameters\.json"):
        load_model(path, DecayWithOffsetTime(1.0, 2.0, 3.0, 4.0))
    assert float(load_model(path, TEMPLATE).beta) == 90.0


def test_a_checkpoint_being_written_by_another_fit_is_refused_at_once(noisy, tmp_path):
    from plastic._lock import OutputLockedError

    path = tmp_path / "fit.ckpt"
    (tmp_path / "fit.ckpt.lock").write_text(str(os.getppid()))  # a live process holds it
    with pytest.raises(OutputLockedError, match="being written by process"):
        fit(noisy, PARAMETERS, n_steps=3, checkpoint=path, progress=False)
    assert not path.exists()
