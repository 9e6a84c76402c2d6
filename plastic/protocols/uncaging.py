"""Stimulation protocols as fixed-shape arrays.

A `Protocol` holds padded event arrays, so protocols with different numbers of events batch
together under `jax.vmap`. An absent (padding) event has its onset at `NEVER`, far beyond any
simulated time. Times are in ms, currents in pA.

Sign convention: ``delta_t`` is the onset of the somatic current (post) minus the onset of the
uncaging pulse (pre), as in Tazerart et al. 2020: +13 ms means uncaging 13 ms before the current
(pre leads post, t-LTP), -15 ms means the current comes first (t-LTD).
"""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic._validation import check_range, is_concrete
from plastic.protocols.voltage_clamp import VoltageClamp

NEVER = 1e12
"""Onset (ms) given to padding events; it lies beyond any simulated time."""

MINUTE = 60_000.0
"""ms."""


class Drive(eqx.Module):
    """The protocol's inputs at one instant.

    Attributes:
        glutamate: ``(n_spines,)``, 1 while glutamate is uncaged at a spine, else 0.
        soma_current: current injected at the soma, pA (positive depolarises).
        clamp: the protocol's voltage clamp as it acts now (conductance zero when off), or None
            for a protocol without one.
    """

    glutamate: Float[Array, " n_spines"]
    soma_current: Float[Array, ""]
    clamp: VoltageClamp | None = None


class Protocol(eqx.Module):
    """Uncaging (or synaptic glutamate) pulses at spine heads, current pulses at the soma and an
    optional voltage clamp.

    Attributes:
        uncaging_onset: ``(n_spines, n_uncaging)`` onsets of the uncaging pulses, ms.
        uncaging_duration: ms.
        current_onset: ``(n_current,)`` onsets of the somatic current pulses, ms.
        current_duration: ms; one for every pulse, or ``(n_current,)``.
        current_amplitude: pA; one for every pulse, or ``(n_current,)``.
        pairing_start, pairing_end: ``(n_pairings,)`` first onset and last offset of the events
            of each pairing, ms; the readouts "just before" and "just after" a pairing refer to
            these windows (``(0,)`` for a protocol without pairings).
        duration: total simulated time, ms.
        clamp: a `VoltageClamp` of the soma or a dendritic site, or None.
    """

    uncaging_onset: Float[Array, "n_spines n_uncaging"]
    uncaging_duration: Float[Array, ""]
    current_onset: Float[Array, " n_current"]
    current_duration: Float[Array, ""]
    current_amplitude: Float[Array, ""]
    pairing_start: Float[Array, " n_pairings"]
    pairing_end: Float[Array, " n_pairings"]
    duration: Float[Array, ""]
    clamp: VoltageClamp | None = None

    @property
    def n_spines(self) -> int:
        return self.uncaging_onset.shape[-2]

    @property
    def n_pairings(self) -> int:
        return self.pairing_start.shape[-1]

    def drive(self, t: Float[Array, ""]) -> Drive:
        """The inputs at time ``t`` (ms); pulses are on over [onset, onset + duration)."""
        uncaging = (t >= self.uncaging_onset) & (t < self.uncaging_onset + self.uncaging_duration)
        current_on = (t >= self.current_onset) & (t < self.current_onset + self.current_duration)
        return Drive(
            glutamate=jnp.any(uncaging, axis=-1).astype(float),
            soma_current=jnp.sum(jnp.where(current_on, self.current_amplitude, 0.0)),
            clamp=None if self.clamp is None else self.clamp.at(t),
        )

    def pulse_edges(self) -> Float[Array, " n_edges"]:
        """Every onset and offset, sorted, ms; padding events sort to the end, past `duration`."""
        edges = [
            self.uncaging_onset.ravel(),
            (self.uncaging_onset + self.uncaging_duration).ravel(),
            self.current_onset,
            self.current_onset + self.current_duration,
        ]
        if self.clamp is not None:
            # An open-ended clamp ends at infinity, which sorts with the padding.
            edges.append(jnp.minimum(jnp.stack([self.clamp.start, self.clamp.end]), NEVER))
        return jnp.sort(jnp.concatenate(edges))


