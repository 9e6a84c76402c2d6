"""The one interface every plasticity rule implements.

A rule is an `eqx.Module` whose array fields are its parameters (fittable, vmappable) and whose
dynamics are a vector field over a small state pytree, per synapse. Inside the spine model the
rule's state is part of the model state and its vector field reads the local `SynapseSignals` of
each spine; standalone, the same vector field is driven by a prescribed calcium trace or by spike
trains (see `plastic.rules.standalone`). Swapping rules never touches the biophysics.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree


class SynapseSignals(eqx.Module):
    """What a rule may read at one synapse at one instant (all scalars, shape ``()``).

    Attributes:
        calcium: free calcium concentration in the spine head, uM.
        voltage: spine-head membrane potential, mV.
        glutamate: presynaptic drive, dimensionless: 1 while glutamate is released (uncaging
            pulse), 0 otherwise.
        soma_voltage: somatic membrane potential, mV (for rules that read postsynaptic spikes).
    """

    calcium: Float[Array, ""]
    voltage: Float[Array, ""]
    glutamate: Float[Array, ""]
    soma_voltage: Float[Array, ""]


class AbstractRule(eqx.Module):
    """A plasticity rule: state, dynamics driven by `SynapseSignals`, and an efficacy readout.

    Time is in ms throughout: `vector_field` returns the derivative per ms.
    """

    @abc.abstractmethod
    def initial_state(self) -> PyTree[Float[Array, ""]]:
        """The rule's state before any activity (a pytree of scalars)."""

    @abc.abstractmethod
    def vector_field(
        self, t: Float[Array, ""], state: PyTree[Float[Array, ""]], signals: SynapseSignals
    ) -> PyTree[Float[Array, ""]]:
        """d(state)/dt in units of state per ms, given the local signals at time ``t`` (ms)."""

    @abc.abstractmethod
    def efficacy(self, state: PyTree[Float[Array, ""]]) -> Float[Array, ""]:
        """Relative synaptic efficacy implied by ``state``: 1 means no change."""

    def plasticity_drives(
        self, state: PyTree[Float[Array, ""]]
    ) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """(potentiation, depression) drives in [0, 1] that `plastic.expression` turns into
        receptor trafficking and remodelling.

        Default: the efficacy's departure from 1, clipped to [0, 1]. Mechanistic rules override
        it with their own signals (e.g. kinase competition: GluN2B-bound CaMKII, PP1 at
        DAPK1-held sites).
        """
        change = self.efficacy(state) - 1.0
        return jnp.clip(change, 0.0, 1.0), jnp.clip(-change, 0.0, 1.0)
