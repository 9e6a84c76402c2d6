import equinox as eqx
import pytest

import plastic  # noqa: F401  (enables float64)
from plastic.biophysics import NMDAReceptor, SomaticSpike, VoltageGatedCalciumChannel
from plastic.model import SpineModel
from plastic.simulate import simulate

simulate_jit = eqx.filter_jit(simulate)


def passive(model: SpineModel) -> SpineModel:
    """``model`` without NMDA, calcium channels or spike currents: a passive cable + AMPA."""
    return eqx.tree_at(
        lambda m: (m.nmda, m.vgcc, m.spike),
        model,
        (
            NMDAReceptor(conductance=0.0),
            VoltageGatedCalciumChannel(density=0.0, dendrite_density=0.0),
            SomaticSpike(sodium_conductance=0.0, potassium_conductance=0.0),
        ),
    )


@pytest.fixture(scope="session")
def default_model():
    return SpineModel()
