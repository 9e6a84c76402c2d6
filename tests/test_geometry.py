import jax.numpy as jnp
import numpy as np
import pytest

from plastic.geometry import Dendrite, Geometry, Soma, Spines


def test_attachment_weights_interpolate_between_bracketing_nodes():
    geo = Geometry(n_compartments=10)  # 20 um compartments, centres at 10, 30, ...
    weights = np.asarray(geo.attachment_weights(jnp.array([0.0, 5.0, 30.0, 35.0, 199.0])))
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(weights[0, 0], 1.0)  # at the soma
    np.testing.assert_allclose(weights[1, :2], [0.5, 0.5])  # halfway soma - centre 10 um
    np.testing.assert_allclose(weights[2, 2], 1.0)  # on the centre at 30 um
    np.testing.assert_allclose(weights[3, 2:4], [0.75, 0.25])
    np.testing.assert_allclose(weights[4, -1], 1.0)  # beyond the last centre: sealed end


def test_attachment_resistance_is_the_cable_between_bracketing_nodes():
    geo = Geometry(n_compartments=10)
    r_per_um = 4 * 100.0 * 1e4 / (np.pi * 0.8**2) * 1e-9  # GOhm/um
    resistance = np.asarray(geo.attachment_resistance(jnp.array([35.0, 40.0, 70.0, 195.0])))
    # 35 and 40 um both lie between the nodes at 30 and 50 um: R_ij = r (min-a)(b-max)/(b-a).
    np.testing.assert_allclose(resistance[0, 0], r_per_um * 5 * 15 / 20, rtol=1e-12)
    np.testing.assert_allclose(resistance[0, 1], r_per_um * 5 * 10 / 20, rtol=1e-12)
    np.testing.assert_allclose(resistance[1, 0], resistance[0, 1])
    assert resistance[0, 2] == 0.0  # different intervals do not interact
    assert resistance[2, 2] == 0.0  # on a node
    np.testing.assert_allclose(resistance[3, 3], r_per_um * 5.0, rtol=1e-12)  # sealed end


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Spines(neck_length=(-1.0, 1.0)), "Spines.neck_length"),
        (lambda: Spines(neck_diameter=(0.0, 0.1)), "Spines.neck_diameter"),
        (lambda: Spines(head_volume=(0.05, float("nan"))), "Spines.head_volume"),
        (lambda: Spines(position=(-3.0, 10.0)), "Spines.position"),
        (lambda: Dendrite(length=0.0), "Dendrite.length"),
        (lambda: Dendrite(diameter=-0.5), "Dendrite.diameter"),
        (lambda: Dendrite(axial_resistivity=float("nan")), "Dendrite.axial_resistivity"),
        (lambda: Soma(capacitance=-1.0), "Soma.capacitance"),
        (lambda: Geometry(spines=Spines(position=(40.0, 250.0))), "Spines.position"),
        (lambda: Spines(position=(1.0, 2.0), neck_length=(1.0,)), "same trailing shape"),
    ],
)
def test_invalid_geometry_names_the_field(build, message):
    with pytest.raises(ValueError, match=message):
        build()
