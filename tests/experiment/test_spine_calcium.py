"""The readouts of `SpineCalciumExperiment` on synthetic traces (no solve)."""

import jax.numpy as jnp
import numpy as np
import pytest

from plastic.experiment.spine_calcium import (
    SPINE_CALCIUM_READOUTS,
    STIMULI,
    SpineCalciumExperiment,
    SpineCalciumTraces,
    decay_time_constant,
    supralinearity,
)

REST = 0.07
TIME = jnp.arange(0.0, 300.0, 0.05)


def transient(amplitude, onset, tau, rise=1.0):
    """rest + a transient rising with ``rise`` ms and falling with ``tau`` ms from ``onset``."""
    t = jnp.maximum(TIME - onset, 0.0)
    shape = (1.0 - jnp.exp(-t / rise)) * jnp.exp(-t / tau)
    return REST + amplitude * shape / jnp.max(shape)


def test_decay_time_constant_of_an_exponential_is_its_time_constant():
    for tau in (5.0, 14.0, 60.0):
        calcium = REST + 2.0 * jnp.exp(-jnp.maximum(TIME - 20.0, 0.0) / tau)
        assert float(decay_time_constant(TIME, calcium, REST)) == pytest.approx(tau, rel=1e-9)


def test_decay_time_constant_leaves_out_the_rise_and_a_later_event():
    # A rise of 0.5 ms and a second event 80 ms later (an uncaging after the AP): the fit
    # reads only the first fall, from 80 % to 20 % of the peak, where the rise has died out.
    first = transient(1.0, 20.0, 14.0, rise=0.5)
    second = transient(0.8, 100.0, 150.0) - REST
    tau = float(decay_time_constant(TIME, first + second, REST))
    assert tau == pytest.approx(14.0, rel=1e-3)


def test_decay_time_constant_is_nan_without_a_falling_phase():
    assert np.isnan(float(decay_time_constant(TIME, jnp.full_like(TIME, REST), REST)))


def test_supralinearity_is_the_pairing_amplitude_over_the_sum_of_the_parts():
    assert float(supralinearity(REST + 3.0, REST + 1.0, REST + 1.0, REST)) == pytest.approx(1.5)
    assert float(supralinearity(REST + 2.0, REST + 1.5, REST + 0.5, REST)) == pytest.approx(1.0)


def synthetic_traces():
    """bAP 1 uM (14 ms), uncaging 0.5 uM (150 ms), pairing 3 uM: a ratio of 2."""
    calcium = jnp.stack(
        [
            jnp.full_like(TIME, REST),
            transient(1.0, 30.0, 14.0),
            transient(0.5, 20.0, 150.0),
            transient(3.0, 30.0, 20.0),
        ]
    )
    return SpineCalciumTraces(
        time=TIME,
        head_calcium=calcium,
        vgcc_entry=jnp.asarray([0.0, 30.0, 0.0, 30.0]),
        nmda_entry=jnp.asarray([0.0, 0.0, 100.0, 150.0]),
        rest_time=jnp.asarray(20.0),
        solver_result=jnp.zeros(3, int),
    )


def test_readouts_of_synthetic_traces():
    traces = synthetic_traces()
    read = {r.name: r for r in SPINE_CALCIUM_READOUTS}

    def value(name, stimulus):
        return float(read[name](None, {"stimulus": STIMULI.index(stimulus)}, traces))

    assert value("resting_head_calcium", "pairing") == pytest.approx(REST)
    assert value("head_calcium_amplitude", "bAP") == pytest.approx(1.0, rel=1e-6)
    assert value("peak_head_calcium", "uncaging") == pytest.approx(REST + 0.5, rel=1e-6)
    assert value("peak_head_calcium", "rest") == pytest.approx(REST)
    assert value("head_calcium_decay_time", "bAP") == pytest.approx(14.0, rel=1e-3)
    assert value("supralinearity", "pairing") == pytest.approx(2.0, rel=1e-6)
    assert np.isnan(value("supralinearity", "bAP"))
    assert value("nmda_calcium_entry", "pairing") == 150.0
    assert value("vgcc_calcium_entry", "uncaging") == 0.0


def test_a_pairing_that_does_not_fit_its_period_is_refused_before_a_solve():
    experiment = SpineCalciumExperiment()
    condition = experiment.encode_condition({"stimulus": "pairing", "delta_t": 295.0}, "row")
    with pytest.raises(ValueError, match="delta_t"):
        experiment.sized_for({k: np.asarray([v]) for k, v in condition.items()})
