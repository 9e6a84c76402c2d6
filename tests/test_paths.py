"""`ModelPath`: the one path syntax of fit and sweep, its abbreviations, element indices and
errors, and a fit of one element of a per-spine leaf against the leaf set by hand."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.fit import FitParameters, Parameter
from plastic.model import SpineModel
from plastic.paths import ModelPath
from plastic.rules import KinaseCompetition
from plastic.sweep import ModelLeaf

MODEL = SpineModel(rule=KinaseCompetition())


def test_abbreviations_and_indices_name_the_same_leaves():
    spines = MODEL.geometry.spines
    assert ModelPath("spines.neck_length").parts(MODEL) == ("geometry", "spines", "neck_length")
    np.testing.assert_array_equal(ModelPath("spines.neck_length").get(MODEL), spines.neck_length)
    assert float(ModelPath("spines.neck_length[1]").get(MODEL)) == float(spines.neck_length[1])
    moved = ModelPath("spines.neck_length[1]").set(MODEL, 2.5)
    np.testing.assert_array_equal(
        moved.geometry.spines.neck_length, [float(spines.neck_length[0]), 2.5]
    )
    everywhere = ModelPath("geometry.spines.neck_length").set(MODEL, 2.5)
    np.testing.assert_array_equal(everywhere.geometry.spines.neck_length, [2.5, 2.5])


@pytest.mark.parametrize(
    "path, message",
    [
        ("rule.", "is not a model path"),
        ("nmda[x]", "is not a model path"),
        ("nmda.nope", "'nope' is not a field of SpineModel.nmda"),
        ("geometry.n_compartments", "only floating-point leaves"),
        ("nmda", "is a NMDAReceptor, not a number"),
        ("spines.neck_length[2]", "index 2 is out of range for a leaf of shape \\(2,\\)"),
    ],
)
def test_a_bad_path_is_named_with_what_is_wrong(path, message):
    with pytest.raises(ValueError, match=message):
        ModelPath(path).check(MODEL)


def test_fit_and_sweep_take_the_same_paths():
    """An element of a per-spine leaf: the fit sets the same model as the sweep axis, and the
    gradient through it is that of the element alone (finite differences)."""
    path = "spines.neck_length[0]"
    parameters = FitParameters(MODEL, [Parameter(path, 0.1, 5.0, log=True)])
    fitted = parameters.with_values({path: jnp.asarray(1.7)})
    swept, _ = ModelLeaf(path).apply(MODEL, {}, 1.7)
    assert bool(eqx.tree_equal(fitted, swept))

    def neck(values):
        return jnp.sum(parameters.to_model(values).geometry.spines.neck_length ** 2)

    (u,) = parameters.to_unconstrained(MODEL)
    (gradient,) = jax.grad(neck)((u,))
    step = 1e-6
    numeric = (neck((u + step,)) - neck((u - step,))) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-7)
