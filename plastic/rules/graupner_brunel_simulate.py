"""Standalone Graupner-Brunel simulations driven by pre/post spike trains: exact segments, diffrax.

The spike-driven calcium is a sum of exponentials, so the times at which it jumps and crosses
``theta_d`` and ``theta_p`` are known in closed form. Between those times both Heaviside terms are
constant and rho's dynamics are smooth, so each segment is solved separately: with adaptive (or
a fixed number of, error-checked) Tsit5 steps for the deterministic ODE, with a fixed number of
Heun steps for the SDE. No solver step ever straddles a discontinuity.
"""

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from plastic import solver_status
from plastic._validation import check_range, is_concrete
from plastic.rules.graupner_brunel import GraupnerBrunel, GraupnerBrunelCalcium, GraupnerBrunelState
from plastic.rules.graupner_brunel_analytic import time_above_after_jump
from plastic.solver_status import diffeqsolve


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


def _check_spike_train(name: str, times) -> None:
    # Tracers (inside jit/vmap/grad) are the caller's responsibility, as for all checks.
    if not is_concrete(times):
        return
    check_range(name, times, lower=0.0, lower_inclusive=True, unit="ms", finite=False)
    times = np.asarray(times, dtype=float)
    if np.any(times[1:] < times[:-1]):  # not np.diff: inf - inf padding would warn
        raise ValueError(f"{name} must be sorted ascending (pad with +inf at the end)")


def _merged_jumps(calcium: GraupnerBrunelCalcium, pre_times, post_times):
    # Both trains are sorted, so a merge (each jump's rank = its index in its own train + the
    # number of jumps of the other train before it) replaces a full sort, at a fraction of the
    # cost. Ties put presynaptic jumps first; linear calcium makes the order of ties irrelevant.
    pre_jumps = pre_times + calcium.delay
    pre_rank = jnp.arange(pre_jumps.shape[0]) + jnp.searchsorted(post_times, pre_jumps, "left")
    post_rank = jnp.arange(post_times.shape[0]) + jnp.searchsorted(pre_jumps, post_times, "right")
    rank = jnp.concatenate([pre_rank, post_rank])
    unsorted_times, unsorted_sizes = calcium.jumps(pre_times, post_times)
    times = jnp.zeros_like(unsorted_times).at[rank].set(unsorted_times, unique_indices=True)
    sizes = jnp.zeros_like(unsorted_sizes).at[rank].set(unsorted_sizes, unique_indices=True)
    return times, sizes


@jax.jit
def _calcium_segments(rule, calcium, pre_times, post_times, t_end) -> CalciumSegments:
    times, sizes = _merged_jumps(calcium, pre_times, post_times)
    valid = times < t_end
    # Padding and late jumps become empty jumps at t_end (they are last, so the order holds): no
    # inf arithmetic, finite gradients.
    times = jnp.where(valid, times, t_end)
    sizes = jnp.where(valid, sizes, 0.0)

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

    edges = jnp.concatenate(
        [jnp.zeros(1), interleave(times, times + first, times + second), jnp.reshape(t_end, (1,))]
    )
    rest_d = (0.0 >= rule.theta_d).astype(peaks.dtype)  # Theta(0) = 1
    rest_p = (0.0 >= rule.theta_p).astype(peaks.dtype)
    return CalciumSegments(
        t0=edges[:-1],
        t1=edges[1:],
        above_d=jnp.concatenate(
            [rest_d[None], interleave(one, (time_d >= second).astype(one.dtype), zero)]
        ),
        above_p=jnp.concatenate(
            [rest_p[None], interleave(one, (time_p >= second).astype(one.dtype), zero)]
        ),
    )


def calcium_segments(
    rule: GraupnerBrunel, calcium: GraupnerBrunelCalcium, pre_times, post_times, t_end
) -> CalciumSegments:
    """Split ``[0, t_end]`` (ms) where the spike-driven calcium jumps or crosses a threshold.

    Args:
        rule: supplies ``theta_d`` and ``theta_p`` (in the calcium model's dimensionless units).
        calcium: the spike-driven calcium model; calcium is at rest (0) at time 0.
        pre_times, post_times: spike times, ms, shapes ``(n_pre,)`` and ``(n_post,)``, each
            sorted ascending and >= 0; pad at the end with ``+inf`` (any calcium jump at or after
            ``t_end`` is ignored). Checked when concrete; under ``jit``/``vmap`` the caller
            guarantees it (`pair_spike_times` and the padded protocols do).
        t_end: end of the simulation, ms.

    Returns ``3 (n_pre + n_post) + 1`` segments: one before the first jump, then for each jump the
    parts above both thresholds, above one, and above none, until the next jump.
    """
    _check_spike_train("pre_times", pre_times)
    _check_spike_train("post_times", post_times)
    return _calcium_segments(rule, calcium, pre_times, post_times, t_end)


def _drift(rule: GraupnerBrunel):
    # rho is a GraupnerBrunelState (ODE) or a (2,) array (SDE); the drift acts elementwise.
    def vector_field(t, rho, above):
        return jax.tree.map(lambda r: rule.rho_drift(r, *above), rho)

    return dfx.ODETerm(vector_field)


