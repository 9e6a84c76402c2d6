"""Pre- and postsynaptic trains at given rates, repeated: the frequency protocols of rate-based
plasticity (BCM-like curves, the kinase algorithm's derivation from the Urakubo model).

One train pair lasts ``duration`` ms and is repeated ``n_repeats`` times, ``repeat_period`` ms
from the start of one to the start of the next. Patterns (`PATTERNS`):

- ``"poisson"``: independent homogeneous Poisson trains.
- ``"axon_poisson"``: the generator of the emer/axon re-implementation of Urakubo et al. 2008
  (``examples/urakubo/stims.go``): every 1 ms step multiplies a uniform number into a running
  product and spikes when it falls below ``exp(-1000 / rate)``, so the inter-spike interval is
  ``1 + Poisson(1000 ms / rate)`` ms (and the first spike ``Poisson(1000 ms / rate)`` ms after
  the train starts). Despite its name in that code it is nearly regular: coefficient of
  variation ``1 / sqrt(1000 ms / rate)``, 0.32 at 100 Hz. Needed to compare with its tables.
- ``"out_of_phase"``: regular trains half a presynaptic interval apart, as that code's
  out-of-phase protocol (the derivation of XCAL): presynaptic spikes at ``(k + 1.5) / pre_rate``,
  postsynaptic at ``(k + 2) / post_rate`` (the code rounds them to whole ms).

Every postsynaptic spike is then delayed by ``post_delay`` ms (the Go code's spikes follow their
stimulus by about 5 ms). Traceable in the rates and times; the repeat count and the spike
capacity set shapes. Times in ms, rates in Hz.

A repeat may change its rates part-way (a rate step: the strong-then-weak and weak-then-strong
stimuli of error-driven plasticity, the Go code's ``ThetaErr`` protocol): from ``step_time`` ms
after its start both trains continue at ``late_pre_rate`` and ``late_post_rate``, drawn afresh in
the same pattern (a regular train restarts its phase at the step).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from plastic.protocols.spike_trains import SpikeTrains

PATTERNS = ("poisson", "axon_poisson", "out_of_phase")


def spike_capacity(rate, duration) -> int:
    """Spikes a train of one repeat may need (mean + 8 SD + 4, at least 1), from concrete
    ``rate`` (Hz) and ``duration`` (ms) (arrays: the largest)."""
    mean = np.max(np.asarray(rate, float) * np.asarray(duration, float) / 1000.0)
    return max(1, int(np.ceil(mean + 8.0 * np.sqrt(mean) + 4.0)))


def _one_train(pattern, key, rate, duration, phase, capacity):
    """Spike times of one repeat (ms from its start, ``(capacity,)``, padded with ``+inf``), and
    whether ``capacity`` spikes sufficed."""
    interval = 1000.0 / jnp.maximum(rate, 1e-12)
    n = jnp.arange(capacity + 1)
    # One key per spike, so that a condition's trains do not depend on the capacity they are
    # padded to (a batch's largest).
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(n)
    poisson_gaps = jax.vmap(jax.random.exponential)(keys) * interval
    counts = jax.vmap(lambda k: jax.random.poisson(k, jnp.minimum(interval, 1e9)))(keys)
    axon_gaps = counts.astype(float) + (n > 0)
    times = jnp.select(
        [pattern == 0, pattern == 1],
        [jnp.cumsum(poisson_gaps), jnp.cumsum(axon_gaps)],
        (n + phase) * interval,
    )
    silent = rate <= 0.0
    inside = (times < duration) & ~silent
    return jnp.where(inside[:-1], times[:-1], jnp.inf), silent | (times[-1] >= duration)


@eqx.filter_jit
def rate_trains(
    key: PRNGKeyArray,
    *,
    pattern,
    pre_rate,
    post_rate,
    duration,
    n_repeats,
    repeat_period,
    post_delay=0.0,
    tail=0.0,
    step_time=None,
    late_pre_rate=0.0,
    late_post_rate=0.0,
    max_repeats: int,
    max_pre: int,
    max_post: int,
) -> tuple[SpikeTrains, Array]:
    """Trains of ``pattern`` (an index into `PATTERNS`), repeated, from ``key``.

    Args:
        key: the randomness (the same key gives the same trains; repeat ``r`` uses
            ``fold_in(key, r)``).
        pattern: index into `PATTERNS`.
        pre_rate, post_rate: Hz (0: no spikes).
        duration: ms of one repeat's trains.
        n_repeats: repeats (a number; at most ``max_repeats``).
        repeat_period: ms from the start of one repeat to the next, at least ``duration``.
        post_delay: ms added to every postsynaptic spike.
        tail: ms after the last repeat's period before the efficacy is read: ``duration`` of
            the trains is ``n_repeats * repeat_period + tail``.
        step_time: ms from a repeat's start at which the rates step to ``late_pre_rate`` and
            ``late_post_rate`` (Hz) until ``duration``; None (or ``duration`` or more): no step.
        max_repeats, max_pre, max_post: shapes: repeats, and spikes per repeat of each train
            over both parts of a stepped repeat (`spike_capacity` of the larger rate).

    Returns:
        The trains (``(max_repeats * max_pre,)`` and ``(max_repeats * max_post,)``, sorted,
        padded with ``+inf``) and whether every train fitted its capacity (a boolean scalar:
        False means spikes were cut; raise it, e.g. with `spike_capacity`).
    """
    pattern = jnp.asarray(pattern)
    out_of_phase = pattern == PATTERNS.index("out_of_phase")

    step = duration if step_time is None else jnp.minimum(step_time, duration)

    def stepped(repeat_key, rate, late_rate, phase, capacity):
        early, early_fits = _one_train(pattern, repeat_key[0], rate, step, phase, capacity)
        late, late_fits = _one_train(
            pattern, repeat_key[1], late_rate, duration - step, phase, capacity
        )
        both = jnp.sort(jnp.concatenate([early, step + late]))
        # Regular trains have no randomness to run out of.
        fits = out_of_phase | (early_fits & late_fits & ~jnp.isfinite(both[capacity]))
        return both[:capacity], fits

    def repeat(r):
        # The late part draws from its own keys, so an unstepped repeat's trains are those of
        # the plain protocol.
        early_keys = jax.random.split(jax.random.fold_in(key, r))
        late_keys = jax.random.split(jax.random.fold_in(jax.random.fold_in(key, r), 1))
        pre, pre_fits = stepped(
            (early_keys[0], late_keys[0]), pre_rate, late_pre_rate, 1.5, max_pre
        )
        post, post_fits = stepped(
            (early_keys[1], late_keys[1]), post_rate, late_post_rate, 2.0, max_post
        )
        fits = pre_fits & post_fits
        start = r * repeat_period
        used = r < n_repeats
        return (
            jnp.where(used, start + pre, jnp.inf),
            jnp.where(used, start + post + post_delay, jnp.inf),
            fits | ~used,
        )

    pre, post, fits = jax.vmap(repeat)(jnp.arange(max_repeats))
    trains = SpikeTrains(
        pre=jnp.sort(pre.ravel()),
        post=jnp.sort(post.ravel()),
        duration=jnp.asarray(n_repeats * repeat_period + tail, float),
    )
    return trains, jnp.all(fits)
