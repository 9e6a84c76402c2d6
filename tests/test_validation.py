"""Every physical parameter of every model part refuses an infinite value, naming itself, when
the part is built: an infinite conductance, length or potential passes every bound check but
fails tens of seconds later deep inside a solve."""

import dataclasses
import inspect
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

from plastic import biophysics, coupling, expression, geometry, network, rules
from plastic.protocols import VoltageClamp
from plastic.simulate import SolverSettings

BUILT_FROM_PUBLISHED = [
    rules.GraupnerBrunel.from_published("DP"),
    rules.GraupnerBrunelCalcium.from_published("DP"),
    rules.PairSTDP.song_miller_abbott(),
    rules.TripletSTDP.from_published("visual_cortex_all_to_all_minimal"),
    rules.ShouvalBearCooper.from_published("2002", calcium_rest=0.05),
    VoltageClamp(-70.0),
]


def _default_built():
    parts = []
    for module in (biophysics, geometry, rules, expression, coupling, network):
        for name in dir(module):
            cls = getattr(module, name)
            if not (inspect.isclass(cls) and issubclass(cls, eqx.Module)):
                continue
            if inspect.isabstract(cls) or any(type(p) is cls for p in parts):
                continue
            try:
                parts.append(cls())
            except TypeError:  # needs arguments: a state, a solution, or built from a set
                pass
    return parts


def _float_fields(part):
    for field in dataclasses.fields(part):
        value = getattr(part, field.name)
        if field.metadata.get("static") or not isinstance(value, jax.Array):
            continue
        if jnp.issubdtype(value.dtype, jnp.floating):
            yield field.name, value


PARTS = _default_built() + BUILT_FROM_PUBLISHED
CASES = [
    pytest.param(part, name, id=f"{type(part).__name__}.{name}")
    for part in PARTS
    for name, _ in _float_fields(part)
    # The clamp's end is +inf by default: "until the protocol ends".
    if not (isinstance(part, VoltageClamp) and name == "end")
]


def test_the_sweep_covers_the_model_parts():
    names = {type(part).__name__ for part in PARTS}
    for expected in ("NMDAReceptor", "Dendrite", "Spines", "KinaseCompetition", "LIFNeurons"):
        assert expected in names
    assert len(CASES) > 150


@pytest.mark.parametrize("part, name", CASES)
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_non_finite_parameter_is_refused_by_name(part, name, bad):
    value = getattr(part, name)
    with pytest.raises(ValueError, match=rf"{type(part).__name__}\.{name}\b"):
        dataclasses.replace(part, **{name: jnp.full_like(value, bad)})


@pytest.mark.parametrize(
    "setting, value",
    [
        ("rtol", -1.0),
        ("rtol", 0.0),
        ("rtol", math.inf),
        ("atol", -1.0),
        ("calcium_atol", math.nan),
        ("voltage_atol", 0.0),
        ("dt0", 0.0),
        ("dtmax", math.inf),
        ("max_steps", 0),
        ("checkpoints", 2.5),
    ],
)
def test_solver_settings_out_of_range_are_refused_by_name(setting, value):
    # rtol=-1 used to run, silently, with 67 steps instead of 288 and different calcium.
    with pytest.raises(ValueError, match=rf"SolverSettings\.{setting}\b"):
        SolverSettings(**{setting: value})


def test_a_protocol_for_another_number_of_spines_is_refused_by_name():
    from plastic.geometry import Geometry, Spines
    from plastic.model import SpineModel
    from plastic.protocols import pairing_protocol
    from plastic.simulate import simulate

    spines = Spines((40.0, 42.0, 44.0), (1.0,) * 3, (0.15,) * 3, (0.05,) * 3)
    three = SpineModel(geometry=Geometry(spines=spines))
    # Used to fail 22 frames deep with a shape TypeError.
    with pytest.raises(ValueError, match="stimulates 2 spines .* the model has 3"):
        simulate(three, pairing_protocol(13.0, n_pairings=1, n_spines=2))
