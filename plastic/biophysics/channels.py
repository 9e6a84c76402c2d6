"""Voltage-gated channels: the spine/dendrite calcium channel and the somatic spike.

Gating kinetics are given at ``reference_temperature`` and scaled with ``q10``.
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_potential, check_range, check_temperature
from plastic.biophysics.kinetics import exprel, q10_factor, sigmoid


class VoltageGatedCalciumChannel(eqx.Module):
    """R-type voltage-gated calcium channel with m^2 h gating and a linear driving force.

    ``I = density * area * m^2 h (V - reversal_potential)``. Defaults after Magee & Johnston 1995
    and Sabatini & Svoboda 2000 as used by GluSynapse [reference/models.md section 5, CODE]:
    20 channels/um^2 x 3.72 pS; V1/2,m = -5.9 mV, k_m = 9.5 mV; V1/2,h = -39 mV, k_h = -9.2 mV;
    tau_m = 1 ms, tau_h = 27 ms. The reversal potential of 130 mV (a linear stand-in for the GHK
    flux) is the calcium reversal used by Shouval et al. 2002.

    Attributes:
        density: nS/um^2 in spine heads. dendrite_density: nS/um^2 in the dendritic shaft, where
            the channel is taken with instantaneous activation and no inactivation (a documented
            reduction that keeps the dendrite free of gating states).
    """

    density: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.0744)
    dendrite_density: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.001)
    v_half_m: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=-5.9)
    slope_m: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=9.5)
    v_half_h: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=-39.0)
    slope_h: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=-9.2)
    tau_m: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    tau_h: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=27.0)
    reversal_potential: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=130.0)
    q10: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=3.0)
    reference_temperature: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=34.0)

    def __check_init__(self):
        name = "VoltageGatedCalciumChannel"
        for field in ("density", "dendrite_density"):
            check_range(
                f"{name}.{field}",
                getattr(self, field),
                lower=0.0,
                lower_inclusive=True,
                unit="nS/um^2",
            )
        for field in ("tau_m", "tau_h"):
            check_range(f"{name}.{field}", getattr(self, field), lower=0.0, unit="ms")
        check_range(f"{name}.slope_m", self.slope_m, lower=0.0, unit="mV")
        check_range(f"{name}.slope_h", self.slope_h, upper=0.0, upper_inclusive=False, unit="mV")
        for field in ("v_half_m", "v_half_h", "reversal_potential"):
            check_potential(f"{name}.{field}", getattr(self, field))
        check_range(f"{name}.q10", self.q10, lower=0.0)
        check_temperature(f"{name}.reference_temperature", self.reference_temperature)

    def steady_state(self, voltage) -> Float[Array, "... 2"]:
        m_inf = sigmoid((voltage - self.v_half_m) / self.slope_m)
        h_inf = sigmoid((voltage - self.v_half_h) / self.slope_h)
        return jnp.stack([m_inf, h_inf], axis=-1)

    def gating_derivative(self, gates: Float[Array, "... 2"], voltage, temperature):
        factor = q10_factor(self.q10, temperature, self.reference_temperature)
        target = self.steady_state(voltage)
        taus = jnp.stack([self.tau_m, self.tau_h]) / factor
        return (target - gates) / taus

    def head_current(self, gates: Float[Array, "... 2"], voltage, area):
        """pA through the head membrane of ``area`` um^2 (inward negative)."""
        open_fraction = gates[..., 0] ** 2 * gates[..., 1]
        return self.density * area * open_fraction * (voltage - self.reversal_potential)

    def dendrite_current(self, voltage, area):
        """pA through ``area`` um^2 of shaft, activation at steady state, no inactivation."""
        m_inf = sigmoid((voltage - self.v_half_m) / self.slope_m)
        return self.dendrite_density * area * m_inf**2 * (voltage - self.reversal_potential)


class SomaticSpike(eqx.Module):
    """Somatic Na+ and delayed-rectifier K+ currents that fire the back-propagating AP.

    Hodgkin-Huxley kinetics of the Traub & Miles type in the form of Pospischil et al. 2008
    (regular-spiking cortical cells, 36 degC) with threshold parameter ``v_threshold``. The
    conductances are totals for the lumped soma (nS). The AP then back-propagates passively into
    the dendrite and attenuates with distance: a documented reduction of the weakly active basal
    dendrites of L5 cells. Setting both conductances to 0 gives a passive soma.
    """

    sodium_conductance: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=6000.0)
    potassium_conductance: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1500.0)
    sodium_reversal: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=50.0)
    potassium_reversal: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=-90.0)
    v_threshold: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=-56.2)
    q10: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=2.3)
    reference_temperature: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=36.0)

    def __check_init__(self):
        for field in ("sodium_conductance", "potassium_conductance"):
            check_range(
                f"SomaticSpike.{field}",
                getattr(self, field),
                lower=0.0,
                lower_inclusive=True,
                unit="nS",
            )
        check_range("SomaticSpike.q10", self.q10, lower=0.0)
        for field in ("sodium_reversal", "potassium_reversal", "v_threshold"):
            check_potential(f"SomaticSpike.{field}", getattr(self, field))
        check_temperature("SomaticSpike.reference_temperature", self.reference_temperature)

    def _rates(self, voltage):
        """(alpha, beta) for m, h, n in 1/ms at the reference temperature."""
        v = voltage - self.v_threshold
        alpha_m = 0.32 * 4.0 * exprel(-(v - 13.0) / 4.0)
        beta_m = 0.28 * 5.0 * exprel((v - 40.0) / 5.0)
        alpha_h = 0.128 * jnp.exp(-(v - 17.0) / 18.0)
        beta_h = 4.0 * sigmoid((v - 40.0) / 5.0)
        alpha_n = 0.032 * 5.0 * exprel(-(v - 15.0) / 5.0)
        beta_n = 0.5 * jnp.exp(-(v - 10.0) / 40.0)
        alpha = jnp.stack([alpha_m, alpha_h, alpha_n], axis=-1)
        beta = jnp.stack([beta_m, beta_h, beta_n], axis=-1)
        return alpha, beta

    def steady_state(self, voltage) -> Float[Array, "... 3"]:
        alpha, beta = self._rates(voltage)
        return alpha / (alpha + beta)

    def gating_derivative(self, gates: Float[Array, "... 3"], voltage, temperature):
        alpha, beta = self._rates(voltage)
        factor = q10_factor(self.q10, temperature, self.reference_temperature)
        return factor * (alpha * (1.0 - gates) - beta * gates)

    def current(self, gates: Float[Array, "... 3"], voltage):
        """pA (inward negative)."""
        m, h, n = gates[..., 0], gates[..., 1], gates[..., 2]
        sodium = self.sodium_conductance * m**3 * h * (voltage - self.sodium_reversal)
        potassium = self.potassium_conductance * n**4 * (voltage - self.potassium_reversal)
        return sodium + potassium
