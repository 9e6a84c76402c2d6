"""Glutamate receptors at the spine head, activated by uncaged glutamate.

Each receptor's open fraction is the peak-normalised dual-exponential response to the glutamate
drive (the same kinetics as NEURON's `Exp2Syn`): two linear states ``rise`` and ``decay`` relax with
``tau_rise`` and ``tau_decay`` and are both driven at ``release_rate * glutamate(t)``; the open
fraction is ``norm * (decay - rise)`` with ``norm`` chosen so a unit impulse peaks at 1. A 2 ms
uncaging pulse at the default ``release_rate`` of 0.5 /ms is one unit impulse. Receptor
saturation is neglected.

Kinetics are given at ``reference_temperature`` and scaled with ``q10`` to the model temperature.
Defaults: rise/decay 0.2/1.7 ms (AMPA) and 0.29/70 ms (NMDA) at 34 degC, from the Blue Brain
GluSynapse model [reference/models.md section 5, CODE]; Q10 = 2 for receptor kinetics [MEM]. At
21 degC this gives 0.49/4.2 ms and 0.71/172 ms, in the range of room-temperature recordings of
juvenile cortical GluN2B-rich synapses.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_potential, check_range, check_temperature, is_concrete
from plastic.biophysics.kinetics import q10_factor


class AbstractGlutamateReceptor(eqx.Module):
    """Dual-exponential receptor kinetics; concrete classes define the current."""

    conductance: eqx.AbstractVar[Float[Array, ""]]
    tau_rise: eqx.AbstractVar[Float[Array, ""]]
    tau_decay: eqx.AbstractVar[Float[Array, ""]]
    reversal_potential: eqx.AbstractVar[Float[Array, ""]]
    release_rate: eqx.AbstractVar[Float[Array, ""]]
    q10: eqx.AbstractVar[Float[Array, ""]]
    reference_temperature: eqx.AbstractVar[Float[Array, ""]]

    def __check_init__(self):
        name = type(self).__name__
        check_range(
            f"{name}.conductance", self.conductance, lower=0.0, lower_inclusive=True, unit="nS"
        )
        check_range(f"{name}.tau_rise", self.tau_rise, lower=0.0, unit="ms")
        check_range(f"{name}.tau_decay", self.tau_decay, lower=0.0, unit="ms")
        if _concrete_le(self.tau_decay, self.tau_rise):
            raise ValueError(f"{name}.tau_decay must be greater than tau_rise")
        check_range(f"{name}.release_rate", self.release_rate, lower=0.0, unit="1/ms")
        check_range(f"{name}.q10", self.q10, lower=0.0)
        check_potential(f"{name}.reversal_potential", self.reversal_potential)
        check_temperature(f"{name}.reference_temperature", self.reference_temperature)

    def time_constants(self, temperature) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """(tau_rise, tau_decay) in ms at ``temperature`` degC."""
        factor = q10_factor(self.q10, temperature, self.reference_temperature)
        return self.tau_rise / factor, self.tau_decay / factor

    def gating_derivative(
        self, gating: Float[Array, "... 2"], glutamate: Float[Array, "..."], temperature
    ) -> Float[Array, "... 2"]:
        """d(rise, decay)/dt per ms, given the glutamate drive (1 during a pulse, else 0)."""
        tau_rise, tau_decay = self.time_constants(temperature)
        drive = self.release_rate * glutamate
        return jnp.stack(
            [drive - gating[..., 0] / tau_rise, drive - gating[..., 1] / tau_decay], axis=-1
        )

    def open_fraction(self, gating: Float[Array, "... 2"], temperature) -> Float[Array, "..."]:
        tau_rise, tau_decay = self.time_constants(temperature)
        t_peak = tau_rise * tau_decay / (tau_decay - tau_rise) * jnp.log(tau_decay / tau_rise)
        norm = 1.0 / (jnp.exp(-t_peak / tau_decay) - jnp.exp(-t_peak / tau_rise))
        return norm * (gating[..., 1] - gating[..., 0])

    @abc.abstractmethod
    def current(self, gating, voltage, temperature) -> Float[Array, "..."]:
        """Inward-negative membrane current, pA."""


def _concrete_le(a, b):
    return is_concrete((a, b)) and bool(jnp.any(jnp.asarray(a) <= jnp.asarray(b)))


class AMPAReceptor(AbstractGlutamateReceptor):
    """AMPA receptors: an ohmic conductance (nS) reversing at 0 mV."""

    conductance: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.3)
    tau_rise: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.2)
    tau_decay: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.7)
    reversal_potential: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.0)
    release_rate: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.5)
    q10: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=2.0)
    reference_temperature: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=34.0)

    def current(self, gating, voltage, temperature):
        g = self.conductance * self.open_fraction(gating, temperature)
        return g * (voltage - self.reversal_potential)


class NMDAReceptor(AbstractGlutamateReceptor):
    """NMDA receptors with the Jahr & Stevens (1990) Mg2+ block.

    ``B(V) = 1 / (1 + exp(-mg_block_slope V) [Mg]o / mg_block_kd)``. The default [Mg]o is the seed
    experiment's 2 mM. ``calcium_fraction`` is the fraction of the NMDA current carried by
    calcium at ``calcium_reference_potential`` (-70 mV): 0.6 * 4[Ca]o / (4[Ca]o + 120/1.38 mM) =
    0.051 at [Ca]o = 2 mM (GluSynapse, after Schneggenburger 1993 [CODE]).

    The calcium current has its own driving force, ``V - calcium_reversal_potential`` (+130 mV,
    as the VGCC's), scaled to carry ``calcium_fraction`` of the total at the reference potential:
    calcium keeps flowing in when a back-propagating spike depolarises the head past the NMDA
    reversal (0 mV), while the total NMDA current turns outward. A fixed fraction of the total
    would instead pump calcium out during the spike, wrongly.
    AP5 is a block of ``conductance`` (an experiment scales it by the unblocked fraction).
    """

    conductance: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.6)
    tau_rise: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.29)
    tau_decay: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=70.0)
    reversal_potential: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.0)
    release_rate: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.5)
    q10: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=2.0)
    reference_temperature: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=34.0)
    magnesium: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=2.0)
    mg_block_slope: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.062)
    mg_block_kd: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=3.57)
    calcium_fraction: Float[Array, ""] = eqx.field(
        converter=jnp.asarray, default=0.6 * 8.0 / (8.0 + 120.0 / 1.38)
    )
    calcium_reversal_potential: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=130.0)
    calcium_reference_potential: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=-70.0)

    def __check_init__(self):
        check_range(
            "NMDAReceptor.magnesium", self.magnesium, lower=0.0, lower_inclusive=True, unit="mM"
        )
        check_range("NMDAReceptor.mg_block_kd", self.mg_block_kd, lower=0.0, unit="mM")
        check_range(
            "NMDAReceptor.calcium_fraction",
            self.calcium_fraction,
            lower=0.0,
            upper=1.0,
            lower_inclusive=True,
        )
        check_range("NMDAReceptor.mg_block_slope", self.mg_block_slope, lower=0.0, unit="1/mV")
        for field in ("calcium_reversal_potential", "calcium_reference_potential"):
            check_potential(f"NMDAReceptor.{field}", getattr(self, field))
        if is_concrete(self) and jnp.any(
            self.calcium_reversal_potential == self.calcium_reference_potential
        ):
            raise ValueError(
                "NMDAReceptor.calcium_reversal_potential must differ from "
                "calcium_reference_potential (the calcium share is scaled at the latter)"
            )

    def magnesium_block(self, voltage):
        """Fraction of NMDA conductance not blocked by Mg2+ at ``voltage`` (mV)."""
        return 1.0 / (
            1.0 + jnp.exp(-self.mg_block_slope * voltage) * self.magnesium / self.mg_block_kd
        )

    def current(self, gating, voltage, temperature):
        g = self.conductance * self.open_fraction(gating, temperature)
        return g * self.magnesium_block(voltage) * (voltage - self.reversal_potential)

    def calcium_current(self, gating, voltage, temperature):
        """The part of the NMDA current carried by calcium, pA (negative = inward)."""
        scale = (
            self.calcium_fraction
            * (self.calcium_reference_potential - self.reversal_potential)
            / (self.calcium_reference_potential - self.calcium_reversal_potential)
        )
        g = self.conductance * self.open_fraction(gating, temperature)
        return (
            scale * g * self.magnesium_block(voltage) * (voltage - self.calcium_reversal_potential)
        )
