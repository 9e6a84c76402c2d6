"""The analytic reduction of Graupner & Brunel 2012: time above threshold, transition probabilities.

For a periodic protocol the calcium trace spends fractions ``alpha_d`` and ``alpha_p`` of the time
above ``theta_d`` and ``theta_p``. Averaging the drift and dropping the cubic term turns rho into an
Ornstein-Uhlenbeck process, whose transition probabilities ``U`` (DOWN -> above rho_star) and ``D``
(UP -> below rho_star) give the relative change of the mean synaptic weight.

The calcium trace is a sum of decaying exponentials, so the time it spends above a threshold is
computed in closed form, overlapping transients included: between two jumps the trace decays from
its value just after the first jump, and crosses the threshold at most once.
"""

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from plastic.rules.graupner_brunel import GraupnerBrunel, GraupnerBrunelCalcium


def time_above_after_jump(peak, gap, tau_ca, theta):
    """Time (ms) that ``peak * exp(-t / tau_ca)`` spends at or above ``theta`` for ``0 <= t < gap``.

    Args:
        peak: calcium just after a jump (dimensionless), any shape.
        gap: time (ms) to the next jump, broadcastable with ``peak``.
        tau_ca: decay time constant, ms.
        theta: threshold (dimensionless), >= 0.

    Theta(0) = 1: calcium exactly at the threshold counts as above (this only matters for
    ``theta = 0``, where a trace at rest is above threshold all the time).
    """
    stays_above = peak * jnp.exp(-gap / tau_ca) >= theta
    crosses = (peak > theta) & ~stays_above
    # Double where: the log's argument is harmless where the branch is unused, so gradients stay
    # finite when nothing crosses (and when theta = 0).
    ratio = jnp.where(crosses, peak / jnp.where(crosses, theta, 1.0), 1.0)
    return jnp.where(stays_above, gap, jnp.where(crosses, tau_ca * jnp.log(ratio), 0.0))


def periodic_time_above(jump_times, jump_sizes, period, tau_ca, theta):
    """Time (ms) per period that the steady periodic calcium trace spends at or above ``theta``.

    The jumps repeat forever with the given ``period`` (ms); the trace is the periodic steady state
    (residual calcium from every earlier period included, summed as a geometric series).

    Args:
        jump_times: jump times within any window, ms, shape ``(k,)``; taken modulo ``period``.
        jump_sizes: jump sizes, dimensionless, shape ``(k,)``.
        period: ms.
        tau_ca: decay time constant, ms.
        theta: threshold, dimensionless.
    """
    phase = jnp.mod(jump_times, period)
    order = jnp.argsort(phase)
    phase, sizes = phase[order], jump_sizes[order]
    # Value just after jump k: every jump j contributes from its latest occurrence at or before it.
    lag = jnp.mod(phase[:, None] - phase[None, :], period)
    earlier_or_same = jnp.arange(phase.shape[0])[None, :] <= jnp.arange(phase.shape[0])[:, None]
    # A later jump at the same phase has lag 0 but happens after: it belongs to the previous period.
    lag = jnp.where((lag == 0) & ~earlier_or_same, period, lag)
    peak = jnp.sum(sizes[None, :] * jnp.exp(-lag / tau_ca), axis=1) / (
        1.0 - jnp.exp(-period / tau_ca)
    )
    gap = jnp.diff(phase, append=phase[:1] + period)
    return jnp.sum(time_above_after_jump(peak, gap, tau_ca, theta))


@jax.jit
def pair_fractions_above(rule: GraupnerBrunel, calcium: GraupnerBrunelCalcium, delta_t, period):
    """Fractions of time ``(alpha_d, alpha_p)`` above threshold for regular spike pairs.

    Args:
        rule: supplies ``theta_d`` and ``theta_p``.
        calcium: the spike-driven calcium model.
        delta_t: ``t_post - t_pre``, ms.
        period: time between pairs, ms (1000 ms at 1 Hz).
    """
    times, sizes = calcium.jumps(jnp.zeros(1), jnp.reshape(delta_t, (1,)))
    alpha_d = periodic_time_above(times, sizes, period, calcium.tau_ca, rule.theta_d) / period
    alpha_p = periodic_time_above(times, sizes, period, calcium.tau_ca, rule.theta_p) / period
    return alpha_d, alpha_p


