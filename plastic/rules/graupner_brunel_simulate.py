"""Standalone Graupner-Brunel simulations driven by pre/post spike trains: exact segments, diffrax.

The spike-driven calcium is a sum of exponentials, so the times at which it jumps and crosses
``theta_d`` and ``theta_p`` are known in closed form. Between those times both Heaviside terms are
constant and rho's dynamics are smooth, so each segment is solved separately: adaptively (to tight
tolerances) for the deterministic ODE, with a fixed number of Heun steps for the SDE. No solver
step ever straddles a discontinuity.
"""

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from plastic.rules.graupner_brunel import GraupnerBrunel, GraupnerBrunelCalcium, GraupnerBrunelState
from plastic.rules.graupner_brunel_analytic import time_above_after_jump


class CalciumSegments(eqx.Module):
    """Consecutive time segments (ms) over which calcium stays on one side of both thresholds.

    Attributes:
        t0, t1: segment start and end, ms, shape ``(n,)``; ``t1[i] == t0[i + 1]``, and some
            segments have zero length.
        above_d, above_p: 1.0 where calcium is at or above ``theta_d`` / ``theta_p`` during the
            segment, else 0.0, shape ``(n,)``.
    """

    t0: Float[Array, " n"]
    t1: Float[Array, " n"]
    above_d: Float[Array, " n"]
    above_p: Float[Array, " n"]

    def time_above(self):
        """Total time (ms) above ``theta_d`` and above ``theta_p``."""
        length = self.t1 - self.t0
        return jnp.sum(length * self.above_d), jnp.sum(length * self.above_p)


def pair_spike_times(delta_t, period, n_pairings: int):
    """Spike times (ms) of ``n_pairings`` regular pairs, ``t_post - t_pre = delta_t`` (ms).

    The first spike of the first pair is at 0; pairs repeat every ``period`` ms. Returns
    ``(pre_times, post_times)``, each of shape ``(n_pairings,)``.
    """
    starts = period * jnp.arange(n_pairings)
    pre = starts + jnp.maximum(0.0, -delta_t)
    return pre, pre + delta_t


@jax.jit
def calcium_segments(
    rule: GraupnerBrunel, calcium: GraupnerBrunelCalcium, pre_times, post_times, t_end
) -> CalciumSegments:
    """Split ``[0, t_end]`` (ms) where the spike-driven calcium jumps or crosses a threshold.

    Args:
        rule: supplies ``theta_d`` and ``theta_p`` (in the calcium model's dimensionless units).
        calcium: the spike-driven calcium model; calcium is at rest (0) at time 0.
        pre_times, post_times: spike times (>= 0), ms, shapes ``(n_pre,)`` and ``(n_post,)``;
            pad with ``+inf`` (any calcium jump at or after ``t_end`` is ignored).
        t_end: end of the simulation, ms.

    Returns ``3 (n_pre + n_post) + 1`` segments: one before the first jump, then for each jump the
    parts above both thresholds, above one, and above none, until the next jump.
    """
    times, sizes = calcium.jumps(pre_times, post_times)
    valid = times < t_end
    # Padding and late jumps become empty jumps at t_end: no inf arithmetic, finite gradients.
    times = jnp.where(valid, times, t_end)
    sizes = jnp.where(valid, sizes, 0.0)
    order = jnp.argsort(times)
    times, sizes = times[order], sizes[order]

    def peak_after(previous, jump):
        last_time, last_peak = previous
        time, size = jump
        peak = last_peak * jnp.exp(-(time - last_time) / calcium.tau_ca) + size
        return (time, peak), peak

    _, peaks = jax.lax.scan(peak_after, (times[0], jnp.zeros_like(sizes[0])), (times, sizes))
    gaps = jnp.diff(times, append=jnp.reshape(t_end, (1,)))
    time_d = time_above_after_jump(peaks, gaps, calcium.tau_ca, rule.theta_d)
    time_p = time_above_after_jump(peaks, gaps, calcium.tau_ca, rule.theta_p)
    first, second = jnp.minimum(time_d, time_p), jnp.maximum(time_d, time_p)
    one, zero = jnp.ones_like(peaks), jnp.zeros_like(peaks)

    def interleave(*columns):
        return jnp.stack(columns, axis=1).reshape(-1)

    rest_d = (0.0 >= rule.theta_d).astype(peaks.dtype)  # Theta(0) = 1
    rest_p = (0.0 >= rule.theta_p).astype(peaks.dtype)
    return CalciumSegments(
        t0=jnp.concatenate([jnp.zeros(1), interleave(times, times + first, times + second)]),
        t1=jnp.concatenate([times[:1], interleave(times + first, times + second, times + gaps)]),
        above_d=jnp.concatenate(
            [rest_d[None], interleave(one, (time_d >= second).astype(one.dtype), zero)]
        ),
        above_p=jnp.concatenate(
            [rest_p[None], interleave(one, (time_p >= second).astype(one.dtype), zero)]
        ),
    )


