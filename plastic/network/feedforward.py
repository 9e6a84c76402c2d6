"""A feedforward spiking network: input spike trains -> plastic synapses -> spiking neurons.

One step of ``dt`` ms, at time ``t``: the neurons' spikes and voltages at ``t`` and the input
spikes at ``t`` drive the synapse layer's rule from ``t`` to ``t + dt``; the input spikes,
weighted by the weights at ``t``, drive the neurons to ``t + dt``, where they may spike. A whole
learning episode is a `checkpointed_scan` of this step, so it can be jitted, vmapped over
networks and differentiated with memory that grows as the square root of its length.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.network.neurons import AbstractNeurons, LIFNeurons, LIFState
from plastic.network.scan import checkpointed_scan
from plastic.network.synapses import (
    PlasticSynapses,
    PlasticSynapsesState,
    default_segment_steps,
)


class NetworkState(eqx.Module):
    """Attributes:
    synapses: the plastic synapse layer's state.
    neurons: the postsynaptic neurons' state.
    """

    synapses: PlasticSynapsesState
    neurons: LIFState


class Episode(eqx.Module):
    """What `FeedforwardNetwork.run` returns.

    Attributes:
        spikes: ``(n_steps, n_post)`` postsynaptic spikes at the end of each step (time
            ``(n + 1) dt``).
        voltage: ``(n_steps, n_post)`` postsynaptic voltage at the same times, mV.
        times: ``(n_segments,)`` ends of the checkpoint segments, ms.
        weights: ``(n_segments, n_post, n_pre)`` weights at those times.
        final_state: the network's state at the end.
    """

    spikes: Float[Array, "n_steps n_post"]
    voltage: Float[Array, "n_steps n_post"]
    times: Float[Array, " n_segments"]
    weights: Float[Array, "n_segments n_post n_pre"]
    final_state: NetworkState


class Response(eqx.Module):
    """What `FeedforwardNetwork.respond` returns: ``spikes`` and ``voltage`` (mV), each of shape
    ``(n_steps, n_post)``, at the end of each step."""

    spikes: Float[Array, "n_steps n_post"]
    voltage: Float[Array, "n_steps n_post"]


class FeedforwardNetwork(eqx.Module):
    """``n_pre`` input spike trains onto ``n_post`` neurons through plastic synapses.

    Attributes:
        synapses: the plastic synapse layer; its ``dt`` is the network's step and its weights
            are PSP peaks, mV.
        neurons: the postsynaptic neurons (default `LIFNeurons`).
    """

    synapses: PlasticSynapses
    neurons: AbstractNeurons = eqx.field(default_factory=LIFNeurons)

    @property
    def dt(self) -> float:
        return self.synapses.dt

    def initial_state(self) -> NetworkState:
        return NetworkState(
            self.synapses.initial_state(), self.neurons.initial_state(self.synapses.n_post)
        )

    def step(self, state: NetworkState, pre_spikes: Float[Array, " n_pre"]):
        """One step: ``(state at t, input spikes at t) -> (state at t + dt, (spikes, voltage)
        at t + dt)``, the signature `jax.lax.scan` expects."""
        neurons = state.neurons
        weights = self.synapses.weights(state.synapses)
        synapses = self.synapses.step(state.synapses, pre_spikes, neurons.spikes, neurons.voltage)
        neurons = self.neurons.step(neurons, weights @ pre_spikes, self.dt)
        return NetworkState(synapses, neurons), (neurons.spikes, neurons.voltage)

    def run(
        self,
        pre_spikes: Float[Array, "n_steps n_pre"],
        *,
        segment_steps: int | None = None,
        initial_state: NetworkState | None = None,
    ) -> Episode:
        """A learning episode driven by the input spikes (one row per step, counts 0 or 1).

        Args:
            pre_spikes: input spikes, row ``n`` at time ``n dt``.
            segment_steps: weights are recorded, and the state checkpointed, every
                ``segment_steps`` steps (a divisor of ``n_steps``); default
                `default_segment_steps`.
            initial_state: default `initial_state`.
        """
        n_steps = pre_spikes.shape[0]
        if segment_steps is None:
            segment_steps = default_segment_steps(n_steps)
        state = self.initial_state() if initial_state is None else initial_state
        final, ((spikes, voltage), states) = checkpointed_scan(
            self.step, state, pre_spikes, segment_steps
        )
        weights = jax.vmap(self.synapses.weights)(states.synapses)
        return Episode(spikes, voltage, states.synapses.time, weights, final)

    def respond(
        self,
        pre_spikes: Float[Array, "n_steps n_pre"],
        weights: Float[Array, "n_post n_pre"],
    ) -> Response:
        """The neurons' response to ``pre_spikes`` through fixed ``weights`` (mV), from rest:
        no plasticity."""

        def step(neurons, spikes):
            neurons = self.neurons.step(neurons, weights @ spikes, self.dt)
            return neurons, (neurons.spikes, neurons.voltage)

        initial = self.neurons.initial_state(weights.shape[0])
        _, (spikes, voltage) = jax.lax.scan(step, initial, jnp.asarray(pre_spikes))
        return Response(spikes, voltage)
