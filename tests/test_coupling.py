"""Chemical coupling between spines (`plastic.coupling`)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.coupling import DiffusibleMessenger, MessengerWithDepressionVeto
from plastic.expression import TraffickingAndRemodelling
from plastic.model import SpineModel
from plastic.protocols import Drive
from plastic.rules import KinaseCompetition
from plastic.rules.base import SynapseSignals
from plastic.studies.tazerart2020 import tazerart_model


@pytest.mark.parametrize("signal", ["messenger", "veto_signal"])
def test_messenger_profile_is_the_steady_state_of_diffusion_with_decay(signal):
    """A point source on a long 1-D dendrite, messenger diffusing (D) and inactivated (k):
    the finite-difference steady state, normalised at the source, is exp(-|x| / sqrt(D / k)).
    The same for the depression veto's signal, away from the source (it excludes its own)."""
    diffusion, decay = 0.6, 0.024  # um^2/s, 1/s: length constant 5 um
    step, half_width = 0.05, 60.0
    x = np.arange(-half_width, half_width + step / 2, step)
    n = x.size
    operator = np.diag(np.full(n, -2.0)) + np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)
    operator = diffusion * operator / step**2 - decay * np.eye(n)
    source = np.zeros(n)
    source[n // 2] = -1.0 / step
    steady = np.linalg.solve(operator, source)
    steady /= steady[n // 2]

    length_constant = np.sqrt(diffusion / decay)
    position = jnp.asarray([0.0, 1.0, 3.0, 10.0, 20.0])
    drive = jnp.asarray([1.0, 0.0, 0.0, 0.0, 0.0])
    want = np.interp(np.asarray(position), x, steady)
    if signal == "messenger":
        got = DiffusibleMessenger(length_constant=length_constant).messenger(drive, position)
    else:
        coupling = MessengerWithDepressionVeto(veto_length_constant=length_constant)
        got = coupling.veto_signal(drive, position)
        want[0] = 0.0  # a spine does not veto itself
    np.testing.assert_allclose(np.asarray(got), want, rtol=2e-3, atol=1e-12)


def test_messenger_adds_up_over_spines_and_fades_with_distance():
    coupling = DiffusibleMessenger(length_constant=5.0)
    drive = jnp.asarray([0.4, 0.4])
    together = coupling.messenger(drive, jnp.asarray([10.0, 10.0]))
    far = coupling.messenger(drive, jnp.asarray([10.0, 500.0]))
    np.testing.assert_allclose(together, 0.8, rtol=1e-12)  # co-located: the sum
    np.testing.assert_allclose(far, 0.4, rtol=1e-12)  # far apart: each its own


def test_cooperative_gate_needs_own_drive_and_helps_close_neighbours():
    coupling = DiffusibleMessenger(length_constant=5.0, half_activation=0.5, hill=4.0)
    depression = jnp.asarray([0.2, 0.1])

    def expressed(drive, distance):
        position = jnp.asarray([40.0, 40.0 + distance])
        potentiation, passed = coupling(jnp.asarray(drive), depression, position)
        np.testing.assert_array_equal(passed, depression)
        return np.asarray(potentiation)

    alone = expressed([0.4, 0.0], 3.0)
    assert alone[1] == 0.0  # an unstimulated neighbour expresses nothing
    clustered = expressed([0.4, 0.4], 3.0)
    distributed = expressed([0.4, 0.4], 30.0)
    assert clustered[0] > 1.5 * distributed[0] > 1.5 * alone[0]
    assert np.all(clustered <= 0.4)  # a gate: never more than the spine's own drive


def test_depression_veto_spares_a_lone_spine_and_grows_as_co_depressing_spines_approach():
    """Seed 000, Fig. 5: one spine at -15 ms depresses, two < 40 um apart do not, two > 40 um
    apart do again. Potentiation is gated exactly as by `DiffusibleMessenger`."""
    veto = MessengerWithDepressionVeto(veto_length_constant=40.0, veto_half_activation=0.5)
    potentiation = jnp.asarray([0.3, 0.2])

    def expressed(depression, distance):
        position = jnp.asarray([40.0, 40.0 + distance])
        gated, vetoed = veto(potentiation, jnp.asarray(depression), position)
        want, _ = veto.potentiation_messenger(potentiation, jnp.asarray(depression), position)
        np.testing.assert_array_equal(gated, want)
        return np.asarray(vetoed)

    alone = expressed([0.6, 0.0], 3.0)
    np.testing.assert_array_equal(alone, [0.6, 0.0])  # nothing vetoes a lone spine
    by_distance = np.array([expressed([0.6, 0.6], d)[0] for d in (3.0, 20.0, 60.0, 400.0)])
    assert np.all(np.diff(by_distance) > 0)  # the closer the pair, the less each depresses
    assert by_distance[0] < 0.5 * 0.6  # clustered: most of the depression is vetoed
    np.testing.assert_allclose(by_distance[-1], 0.6, rtol=1e-3)  # far apart: each its own


def test_vetoed_depression_converts_to_the_potentiation_side_in_proportion():
    """With ``veto_conversion`` c, the depression a co-depressing neighbour vetoes drives the
    potentiation side: ``P = 1 - (1 - P')(1 - c V)`` with ``P'`` the gated potentiation and ``V``
    the vetoed depression; depression is as without conversion, a lone spine is unchanged, and
    c = 0 is the plain veto bit for bit."""
    position = jnp.asarray([40.0, 43.0])
    potentiation, depression = jnp.asarray([0.3, 0.0]), jnp.asarray([0.6, 0.5])
    plain = MessengerWithDepressionVeto(veto_half_activation=0.2)
    gated, kept = plain(potentiation, depression, position)
    vetoed = depression - kept
    assert np.all(np.asarray(vetoed) > 0.1)  # the pair vetoes much of each other's depression
    for conversion in (0.0, 0.4, 1.0):
        coupling = eqx.tree_at(lambda c: c.veto_conversion, plain, jnp.asarray(conversion))
        converted, depressed = coupling(potentiation, depression, position)
        np.testing.assert_array_equal(depressed, kept)
        want = 1.0 - (1.0 - gated) * (1.0 - conversion * vetoed)
        np.testing.assert_allclose(converted, want, rtol=1e-14)
        assert np.all((np.asarray(converted) >= 0.0) & (np.asarray(converted) <= 1.0))
    np.testing.assert_array_equal(plain(potentiation, depression, position)[0], gated)
    full = eqx.tree_at(lambda c: c.veto_conversion, plain, jnp.asarray(1.0))
    alone = full(potentiation, jnp.asarray([0.6, 0.0]), position)
    np.testing.assert_array_equal(alone[1], [0.6, 0.0])  # nothing vetoed, nothing converted
    np.testing.assert_array_equal(
        alone[0], plain(potentiation, jnp.asarray([0.6, 0.0]), position)[0]
    )


@pytest.mark.parametrize("coupling", [DiffusibleMessenger, MessengerWithDepressionVeto])
def test_bad_messenger_parameters_are_refused_by_name(coupling):
    fields = (("length_constant", -1.0), ("half_activation", 0.0), ("hill", np.nan))
    if coupling is MessengerWithDepressionVeto:
        fields += (("veto_length_constant", 0.0), ("veto_half_activation", -1.0))
        fields += (("veto_hill", np.nan), ("veto_conversion", 1.5), ("veto_conversion", -0.1))
    for field, value in fields:
        with pytest.raises(ValueError, match=f"{coupling.__name__}.{field}"):
            coupling(**{field: value})


def test_coupling_needs_an_expression_model():
    with pytest.raises(ValueError, match="SpineModel.coupling"):
        SpineModel(rule=KinaseCompetition(), coupling=DiffusibleMessenger())


def test_the_model_expresses_the_coupled_drives():
    """Inside `SpineModel`, the expression sees the gated drives: with a threshold far below
    any drive the gate is open (as without coupling); with it far above, the drive is shut."""
    model = tazerart_model()
    state = model.resting_state()
    # A potentiated rule state at both spines.
    state = eqx.tree_at(
        lambda s: s.rule.camkii_n2b, state, jnp.full(model.n_spines, model.rule.insert_half)
    )
    signals = SynapseSignals(*(jnp.zeros(model.n_spines),) * 4)

    def psd_rate(coupling):
        m = eqx.tree_at(lambda m: m.coupling, model, coupling, is_leaf=lambda x: x is None)
        _, d_expression = m.plasticity_derivative(state.rule, state.expression, signals)
        return np.asarray(d_expression.psd)

    uncoupled = (
        SpineModel(geometry=model.geometry, rule=model.rule, expression=model.expression)
        .plasticity_derivative(state.rule, state.expression, signals)[1]
        .psd
    )
    open_gate = psd_rate(DiffusibleMessenger(half_activation=1e-6))
    shut = psd_rate(DiffusibleMessenger(half_activation=1e3))
    _, depression = jax.vmap(model.rule.plasticity_drives)(state.rule)
    without_potentiation = jax.vmap(model.expression.vector_field)(
        state.expression, jnp.zeros(model.n_spines), depression
    ).psd
    np.testing.assert_allclose(open_gate, uncoupled, rtol=1e-9)
    assert np.all(open_gate - shut > 1e-3 * np.abs(open_gate))
    # Shut, only what does not need potentiation is left.
    np.testing.assert_allclose(shut, without_potentiation, atol=1e-9 * np.abs(open_gate).max())

    # The full derivative carries the same expression rates.
    drive = Drive(glutamate=jnp.zeros(model.n_spines), soma_current=jnp.zeros(()))
    full = model.derivative(state, drive)
    np.testing.assert_allclose(
        np.asarray(full.expression.psd), psd_rate(model.coupling), rtol=1e-12
    )


def test_expression_without_coupling_still_works():
    model = SpineModel(rule=KinaseCompetition(), expression=TraffickingAndRemodelling())
    assert model.coupling is None
    state = model.resting_state()
    drive = Drive(glutamate=jnp.zeros(model.n_spines), soma_current=jnp.zeros(()))
    assert np.all(np.isfinite(np.asarray(model.derivative(state, drive).expression.psd)))


def test_the_model_expresses_the_vetoed_depression():
    """With a veto threshold far below any neighbour's drive, depression is shut at both
    spines and the expression sees only potentiation; far above, it is as without a veto."""
    model = tazerart_model()
    state = model.resting_state()
    # Both spines deep in the depression branch (DAPK1 bound to GluN2B, PP1 active).
    state = eqx.tree_at(
        lambda s: (s.rule.dapk1_n2b, s.rule.pp1),
        state,
        (jnp.full(model.n_spines, model.rule.remove_half), jnp.full(model.n_spines, 0.5)),
    )
    signals = SynapseSignals(*(jnp.zeros(model.n_spines),) * 4)

    def psd_rate(veto_half_activation):
        coupling = eqx.tree_at(
            lambda c: c.veto_half_activation, model.coupling, jnp.asarray(veto_half_activation)
        )
        m = eqx.tree_at(lambda m: m.coupling, model, coupling)
        _, d_expression = m.plasticity_derivative(state.rule, state.expression, signals)
        return np.asarray(d_expression.psd)

    potentiation, depression = jax.vmap(model.rule.plasticity_drives)(state.rule)
    gated, _ = model.coupling.potentiation_messenger(
        potentiation, depression, model.geometry.spines.position
    )
    expression_rate = jax.vmap(model.expression.vector_field)
    unvetoed = expression_rate(state.expression, gated, depression).psd
    vetoed = expression_rate(state.expression, gated, jnp.zeros(model.n_spines)).psd
    assert np.all(np.abs(unvetoed - vetoed) > 1e-3 * np.abs(unvetoed))  # the veto matters here
    scale = np.abs(unvetoed).max()
    np.testing.assert_allclose(psd_rate(1e12), unvetoed, atol=1e-9 * scale)
    np.testing.assert_allclose(psd_rate(1e-12), vetoed, atol=1e-9 * scale)
