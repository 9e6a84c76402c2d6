"""What drives the Urakubo model standalone: a prescribed membrane potential and presynaptic
release times, as `SynapseSignals`."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.rules._validation import check_range
from plastic.rules.base import SynapseSignals
from plastic.rules.urakubo.interpolation import check_interpolation, interpolate
from plastic.rules.urakubo.model import REST_VOLTAGE

_Scalar = Float[Array, ""]


class UrakuboDrive(eqx.Module):
    """Prescribed membrane potential and presynaptic spikes, as `SynapseSignals`.

    Attributes:
        ts: voltage sample times, ms, shape ``(k,)``, non-decreasing; end values held
            outside them.
        voltage: membrane potential at ``ts``, mV, shape ``(k,)``.
        spikes: presynaptic release times, ms, shape ``(s,)``; pad with ``inf``.
        release_duration: length of each glutamate pulse, ms (set it to
            0.4 uM s / `Urakubo2008.glutamate_concentration`).
        interpolation: between the voltage samples: ``"linear"``, or ``"exponential"``: the
            depolarisation above `REST_VOLTAGE` grows and decays geometrically between samples
            both above rest (a spike's regenerative upstroke and its repolarisation, to first
            order; `plastic.rules.urakubo.interpolation`), linear elsewhere. Static.
    """

    ts: Float[Array, " k"] = eqx.field(converter=jnp.asarray)
    voltage: Float[Array, " k"] = eqx.field(converter=jnp.asarray)
    spikes: Float[Array, " s"] = eqx.field(converter=jnp.asarray)
    release_duration: _Scalar = eqx.field(converter=jnp.asarray, default=0.1)
    interpolation: str = eqx.field(static=True, default="linear")

    def __check_init__(self):
        if self.ts.ndim != 1 or self.ts.shape != self.voltage.shape or self.ts.shape[0] < 1:
            raise ValueError(
                f"UrakuboDrive.ts and .voltage must be 1-D of one length >= 1; got shapes "
                f"{self.ts.shape} and {self.voltage.shape}"
            )
        if self.spikes.ndim != 1:
            raise ValueError(f"UrakuboDrive.spikes must be 1-D; got shape {self.spikes.shape}")
        check_range(
            "UrakuboDrive",
            "release_duration",
            self.release_duration,
            lower=0.0,
            lower_open=True,
            units="ms",
        )
        check_interpolation("UrakuboDrive.interpolation", self.interpolation)

    def __call__(self, t) -> SynapseSignals:
        v = interpolate(
            t,
            self.ts,
            self.voltage,
            self.interpolation,
            baseline=REST_VOLTAGE,
            geometric_rise=True,
        )
        releasing = jnp.any((t >= self.spikes) & (t < self.spikes + self.release_duration))
        zero = jnp.zeros_like(v)
        # The rule computes its own calcium; the signal's calcium field is not read.
        return SynapseSignals(
            calcium=zero, voltage=v, glutamate=releasing.astype(v.dtype), soma_voltage=v
        )

    def edges(self) -> Float[Array, " e"]:
        """Every kink of the voltage and every pulse edge, ms, unsorted (padding spikes give
        ``inf``): the step-size controller's ``jump_ts``. Traceable, so spike times can be
        batched with `jax.vmap`."""
        return jnp.concatenate([self.ts, self.spikes, self.spikes + self.release_duration])


def resting_drive(t_end, voltage=REST_VOLTAGE) -> UrakuboDrive:
    """Constant ``voltage`` (mV) and no release, up to ``t_end`` ms (and beyond)."""
    return UrakuboDrive(
        jnp.array([0.0, float(t_end)]), jnp.array([voltage, voltage]), jnp.array([jnp.inf])
    )