def _drift(rule: GraupnerBrunel):
    # rho is a GraupnerBrunelState (ODE) or a (2,) array (SDE); the drift acts elementwise.
    def vector_field(t, rho, above):
        return jax.tree.map(lambda r: rule.rho_drift(r, *above), rho)

    return dfx.ODETerm(vector_field)


@eqx.filter_jit
def solve_rho(
    rule: GraupnerBrunel,
    segments: CalciumSegments,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> GraupnerBrunelState:
    """Deterministic rho at the end of ``segments``, from the rule's initial state (noise-free).

    Each segment is solved with Tsit5 under a PID controller at ``rtol``/``atol``; the
    discontinuities all sit on segment boundaries.
    """
    term = _drift(rule)
    rho0 = rule.initial_state()

    def step(rho, segment):
        t0, t1, above_d, above_p = segment
        solution = dfx.diffeqsolve(
            term,
            dfx.Tsit5(),
            t0,
            t1,
            None,
            rho,
            args=(above_d, above_p),
            stepsize_controller=dfx.PIDController(rtol=rtol, atol=atol),
            saveat=dfx.SaveAt(t1=True),
        )
        return jax.tree.map(lambda y: y[-1], solution.ys), None

    segment_arrays = (segments.t0, segments.t1, segments.above_d, segments.above_p)
    rho, _ = jax.lax.scan(step, rho0, segment_arrays)
    return rho


@eqx.filter_jit
def sample_rho(
    rule: GraupnerBrunel,
    segments: CalciumSegments,
    key: PRNGKeyArray,
    steps_per_segment: int = 8,
) -> GraupnerBrunelState:
    """One sample of the stochastic rho at the end of ``segments``, from the initial state.

    The SDE is ``d rho = drift dt + sigma sqrt(Theta_d + Theta_p) / sqrt(tau) dW`` (the corrected
    noise term), with independent noise for ``rho_down`` and ``rho_up``. The noise is additive
    within each segment, so Heun's method (Stratonovich = Ito here) with ``steps_per_segment`` equal
    steps per segment is accurate. Fixed steps query disjoint intervals once each, so the fast
    `UnsafeBrownianPath` is exact here; the price is that samples are not differentiable (use the
    analytic reduction or `solve_rho` for gradients).
    """
    brownian = dfx.UnsafeBrownianPath(shape=(2,), key=key)
    rho0 = rule.initial_state()
    y0 = jnp.stack([rho0.rho_down, rho0.rho_up])

    def diffusion(t, rho, above):
        return rule.rho_diffusion(*above) * jnp.eye(2, dtype=rho.dtype)

    term = dfx.MultiTerm(_drift(rule), dfx.ControlTerm(diffusion, brownian))

    def step(rho, segment):
        t0, t1, above_d, above_p = segment
        solution = dfx.diffeqsolve(
            term,
            dfx.Heun(),
            t0,
            t1,
            (t1 - t0) / steps_per_segment,
            rho,
            args=(above_d, above_p),
            max_steps=steps_per_segment + 1,
            saveat=dfx.SaveAt(t1=True),
            adjoint=dfx.ForwardMode(),
        )
        return solution.ys[-1], None

    segment_arrays = (segments.t0, segments.t1, segments.above_d, segments.above_p)
    rho, _ = jax.lax.scan(step, y0, segment_arrays)
    return GraupnerBrunelState(rho_down=rho[0], rho_up=rho[1])
