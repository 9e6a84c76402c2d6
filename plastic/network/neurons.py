"""Point neurons for networks: the leaky integrate-and-fire neuron, integrated exactly.

The leaky integrate-and-fire neuron with exponential synaptic currents (voltages in mV, times in
ms)::

    tau_m dV/dt = -(V - E) + I,      tau_s dI/dt = -I,      I += w / kappa at a presynaptic spike

where ``I`` is the synaptic current times the membrane resistance (mV) and ``kappa`` the peak of
the PSP evoked by a unit jump of ``I``, so that a weight ``w`` (mV) gives a PSP peaking at ``w``.
When ``V`` reaches ``threshold`` the neuron spikes and ``V`` is held at ``reset_potential`` for
``refractory_period``. Between spikes the system is linear and is propagated in closed form
(Rotter & Diesmann 1999, Biol Cybern 81:381), so the step ``dt`` introduces no error beyond
placing spikes on the grid.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic._validation import check_potential, check_range, is_concrete

_Scalar = Float[Array, ""]


class LIFState(eqx.Module):
    """State of a population of ``n`` neurons.

    Attributes:
        voltage: ``(n,)`` membrane potential, mV.
        synaptic_input: ``(n,)`` synaptic current times membrane resistance, mV.
        spikes: ``(n,)`` 1.0 for the neurons that spiked at this time, else 0.0.
        age: ``(n,)`` time since each neuron's last spike, ms (``inf`` before the first).
    """

    voltage: Float[Array, " n"]
    synaptic_input: Float[Array, " n"]
    spikes: Float[Array, " n"]
    age: Float[Array, " n"]


class AbstractNeurons(eqx.Module):
    """A population of spiking neurons advanced at a fixed step."""

    @abc.abstractmethod
    def initial_state(self, n: int) -> LIFState:
        """``n`` neurons at rest."""

    @abc.abstractmethod
    def step(self, state: LIFState, input_weight: Float[Array, " n"], dt: float) -> LIFState:
        """The state ``dt`` ms later, after presynaptic spikes at the start of the step whose
        weights sum to ``input_weight`` (mV of PSP peak) at each neuron."""


class LIFNeurons(AbstractNeurons):
    """Leaky integrate-and-fire neurons with exponential synaptic currents (module docstring).

    Attributes:
        membrane_time_constant: tau_m, ms.
        synaptic_time_constant: tau_s, ms; must differ from tau_m.
        resting_potential: E, mV.
        threshold: spike threshold, mV.
        reset_potential: voltage after a spike, mV.
        refractory_period: time the voltage is held at reset after a spike, ms.
    """

    membrane_time_constant: _Scalar = eqx.field(converter=jnp.asarray, default=20.0)
    synaptic_time_constant: _Scalar = eqx.field(converter=jnp.asarray, default=5.0)
    resting_potential: _Scalar = eqx.field(converter=jnp.asarray, default=-70.0)
    threshold: _Scalar = eqx.field(converter=jnp.asarray, default=-54.0)
    reset_potential: _Scalar = eqx.field(converter=jnp.asarray, default=-70.0)
    refractory_period: _Scalar = eqx.field(converter=jnp.asarray, default=2.0)

    def __check_init__(self):
        name = type(self).__name__
        for field in ("membrane_time_constant", "synaptic_time_constant"):
            check_range(f"{name}.{field}", getattr(self, field), lower=0.0, unit="ms")
        check_range(
            f"{name}.refractory_period",
            self.refractory_period,
            lower=0.0,
            lower_inclusive=True,
            unit="ms",
        )
        check_potential(f"{name}.threshold", self.threshold)
        for field in ("resting_potential", "reset_potential"):
            check_range(f"{name}.{field}", getattr(self, field), upper=self.threshold, unit="mV")
        taus = (self.membrane_time_constant, self.synaptic_time_constant)
        if is_concrete(taus) and np.any(np.asarray(taus[0]) == np.asarray(taus[1])):
            raise ValueError(
                f"{name}.synaptic_time_constant must differ from membrane_time_constant "
                f"({self.membrane_time_constant} ms)"
            )

    def psp_peak(self) -> _Scalar:
        """kappa: the peak (mV) of the PSP evoked by a unit jump of the synaptic input."""
        tau_m, tau_s = self.membrane_time_constant, self.synaptic_time_constant
        peak_time = tau_m * tau_s * jnp.log(tau_m / tau_s) / (tau_m - tau_s)
        return self._coupling(peak_time)

    def _coupling(self, t):
        # V - E at time t after a unit jump of I from rest: tau_s/(tau_m - tau_s) (e^-t/tau_m
        # - e^-t/tau_s).
        tau_m, tau_s = self.membrane_time_constant, self.synaptic_time_constant
        return tau_s / (tau_m - tau_s) * (jnp.exp(-t / tau_m) - jnp.exp(-t / tau_s))

    def initial_state(self, n: int) -> LIFState:
        dtype = jnp.result_type(self.membrane_time_constant, float)
        return LIFState(
            voltage=jnp.full(n, self.resting_potential, dtype),
            synaptic_input=jnp.zeros(n, dtype),
            spikes=jnp.zeros(n, dtype),
            age=jnp.full(n, jnp.inf, dtype),
        )

    def step(self, state: LIFState, input_weight, dt: float) -> LIFState:
        synaptic = state.synaptic_input + input_weight / self.psp_peak()
        rest = self.resting_potential
        voltage = (
            rest
            + (state.voltage - rest) * jnp.exp(-dt / self.membrane_time_constant)
            + synaptic * self._coupling(dt)
        )
        # Sampled at the middle of the step, as the synapse layer's pulses.
        refractory = state.age + 0.5 * dt < self.refractory_period
        voltage = jnp.where(refractory, self.reset_potential, voltage)
        spikes = voltage >= self.threshold
        return LIFState(
            voltage=jnp.where(spikes, self.reset_potential, voltage),
            synaptic_input=synaptic * jnp.exp(-dt / self.synaptic_time_constant),
            spikes=spikes.astype(voltage.dtype),
            age=jnp.where(spikes, 0.0, state.age + dt),
        )
