"""`PopulationPredictor`: the population mean against a loop over members each predicted alone,
draws inside their ranges, bad input refused, and its gradient against finite differences."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.experiment import (
    PopulationPredictor,
    Predictor,
    SpikePairingExperiment,
    dataset_from_records,
    draw_members,
)
from plastic.paths import ModelPath
from plastic.rules import GraupnerBrunelSynapse

EXPERIMENT = SpikePairingExperiment()
ROWS = [
    dict(delta_t=10.0, n_bursts=60, burst_period=1000.0),
    dict(delta_t=-10.0, n_bursts=60, burst_period=1000.0),
]
SYNAPSE = GraupnerBrunelSynapse.from_published("DP")
C_PRE = (0.6, 1.0, 1.4)  # x the published pre-synaptic calcium amplitude


def _predictor():
    records = [
        dict(readout="weight", mean=1.0, sem=0.1, n=5, unit="ratio", source="test",
             condition=str(i), **row)
        for i, row in enumerate(ROWS)
    ]  # fmt: skip
    data = dataset_from_records(records)
    return Predictor.from_data(EXPERIMENT, data, model=SYNAPSE), data


def _values():
    c_pre = float(SYNAPSE.calcium.c_pre)
    theta_p = float(SYNAPSE.rule.theta_p)
    return {
        "calcium.c_pre": jnp.asarray(C_PRE) * c_pre,
        "rule.theta_p": jnp.asarray([1.0, 0.9, 1.1]) * theta_p,
    }


def test_population_mean_equals_each_member_predicted_alone():
    predictor, _ = _predictor()
    values = _values()
    population = PopulationPredictor(predictor, values)
    members, codes = eqx.filter_jit(lambda p, m: p.member_predictions_and_results(m))(
        population, SYNAPSE
    )
    assert members.shape == (3, 2) and codes.shape == (3, 2) and not np.any(codes)
    for i in range(3):
        model = SYNAPSE
        for path, value in values.items():
            model = ModelPath(path).set(model, value[i])
        np.testing.assert_allclose(members[i], predictor(model), rtol=1e-12)
    np.testing.assert_allclose(population(SYNAPSE), np.mean(members, axis=0), rtol=1e-12)
    # the members do differ: the population mean is not one member's prediction
    assert float(jnp.ptp(members[:, 0])) > 1e-3
    batched = PopulationPredictor(predictor, values, member_batch_size=2)
    np.testing.assert_allclose(batched(SYNAPSE), population(SYNAPSE), rtol=1e-12)


def test_draws_lie_in_their_ranges_with_one_value_per_element():
    predictor, _ = _predictor()
    ranges = {"calcium.c_pre": (0.5, 2.0, True), "rule.theta_p": (1.0, 1.5, False)}
    values = draw_members(SYNAPSE, ranges, 64, jax.random.key(0))
    population = PopulationPredictor(predictor, values)
    assert population.n_members == 64
    for (lower, upper, _), value in zip(ranges.values(), population.values):
        assert value.shape == (64,)
        assert float(value.min()) >= lower and float(value.max()) <= upper
        assert float(value.max() - value.min()) > 0.5 * (upper - lower)  # spread, not one value
    c_pre = np.log(np.asarray(population.values[0]))  # log-uniform: uniform in log
    assert abs(np.median(c_pre) - np.log(1.0)) < 0.3


@pytest.mark.parametrize(
    "ranges, n_members, message",
    [
        ({"calcium.c_pre": (2.0, 1.0, False)}, 4, "calcium.c_pre"),
        ({"calcium.c_pre": (0.0, 1.0, True)}, 4, "log"),
        ({"calcium.no_such_leaf": (0.0, 1.0, False)}, 4, "no_such_leaf"),
        ({"calcium.c_pre": (0.5, 1.0, False)}, 0, "n_members"),
    ],
)
def test_bad_population_input_is_refused(ranges, n_members, message):
    with pytest.raises(ValueError, match=message):
        draw_members(SYNAPSE, ranges, n_members, jax.random.key(0))


def test_members_of_different_counts_are_refused():
    predictor, _ = _predictor()
    with pytest.raises(ValueError, match="member"):
        PopulationPredictor(predictor, {"calcium.c_pre": jnp.ones(3), "rule.theta_p": jnp.ones(2)})


def test_gradient_of_the_population_mean_matches_finite_differences():
    """d mean prediction / d tau of the rule, through every member's solve."""
    predictor, _ = _predictor()
    population = PopulationPredictor(predictor, _values())

    def mean_of_first_row(tau):
        return population(eqx.tree_at(lambda s: s.rule.tau, SYNAPSE, tau))[0]

    tau = SYNAPSE.rule.tau
    gradient = jax.grad(mean_of_first_row)(tau)
    step = 1e-4 * float(tau)
    central = (mean_of_first_row(tau + step) - mean_of_first_row(tau - step)) / (2 * step)
    assert abs(float(central)) > 1e-9  # the row does depend on tau
    np.testing.assert_allclose(gradient, central, rtol=1e-5)


