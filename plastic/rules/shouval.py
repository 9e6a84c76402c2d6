"""Shouval, Bear & Cooper 2002 (PNAS 99:10831): the calcium control hypothesis.

``dW/dt = eta(Ca) (Omega(Ca) - lambda W)`` with calcium ``Ca`` measured from rest (uM):

- ``Omega(Ca) = 0.25 + sig(Ca - alpha2, beta2) - 0.25 sig(Ca - alpha1, beta1)``, with
  ``sig(x, beta) = 1 / (1 + exp(-beta x))``: 0.25 at rest, a dip towards 0 (LTD) between alpha1
  and alpha2, and 1 (LTP) above alpha2.
- ``eta(Ca) = 1 / tau(Ca)`` with ``tau(Ca) = p1 / (p2 + Ca^p3) + p4``: about 10^4 s at rest,
  falling to ``p4`` = 1 s at high calcium.

The published ``P1 = 0.1 s`` and ``P4 = 1 s`` are stored here in ms (``p1 = 100``, ``p4 = 1000``);
``P2 = P1 * 1e-4 = 1e-5`` is a calcium term (uM^p3) and is not rescaled. Values follow the MATLAB
replication `folmez/CaDP-MatLab` (which corrects the paper's P2 typo).
"""

import types

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.rules._validation import check_range
from plastic.rules.base import AbstractRule, SynapseSignals

_Scalar = Float[Array, ""]

_TIMESCALES = dict(p1=100.0, p2=1e-5, p3=3.0, p4=1000.0, lambda_=1.0)

SHOUVAL_PARAMETER_SETS = types.MappingProxyType(
    {
        # Shouval, Bear & Cooper 2002.
        "2002": types.MappingProxyType(
            dict(alpha1=0.35, alpha2=0.55, beta1=80.0, beta2=80.0, **_TIMESCALES)
        ),
        # The stochastic 2004/2005 version: later LTD and LTP onsets, shallower sigmoids.
        "2004": types.MappingProxyType(
            dict(alpha1=0.40, alpha2=0.65, beta1=30.0, beta2=30.0, **_TIMESCALES)
        ),
    }
)
"""Published Shouval-Bear-Cooper parameter sets, in `plastic` units (uM, 1/uM, ms)."""


class ShouvalBearCooper(AbstractRule):
    """The calcium control rule of Shouval, Bear & Cooper 2002, read by spine calcium.

    Attributes:
        alpha1: calcium (above rest) of the LTD onset, uM.
        alpha2: calcium (above rest) of the LTP onset, uM.
        beta1, beta2: steepness of the two sigmoids, 1/uM.
        p1: numerator of the learning time constant, ms uM^p3.
        p2: calcium term of the learning time constant, uM^p3.
        p3: Hill exponent of the learning rate, dimensionless.
        p4: learning time constant at high calcium, ms.
        lambda_: weight decay factor, dimensionless.
        calcium_rest: resting calcium, uM; the rule reads ``signals.calcium - calcium_rest``.

    State: the weight ``W`` (dimensionless, shape ``()``), starting at the resting fixed point
    ``W0 = Omega(0) / lambda``. Efficacy: ``W / W0``. Calcium below rest counts as rest in
    ``tau(Ca)`` (``Ca^p3`` is undefined for negative ``Ca`` and non-integer ``p3``).
    """

    alpha1: _Scalar = eqx.field(converter=jnp.asarray)
    alpha2: _Scalar = eqx.field(converter=jnp.asarray)
    beta1: _Scalar = eqx.field(converter=jnp.asarray)
    beta2: _Scalar = eqx.field(converter=jnp.asarray)
    p1: _Scalar = eqx.field(converter=jnp.asarray)
    p2: _Scalar = eqx.field(converter=jnp.asarray)
    p3: _Scalar = eqx.field(converter=jnp.asarray)
    p4: _Scalar = eqx.field(converter=jnp.asarray)
    lambda_: _Scalar = eqx.field(converter=jnp.asarray)
    calcium_rest: _Scalar = eqx.field(converter=jnp.asarray)

    def __check_init__(self):
        name = type(self).__name__
        check_range(name, "alpha1", self.alpha1, lower=0.0, units="uM")
        check_range(name, "alpha2", self.alpha2, lower=0.0, units="uM")
        check_range(name, "beta1", self.beta1, lower=0.0, lower_open=True, units="1/uM")
        check_range(name, "beta2", self.beta2, lower=0.0, lower_open=True, units="1/uM")
        check_range(name, "p1", self.p1, lower=0.0, lower_open=True, units="ms uM^p3")
        check_range(name, "p2", self.p2, lower=0.0, lower_open=True, units="uM^p3")
        check_range(name, "p3", self.p3, lower=0.0, lower_open=True)
        check_range(name, "p4", self.p4, lower=0.0, units="ms")
        check_range(name, "lambda_", self.lambda_, lower=0.0, lower_open=True)
        check_range(name, "calcium_rest", self.calcium_rest, lower=0.0, units="uM")

    @classmethod
    def from_published(cls, name: str, calcium_rest: float) -> "ShouvalBearCooper":
        """The rule of the published set ``name`` ("2002" or "2004"), resting calcium in uM."""
        return cls(**SHOUVAL_PARAMETER_SETS[name], calcium_rest=calcium_rest)

    def omega(self, calcium):
        """Omega of calcium above rest (uM): the target weight (times lambda)."""
        return (
            0.25
            + jax.nn.sigmoid(self.beta2 * (calcium - self.alpha2))
            - 0.25 * jax.nn.sigmoid(self.beta1 * (calcium - self.alpha1))
        )

    def learning_time(self, calcium):
        """tau(Ca) = p1 / (p2 + Ca^p3) + p4, ms, for calcium above rest (uM)."""
        positive = calcium > 0
        # Double where: Ca^p3 and its gradients stay finite at and below rest.
        power = jnp.where(positive, jnp.where(positive, calcium, 1.0) ** self.p3, 0.0)
        return self.p1 / (self.p2 + power) + self.p4

    def initial_state(self):
        return self.omega(jnp.zeros_like(self.alpha1)) / self.lambda_

    def vector_field(self, t, state, signals: SynapseSignals):
        calcium = signals.calcium - self.calcium_rest
        return (self.omega(calcium) - self.lambda_ * state) / self.learning_time(calcium)

    def efficacy(self, state):
        return state / self.initial_state()