class RhoSolution(eqx.Module):
    """Deterministic rho at the end of a solve, with an estimate of its numerical error.

    Attributes:
        rho: ``rho_down`` and ``rho_up`` (dimensionless, shape ``()`` each) at the end.
        error_estimate: with fixed steps, the sum over all steps of Tsit5's embedded local error
            estimate (the larger of the two copies), dimensionless, shape ``()``; with adaptive
            steps 0, or ``inf`` where a segment needed more than its step budget. The embedded
            estimate is that of the fourth-order solution, so it bounds the fifth-order one's
            local error. The drift's slope in rho is at most ``1 / (3 tau)`` on ``[0, 1]`` (the
            plasticity terms only contract), so it amplifies an error by at most
            ``exp(T / (3 tau))`` over ``T`` ms (1.14 for 60 s of the DP set): ``error_estimate``
            measures the error of ``rho``.
    """

    rho: GraupnerBrunelState
    error_estimate: Float[Array, ""]


MAX_ERROR = 1e-6
"""Largest error estimate (dimensionless rho) `solve_rho` accepts from fixed steps; beyond it the
result is NaN."""


@eqx.filter_jit
def solve_rho(
    rule: GraupnerBrunel,
    segments: CalciumSegments,
    steps_per_segment: int | None = None,
    *,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps_per_segment: int = 256,
    max_error: float | None = MAX_ERROR,
) -> RhoSolution:
    """Deterministic rho at the end of ``segments``, from the rule's initial state (noise-free).

    All discontinuities sit on segment boundaries, so each segment is a smooth problem, solved
    afresh with Tsit5 (fifth order):

    - ``steps_per_segment=None`` (the default): adaptively, with diffrax's PID controller at
      ``rtol`` and ``atol``, at most ``max_steps_per_segment`` steps a segment. Any rule and
      protocol is then solved to tolerance; a segment that needs more steps makes the result NaN
      (never a silently wrong number). ``error_estimate`` is then 0: the controller held every
      step's error below tolerance.
    - an integer: that many equal steps per segment (no step-size loop; the fastest for slow
      rules). Within a segment the drift's slope in rho is at most ``L = (gamma_p + gamma_d +
      1) / tau`` per ms, so a step of length ``h`` errs by O((h L)^6): one step per segment is
      accurate to ~1e-11 for pairs at 1 Hz and the published sets, but not for fast rules or
      long bursts (tau = 5 s, gamma_p = 600 and 50 Hz bursts give h L ~ 10 and rho of 1e145).
      The summed embedded estimate is returned, and where it exceeds ``max_error`` the result is
      NaN (``max_error=None``: returned as it is, for studying the estimate).

    Args:
        rule: the Graupner-Brunel parameters.
        segments: from `calcium_segments`.
        steps_per_segment: None (adaptive) or an integer >= 1 (a static Python int).
        rtol, atol: tolerances of the adaptive solve (rho is dimensionless, in [0, 1]).
        max_steps_per_segment: cap on the adaptive steps of one segment.
        max_error: see above; dimensionless.
    """
    if steps_per_segment is not None and (
        not isinstance(steps_per_segment, int) or steps_per_segment < 1
    ):
        raise ValueError(
            f"steps_per_segment must be None (adaptive) or an integer >= 1; got "
            f"{steps_per_segment!r}"
        )
    term = _drift(rule)
    solver = dfx.Tsit5()
    rho0 = rule.initial_state()
    segment_arrays = (segments.t0, segments.t1, segments.above_d, segments.above_p)

    if steps_per_segment is None:
        controller = dfx.PIDController(rtol=rtol, atol=atol)

        def adaptive(rho_and_failed, segment):
            rho, failed = rho_and_failed
            t0, t1, above_d, above_p = segment
            # A zero-length segment (a jump with no crossing) is skipped, not solved.
            empty = t1 <= t0
            solution, result = diffeqsolve(
                term,
                solver,
                t0,
                jnp.where(empty, t0 + 1.0, t1),
                None,
                rho,
                args=(above_d, above_p),
                stepsize_controller=controller,
                max_steps=max_steps_per_segment,
                saveat=dfx.SaveAt(t1=True),
            )
            end = jax.tree.map(lambda y, y0: jnp.where(empty, y0, y[-1]), solution.ys, rho)
            ok = empty | ~solver_status.failed(result)
            return (end, failed | ~ok), None

        (rho, failed), _ = jax.lax.scan(adaptive, (rho0, jnp.asarray(False)), segment_arrays)
        error = jnp.where(failed, jnp.inf, 0.0)
    else:

        def segment_step(carry, segment):
            rho, error = carry
            t0, t1, above_d, above_p = segment
            args = (above_d, above_p)
            dt = (t1 - t0) / steps_per_segment
            # Each segment starts a new smooth piece: the first-same-as-last stage of the
            # previous segment saw the other Heaviside values, so the solver state is fresh.
            state = solver.init(term, t0, t0 + dt, rho, args)

            def substep(i, substep_carry):
                rho, state, error = substep_carry
                t = t0 + i * dt
                rho, rho_error, _, state, _ = solver.step(term, t, t + dt, rho, args, state, False)
                local = jnp.maximum(jnp.abs(rho_error.rho_down), jnp.abs(rho_error.rho_up))
                return rho, state, error + local

            rho, _, error = jax.lax.fori_loop(0, steps_per_segment, substep, (rho, state, error))
            return (rho, error), None

        (rho, error), _ = jax.lax.scan(
            segment_step, (rho0, jnp.zeros_like(rho0.rho_down)), segment_arrays
        )
        failed = (error > max_error) if max_error is not None else jnp.asarray(False)
    rho = jax.tree.map(lambda r: jnp.where(failed | ~jnp.isfinite(error), jnp.nan, r), rho)
    return RhoSolution(rho=rho, error_estimate=error)


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
        solution, _ = diffeqsolve(
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
