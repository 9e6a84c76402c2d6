"""Pre- and postsynaptic spike trains as fixed-shape arrays, for rules driven by spikes.

A `SpikeTrains` holds the spike times of one synapse's presynaptic and postsynaptic neuron,
padded at the end with ``+inf`` (the convention of `plastic.rules.TripletSTDP.weight_change` and
`plastic.rules.graupner_brunel_simulate`), so that protocols with different spike counts share
one shape and batch under `jax.vmap`. Times in ms, rates in Hz.

Sign convention, as in `plastic.protocols.pairing_protocol`: ``delta_t = t_post - t_pre``;
positive means pre before post.

The constructors take the timing values (``delta_t``, ``frequency``, ``period``, ...) as numbers or
arrays, so that they can be vmapped and differentiated; counts (``n_pairings``, ``n_per_burst``)
set array shapes and are Python integers. Concrete values are checked, and an error names the
argument and its allowed range.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from plastic._validation import check_range, is_concrete


class SpikeTrains(eqx.Module):
    """Presynaptic and postsynaptic spike times of one synapse.

    Attributes:
        pre: ``(n_pre,)`` presynaptic spike times, ms, ascending, padded with ``+inf``.
        post: ``(n_post,)`` postsynaptic spike times, ms, ascending, padded with ``+inf``.
        duration: the end of the protocol, ms: the time at which a rule's efficacy is read, at or
            after the last spike.
    """

    pre: Float[Array, " n_pre"]
    post: Float[Array, " n_post"]
    duration: Float[Array, ""]

    def __check_init__(self):
        if not is_concrete(self):
            return
        duration = np.asarray(self.duration, dtype=float)
        check_range("SpikeTrains.duration", duration, lower=0.0, lower_inclusive=True, unit="ms")
        for name in ("pre", "post"):
            times = np.asarray(getattr(self, name), dtype=float)
            check_range(
                f"SpikeTrains.{name}",
                times,
                lower=0.0,
                lower_inclusive=True,
                unit="ms (+inf: padding)",
                finite=False,
            )
            # Comparisons, not np.diff: inf - inf would be NaN.
            if not np.all(times[..., 1:] >= times[..., :-1]):
                raise ValueError(f"SpikeTrains.{name} must be ascending, padded with +inf")
            last = np.max(np.where(np.isfinite(times), times, 0.0), axis=-1, initial=0.0)
            if np.any(last > duration):
                raise ValueError(
                    f"SpikeTrains.duration ({duration.min():g} ms) must be at or after the last "
                    f"{name}synaptic spike ({last.max():g} ms)"
                )


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)


def _check_margins(first, tail) -> None:
    """``first`` (the first spike) and ``tail`` (after the last period) are times >= 0, ms."""
    check_range("first", first, lower=0.0, lower_inclusive=True, unit="ms")
    check_range("tail", tail, lower=0.0, lower_inclusive=True, unit="ms")


def _check_pair_spacing(delta_t, spacing: float, what: str) -> None:
    """``|delta_t| < spacing`` (ms): a pair must not reach into the next one."""
    check_range(
        "delta_t",
        delta_t,
        lower=-spacing,
        upper=spacing,
        upper_inclusive=False,
        unit=f"ms (|delta_t| below the {spacing:g} ms {what})",
    )


def _trains(pre, post, duration) -> SpikeTrains:
    return SpikeTrains(
        pre=jnp.asarray(pre, float), post=jnp.asarray(post, float), duration=duration
    )


def _paired(pre_onsets, delta_t):
    """Pre and post times of pairs whose first spike is at ``pre_onsets``: the later of the two
    is ``|delta_t|`` after it."""
    delta_t = jnp.asarray(delta_t, float)
    pre = pre_onsets + jnp.maximum(-delta_t, 0.0)
    return pre, pre + delta_t


def spike_pairs(delta_t, *, n_pairings: int, period, first=0.0, tail=0.0) -> SpikeTrains:
    """``n_pairings`` pre/post pairs every ``period`` ms, ``t_post - t_pre = delta_t`` ms.

    The first spike of the first pair is at ``first`` ms; the efficacy is read ``tail`` ms after
    the last pairing's period ends (``duration = first + n_pairings * period + tail``).

    Raises:
        ValueError: for ``n_pairings < 1``, ``period <= 0``, ``|delta_t| >= period`` (a pair would
            overlap the next), or a negative ``first`` or ``tail``.
    """
    n_pairings = _check_count("n_pairings", n_pairings)
    check_range("period", period, lower=0.0, unit="ms")
    _check_margins(first, tail)
    if is_concrete((delta_t, period)):
        _check_pair_spacing(delta_t, float(np.min(period)), "period")
    onsets = first + period * jnp.arange(n_pairings)
    pre, post = _paired(onsets, delta_t)
    return _trains(pre, post, first + n_pairings * period + tail)


def presynaptic_train(*, frequency, n_spikes: int, first=0.0, tail=0.0) -> SpikeTrains:
    """``n_spikes`` presynaptic spikes at ``frequency`` Hz from ``first`` ms, and no
    postsynaptic spike (e.g. stimulation during a voltage clamp); ``duration = first + n_spikes
    * 1000 / frequency + tail``."""
    n_spikes = _check_count("n_spikes", n_spikes)
    check_range("frequency", frequency, lower=0.0, upper=1e4, unit="Hz")
    _check_margins(first, tail)
    interval = 1000.0 / jnp.asarray(frequency, float)
    pre = first + interval[..., None] * jnp.arange(n_spikes)
    post = jnp.full(pre.shape[:-1] + (1,), jnp.inf)
    return _trains(pre, post, first + n_spikes * interval + tail)


def burst_pairs(
    delta_t,
    *,
    frequency,
    n_per_burst: int,
    n_bursts: int,
    burst_period,
    first=0.0,
    tail=0.0,
) -> SpikeTrains:
    """Bursts of pairs (Markram et al. 1997; Sjostrom et al. 2001): in each burst,
    ``n_per_burst`` presynaptic spikes at ``frequency`` Hz, each paired with a postsynaptic spike
    ``delta_t`` ms later (``t_post - t_pre``); ``n_bursts`` bursts every ``burst_period`` ms.

    The first spike of the first burst is at ``first`` ms; ``duration = first + n_bursts *
    burst_period + tail``.

    Raises:
        ValueError: for non-positive counts, ``frequency`` or ``burst_period``; a ``delta_t``
            whose pairs would cross into the next pair (``|delta_t| >= 1000 / frequency``); or a
            burst longer than ``burst_period``.
    """
    n_per_burst = _check_count("n_per_burst", n_per_burst)
    n_bursts = _check_count("n_bursts", n_bursts)
    check_range("frequency", frequency, lower=0.0, upper=1e4, unit="Hz")
    check_range("burst_period", burst_period, lower=0.0, unit="ms")
    _check_margins(first, tail)
    if is_concrete((delta_t, frequency, burst_period)):
        interval = 1000.0 / np.asarray(frequency, float)
        if n_per_burst > 1:
            _check_pair_spacing(delta_t, float(np.min(interval)), "between pairs")
        span = (n_per_burst - 1) * interval + np.abs(np.asarray(delta_t, float))
        check_range(
            "burst_period",
            burst_period,
            lower=float(np.max(span)),
            unit="ms (longer than one burst of pairs)",
        )
    interval = 1000.0 / jnp.asarray(frequency, float)
    within = interval[..., None, None] * jnp.arange(n_per_burst)
    onsets = first + burst_period * jnp.arange(n_bursts)[:, None] + within
    delta_t = jnp.asarray(delta_t, float)[..., None, None]
    pre, post = _paired(onsets, delta_t)
    batch = pre.shape[:-2]
    return _trains(
        pre.reshape(*batch, -1),
        post.reshape(*batch, -1),
        first + n_bursts * burst_period + tail,
    )


def spike_triplets(
    first_interval,
    second_interval,
    *,
    order: str,
    n_repetitions: int,
    period,
    first=0.0,
    tail=0.0,
) -> SpikeTrains:
    """Triplets (Froemke & Dan 2002; Wang et al. 2005; Pfister & Gerstner 2006), repeated
    ``n_repetitions`` times every ``period`` ms.

    ``order="pre-post-pre"``: a presynaptic spike, a postsynaptic spike ``first_interval`` ms
    later and another presynaptic spike ``second_interval`` ms after that.
    ``order="post-pre-post"``: the same with the roles swapped. Intervals are positive.
    """
    orders = ("pre-post-pre", "post-pre-post")
    if order not in orders:
        raise ValueError(f"order must be one of {orders}; got {order!r}")
    n_repetitions = _check_count("n_repetitions", n_repetitions)
    check_range("first_interval", first_interval, lower=0.0, lower_inclusive=True, unit="ms")
    check_range("second_interval", second_interval, lower=0.0, lower_inclusive=True, unit="ms")
    _check_margins(first, tail)
    if is_concrete((first_interval, second_interval, period)):
        span = np.asarray(first_interval, float) + np.asarray(second_interval, float)
        check_range(
            "period", period, lower=float(np.max(span)), unit="ms (longer than one triplet)"
        )
    onsets = first + period * jnp.arange(n_repetitions)
    a = jnp.asarray(first_interval, float)[..., None]
    b = jnp.asarray(second_interval, float)[..., None]
    outer = jnp.stack([onsets + 0.0 * a, onsets + a + b], axis=-1).reshape(*a.shape[:-1], -1)
    middle = onsets + a
    pre, post = (outer, middle) if order == "pre-post-pre" else (middle, outer)
    return _trains(pre, post, first + n_repetitions * period + tail)


def spike_quadruplets(
    interval,
    *,
    pair_delta_t=5.0,
    n_repetitions: int,
    period,
    first=0.0,
    tail=0.0,
) -> SpikeTrains:
    """Quadruplets (Wang et al. 2005; Pfister & Gerstner 2006 Fig. 5): two pairs of opposite
    order, ``interval`` ms apart, repeated ``n_repetitions`` times every ``period`` ms.

    For ``interval > 0``, a post-pre pair (``t_post - t_pre = -pair_delta_t``) is followed by a
    pre-post pair (``+pair_delta_t``): post-pre-pre-post, ``interval`` = time between the two
    presynaptic spikes. For ``interval < 0``, a pre-post pair is followed by a post-pre pair
    ``|interval|`` ms later (between the postsynaptic spikes): pre-post-post-pre.

    Raises:
        ValueError: for ``|interval| <= pair_delta_t`` (the pairs would interleave) or a
            quadruplet longer than ``period``.
    """
    n_repetitions = _check_count("n_repetitions", n_repetitions)
    check_range("pair_delta_t", pair_delta_t, lower=0.0, unit="ms")
    _check_margins(first, tail)
    if is_concrete((interval, pair_delta_t, period)):
        magnitude = np.abs(np.asarray(interval, float))
        check_range(
            "|interval|",
            magnitude,
            lower=float(np.max(pair_delta_t)),
            unit="ms (the two pairs must not interleave)",
        )
        check_range(
            "period",
            period,
            lower=float(np.max(magnitude + pair_delta_t)),
            unit="ms (longer than one quadruplet)",
        )
    interval = jnp.asarray(interval, float)[..., None]
    onsets = first + period * jnp.arange(n_repetitions)
    d = pair_delta_t
    magnitude = jnp.abs(interval)
    # interval > 0: post at 0, pre at d, pre at d + T, post at 2 d + T.
    # interval < 0: pre at 0, post at d, post at d + |T|, pre at 2 d + |T|.
    start = onsets + 0.0 * magnitude  # broadcast to the batch
    outer = jnp.stack([start, start + 2.0 * d + magnitude], axis=-1)
    inner = jnp.stack([start + d, start + d + magnitude], axis=-1)
    positive = (interval > 0)[..., None]
    pre = jnp.where(positive, inner, outer).reshape(*interval.shape[:-1], -1)
    post = jnp.where(positive, outer, inner).reshape(*interval.shape[:-1], -1)
    return _trains(pre, post, first + n_repetitions * period + tail)


def poisson_trains(
    key: PRNGKeyArray,
    *,
    pre_rate,
    post_rate,
    duration,
    max_spikes: int,
) -> SpikeTrains:
    """Independent homogeneous Poisson trains at ``pre_rate`` and ``post_rate`` Hz over
    ``duration`` ms, from ``key`` (the same key gives the same trains).

    Each train holds at most ``max_spikes`` spikes (a static shape): choose it well above
    ``rate * duration`` (mean + 6 sqrt(mean) is enough in practice). A train that would need more
    is refused when the values are concrete; under a transformation its extra spikes are cut.
    """
    max_spikes = _check_count("max_spikes", max_spikes)
    check_range("pre_rate", pre_rate, lower=0.0, lower_inclusive=True, unit="Hz")
    check_range("post_rate", post_rate, lower=0.0, lower_inclusive=True, unit="Hz")
    check_range("duration", duration, lower=0.0, unit="ms")
    pre_key, post_key = jax.random.split(key)

    def train(k, rate):
        gaps = jax.random.exponential(k, (max_spikes + 1,)) * 1000.0 / rate
        times = jnp.cumsum(gaps)
        return times, jnp.where(times[:-1] < duration, times[:-1], jnp.inf)

    (pre_all, pre), (post_all, post) = train(pre_key, pre_rate), train(post_key, post_rate)
    if is_concrete((pre_all, post_all)):
        for name, times in (("pre_rate", pre_all), ("post_rate", post_all)):
            if float(times[-1]) < float(duration):
                raise ValueError(
                    f"poisson_trains: max_spikes={max_spikes} is too small for {name} over "
                    f"{float(duration):g} ms; raise it"
                )
    return SpikeTrains(pre=pre, post=post, duration=jnp.asarray(duration, float))


def spike_lists(
    pre, post, *, duration, max_pre: int | None = None, max_post: int | None = None
) -> SpikeTrains:
    """Trains from explicit spike times (ms, any order), padded with ``+inf`` to ``max_pre`` and
    ``max_post`` spikes (default: their own lengths)."""
    pre = np.sort(np.asarray(pre, float).ravel())
    post = np.sort(np.asarray(post, float).ravel())
    check_range("duration", duration, lower=0.0, unit="ms")
    for name, times in (("pre", pre), ("post", post)):
        check_range(name, times, lower=0.0, lower_inclusive=True, upper=float(duration), unit="ms")
    sizes = []
    for name, times, size in (("max_pre", pre, max_pre), ("max_post", post, max_post)):
        size = len(times) if size is None else size
        if size < len(times):
            raise ValueError(f"{name}={size} is fewer than the {len(times)} spikes given")
        sizes.append(size)
    pad = [np.concatenate([t, np.full(n - len(t), np.inf)]) for t, n in zip((pre, post), sizes)]
    return _trains(pad[0], pad[1], jnp.asarray(duration, float))
