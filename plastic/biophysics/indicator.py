"""A calcium indicator dye loaded into the cell: a mobile buffer whose bound fraction is what
two-photon calcium imaging reports.

Imaging experiments fill the cell through the patch pipette with a green calcium indicator and
a red, calcium-insensitive dye (Tazerart et al. 2020, seed 000: Fluo-4 300 uM and Alexa Fluor
594 100 uM) and report Delta G / R: the change of the green fluorescence from its baseline,
over the red one. The indicator binds calcium with finite rates, so it adds a buffer on top of
the endogenous one (with 300 uM Fluo-4 of Kd 0.35 uM, a buffer capacity of ~ 700 at rest
against the endogenous ~ 20: transients become smaller and slower), and its fluorescence
saturates as its bound fraction approaches 1. Both are why Delta G / R is not free calcium.

Binding is one-to-one (BAPTA-type dyes)::

    d bound / dt = on_rate Ca (concentration - bound) - off_rate bound      (uM/ms)

with ``off_rate = on_rate dissociation_constant``. The red dye fills the same volume, so R is
proportional to the volume and G / R does not depend on it; G / R is taken in units of its value
at saturation, ``(1 / dynamic_range) + (1 - 1 / dynamic_range) bound / concentration``, which
makes Delta G / R dimensionless and comparable across spines and dendrites (the paper's
"a.u.").

Units: concentrations in uM, time in ms. Defaults: Fluo-4 at the 300 uM of the seed's imaging.
Kd 0.345 uM and a > 100-fold fluorescence increase on binding (Gee et al. 2000, Cell Calcium
27:97-106, in vitro at 22 degC); an on-rate of 0.6 /(uM ms) (6e8 /M/s), the order measured for
BAPTA-based indicators of the fluo family (Naraghi 1997, Cell Calcium 22:255-268), which puts
the off-rate at 0.2 /ms. The dye is mobile: 0.05 um^2/ms, the order of small BAPTA-based dyes
in cytoplasm (tens of um^2/s; not checked here for Fluo-4), a quarter of free calcium's. In
cells the Kd of these dyes is often 2-3 x the in vitro value; set it if your calibration says
so.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_range


class AbstractCalciumIndicator(eqx.Module):
    """A calcium indicator dye described by its calcium-bound concentration (uM) in every
    compartment it fills."""

    @abc.abstractmethod
    def binding_flux(self, calcium, bound):
        """Net calcium binding to the dye, uM/ms (any shape: free calcium and bound dye, both
        uM, broadcast together). It leaves the free calcium and enters the bound dye."""

    @abc.abstractmethod
    def resting_bound(self, calcium):
        """Bound dye in equilibrium with free ``calcium`` (uM): ``binding_flux`` is zero there."""

    @abc.abstractmethod
    def green_over_red(self, bound):
        """G / R for bound dye ``bound`` (uM), in units of its value at saturation (any shape)."""


class CalciumIndicator(AbstractCalciumIndicator):
    """A single-site calcium indicator (a BAPTA-type dye, one calcium per dye molecule) at a
    uniform concentration in spine heads and dendrite; defaults are Fluo-4 at 300 uM (see the
    module doc for sources).

    Attributes:
        concentration: total dye, uM (> 0).
        dissociation_constant: Kd, uM (> 0).
        on_rate: calcium binding rate, 1/(uM ms) (> 0); the off-rate is on_rate * Kd.
        dynamic_range: fluorescence of the bound over the free dye, F_max / F_min (> 1).
        diffusion_coefficient: of the dye in cytoplasm, free and bound alike, um^2/ms (>= 0).
    """

    concentration: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=300.0)
    dissociation_constant: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.345)
    on_rate: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.6)
    dynamic_range: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=100.0)
    diffusion_coefficient: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.05)

    def __check_init__(self):
        check_range("CalciumIndicator.concentration", self.concentration, lower=0.0, unit="uM")
        check_range(
            "CalciumIndicator.dissociation_constant",
            self.dissociation_constant,
            lower=0.0,
            unit="uM",
        )
        check_range("CalciumIndicator.on_rate", self.on_rate, lower=0.0, unit="1/(uM ms)")
        check_range("CalciumIndicator.dynamic_range", self.dynamic_range, lower=1.0)
        check_range(
            "CalciumIndicator.diffusion_coefficient",
            self.diffusion_coefficient,
            lower=0.0,
            lower_inclusive=True,
            unit="um^2/ms",
        )

    @property
    def off_rate(self) -> Float[Array, ""]:
        """1/ms."""
        return self.on_rate * self.dissociation_constant

    def binding_flux(self, calcium, bound):
        return self.on_rate * calcium * (self.concentration - bound) - self.off_rate * bound

    def resting_bound(self, calcium):
        return self.concentration * calcium / (calcium + self.dissociation_constant)

    def green_over_red(self, bound):
        dark = 1.0 / self.dynamic_range
        return dark + (1.0 - dark) * bound / self.concentration
