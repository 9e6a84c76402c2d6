"""A failed solve is reported on the host, naming its conditions, by every runner: the sweep,
the predictor and the fit (the solves carry their result codes out of the compiled programs,
which hold no host callback). A toy experiment: an oscillator whose solve runs out of steps
for long durations, so that failures are cheap and certain."""

import re

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.experiment import (
    AbstractExperiment,
    AbstractReadout,
    ConditionField,
    Predictor,
    dataset_from_records,
)
from plastic.fit import FitParameters, Objective, Parameter, fit
from plastic.solver_status import SolveFailedError, diffeqsolve
from plastic.sweep import ExperimentSweep, run_sweep

MAX_STEPS = 64
"""Enough for a duration of a few periods at frequency 1 rad/ms, not for 100 ms."""


class Oscillator(eqx.Module):
    frequency: jax.Array = eqx.field(converter=jnp.asarray)  # rad/ms


class Solved(eqx.Module):
    position: jax.Array
    solver_result: jax.Array


class Position(AbstractReadout):
    name: str = eqx.field(static=True, default="position")
    unit: str = eqx.field(static=True, default="mm")
    dims: tuple[str, ...] = eqx.field(static=True, default=())
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def __call__(self, model, condition, result):
        return result.position


class Oscillation(AbstractExperiment):
    fields: tuple[ConditionField, ...] = eqx.field(
        static=True, default=(ConditionField("duration", "ms", lower=0.0),)
    )
    readouts: tuple[AbstractReadout, ...] = (Position(),)

    def run(self, model, condition):
        def field(t, y, frequency):
            return jnp.stack([y[1], -(frequency**2) * y[0]])

        solution, result = diffeqsolve(
            diffrax.ODETerm(field),
            diffrax.Tsit5(),
            0.0,
            condition["duration"],
            None,
            jnp.array([1.0, 0.0]),
            args=model.frequency,
            stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-10),
            max_steps=MAX_STEPS,
        )
        return Solved(solution.ys[-1, 0], result)


def test_a_sweep_names_the_conditions_whose_solve_failed(tmp_path):
    sweep = ExperimentSweep.build(
        Oscillation(), Oscillator(1.0), {"duration": np.array([1.0, 100.0, 2.0])}
    )
    with pytest.raises(SolveFailedError) as raised:
        run_sweep(sweep, str(tmp_path / "sweep.nc"), chunk_size=3, progress=None)
    message = str(raised.value)
    assert "maximum number of solver steps was reached in 1 of 3: duration=100" in message
    assert "duration=1," not in message and "kept in" in message


def _rows(durations):
    return dataset_from_records(
        [
            dict(
                condition=f"{d} ms",
                readout="position",
                mean=float(np.cos(d)),
                sem=0.1,
                n=1,
                unit="mm",
                source="closed form",
                duration=d,
            )
            for d in durations
        ]
    )


def test_a_predictor_raises_eagerly_and_gives_nan_under_jit():
    rows = _rows([1.0, 100.0])
    predictor = Predictor.from_data(Oscillation(), rows)
    with pytest.raises(SolveFailedError, match="in 1 of 2: duration=100"):
        predictor(Oscillator(1.0))
    predicted = eqx.filter_jit(lambda p, m: p(m))(predictor, Oscillator(1.0))
    assert np.isfinite(predicted[0]) and np.isnan(predicted[1])
    # Where every solve succeeds, the value and its gradient are the closed form's.
    ok = Predictor.from_data(Oscillation(), _rows([1.0, 2.0]))

    def first(frequency):
        return ok(Oscillator(frequency))[0]

    assert float(eqx.filter_jit(first)(1.0)) == pytest.approx(np.cos(1.0), rel=1e-6)
    assert float(eqx.filter_jit(jax.grad(first))(1.0)) == pytest.approx(-np.sin(1.0), rel=1e-5)


def test_a_fit_rejects_steps_whose_solve_failed_and_says_why():
    """One start where the solve fails (a fast oscillator runs out of steps in 2 ms), one where
    it succeeds: the failed start stays where it is, with the reason."""
    rows = _rows([2.0])
    objective = Objective(Predictor.from_data(Oscillation(), rows), rows)
    parameters = FitParameters(
        Oscillator(1.0), [Parameter("frequency", lower=0.01, upper=1000.0, log=True)]
    )
    with pytest.warns(UserWarning) as caught:
        result = fit(
            objective,
            parameters,
            starts={"frequency": np.array([1.0, 500.0])},
            n_steps=2,
            progress=False,
        )
    messages = [str(w.message) for w in caught]
    assert any(
        re.search(r"starts \[1\].*start 1: the maximum number of solver", m) for m in messages
    )
    assert any("steps rejected because a solve failed" in m and "start 1: 3" in m for m in messages)
    assert np.isfinite(result.best_loss[0]) and not np.isfinite(result.best_loss[1])
    assert np.asarray(result.rejections)[1] == 3
