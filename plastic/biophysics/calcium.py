"""Calcium handling: buffering, extrusion, spine-neck exchange and dendritic diffusion.

Calcium is free [Ca2+] in uM. Fast buffers are in rapid equilibrium (a constant buffer capacity
kappa: every flux into a volume changes free calcium by flux / (1 + kappa)); extrusion is linear
in the excess over rest. Spine heads exchange calcium with the parent dendrite through the neck
by diffusion of free calcium (flux D A_neck / L_neck * difference); the shaft is a 1-D diffusion
cable on the same compartments as the electrical cable, sealed at both ends.

Defaults: resting calcium 70 nM, kappa = 20 and a 13 ms decay time (1 + kappa) / gamma in spine
heads (Sabatini, Oertner & Svoboda 2002 [reference/models.md section 5]); free-calcium diffusion
coefficient 0.22 um^2/ms (Allbritton et al. 1992 [MEM]); the dendrite uses the same buffer capacity
with a slower extrusion (a 70 ms decay), so a bAP transient in the shaft outlasts that in the head.
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_range


class CalciumHandling(eqx.Module):
    """Attributes:
    resting_calcium: uM. head_buffer_capacity, dendrite_buffer_capacity: dimensionless kappa.
    head_extrusion_rate, dendrite_extrusion_rate: 1/ms, acting on free calcium above rest.
    diffusion_coefficient: free calcium, um^2/ms.
    """

    resting_calcium: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.07)
    head_buffer_capacity: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=20.0)
    head_extrusion_rate: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=21.0 / 13.0)
    dendrite_buffer_capacity: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=20.0)
    dendrite_extrusion_rate: Float[Array, ""] = eqx.field(
        converter=jnp.asarray, default=21.0 / 70.0
    )
    diffusion_coefficient: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.22)

    def __check_init__(self):
        check_range("CalciumHandling.resting_calcium", self.resting_calcium, lower=0.0, unit="uM")
        for field in ("head_buffer_capacity", "dendrite_buffer_capacity"):
            check_range(
                f"CalciumHandling.{field}", getattr(self, field), lower=0.0, lower_inclusive=True
            )
        for field in ("head_extrusion_rate", "dendrite_extrusion_rate"):
            check_range(f"CalciumHandling.{field}", getattr(self, field), lower=0.0, unit="1/ms")
        check_range(
            "CalciumHandling.diffusion_coefficient",
            self.diffusion_coefficient,
            lower=0.0,
            lower_inclusive=True,
            unit="um^2/ms",
        )
