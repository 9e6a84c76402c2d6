"""`physiological_tazerart_model` and `robust_fit_parameters`: the seed model on physiological
calcium, refitted within bounds that keep every Hill coefficient at or below 6."""

import jax
import numpy as np

import plastic  # noqa: F401  (float64)
from plastic.fit import FitParameters
from plastic.paths import ModelPath
from plastic.replay import REPLAY_FITTABLE
from plastic.studies import get_study
from plastic.studies.spine_calcium import HEAD_VGCC_DENSITY, NMDA_TO_AMPA_CONDUCTANCE
from plastic.studies.tazerart2020 import (
    MAX_HILL,
    PHYSIOLOGICAL_FITTED_PARAMETERS,
    default_fit_parameters,
    physiological_tazerart_model,
    robust_fit_parameters,
    tazerart_model,
)


def _leaves_with_paths(model):
    flat, _ = jax.tree_util.tree_flatten_with_path(model)
    return {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in flat}


def test_only_the_calcium_sources_and_the_fitted_values_differ_from_the_seed_model():
    seed = tazerart_model()
    model = physiological_tazerart_model()
    changed = {
        ".nmda.conductance", ".vgcc.density",
        *(f".{'.'.join(ModelPath(p).parts(model))}" for p in PHYSIOLOGICAL_FITTED_PARAMETERS),
    }  # fmt: skip
    seed_leaves, leaves = _leaves_with_paths(seed), _leaves_with_paths(model)
    assert seed_leaves.keys() == leaves.keys()
    differing = {k for k in leaves if not np.array_equal(leaves[k], seed_leaves[k])}
    assert differing <= changed and ".nmda.conductance" in differing
    np.testing.assert_allclose(
        model.nmda.conductance, NMDA_TO_AMPA_CONDUCTANCE * model.ampa.conductance, rtol=1e-15
    )
    np.testing.assert_allclose(model.vgcc.density, HEAD_VGCC_DENSITY, rtol=1e-15)
    for path, value in PHYSIOLOGICAL_FITTED_PARAMETERS.items():
        np.testing.assert_allclose(ModelPath(path).get(model), value, rtol=1e-12)


def test_robust_bounds_keep_hill_coefficients_at_most_six_and_hold_the_fitted_model():
    parameters = robust_fit_parameters()
    assert [p.path for p in parameters] == [
        *(p.path for p in default_fit_parameters()),
        "coupling.veto_conversion",
    ]
    hills = [p for p in parameters if p.path.endswith("hill")]
    assert {p.path for p in hills} == {"coupling.hill", "coupling.veto_hill"}
    assert all(p.upper <= MAX_HILL for p in hills)
    model = physiological_tazerart_model()
    fitted = FitParameters(model, parameters)
    values = fitted.to_values(fitted.to_unconstrained(model))
    for parameter in parameters:
        value = float(values[parameter.path])
        assert parameter.lower < value < parameter.upper, parameter.path
        assert parameter.path.startswith(REPLAY_FITTABLE)  # a replay fit moves them all
    assert set(PHYSIOLOGICAL_FITTED_PARAMETERS) == {p.path for p in parameters}


def test_the_study_offers_the_physiological_rule():
    choice = get_study("tazerart2020").rule("kinase-competition-physiological")
    assert choice.parameters() == robust_fit_parameters()
    np.testing.assert_array_equal(
        choice.model().nmda.conductance, physiological_tazerart_model().nmda.conductance
    )