@jax.jit
def transition_probabilities(rule: GraupnerBrunel, alpha_d, alpha_p, duration):
    """``(U, D)``: probabilities DOWN -> above rho_star and UP -> below rho_star after ``duration``.

    Args:
        rule: the Graupner-Brunel parameters.
        alpha_d, alpha_p: fractions of time with calcium above ``theta_d`` and ``theta_p``.
        duration: protocol duration, ms.

    When no calcium crosses either threshold nothing happens: ``U = D = 0`` exactly (the authors'
    code gives NaN there), with finite gradients.
    """
    rate_d = rule.gamma_d * alpha_d
    rate_p = rule.gamma_p * alpha_p
    total = rate_d + rate_p
    active = total > 0
    safe_total = jnp.where(active, total, 1.0)
    safe_alphas = jnp.where(active, alpha_d + alpha_p, 1.0)
    rho_bar = rate_p / safe_total
    sigma_rho2 = rule.sigma**2 * safe_alphas / safe_total
    decay = jnp.exp(-duration * safe_total / rule.tau)
    spread = jnp.sqrt(sigma_rho2 * (1.0 - decay**2))
    up = 0.5 * (1.0 + jsp.erf(-(rule.rho_star - rho_bar + rho_bar * decay) / spread))
    down = 0.5 * (1.0 - jsp.erf(-(rule.rho_star - rho_bar + (rho_bar - 1.0) * decay) / spread))
    return jnp.where(active, up, 0.0), jnp.where(active, down, 0.0)


@jax.jit
def relative_change(rule: GraupnerBrunel, up, down):
    """Mean synaptic weight after / before, given transition probabilities ``U`` and ``D``.

    ``{[beta(1-U) + (1-beta)D] + b[beta U + (1-beta)(1-D)]} / [beta + (1-beta) b]``, the whole
    numerator divided (main-text Methods and the authors' code; SI 3.6 misplaces a parenthesis).
    """
    beta, b = rule.beta, rule.b
    after = (beta * (1.0 - up) + (1.0 - beta) * down) + b * (
        beta * up + (1.0 - beta) * (1.0 - down)
    )
    return after / (beta + (1.0 - beta) * b)


@jax.jit
def mean_rho(rule: GraupnerBrunel, alpha_d, alpha_p, duration, rho_initial):
    """Mean rho after ``duration`` (ms) from ``rho_initial``, in the reduction (cubic term dropped).

    ``rho_bar + (rho_initial - rho_bar) exp(-duration / tau_eff)``; ``rho_initial`` when no calcium
    crosses a threshold.
    """
    total = rule.gamma_d * alpha_d + rule.gamma_p * alpha_p
    active = total > 0
    safe_total = jnp.where(active, total, 1.0)
    rho_bar = rule.gamma_p * alpha_p / safe_total
    decay = jnp.exp(-duration * safe_total / rule.tau)
    return jnp.where(active, rho_bar + (rho_initial - rho_bar) * decay, rho_initial)


MAX_RELAXATION_PER_PERIOD = 0.2
"""Largest `relaxation_per_period` at which `pair_protocol_change` answers. Every published set
stays below 0.082 for pairs at 1 Hz (-50 to +50 ms; the P set is the largest). A fit of bursts
that moved tau to 5.5 s reached chi2/N 0.095 in the reduction against 8.1 in the stochastic
solver at the same parameters; the DP set with tau 5.5 s relaxes by 1.9 per period of +10 ms
pairs at 1 Hz."""


@jax.jit
def relaxation_per_period(rule: GraupnerBrunel, alpha_d, alpha_p, period):
    """``epsilon = period (gamma_d alpha_d + gamma_p alpha_p) / tau``: how far rho relaxes
    towards its driven value within one period of the protocol, dimensionless.

    The reduction replaces the drift by its average over a period, which is exact to first order
    in ``epsilon`` (averaging): it holds for ``epsilon`` well below 1, and fails where rho moves
    substantially within one period (fast rules, strong or long calcium transients).
    """
    return period * (rule.gamma_d * alpha_d + rule.gamma_p * alpha_p) / rule.tau


@jax.jit
def pair_protocol_change(
    rule: GraupnerBrunel,
    calcium: GraupnerBrunelCalcium,
    delta_t,
    period,
    n_pairings,
    max_relaxation=MAX_RELAXATION_PER_PERIOD,
):
    """Relative change of the mean weight after ``n_pairings`` regular spike pairs (analytic).

    NaN where the reduction does not hold (`relaxation_per_period` above ``max_relaxation``):
    use the stochastic solver (`graupner_brunel_simulate.sample_rho`) there, not this number.

    Args:
        rule: the Graupner-Brunel parameters.
        calcium: the spike-driven calcium model.
        delta_t: ``t_post - t_pre``, ms.
        period: time between pairs, ms.
        n_pairings: number of pairs; the protocol lasts ``n_pairings * period`` ms.
        max_relaxation: see `MAX_RELAXATION_PER_PERIOD`.
    """
    alpha_d, alpha_p = pair_fractions_above(rule, calcium, delta_t, period)
    up, down = transition_probabilities(rule, alpha_d, alpha_p, n_pairings * period)
    holds = relaxation_per_period(rule, alpha_d, alpha_p, period) <= max_relaxation
    return jnp.where(holds, relative_change(rule, up, down), jnp.nan)
