"""A fit's parameters as one flat vector of scalars: the coordinates uncertainty is computed in.

A `plastic.fit.FitParameters` point is a tuple of arrays, one per fitted leaf (a scalar, or e.g.
one value per spine). Covariances, Jacobians and profiles need one axis of scalars instead:
`FlatParameters` ravels a point in the parameters' order (each leaf's elements in C order) and
names every scalar (``rule.cam_half``, ``spines.neck_length[1]``).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PyTree

from plastic.fit.parameters import FitParameters
from plastic.paths import ModelPath


class FlatParameters(eqx.Module):
    """The scalars of a fit's parameters, in order.

    Attributes:
        parameters: the fit's parameters and template model.
        names: one per scalar: the leaf's path, with ``[i]`` (``[i,j]``) for an element of an
            array leaf.
        units: the unit of each scalar (the `Parameter`'s, else the model field's own).
        leaf_index: for each scalar, the index of its `Parameter`.
    """

    parameters: FitParameters
    names: tuple[str, ...] = eqx.field(static=True)
    units: tuple[str, ...] = eqx.field(static=True)
    leaf_index: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, parameters: FitParameters):
        self.parameters = parameters
        names, units, leaf_index = [], [], []
        for i, (p, unit) in enumerate(zip(parameters.parameters, parameters.units())):
            shape = jnp.shape(ModelPath(p.path).get(parameters.model))
            for index in np.ndindex(*shape):
                suffix = "" if not index else "[" + ",".join(map(str, index)) + "]"
                names.append(p.path + suffix)
                units.append(unit)
                leaf_index.append(i)
        self.names = tuple(names)
        self.units = tuple(units)
        self.leaf_index = tuple(leaf_index)

    @property
    def size(self) -> int:
        return len(self.names)

    def _unravel(self):
        return ravel_pytree(self.parameters.to_unconstrained(self.parameters.model))[1]

    def unconstrained(self, model: PyTree) -> Float[Array, " n"]:
        """The flat unconstrained point of ``model``'s parameter values."""
        return ravel_pytree(self.parameters.to_unconstrained(model))[0]

    def to_model(self, flat: Float[Array, " n"]) -> PyTree:
        """The template model with the parameters of the flat unconstrained point ``flat``."""
        return self.parameters.to_model(self._unravel()(flat))

    def to_values(self, flat: Float[Array, " n"]) -> dict[str, Array]:
        """The parameter values of the flat unconstrained point ``flat``, path -> array of the
        leaf's shape, each in its unit."""
        return self.parameters.to_values(self._unravel()(flat))

    def to_constrained(self, flat: Float[Array, "*batch n"]) -> Float[Array, "*batch n"]:
        """The parameter values (each in its unit) of flat unconstrained points; elementwise and
        increasing, so that ``+-inf`` maps to the bounds."""

        def one(u):
            values = self.to_values(u)
            return jnp.concatenate([jnp.ravel(values[name]) for name in self.parameters.names])

        flat = jnp.asarray(flat, float)
        return jnp.reshape(jax.vmap(one)(flat.reshape(-1, self.size)), flat.shape)

    def derivative(self, flat: Float[Array, " n"]) -> Float[Array, " n"]:
        """``d value / d u`` of each scalar at ``flat`` (the transforms act elementwise)."""
        return jax.jvp(self.to_constrained, (flat,), (jnp.ones_like(flat),))[1]

    def log_prior(self, flat: Float[Array, " n"]) -> Float[Array, ""]:
        """``log p(u)`` (up to a constant) of the prior that is uniform in each parameter (in
        ``log x`` for a ``log`` parameter) within its bounds: ``log |dx/du|`` (less ``log x``
        for ``log``). Proper for a parameter with two bounds; with fewer, the data must
        constrain it."""
        logs = np.array([self.parameters.parameters[i].log for i in self.leaf_index])
        slope = self.derivative(flat)
        value = self.to_constrained(flat)
        return jnp.sum(jnp.log(slope) - jnp.where(logs, jnp.log(jnp.where(logs, value, 1.0)), 0.0))

    def log_prior_curvature(self, flat: Float[Array, " n"]) -> Float[Array, " n"]:
        """``-d^2/du^2 log p(u)`` per scalar (`log_prior`): ``2 s (1 - s)`` for two bounds, with
        ``s`` the sigmoid of the interval; 0 without bounds."""
        return -jnp.diag(jax.hessian(self.log_prior)(jnp.asarray(flat, float)))