def pairing_protocol(
    delta_t,
    *,
    n_pairings: int = 40,
    period=2000.0,
    uncaged_spines: tuple[int, ...] = (0,),
    n_spines: int = 2,
    second_spine_delay=2.1,
    uncaging_duration=2.0,
    current_duration=10.0,
    current_amplitude=500.0,
    first_pairing=100.0,
    quiet=25.0 * MINUTE,
) -> Protocol:
    """The spike-timing protocol of Tazerart et al. 2020.

    ``n_pairings`` pairings every ``period`` ms; in each, ``uncaging_duration`` ms of glutamate
    at each spine in ``uncaged_spines`` (the k-th uncaged spine starts ``k * second_spine_delay``
    ms after the first) and a ``current_duration`` ms somatic current of ``current_amplitude`` pA
    whose onset is ``delta_t`` ms after the first uncaging onset. Then ``quiet`` ms without input.

    ``delta_t`` may be an array of any shape: every field then gains those leading batch axes.

    Raises:
        ValueError: for an empty or out-of-range ``uncaged_spines``, a pairing that does not fit
            inside ``period``, or a non-positive duration, period or count.
    """
    if n_pairings < 1:
        raise ValueError(f"n_pairings must be >= 1; got {n_pairings}")
    if len(uncaged_spines) == 0:
        raise ValueError("uncaged_spines must name at least one spine; got an empty list")
    if len(set(uncaged_spines)) != len(uncaged_spines) or not all(
        0 <= s < n_spines for s in uncaged_spines
    ):
        raise ValueError(
            f"uncaged_spines must be distinct indices in [0, {n_spines - 1}]; "
            f"got {tuple(uncaged_spines)}"
        )
    check_range("period", period, lower=0.0, unit="ms")
    check_range("uncaging_duration", uncaging_duration, lower=0.0, unit="ms")
    check_range("current_duration", current_duration, lower=0.0, unit="ms")
    check_range(
        "second_spine_delay", second_spine_delay, lower=0.0, lower_inclusive=True, unit="ms"
    )
    check_range("first_pairing", first_pairing, lower=0.0, lower_inclusive=True, unit="ms")
    check_range("quiet", quiet, lower=0.0, lower_inclusive=True, unit="ms")
    check_range("current_amplitude", current_amplitude, unit="pA")

    delta_t = jnp.asarray(delta_t, dtype=float)
    n_uncaged = len(uncaged_spines)
    uncaging_span = (n_uncaged - 1) * second_spine_delay + uncaging_duration
    if is_concrete((delta_t, period, uncaging_span, current_duration)):
        # The pairing window runs from the first onset to the last offset; it must end before
        # the next pairing starts.
        low = -(period - uncaging_span)
        high = period - current_duration
        check_range(
            "delta_t",
            delta_t,
            lower=float(low),
            upper=float(high),
            upper_inclusive=False,
            unit=f"ms (the pairing must fit inside the {float(period):g} ms period)",
        )

    cycle_start = first_pairing + period * jnp.arange(n_pairings)
    batch = delta_t[..., None]
    uncaging_first = cycle_start + jnp.maximum(-batch, 0.0)
    current_onset = cycle_start + jnp.maximum(batch, 0.0)
    onsets = []
    order = {spine: k for k, spine in enumerate(uncaged_spines)}
    for spine in range(n_spines):
        if spine in order:
            onsets.append(uncaging_first + order[spine] * second_spine_delay)
        else:
            onsets.append(jnp.full_like(uncaging_first, NEVER))
    uncaging_onset = jnp.stack(onsets, axis=-2)
    pairing_end = jnp.maximum(uncaging_first + uncaging_span, current_onset + current_duration)
    shape = delta_t.shape
    return Protocol(
        uncaging_onset=uncaging_onset,
        uncaging_duration=jnp.broadcast_to(jnp.asarray(uncaging_duration, float), shape),
        current_onset=current_onset,
        current_duration=jnp.broadcast_to(jnp.asarray(current_duration, float), shape),
        current_amplitude=jnp.broadcast_to(jnp.asarray(current_amplitude, float), shape),
        pairing_start=jnp.broadcast_to(cycle_start, shape + (n_pairings,)),
        pairing_end=pairing_end,
        duration=jnp.broadcast_to(first_pairing + n_pairings * period + quiet, shape),
    )


