"""A voltage clamp of the soma or of a dendritic site, for `Protocol`s on the spine model.

The amplifier is modelled as it acts in a whole-cell recording: a command potential behind a
series resistance, so that the clamp injects ``conductance * (voltage - V(position))`` (pA, with
nS and mV) at ``position``. The clamped site then sits ``holding current / conductance`` from the
command, the space-clamp error of a real recording is reproduced along the dendrite, and the
vector field stays smooth (an ideal clamp would remove the site's voltage from the state).
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from plastic._validation import check_range, is_concrete


class VoltageClamp(eqx.Module):
    """The membrane at ``position`` held at ``voltage`` from ``start`` to ``end``.

    Attributes:
        voltage: the command potential, mV.
        position: um from the soma along the dendrite; 0 is the soma. A site between two
            compartment centres is clamped through both, in proportion (linear interpolation).
        conductance: the inverse of the series resistance, nS (100 nS: 10 MOhm, a good
            whole-cell recording; larger is closer to an ideal clamp and stiffer).
        start, end: the clamp is on over [start, end), ms (default: the whole protocol).
    """

    voltage: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    position: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.0)
    conductance: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=100.0)
    start: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.0)
    end: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=jnp.inf)

    def __check_init__(self):
        check_range("VoltageClamp.voltage", self.voltage, lower=-150.0, upper=100.0, unit="mV")
        check_range(
            "VoltageClamp.position", self.position, lower=0.0, lower_inclusive=True, unit="um"
        )
        check_range("VoltageClamp.conductance", self.conductance, lower=0.0, upper=1e5, unit="nS")
        check_range("VoltageClamp.start", self.start, lower=0.0, lower_inclusive=True, unit="ms")
        if is_concrete((self.start, self.end)) and not jnp.all(self.end > self.start):
            raise ValueError(
                f"VoltageClamp.end must be after start ({self.start} ms); got {self.end} ms"
            )

    def on(self, t: Float[Array, ""]) -> Bool[Array, ""]:
        """Whether the clamp holds at ``t`` (ms)."""
        return (t >= self.start) & (t < self.end)

    def at(self, t: Float[Array, ""]) -> "VoltageClamp":
        """The clamp as it acts at ``t`` (ms): its conductance zero outside [start, end)."""
        acting = jnp.where(self.on(t), self.conductance, 0.0)
        return eqx.tree_at(lambda c: c.conductance, self, acting)
