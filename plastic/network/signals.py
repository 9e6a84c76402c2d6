"""What a rule reads at each synapse of a network, made from the pre- and postsynaptic spikes.

A network has no spine model to compute calcium, glutamate and voltage, so these are built from
the spike trains, per neuron, and combined per synapse:

- calcium (uM): the linear spike-evoked calcium of Graupner & Brunel 2012 (see
  `plastic.rules.GraupnerBrunelCalcium` and ``reference/models.md`` section 1) in uM above a
  resting level. At synapse ``(i, j)``, from presynaptic neuron ``j`` to postsynaptic neuron
  ``i``::

      calcium_ij(t) = calcium_rest + calcium_pre x_j(t) + calcium_post y_i(t) + z_ij(t)
      x_j(t) = sum over pre spikes t_k <= t of exp(-(t - t_k) / tau_calcium), y_i likewise
      z_ij(t) = calcium_pair sum over post spikes t_k <= t of n_j(t_k) exp(-(t - t_k) / tau_calcium)
      n_j(t) = sum over pre spikes t_m <= t of exp(-(t - t_m) / tau_nmda)

  A presynaptic spike (NMDA receptor influx at rest) and a postsynaptic spike (back-propagating
  action potential) each add a transient; one time constant, the spine's extrusion, removes all.
  Transients start at the spike: Graupner & Brunel's presynaptic delay ``D`` is zero here. The
  coincidence term ``z`` (zero by default, which is Graupner & Brunel's linear model) adds the
  supralinear influx of NMDA receptors that glutamate has bound (``n_j``, decaying with
  ``tau_nmda``) and a back-propagating action potential unblocks, as in Shouval, Bear & Cooper
  2002 (``reference/models.md`` section 2): a presynaptic spike before a postsynaptic one gives
  more calcium than the reverse order. A presynaptic spike at the same instant counts as before.
- glutamate (dimensionless): 1 for ``glutamate_duration`` ms after each presynaptic spike.
- voltage and soma_voltage (mV): the postsynaptic neuron's voltage, replaced by ``spike_voltage``
  for ``spike_duration`` ms after each of its spikes (point neurons such as the leaky
  integrate-and-fire reset without an action potential; the spike detector of the STDP rules,
  `plastic.rules.SpikeDetector`, reads this waveform).

The defaults of the two pulse durations are those of `plastic.rules.SpikeDetector`, so that the
in-model STDP traces gain 1 per spike.

Per-neuron traces are stored (shapes ``(n_pre,)`` and ``(n_post,)``), and one per synapse for
the coincidence term.
Spikes happen on the time grid of the layer that owns the signals; within a step the calcium is
evaluated exactly (exponential decay) and the pulses are sampled at the middle of the step, which
is exact when their durations are whole numbers of steps (otherwise a pulse lasts the whole
steps whose middles it covers).
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_range
from plastic.rules.base import SynapseSignals

_Scalar = Float[Array, ""]


class SpikeTraces(eqx.Module):
    """The per-neuron state behind the synaptic signals.

    Attributes:
        pre_calcium: ``(n_pre,)`` calcium from each presynaptic neuron's transients, uM above
            rest.
        post_calcium: ``(n_post,)`` calcium from each postsynaptic neuron's transients, uM.
        pre_nmda: ``(n_pre,)`` glutamate-bound NMDA receptors, in spikes (``n_j``).
        pair_calcium: ``(n_post, n_pre)`` calcium from pre-post coincidences, uM (``z_ij``).
        pre_age: ``(n_pre,)`` time since each presynaptic neuron's last spike, ms (``inf``
            before the first).
        post_age: ``(n_post,)`` time since each postsynaptic neuron's last spike, ms.
    """

    pre_calcium: Float[Array, " n_pre"]
    post_calcium: Float[Array, " n_post"]
    pre_nmda: Float[Array, " n_pre"]
    pair_calcium: Float[Array, "n_post n_pre"]
    pre_age: Float[Array, " n_pre"]
    post_age: Float[Array, " n_post"]


class AbstractSpikeSignals(eqx.Module):
    """Turns pre- and postsynaptic spikes into the `SynapseSignals` of every synapse.

    Time is split into steps; spikes arrive at the start of a step. Implementations keep a
    per-neuron `SpikeTraces` and evaluate the signals anywhere inside a step.
    """

    @abc.abstractmethod
    def initial_traces(self, n_pre: int, n_post: int) -> SpikeTraces:
        """Traces before any spike."""

    @abc.abstractmethod
    def add_spikes(self, traces: SpikeTraces, pre_spikes, post_spikes) -> SpikeTraces:
        """Traces just after spikes at this instant: ``pre_spikes`` ``(n_pre,)`` and
        ``post_spikes`` ``(n_post,)`` hold spike counts (0 or 1)."""

    @abc.abstractmethod
    def signals(
        self,
        traces: SpikeTraces,
        offset: _Scalar,
        dt: float,
        post_voltage: Float[Array, " n_post"],
    ) -> SynapseSignals:
        """The signals ``offset`` ms into a step of ``dt`` ms that starts with ``traces``, with
        the postsynaptic voltage (mV) held at ``post_voltage`` outside spikes.

        Returns `SynapseSignals` whose fields have shape ``(n_post, n_pre)``.
        """

    @abc.abstractmethod
    def advance(self, traces: SpikeTraces, dt: float) -> SpikeTraces:
        """Traces ``dt`` ms later, without new spikes."""


class SpikeSignals(AbstractSpikeSignals):
    """Graupner-Brunel linear spike calcium in uM, glutamate pulses and a spike waveform.

    Attributes:
        calcium_rest: resting calcium, uM (0.05, the spine model's; 0 for the dimensionless
            calcium of Graupner & Brunel).
        calcium_pre: calcium jump per presynaptic spike, uM.
        calcium_post: calcium jump per postsynaptic spike, uM.
        calcium_pair: coincidence calcium per postsynaptic spike per bound presynaptic spike, uM.
        tau_calcium: decay time constant of all transients, ms.
        tau_nmda: decay of glutamate binding to NMDA receptors, ms (the 50 ms fast component of
            Shouval et al. 2002).
        glutamate_duration: glutamate pulse per presynaptic spike, ms.
        spike_duration: length of the postsynaptic spike waveform, ms.
        spike_voltage: its voltage, mV.
    """

    calcium_rest: _Scalar = eqx.field(converter=jnp.asarray, default=0.05)
    calcium_pre: _Scalar = eqx.field(converter=jnp.asarray, default=1.0)
    calcium_post: _Scalar = eqx.field(converter=jnp.asarray, default=1.0)
    calcium_pair: _Scalar = eqx.field(converter=jnp.asarray, default=0.0)
    tau_calcium: _Scalar = eqx.field(converter=jnp.asarray, default=20.0)
    tau_nmda: _Scalar = eqx.field(converter=jnp.asarray, default=50.0)
    glutamate_duration: _Scalar = eqx.field(converter=jnp.asarray, default=2.0)
    spike_duration: _Scalar = eqx.field(converter=jnp.asarray, default=1.0)
    spike_voltage: _Scalar = eqx.field(converter=jnp.asarray, default=40.0)

    def __check_init__(self):
        name = type(self).__name__
        for field in ("calcium_rest", "calcium_pre", "calcium_post", "calcium_pair"):
            value = getattr(self, field)
            check_range(f"{name}.{field}", value, lower=0.0, lower_inclusive=True, unit="uM")
        for field in ("tau_calcium", "tau_nmda", "glutamate_duration", "spike_duration"):
            check_range(f"{name}.{field}", getattr(self, field), lower=0.0, unit="ms")
        check_range(f"{name}.spike_voltage", self.spike_voltage, unit="mV")

    def initial_traces(self, n_pre: int, n_post: int) -> SpikeTraces:
        dtype = jnp.result_type(self.tau_calcium, float)
        return SpikeTraces(
            pre_calcium=jnp.zeros(n_pre, dtype),
            post_calcium=jnp.zeros(n_post, dtype),
            pre_nmda=jnp.zeros(n_pre, dtype),
            pair_calcium=jnp.zeros((n_post, n_pre), dtype),
            pre_age=jnp.full(n_pre, jnp.inf, dtype),
            post_age=jnp.full(n_post, jnp.inf, dtype),
        )

    def add_spikes(self, traces: SpikeTraces, pre_spikes, post_spikes) -> SpikeTraces:
        pre_nmda = traces.pre_nmda + pre_spikes  # before the post spikes read it
        pair = self.calcium_pair * post_spikes[:, None] * pre_nmda[None, :]
        return SpikeTraces(
            pre_calcium=traces.pre_calcium + self.calcium_pre * pre_spikes,
            post_calcium=traces.post_calcium + self.calcium_post * post_spikes,
            pre_nmda=pre_nmda,
            pair_calcium=traces.pair_calcium + pair,
            pre_age=jnp.where(pre_spikes > 0, 0.0, traces.pre_age),
            post_age=jnp.where(post_spikes > 0, 0.0, traces.post_age),
        )

    def signals(self, traces, offset, dt, post_voltage) -> SynapseSignals:
        decay = jnp.exp(-offset / self.tau_calcium)
        calcium = self.calcium_rest + decay * (
            traces.post_calcium[:, None] + traces.pre_calcium[None, :] + traces.pair_calcium
        )
        # Pulses are sampled at the middle of the step: an edge on the grid is never straddled,
        # and round-off in the accumulated ages cannot move it by a step.
        middle = 0.5 * dt
        glutamate = (traces.pre_age + middle < self.glutamate_duration).astype(calcium.dtype)
        spiking = traces.post_age + middle < self.spike_duration
        voltage = jnp.where(spiking, self.spike_voltage, post_voltage)
        shape = calcium.shape
        return SynapseSignals(
            calcium=calcium,
            voltage=jnp.broadcast_to(voltage[:, None], shape),
            glutamate=jnp.broadcast_to(glutamate[None, :], shape),
            soma_voltage=jnp.broadcast_to(voltage[:, None], shape),
        )

    def advance(self, traces: SpikeTraces, dt: float) -> SpikeTraces:
        decay = jnp.exp(-dt / self.tau_calcium)
        return SpikeTraces(
            pre_calcium=decay * traces.pre_calcium,
            post_calcium=decay * traces.post_calcium,
            pre_nmda=jnp.exp(-dt / self.tau_nmda) * traces.pre_nmda,
            pair_calcium=decay * traces.pair_calcium,
            pre_age=traces.pre_age + dt,
            post_age=traces.post_age + dt,
        )
