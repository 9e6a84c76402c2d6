import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastic.solver_status import (
    SolveFailedError,
    combined,
    nan_where_failed,
    raise_if_failed,
    results_in,
)

MAX_STEPS = int(diffrax.RESULTS.max_steps_reached._value)
DT_MIN = int(diffrax.RESULTS.dt_min_reached._value)
EVENT = int(diffrax.RESULTS.event_occurred._value)


def test_failures_are_named_with_their_conditions():
    codes = np.array([0, MAX_STEPS, 0, DT_MIN, MAX_STEPS])
    labels = [f"delta_t={t}" for t in range(5)]
    with pytest.raises(SolveFailedError) as raised:
        raise_if_failed(codes, "the sweep", labels=labels, hint="try more steps")
    message = str(raised.value)
    assert "maximum number of solver steps was reached in 2 of 5: delta_t=1; delta_t=4" in message
    assert "step size fell to its minimum in 1 of 5: delta_t=3" in message
    assert message.endswith("try more steps") and "delta_t=0" not in message
    assert raised.value.codes == (MAX_STEPS, DT_MIN)
    raise_if_failed(np.array([0, EVENT]), "an event is no failure")


def test_combined_codes_and_nan_masking_keep_gradients():
    assert int(combined([jnp.array([0, EVENT]), None, jnp.array(0)])) == 0
    assert int(combined([jnp.array([0, MAX_STEPS]), jnp.array(DT_MIN)])) == DT_MIN

    class Holder:
        solver_result = jnp.array([0, MAX_STEPS])

    assert int(results_in({"a": Holder(), "b": jnp.ones(3)})) == MAX_STEPS
    masked = nan_where_failed(jnp.ones((2, 3)), jnp.array([0, MAX_STEPS]))
    assert np.all(np.isfinite(masked[0])) and np.all(np.isnan(masked[1]))

    def loss(x, code):
        return jnp.sum(nan_where_failed(x**2, code))

    assert float(jax.grad(loss)(3.0, 0)) == 6.0
    assert np.isnan(float(loss(3.0, MAX_STEPS)))
