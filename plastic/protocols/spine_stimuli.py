"""Protocols on the spine model beyond the seed's pairing: spike trains and somatic current steps.

`spike_train_protocol` turns `SpikeTrains` (the protocols of every standalone rule: pairs,
bursts, triplets, quadruplets, Poisson trains, spike lists) into a `Protocol`: each presynaptic
spike releases glutamate at the synapse's spine heads for ``release_duration`` ms, and each
postsynaptic spike is evoked by a brief, strong somatic current pulse starting at its time (the
convention of Tazerart et al., whose delta_t is current onset minus uncaging onset; with the
default pulse the AP crosses 0 mV about 1.5-2 ms later). `current_steps` gives a series of
somatic current steps, with or without synaptic stimulation. Either may carry a `VoltageClamp`.
"""

import jax.numpy as jnp
import numpy as np

from plastic._validation import check_range, is_concrete
from plastic.protocols.spike_trains import SpikeTrains
from plastic.protocols.uncaging import NEVER, Protocol, event_protocol
from plastic.protocols.voltage_clamp import VoltageClamp

SPIKE_CURRENT_DURATION = 2.0
"""ms: the somatic current pulse that evokes one postsynaptic spike."""

SPIKE_CURRENT_AMPLITUDE = 3000.0
"""pA: with `SPIKE_CURRENT_DURATION`, one AP per pulse in the default soma (100 pF), crossing 0
mV 1.5-1.9 ms after the onset (measured at spike intervals of 10-20 ms)."""


def _check_synapse_spines(synapse_spines: tuple[int, ...], n_spines: int) -> tuple[int, ...]:
    spines = tuple(synapse_spines)
    if not spines or len(set(spines)) != len(spines) or not all(0 <= s < n_spines for s in spines):
        raise ValueError(
            f"synapse_spines must be distinct spine indices in [0, {n_spines - 1}]; got {spines}"
        )
    return spines


def spike_train_protocol(
    trains: SpikeTrains,
    *,
    n_spines: int,
    synapse_spines: tuple[int, ...] = (0,),
    release_duration=1.0,
    spike_current_duration=SPIKE_CURRENT_DURATION,
    spike_current_amplitude=SPIKE_CURRENT_AMPLITUDE,
    clamp: VoltageClamp | None = None,
) -> Protocol:
    """``trains`` on a spine model of ``n_spines`` spines: glutamate for ``release_duration`` ms
    at each spine of ``synapse_spines`` from every presynaptic spike, and a somatic current
    pulse (``spike_current_duration`` ms, ``spike_current_amplitude`` pA) from every
    postsynaptic spike. Traceable in the spike times (vmap it over trains); the padding of the
    trains (``+inf``) becomes events that never come. The protocol has no pairing windows.

    Raises:
        ValueError: for bad spine indices or durations, or (for concrete trains) postsynaptic
            spikes closer than ``spike_current_duration``, whose pulses would merge.
    """
    spines = _check_synapse_spines(synapse_spines, n_spines)
    check_range("release_duration", release_duration, lower=0.0, unit="ms")
    check_range("spike_current_duration", spike_current_duration, lower=0.0, unit="ms")
    check_range("spike_current_amplitude", spike_current_amplitude, unit="pA")
    if is_concrete((trains.post, spike_current_duration)):
        post = np.asarray(trains.post, dtype=float)
        gaps = np.diff(post[np.isfinite(post)])
        if gaps.size and gaps.min() < spike_current_duration:
            raise ValueError(
                f"postsynaptic spikes {gaps.min():g} ms apart: the {spike_current_duration:g} ms "
                "current pulses that evoke them would merge; give spike_current_duration below "
                "the shortest interval"
            )

    def events(times):
        return jnp.where(jnp.isfinite(times), times, NEVER)

    pre = events(jnp.asarray(trains.pre, float))
    never = jnp.full_like(pre, NEVER)
    onsets = jnp.stack([pre if spine in spines else never for spine in range(n_spines)], axis=-2)
    batch = jnp.shape(trains.duration)
    return Protocol(
        uncaging_onset=onsets,
        uncaging_duration=jnp.broadcast_to(jnp.asarray(release_duration, float), batch),
        current_onset=events(jnp.asarray(trains.post, float)),
        current_duration=jnp.broadcast_to(jnp.asarray(spike_current_duration, float), batch),
        current_amplitude=jnp.broadcast_to(jnp.asarray(spike_current_amplitude, float), batch),
        pairing_start=jnp.zeros(batch + (0,)),
        pairing_end=jnp.zeros(batch + (0,)),
        duration=jnp.asarray(trains.duration, float),
        clamp=clamp,
    )


def current_steps(
    amplitudes,
    *,
    step_duration,
    period,
    n_spines: int,
    first=100.0,
    tail=500.0,
    uncaging_onsets=None,
    uncaging_duration=2.0,
    clamp: VoltageClamp | None = None,
) -> Protocol:
    """Somatic current steps of ``amplitudes`` (pA, one step each, in order), each
    ``step_duration`` ms, one every ``period`` ms from ``first`` ms; the protocol ends ``tail``
    ms after the last step. Optionally glutamate at spine heads (``uncaging_onsets``: one list of
    onsets, ms, per spine, as in `event_protocol`), e.g. synaptic input paired with a
    depolarising step.

    Raises:
        ValueError: for no steps, a step that does not end before the next starts, or a
            non-positive duration or period.
    """
    amplitudes = np.asarray(amplitudes, dtype=float).ravel()
    if amplitudes.size == 0:
        raise ValueError("amplitudes must give at least one current step; got none")
    check_range("step_duration", step_duration, lower=0.0, unit="ms")
    check_range("period", period, lower=float(step_duration), unit="ms (longer than a step)")
    check_range("first", first, lower=0.0, lower_inclusive=True, unit="ms")
    check_range("tail", tail, lower=0.0, lower_inclusive=True, unit="ms")
    if uncaging_onsets is not None and len(uncaging_onsets) != n_spines:
        raise ValueError(
            f"uncaging_onsets must give one list per spine ({n_spines}); got {len(uncaging_onsets)}"
        )
    onsets = first + period * np.arange(amplitudes.size)
    duration = float(onsets[-1] + step_duration + tail)
    return event_protocol(
        [[]] * n_spines if uncaging_onsets is None else uncaging_onsets,
        onsets,
        duration=duration,
        uncaging_duration=uncaging_duration,
        current_duration=step_duration,
        current_amplitude=amplitudes,
        clamp=clamp,
    )
