"""The seed experiments on the model: conditions from the data rows, the uEPSP measurement, and
the predictor the fit uses (short protocols: the numerics are tested in test_simulate)."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize

import plastic  # noqa: F401
from plastic.data import load_tazerart2020
from plastic.data.measurements import Measurements
from plastic.expression import Drugs
from plastic.fit import FitParameters, Objective, fit
from plastic.simulate import simulate
from plastic.tazerart import (
    FIRST_PAIRING,
    LENGTH_CONSTANT_DISTANCES,
    NEIGHBOUR_DISTANCE,
    REPLAY_FITTABLE,
    UNBOUNDED_DISTANCE_MARGIN,
    Condition,
    ReplayPredictor,
    TazerartPredictor,
    conditions_of,
    default_fit_parameters,
    induction_protocol,
    model_in_condition,
    tazerart_model,
)

DATA = load_tazerart2020()


def test_conditions_follow_the_rows():
    rows = DATA.select(readout=("uepsp",))
    conditions, index, sweeps = conditions_of(rows)
    assert sweeps == ((),) * rows.n_rows
    for row in range(rows.n_rows):
        condition, i = conditions, index[row]
        two = int(rows.n_spines_uncaged[row]) == 2
        assert float(condition.delta_t[i]) == float(rows.delta_t[row])
        assert float(condition.two_spines[i]) == float(two)
        low, high = float(rows.distance_min[row]), float(rows.distance_max[row])
        expected = (
            NEIGHBOUR_DISTANCE
            if not two
            else (0.5 * (low + high) if np.isfinite(high) else low + UNBOUNDED_DISTANCE_MARGIN)
        )
        assert float(condition.distance[i]) == expected
        assert float(condition.temperature[i]) == float(rows.temperature[row])
        drug = rows.drug[row]
        assert float(condition.drugs.latrunculin[i]) == float(drug == "latrunculin-A")
        assert float(condition.drugs.pep1_tgl[i]) == float(drug == "PEP1-TGL")
    # Distinct rows, distinct conditions: every uEPSP row here is its own experiment.
    assert len(set(index.tolist())) == rows.n_rows


def test_length_constant_rows_sweep_the_distance_of_a_pair():
    rows = DATA.select(readout=("length_constant", "uepsp"))
    conditions, index, sweeps = conditions_of(rows)
    for row in range(rows.n_rows):
        if rows.readout[row] != "length_constant":
            assert sweeps[row] == ()
            continue
        sweep = np.asarray(sweeps[row])
        np.testing.assert_array_equal(conditions.distance[sweep], LENGTH_CONSTANT_DISTANCES)
        assert np.all(conditions.delta_t[sweep] == float(rows.delta_t[row]))
        assert np.all(conditions.two_spines[sweep] == 1.0)
    # The clustered (3 um) and distributed (5 + 15 um) +7 ms pairs are simulated once.
    assert len(set(index.tolist()) | {i for s in sweeps for i in s}) == len(conditions.delta_t)
    assert len(conditions.delta_t) == rows.n_rows - 2 + 2 * len(LENGTH_CONSTANT_DISTANCES) - 2


def test_a_length_constant_of_one_spine_is_refused():
    rows = DATA.select(readout=("length_constant",))
    one_spine = eqx.tree_at(lambda d: d.n_spines_uncaged, rows, np.ones(rows.n_rows))
    with pytest.raises(ValueError, match="n_spines_uncaged 1"):
        conditions_of(one_spine)


def test_a_length_constant_row_is_eq2_fitted_to_the_pairs_it_sweeps():
    """Against scipy: the replay predictor's lambda(-15 ms) row equals `curve_fit` of eq. 2 to
    its uEPSP predictions for pairs of the same condition, one row per distance (those rows
    share the row's simulations, so this checks which pairs, at which distances, it fits)."""
    model = tazerart_model()
    template = DATA.select(condition="clustered -15 ms", readout="uepsp")._columns()
    n = len(LENGTH_CONSTANT_DISTANCES)
    columns = {name: values * n for name, values in template.items()}
    columns.update(
        condition=tuple(f"pair {d:g} um" for d in LENGTH_CONSTANT_DISTANCES),
        distance_min=LENGTH_CONSTANT_DISTANCES,
        distance_max=LENGTH_CONSTANT_DISTANCES,
    )
    pairs = Measurements(**columns)
    length_row = DATA.select(readout="length_constant", delta_t=-15.0)
    rows = Measurements(
        **{
            name: tuple(a) + tuple(b)
            for name, a, b in zip(
                template, length_row._columns().values(), pairs._columns().values()
            )
        }
    )
    predictor = ReplayPredictor.from_data(rows, model, n_pairings=40, readout_delay=60_000.0)
    assert len(predictor.conditions.delta_t) == n
    prediction = np.asarray(eqx.filter_jit(lambda m, p: p(m))(model, predictor))
    uepsp = prediction[1:]
    assert np.ptp(uepsp) > 1.0  # the pairs' plasticity depends on their distance

    def eq2(distance, alpha, length_constant, beta):
        return alpha * np.exp(-distance / length_constant) + beta

    distances = np.asarray(LENGTH_CONSTANT_DISTANCES)
    start = (uepsp[0] - uepsp[-1], 20.0, uepsp[-1])
    tight = dict(xtol=1e-14, ftol=1e-14, gtol=1e-14)
    (_, length_constant, _), _ = scipy.optimize.curve_fit(eq2, distances, uepsp, p0=start, **tight)
    # rtol 1e-5, not tighter: after 1 min the model's -15 ms curve is shallow over 1-80 um, so
    # lambda is ill-conditioned (about 180 um) and the two optimisers stop ~5e-7 apart.
    np.testing.assert_allclose(prediction[0], length_constant, rtol=1e-5)


CALCIUM_SAMPLING = 0.05
"""ms between the head-calcium samples of `_one_pairing_head_calcium` (200 ms from the pairing)."""


def _one_pairing_head_calcium(model, delta_t):
    condition = Condition(
        delta_t=jnp.asarray(delta_t),
        two_spines=jnp.asarray(0.0),
        distance=jnp.asarray(NEIGHBOUR_DISTANCE),
        drugs=Drugs(),
        temperature=jnp.asarray(21.0),
    )
    model = model_in_condition(model.without_plasticity(), condition)
    protocol = induction_protocol(model, condition, n_pairings=1, quiet=0.0)
    times = FIRST_PAIRING + CALCIUM_SAMPLING * jnp.arange(4001)
    return np.asarray(simulate(model, protocol, save_times=times).states.head_calcium[:, 0])


def test_the_seed_model_gives_a_plus_13_ms_pairing_more_calcium_than_plus_7_ms():
    """Why `NMDA_TAU_RISE` is slow: with a synaptic 0.29 ms rise the bAP of both pairings meets
    the NMDA conductance at its plateau and the spine's calcium is the same (or less at +13 ms),
    so no calcium rule can give t-LTP at +13 ms and none at +7 ms."""
    model = tazerart_model(fitted=False)
    fast = eqx.tree_at(lambda m: m.nmda.tau_rise, model, jnp.asarray(0.29))
    for candidate, more in ((model, True), (fast, False)):
        late, early = (_one_pairing_head_calcium(candidate, dt) for dt in (13.0, 7.0))
        # The high calcium: integral of the excess over 8 uM, uM ms.
        late_high, early_high = (
            np.clip(ca - 8.0, 0.0, None).sum() * CALCIUM_SAMPLING for ca in (late, early)
        )
        if more:
            assert late.max() > 1.03 * early.max()
            assert late_high > 1.1 * early_high
        else:
            assert late.max() < 1.01 * early.max()


SHORT_ROWS = DATA.select(condition=("single +13 ms", "clustered +7 ms"))
SHORT = dict(n_pairings=2, readout_delay=60_000.0)


@pytest.fixture(scope="module")
def coupled_prediction():
    predictor = TazerartPredictor.from_data(SHORT_ROWS, **SHORT)
    return np.asarray(eqx.filter_jit(lambda m, p: p(m))(tazerart_model(), predictor))


def test_predictor_on_a_short_protocol(coupled_prediction):
    rows, prediction = SHORT_ROWS, coupled_prediction
    assert prediction.shape == (rows.n_rows,) and np.all(np.isfinite(prediction))
    by_row = {
        (c, r, s): p for c, r, s, p in zip(rows.condition, rows.readout, rows.site, prediction)
    }
    single = by_row[("single +13 ms", "uepsp_initial", "activated")]
    pair = by_row[("clustered +7 ms", "uepsp_initial", "activated")]
    # Small uEPSPs sum nearly linearly at the soma: two spines give about twice one.
    assert pair == pytest.approx(2 * single, rel=0.15)
    # The model's baseline uEPSP is of the seed's size (0.49-0.59 mV, Fig. 2 legends).
    assert 0.3 < single < 1.0
    # Two pairings change nothing measurable (plasticity needs the full protocol).
    for readout in ("uepsp", "neck_length", "head_volume"):
        assert by_row[("single +13 ms", readout, "activated")] == pytest.approx(100.0, abs=1.0)


def test_replay_predictor_agrees_with_the_coupled_one(coupled_prediction):
    """Same rows, same order; the baseline uEPSP is the same measurement (to round-off), the
    readouts differ only by the feedback the replay neglects (tiny after two pairings)."""
    model = tazerart_model()
    replayed = ReplayPredictor.from_data(SHORT_ROWS, model, **SHORT)
    prediction = np.asarray(eqx.filter_jit(lambda m, p: p(m))(model, replayed))
    initial = SHORT_ROWS.readout == "uepsp_initial"
    np.testing.assert_allclose(prediction[initial], coupled_prediction[initial], rtol=1e-9)
    np.testing.assert_allclose(prediction[~initial], coupled_prediction[~initial], atol=0.02)


def test_default_fit_parameters_hold_the_default_model():
    parameters = FitParameters(tazerart_model(), default_fit_parameters())
    values = parameters.to_values(parameters.to_unconstrained(tazerart_model()))
    for parameter in default_fit_parameters():
        value = float(values[parameter.path])
        assert parameter.lower < value < parameter.upper, parameter.path
        assert parameter.path.startswith(REPLAY_FITTABLE)


class Interrupted(Exception):
    pass


def test_a_short_replay_fit_descends_and_resumes_bit_for_bit(tmp_path):
    """The machinery of `plastic fit` on the seed data (two conditions, two pairings, three
    parameters): the loss goes down, and a fit interrupted after its first step and resumed
    from the checkpoint ends where the uninterrupted one does. Neck and head rows only: a
    gradient through the uEPSP test recording compiles for minutes (the gradient of the stiff
    solve is tested in test_simulate, the replay's in test_replay)."""
    rows = SHORT_ROWS.select(readout=("neck_length", "head_volume"))
    model = tazerart_model()
    # Fast expression and an open messenger gate, so that two pairings move the readouts.
    model = eqx.tree_at(
        lambda m: (m.expression.k_head, m.expression.k_neck, m.coupling.half_activation),
        model,
        (jnp.asarray(5e-5), jnp.asarray(1e-4), jnp.asarray(1e-4)),
    )
    objective = Objective(ReplayPredictor.from_data(rows, model, **SHORT), rows)
    chosen = ("rule.cam_half", "expression.k_head", "expression.k_neck")
    parameters = FitParameters(model, [p for p in default_fit_parameters() if p.path in chosen])
    settings = dict(n_starts=1, n_steps=3, checkpoint_every=1, progress_every=1)
    whole = fit(objective, parameters, progress=False, **settings)
    history = np.asarray(whole.loss_history)[:, 0]
    assert np.all(np.isfinite(history)) and history[-1] < history[0]

    path = tmp_path / "fit.ckpt"

    def interrupt(record):
        if record.step == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        fit(objective, parameters, checkpoint=path, progress=interrupt, **settings)
    resumed = fit(objective, parameters, checkpoint=path, progress=False, **settings)
    for name in chosen:
        assert np.array_equal(np.asarray(resumed.values[name]), np.asarray(whole.values[name]))