class RecordingPairing(SpikePairingExperiment):
    """A replay's shape: `prepare` records a leaf of the model it is given (the presynaptic
    calcium amplitude) into the conditions, and `run` uses the record, not the model's leaf."""

    def prepare(self, conditions, readouts, model):
        experiment, arrays = super().prepare(conditions, readouts, model)
        n = len(np.asarray(conditions["delta_t"]))
        return experiment, {**arrays, "recorded_c_pre": jnp.full(n, model.calcium.c_pre)}

    def run(self, model, condition):
        recorded = eqx.tree_at(lambda s: s.calcium.c_pre, model, condition["recorded_c_pre"])
        return super().run(recorded, condition)


def test_a_recorded_population_records_each_member():
    """Each member's predictor is prepared with the member's model: the recorded population
    equals every member predicted alone with its own record, and differs from one record
    shared by all members."""
    _, data = _predictor()
    experiment = RecordingPairing()
    values = _values()
    population = PopulationPredictor.recorded(experiment, data, SYNAPSE, values)
    assert population.per_member
    members, codes = population.member_predictions_and_results(SYNAPSE)
    assert not np.any(codes)
    for i in range(3):
        model = SYNAPSE
        for path, value in values.items():
            model = ModelPath(path).set(model, value[i])
        alone = Predictor.from_data(experiment, data, model=model)(model)
        np.testing.assert_allclose(members[i], alone, rtol=1e-12)
    shared = PopulationPredictor(Predictor.from_data(experiment, data, model=SYNAPSE), values)
    shared_members, _ = shared.member_predictions_and_results(SYNAPSE)
    assert float(jnp.max(jnp.abs(shared_members[0] - members[0]))) > 1e-3
    batched = PopulationPredictor.recorded(experiment, data, SYNAPSE, values, member_batch_size=2)
    np.testing.assert_allclose(batched(SYNAPSE), population(SYNAPSE), rtol=1e-12)
    assert population.condition_labels() == shared.condition_labels()


def test_a_fit_to_the_population_mean_moves_towards_the_truth():
    """The population as an `Objective`'s predict: rows made from the population mean at the
    published time constant are fitted from a time constant 1.5 times too long; the loss is 0
    at the truth and the fit lowers it and moves towards the truth."""
    from plastic.fit import FitParameters, Objective, Parameter, fit

    predictor, data = _predictor()
    population = PopulationPredictor(predictor, _values())
    truth = population(SYNAPSE)
    objective = Objective(population, data.with_mean(truth).with_sem(np.full(2, 1e-3)))
    assert float(objective.loss_and_result(SYNAPSE)[0]) < 1e-20
    tau = float(SYNAPSE.rule.tau)
    start = eqx.tree_at(lambda s: s.rule.tau, SYNAPSE, jnp.asarray(1.5 * tau))
    parameters = FitParameters(start, [Parameter("rule.tau", 0.2 * tau, 5.0 * tau, log=True)])
    result = fit(objective, parameters, n_steps=30, progress=False)
    first, best = float(result.loss_history[0, 0]), float(result.best_loss[0])
    assert first > 1.0 and best < 0.1 * first
    fitted = float(result.values["rule.tau"][0])
    assert abs(fitted - tau) < 0.5 * abs(1.5 * tau - tau)
