"""The calcium indicator: its equilibrium and fluorescence, the calcium it conserves, the buffer
capacity it adds (the rapid-buffer limit of its kinetics, analytic), the full model with a dye
against scipy, and the Delta G / R readout against the states it reads."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from plastic.biophysics import CalciumIndicator
from plastic.experiment import (
    INDICATOR_PER_PAIRING,
    IndicatorIndex,
    IndicatorPerPairing,
    Predictor,
    SpinePairingExperiment,
    dataset_from_records,
    delta_g_over_r_index,
)
from plastic.fit import Objective
from plastic.geometry import Geometry
from plastic.model import SpineModel
from plastic.protocols import pairing_protocol
from plastic.reference import solve_with_scipy
from plastic.replay import replay
from plastic.simulate import SolverSettings
from plastic.studies.tazerart2020 import tazerart_model
from tests.conftest import simulate_jit

FLUO4 = CalciumIndicator()
# A short cable keeps the solves and Jacobians small; the dye terms are the same at any size.
SMALL = SpineModel(geometry=Geometry(n_compartments=4))


def with_indicator(model: SpineModel, indicator=FLUO4) -> SpineModel:
    return eqx.tree_at(lambda m: m.indicator, model, indicator, is_leaf=lambda x: x is None)


def no_input(model):
    return pairing_protocol(0.0, n_pairings=1, current_amplitude=0.0).drive(-1.0)


def test_equilibrium_and_fluorescence():
    calcium = jnp.array([0.0, 0.07, 0.345, 10.0])
    bound = FLUO4.resting_bound(calcium)
    np.testing.assert_allclose(FLUO4.binding_flux(calcium, bound), 0.0, atol=1e-12)
    # Half bound at Kd; G / R from 1 / dynamic range (free dye) towards 1 (saturated).
    assert float(bound[2]) == pytest.approx(150.0)
    assert float(FLUO4.green_over_red(bound[0])) == pytest.approx(0.01)
    assert float(FLUO4.green_over_red(FLUO4.concentration)) == pytest.approx(1.0)
    assert float(FLUO4.off_rate) == pytest.approx(0.6 * 0.345)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("concentration", 0.0, r"CalciumIndicator.concentration must be a number in \(0, inf\)"),
        ("dynamic_range", 0.5, r"CalciumIndicator.dynamic_range must be a number in \(1, inf\)"),
        ("on_rate", np.nan, r"CalciumIndicator.on_rate"),
    ],
)
def test_bad_indicator_values_are_refused(field, value, message):
    with pytest.raises(ValueError, match=message):
        CalciumIndicator(**{field: value})


def test_an_immobile_dye_leaves_rest_unchanged_a_mobile_one_evens_it():
    """Bound to its local calcium at rest, a dye that stays put changes nothing; a mobile one
    carries calcium down the head-to-shaft gradient of resting calcium (the heads' VGCC window
    current holds them a little above the shaft), which pulls the heads towards the shaft."""
    drive = no_input(SMALL)
    rest = SMALL.resting_state()
    immobile = with_indicator(SMALL, CalciumIndicator(diffusion_coefficient=0.0))
    state = immobile.resting_state()
    np.testing.assert_allclose(state.head_calcium, rest.head_calcium, rtol=1e-12)
    np.testing.assert_allclose(
        state.head_indicator, FLUO4.resting_bound(rest.head_calcium), rtol=1e-12
    )
    mobile = with_indicator(SMALL)
    state = mobile.resting_state()
    shaft = float(rest.dendrite_calcium.mean())
    assert np.all(shaft < np.asarray(state.head_calcium))
    assert np.all(np.asarray(state.head_calcium) < np.asarray(rest.head_calcium))
    for model in (immobile, mobile):
        derivative = ravel_pytree(model.derivative(model.resting_state(), drive))[0]
        assert float(jnp.max(jnp.abs(derivative))) < 1e-9


def test_binding_and_dye_diffusion_conserve_calcium():
    """Without extrusion or input, the total calcium of heads and shaft (free, fast-buffered and
    dye-bound, times volume) does not change, whatever the calcium and dye distribution: the dye
    takes up what free calcium loses, and its diffusion only moves calcium around."""
    model = with_indicator(SMALL)
    model = eqx.tree_at(  # no extrusion, and no VGCC window current at rest
        lambda m: (
            m.calcium.head_extrusion_rate,
            m.calcium.dendrite_extrusion_rate,
            m.vgcc.density,
            m.vgcc.dendrite_density,
        ),
        model,
        (0.0, 0.0, 0.0, 0.0),
    )
    geo, ca = model.geometry, model.calcium
    state = model.resting_state()
    key_head, key_shaft, key_dye = jax.random.split(jax.random.key(0), 3)
    state = eqx.tree_at(
        lambda s: (s.head_calcium, s.dendrite_calcium, s.head_indicator, s.dendrite_indicator),
        state,
        (
            jax.random.uniform(key_head, (2,), minval=0.1, maxval=5.0),
            jax.random.uniform(key_shaft, (geo.n_compartments,), minval=0.05, maxval=2.0),
            jax.random.uniform(key_dye, (2,), minval=50.0, maxval=250.0),
            jnp.linspace(60.0, 200.0, geo.n_compartments),
        ),
    )
    d = model.derivative(state, no_input(model))

    def total(dhead, dshaft, dhead_dye, dshaft_dye):
        heads = jnp.sum(
            geo.spines.head_volume * ((1 + ca.head_buffer_capacity) * dhead + dhead_dye)
        )
        shaft = jnp.sum(
            geo.compartment_volume * ((1 + ca.dendrite_buffer_capacity) * dshaft + dshaft_dye)
        )
        return heads + shaft

    rate = total(d.head_calcium, d.dendrite_calcium, d.head_indicator, d.dendrite_indicator)
    # Against the size of the terms that cancel: the binding flux alone.
    binding = jnp.sum(geo.spines.head_volume * jnp.abs(d.head_indicator))
    assert float(binding) > 1.0
    assert abs(float(rate)) < 1e-12 * float(binding)


def test_a_fast_dye_adds_its_buffer_capacity():
    """In the rapid-buffer limit (a fast on-rate), a small head transient of an isolated head (no
    neck diffusion) decays with tau = (1 + kappa_E + kappa_B) / gamma (gamma: the extrusion rate
    of total calcium), kappa_B = B Kd / (Kd + Ca)^2 (Neher & Augustine 1992): the slow
    eigenvalue of the head's calcium-dye block. Fluo-4 at 300 uM stretches the 13 ms decay to
    ~ 0.4 s."""
    model = eqx.tree_at(lambda m: m.calcium.diffusion_coefficient, SMALL, 0.0)
    dye = CalciumIndicator(on_rate=500.0, diffusion_coefficient=0.0)
    model = with_indicator(model, dye)
    state = model.resting_state()
    flat, unravel = ravel_pytree(state)
    drive = no_input(model)
    jacobian = jax.jacfwd(lambda y: ravel_pytree(model.derivative(unravel(y), drive))[0])(flat)
    index = unravel(jnp.arange(flat.size, dtype=flat.dtype))
    rows = jnp.array([index.head_calcium[0], index.head_indicator[0]]).astype(int)
    block = jacobian[jnp.ix_(rows, rows)]
    slow = float(jnp.max(jnp.linalg.eigvals(block).real))
    ca = model.calcium
    calcium = float(state.head_calcium[0])
    kappa_dye = (
        float(dye.concentration * dye.dissociation_constant)
        / (float(dye.dissociation_constant) + calcium) ** 2
    )
    expected_tau = (1 + float(ca.head_buffer_capacity) + kappa_dye) / float(ca.head_extrusion_rate)
    assert kappa_dye > 500.0  # Fluo-4 at 300 uM dwarfs the endogenous buffer (20)
    assert -1.0 / slow == pytest.approx(expected_tau, rel=1e-2)


def test_the_model_with_a_dye_matches_scipy_radau():
    model = with_indicator(SMALL)
    protocol = pairing_protocol(
        7.0, uncaged_spines=(0,), n_pairings=1, first_pairing=20.0, quiet=60.0
    )
    times = np.arange(0.0, float(protocol.duration), 1.0)
    ours = simulate_jit(model, protocol, jnp.asarray(times), SolverSettings(rtol=1e-8, atol=1e-9))
    reference, _ = solve_with_scipy(model, protocol, times, rtol=1e-10, atol=1e-12)
    for name in ("head_indicator", "dendrite_indicator", "head_calcium"):
        np.testing.assert_allclose(
            np.asarray(getattr(ours.states, name)),
            np.asarray(getattr(reference, name)),
            rtol=1e-5,
            atol=1e-6,
            err_msg=name,
        )
    # The dye buffers: the head's free calcium peaks lower than without it (not by its resting
    # capacity: the default model's transients, ~ 350 uM of total calcium, saturate 300 uM of dye).
    without = simulate_jit(SMALL, protocol, jnp.asarray(times)).states.head_calcium
    assert float(ours.states.head_calcium[:, 0].max()) < 0.7 * float(without[:, 0].max())


def test_delta_g_over_r_reads_the_dye_from_the_first_pairing_on():
    model = with_indicator(SMALL)
    experiment = SpinePairingExperiment(
        n_pairings=3, uncaged_spines=(0,), readouts=INDICATOR_PER_PAIRING
    )
    names = tuple(readout.name for readout in INDICATOR_PER_PAIRING)
    condition = {field.name: field.default for field in experiment.fields}
    condition.update(delta_t=7.0, quiet=0.0)
    arrays = {name: jnp.asarray(value) for name, value in condition.items()}
    values = dict(zip(names, eqx.filter_jit(experiment.measure_each)(model, arrays, names)))
    model, protocol = experiment.configure(model, condition)
    times = jnp.concatenate([protocol.pairing_start, protocol.pairing_end + 4.0])
    states = simulate_jit(model, protocol, times).states
    green_over_red = FLUO4.green_over_red(states.head_indicator[:, 0])
    baseline = green_over_red[0]
    np.testing.assert_allclose(
        values["head_delta_g_over_r_before_per_pairing"][:, 0], green_over_red[:3] - baseline
    )
    np.testing.assert_allclose(
        values["head_delta_g_over_r_after_per_pairing"][:, 0], green_over_red[3:] - baseline
    )
    # Zero at the baseline itself, clearly up 4 ms after each pairing, in head and shaft.
    assert float(values["head_delta_g_over_r_before_per_pairing"][0, 0]) == 0.0
    assert np.all(np.asarray(values["head_delta_g_over_r_after_per_pairing"][:, 0]) > 0.01)
    assert np.all(np.asarray(values["dendrite_delta_g_over_r_after_per_pairing"][:, 0]) > 0.0)


def test_an_indicator_readout_needs_a_dye_and_a_replay_refuses_one():
    experiment = SpinePairingExperiment(n_pairings=1, readouts=(IndicatorPerPairing(),))
    with pytest.raises(ValueError, match="'head_delta_g_over_r_after_per_pairing' needs a model"):
        experiment.check_model(SpineModel())
    with pytest.raises(ValueError, match="compartment must be 'head' or 'dendrite'"):
        IndicatorPerPairing("neck")
    # A replay's head calcium balance has no dye in it.
    with pytest.raises(ValueError, match="calcium indicator"):
        replay(with_indicator(tazerart_model()), None, 1.0)


def test_an_imaging_index_is_a_data_row_a_fit_can_bound():
    """`IndicatorIndex` over 8 pairings (windows 1-3 and 6-8) equals the index of the
    per-pairing Delta G / R of the same experiment; as a data row stating "at least", it adds
    nothing to chi-square when met and its shortfall when not."""
    model = with_indicator(SMALL)
    readouts = (
        *INDICATOR_PER_PAIRING,
        IndicatorIndex("dendrite", "before", early=(1, 3), late=(6, 8)),
    )
    experiment = SpinePairingExperiment(n_pairings=8, uncaged_spines=(0,), readouts=readouts)
    condition = {field.name: field.default for field in experiment.fields}
    condition.update(delta_t=7.0, quiet=0.0, period=500.0)
    arrays = {name: jnp.asarray(value) for name, value in condition.items()}
    names = tuple(readout.name for readout in readouts)
    values = dict(zip(names, eqx.filter_jit(experiment.measure_each)(model, arrays, names)))
    expected = delta_g_over_r_index(
        values["dendrite_delta_g_over_r_before_per_pairing"][:, 0],
        values["dendrite_delta_g_over_r_after_per_pairing"][:, 0],
        "before",
        (1, 3),
        (6, 8),
    )
    index = float(values["dendrite_delta_g_over_r_before_index"])
    assert index == pytest.approx(float(expected), rel=1e-10)
    assert index > 1.05  # at 2 Hz the dye's slow shaft decay builds up

    def row(bound):
        return dict(condition="c", readout="dendrite_delta_g_over_r_before_index", mean=bound,
                    sem=0.05, n=1, unit="1", source="test", relation=">=", delta_t=7.0,
                    quiet=0.0, period=500.0)  # fmt: skip

    for bound, residual in ((index - 0.01, 0.0), (index + 0.01, -0.2)):
        data = dataset_from_records([row(bound)])
        objective = Objective(Predictor.from_data(experiment, data, model=model), data)
        # The predictor's solve saves fewer times than the one above: equal to the solver's rtol.
        np.testing.assert_allclose(objective.residuals(model), [residual], atol=1e-4)
    with pytest.raises(ValueError, match="needs at least 40 pairings; the protocol has 8"):
        short = SpinePairingExperiment(n_pairings=8, readouts=(IndicatorIndex(),))
        short.measure_each(model, arrays, ("head_delta_g_over_r_before_index",))
