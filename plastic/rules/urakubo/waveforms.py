"""Spike waveforms for driving the Urakubo model with spike trains: a back-propagating action
potential and its VGCC Ca influx at each postsynaptic spike, an EPSP at each presynaptic release,
superposed linearly on the resting potential.

The Urakubo model is a spine without a neuron: it reads a membrane potential. `SpikeWaveforms`
holds one waveform of each kind (piecewise linear, sampled at the times where they kink) and
`SpikeWaveforms.drive` turns spike trains into the knots of a prescribed voltage and VGCC influx,
traceably (spike times may be batched with `jax.vmap`). `genesis_waveforms` reads them from the
authors' GENESIS run at -16 ms, whose first pairing has the bAP and the EPSP apart.

Linear superposition is an approximation where spikes overlap: the bAP of a spike 10 ms after
another is the same as the first, and the VGCC influx does not inactivate over a train (the
channel's inactivation time constant is 29 ms).
"""

import functools

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic._validation import is_concrete
from plastic.rules._validation import check_range
from plastic.rules.urakubo.genesis import POST_SPIKE, load_trace
from plastic.rules.urakubo.model import REST_VOLTAGE

BAP_WINDOW = (-11.0, 16.0)
"""ms around the post spike: the part of the GENESIS trace taken as the bAP."""
BAP_TAIL = 15.0
"""ms: decay of the bAP after its window."""
_TAIL_KNOTS = (5.0, 20.0, 60.0)
"""ms after the bAP window: where the exponential tail is sampled (its error below 1 % of the
window's last value at these knots' linear interpolation)."""
EPSP_LENGTH = 200.0
"""ms after release that the EPSP lasts."""


class SpikeWaveforms(eqx.Module):
    """A bAP with its VGCC Ca influx, and an EPSP, as piecewise-linear waveforms.

    Attributes:
        bap_t: ms relative to the postsynaptic spike, shape ``(b,)``, increasing.
        bap_v: depolarisation above rest, mV, shape ``(b,)``; beyond ``bap_t[-1]`` it decays
            exponentially with ``bap_tail``.
        bap_tail: ms.
        vgcc_psd, vgcc_cyt: VGCC Ca influx into the PSD and the cytosol at ``bap_t``, uM/s,
            shape ``(b,)``; zero outside.
        epsp_t: ms relative to the presynaptic release, shape ``(e,)``, increasing.
        epsp_v: depolarisation, mV, shape ``(e,)``; zero outside.
        rest: membrane potential without spikes, mV.
    """

    bap_t: Float[Array, " b"] = eqx.field(converter=jnp.asarray)
    bap_v: Float[Array, " b"] = eqx.field(converter=jnp.asarray)
    bap_tail: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    vgcc_psd: Float[Array, " b"] = eqx.field(converter=jnp.asarray)
    vgcc_cyt: Float[Array, " b"] = eqx.field(converter=jnp.asarray)
    epsp_t: Float[Array, " e"] = eqx.field(converter=jnp.asarray)
    epsp_v: Float[Array, " e"] = eqx.field(converter=jnp.asarray)
    rest: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=REST_VOLTAGE)

    def __check_init__(self):
        for times, values in (
            ("bap_t", ("bap_v", "vgcc_psd", "vgcc_cyt")),
            ("epsp_t", ("epsp_v",)),
        ):
            t = getattr(self, times)
            if t.ndim != 1 or t.shape[0] < 2:
                raise ValueError(f"SpikeWaveforms.{times} must be 1-D with >= 2 samples")
            for name in values:
                if getattr(self, name).shape != t.shape:
                    raise ValueError(
                        f"SpikeWaveforms.{name} must have the shape of {times}, {t.shape}; "
                        f"got {getattr(self, name).shape}"
                    )
            if is_concrete(t) and not np.all(np.diff(np.asarray(t)) > 0):
                raise ValueError(f"SpikeWaveforms.{times} must be increasing")
        check_range(
            "SpikeWaveforms", "bap_tail", self.bap_tail, lower=0.0, lower_open=True, units="ms"
        )

    def bap(self, s):
        """bAP depolarisation (mV) at ``s`` ms after a postsynaptic spike (any shape)."""
        last = self.bap_t[-1]
        inside = jnp.interp(s, self.bap_t, self.bap_v, left=0.0, right=0.0)
        tail = self.bap_v[-1] * jnp.exp(-jnp.maximum(s - last, 0.0) / self.bap_tail)
        return jnp.where(s <= last, inside, tail)

    def epsp(self, s):
        """EPSP depolarisation (mV) at ``s`` ms after a release (any shape)."""
        return jnp.interp(s, self.epsp_t, self.epsp_v, left=0.0, right=0.0)

    def knots(self, pre: Float[Array, " n_pre"], post: Float[Array, " n_post"]):
        """Every time where the superposed waveforms kink (ms), sorted, padding spikes
        (``+inf``) giving ``+inf``: shape ``(n_post (b + 3) + n_pre e,)``."""
        tail = self.bap_t[-1] + jnp.asarray(_TAIL_KNOTS)
        return jnp.sort(
            jnp.concatenate(
                [
                    (post[:, None] + self.bap_t).ravel(),
                    (post[:, None] + tail).ravel(),
                    (pre[:, None] + self.epsp_t).ravel(),
                ]
            )
        )

    def drive(self, pre, post):
        """Membrane potential and VGCC influx at the knots of trains ``pre`` and ``post``
        (ms, padded with ``+inf``).

        Returns ``(ts, voltage, vgcc_psd, vgcc_cyt)``, each ``(k,)``: knot times (ms; the
        padding's knots sit one ms after the last real one, so that interpolation tables stay
        finite), mV, and uM/s. Linear interpolation between them is the superposition up to
        the bAP's exponential tail, sampled at 3 knots.
        """
        ts = self.knots(pre, post)
        finite = jnp.isfinite(ts)
        last = jnp.max(jnp.where(finite, ts, -jnp.inf))
        ts = jnp.where(finite, ts, last + 1.0)

        def summed(spikes, waveform):
            # (k, n): padding spikes contribute nothing (s = -inf is left of every waveform).
            s = ts[:, None] - spikes[None, :]
            return jnp.sum(jnp.where(jnp.isfinite(spikes), waveform(s), 0.0), axis=1)

        def influx(values):
            return lambda s: jnp.interp(s, self.bap_t, values, left=0.0, right=0.0)

        voltage = self.rest + summed(post, self.bap) + summed(pre, self.epsp)
        return ts, voltage, summed(post, influx(self.vgcc_psd)), summed(post, influx(self.vgcc_cyt))