def event_protocol(
    uncaging_onsets,
    current_onsets,
    *,
    duration,
    uncaging_duration=2.0,
    current_duration=10.0,
    current_amplitude=500.0,
    max_uncaging: int | None = None,
    max_current: int | None = None,
    pairing_windows=(),
    clamp: VoltageClamp | None = None,
) -> Protocol:
    """A protocol from explicit event lists.

    Args:
        uncaging_onsets: one sequence of onsets (ms) per spine; a spine may have none.
        current_onsets: onsets (ms) of the somatic current pulses.
        duration: total simulated time, ms.
        uncaging_duration: ms.
        current_duration, current_amplitude: ms and pA; one value for every pulse, or one per
            pulse of ``current_onsets`` (in the same order), e.g. a series of current steps.
        max_uncaging, max_current: pad to these many events (default: the longest list), so that
            protocols with different event counts share one shape and batch together.
        pairing_windows: optional ``(start, end)`` pairs (ms) for the before/after readouts.
        clamp: a `VoltageClamp` during the protocol, or None.
    """
    per_spine = [np.asarray(onsets, dtype=float).ravel() for onsets in uncaging_onsets]
    if len(per_spine) == 0:
        raise ValueError("uncaging_onsets needs one (possibly empty) list per spine; got none")
    currents = np.asarray(current_onsets, dtype=float).ravel()
    check_range("duration", duration, lower=0.0, unit="ms")
    for spine, onsets in enumerate(per_spine):
        check_range(
            f"uncaging_onsets[{spine}]",
            onsets,
            lower=0.0,
            lower_inclusive=True,
            upper=float(duration),
            upper_inclusive=False,
            unit="ms",
        )
    check_range(
        "current_onsets",
        currents,
        lower=0.0,
        lower_inclusive=True,
        upper=float(duration),
        upper_inclusive=False,
        unit="ms",
    )
    check_range("uncaging_duration", uncaging_duration, lower=0.0, unit="ms")
    check_range("current_duration", current_duration, lower=0.0, unit="ms")
    check_range("current_amplitude", current_amplitude, unit="pA")
    n_uncaging = max(len(o) for o in per_spine) if max_uncaging is None else max_uncaging
    n_current = len(currents) if max_current is None else max_current
    if any(len(o) > n_uncaging for o in per_spine) or len(currents) > n_current:
        raise ValueError(
            f"more events than max_uncaging={n_uncaging} / max_current={n_current} allow"
        )
    order = np.argsort(currents)

    def per_pulse(name, values):
        """A scalar as it is; one value per pulse in onset order, padding pulses given 0."""
        values = np.asarray(values, dtype=float)
        if values.ndim == 0:
            return jnp.asarray(values)
        if values.shape != currents.shape:
            raise ValueError(
                f"{name} must be one number or one per current onset ({len(currents)}); "
                f"got shape {values.shape}"
            )
        return jnp.asarray(np.concatenate([values[order], np.zeros(n_current - len(currents))]))

    def pad(values, size):
        return np.concatenate([np.sort(values), np.full(size - len(values), NEVER)])

    windows = np.asarray(pairing_windows, dtype=float).reshape(-1, 2)
    return Protocol(
        uncaging_onset=jnp.asarray(np.stack([pad(o, n_uncaging) for o in per_spine])),
        uncaging_duration=jnp.asarray(uncaging_duration, float),
        current_onset=jnp.asarray(pad(currents, n_current)),
        current_duration=per_pulse("current_duration", current_duration),
        current_amplitude=per_pulse("current_amplitude", current_amplitude),
        pairing_start=jnp.asarray(windows[:, 0]),
        pairing_end=jnp.asarray(windows[:, 1]),
        duration=jnp.asarray(duration, float),
        clamp=clamp,
    )