@functools.cache
def genesis_waveforms() -> SpikeWaveforms:
    """The bAP, its VGCC influx and the EPSP of the authors' GENESIS run at -16 ms.

    Its first pairing has them apart: the bAP is the dendritic voltage (``Vdend`` + 65 mV) from
    11 ms before to 16 ms after the postsynaptic spike (taken 5 ms after its current onset, as
    in `plastic.rules.urakubo.genesis.POST_SPIKE`), continued by an exponential decay
    (`BAP_TAIL`); the EPSP is what remains of the voltage over 200 ms after the release (16 ms
    after the spike) once that bAP is subtracted; the VGCC influx is the trace's own around the
    bAP (``PSD_VGCC_Jca``, ``Cyt_VGCC_Jca``), which the trace's 1-3 ms voltage samples are too
    coarse for the channel model to reproduce.
    """
    trace = load_trace(-16)
    t, v = trace["t"], trace["Vdend"] - REST_VOLTAGE
    in_bap = (t >= POST_SPIKE + BAP_WINDOW[0]) & (t < POST_SPIKE + BAP_WINDOW[1])
    bap_t, bap_v = t[in_bap] - POST_SPIKE, v[in_bap]
    partial = SpikeWaveforms(
        bap_t,
        bap_v,
        BAP_TAIL,
        trace["PSD_VGCC_Jca"][in_bap],
        trace["Cyt_VGCC_Jca"][in_bap],
        np.array([0.0, 1.0]),
        np.zeros(2),
    )
    release = POST_SPIKE + 16.0
    in_epsp = (t >= release) & (t < release + EPSP_LENGTH)
    epsp_t = np.concatenate([[0.0], t[in_epsp] - release])
    bap_there = np.asarray(partial.bap(jnp.asarray(t[in_epsp] - POST_SPIKE)))
    epsp_v = np.concatenate([[0.0], v[in_epsp] - bap_there])
    return eqx.tree_at(lambda w: (w.epsp_t, w.epsp_v), partial, (epsp_t, epsp_v))
