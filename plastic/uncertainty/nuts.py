"""Posterior sampling with the No-U-Turn Sampler, from BlackJAX.

The posterior of the unconstrained parameters ``u`` is ``log p(u | data) = -chi2(u) / 2 +
log p(u)``, with the prior uniform in each parameter (in ``log x`` for a ``log`` parameter) within
its bounds (`FlatParameters.log_prior`). BlackJAX takes exactly such a log-density of an array,
its NUTS kernel and window adaptation (step size and mass matrix) are pure JAX, so chains run
side by side under `jax.vmap`. (NumPyro would ask for the model in its own modelling language.)

Chains start from draws of the `Laplace` approximation, whose covariance also seeds the mass
matrix; R-hat and the effective sample size of each scalar tell whether the chains agree and
mixed: a warning names those with ``R-hat > 1.01`` or fewer than 100 effective draws per chain.
"""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from plastic._validation import check_range
from plastic.fit.objective import Objective
from plastic.uncertainty.flat import FlatParameters
from plastic.uncertainty.laplace import Laplace

R_HAT_LIMIT = 1.01
"""Above this split R-hat the chains disagree (Vehtari et al. 2021)."""

ESS_PER_CHAIN = 100
"""Below this many effective draws per chain, quantiles are unreliable."""


class Posterior(eqx.Module):
    """Draws of a fit's posterior.

    Attributes:
        flat: the fitted scalars, their names and units.
        draws: unconstrained draws, shape ``(n_chains, n_samples, n)``.
        r_hat: split R-hat per scalar, shape ``(n,)``.
        effective_sample_size: per scalar, over all chains, shape ``(n,)``.
        acceptance_rate: mean per chain, shape ``(n_chains,)``.
        divergences: divergent transitions per chain, shape ``(n_chains,)``.
        step_size: the adapted step size per chain, shape ``(n_chains,)``.
    """

    flat: FlatParameters
    draws: Float[Array, "n_chains n_samples n"]
    r_hat: Float[Array, " n"]
    effective_sample_size: Float[Array, " n"]
    acceptance_rate: Float[Array, " n_chains"]
    divergences: Array
    step_size: Float[Array, " n_chains"]

    @property
    def names(self) -> tuple[str, ...]:
        return self.flat.names

    @property
    def values(self) -> Float[Array, "n_chains n_samples n"]:
        """The draws in each scalar's unit."""
        return self.flat.to_constrained(self.draws)

    def pooled(self) -> Float[Array, "n_draws n"]:
        """Unconstrained draws of every chain, one after the other (e.g. for
        `prediction_band`'s ``draws``)."""
        return jnp.reshape(self.draws, (-1, self.flat.size))

    def mean(self) -> np.ndarray:
        """Posterior mean of each scalar, in its unit."""
        return np.asarray(self.values).reshape(-1, self.flat.size).mean(axis=0)

    def standard_deviation(self) -> np.ndarray:
        """Posterior standard deviation of each scalar, in its unit."""
        return np.asarray(self.values).reshape(-1, self.flat.size).std(axis=0, ddof=1)

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """The central ``level`` interval of each scalar, in its unit (quantiles of the draws)."""
        check_range("level", level, lower=0.0, upper=1.0, upper_inclusive=False)
        tail = 50.0 * (1.0 - level)
        values = np.asarray(self.values).reshape(-1, self.flat.size)
        low, high = np.percentile(values, [tail, 100.0 - tail], axis=0)
        return low, high

    def problems(self) -> list[str]:
        """What makes these draws untrustworthy, in words (empty if nothing)."""
        found = []
        n_chains = self.draws.shape[0]
        r_hat = np.asarray(self.r_hat)
        ess = np.asarray(self.effective_sample_size)
        bad = [f"{n} ({r:.3f})" for n, r in zip(self.names, r_hat) if not r <= R_HAT_LIMIT]
        if bad:
            found.append(f"R-hat above {R_HAT_LIMIT}: {', '.join(bad)}; run longer chains")
        few = [
            f"{n} ({e:.0f})" for n, e in zip(self.names, ess) if not e >= ESS_PER_CHAIN * n_chains
        ]
        if few:
            found.append(
                f"fewer than {ESS_PER_CHAIN} effective draws per chain "
                f"({ESS_PER_CHAIN * n_chains} in all): {', '.join(few)}; draw more samples"
            )
        divergent = int(np.sum(self.divergences))
        if divergent:
            found.append(
                f"{divergent} divergent transitions: the posterior has regions the sampler "
                "cannot follow (e.g. a funnel); intervals may be biased"
            )
        return found


def nuts(
    objective: Objective,
    laplace: Laplace,
    key: PRNGKeyArray,
    *,
    n_chains: int = 4,
    n_warmup: int = 500,
    n_samples: int = 1000,
    target_acceptance: float = 0.8,
    max_tree_depth: int = 10,
    warn: bool = True,
) -> Posterior:
    """Sample the posterior of a fit with NUTS, ``n_chains`` chains at once.

    Args:
        objective: the fit's chi-square (its SEM-weighted residuals make the likelihood).
        laplace: the fit's `laplace` approximation: the chains start from its draws (from the
            optimum, jittered, where it has no finite variance) and its covariance seeds the
            mass matrix.
        key: seeds the starts, the adaptation and the draws.
        n_chains: chains, >= 2 (R-hat compares them).
        n_warmup: adaptation steps per chain (step size and a dense mass matrix), >= 50.
        n_samples: draws per chain after adaptation, >= 10.
        target_acceptance: of the adaptation, in (0, 1).
        max_tree_depth: the most doublings of a trajectory (at most ``2**max_tree_depth``
            gradient evaluations per draw), 1 to 15; lower it for an expensive model, at the
            price of slower mixing in long, correlated directions.
        warn: warn (`Posterior.problems`) if R-hat, the effective sample size or divergences
            say the draws are not trustworthy.

    Returns:
        A `Posterior`.
    """
    try:
        from blackjax.diagnostics import effective_sample_size, potential_scale_reduction
    except ImportError:
        raise ImportError(
            "nuts needs BlackJAX: pip install 'plastic[uncertainty]' (or blackjax)"
        ) from None
    check_range("n_chains", n_chains, lower=2.0, lower_inclusive=True)
    check_range("n_warmup", n_warmup, lower=50.0, lower_inclusive=True)
    check_range("n_samples", n_samples, lower=10.0, lower_inclusive=True)
    check_range("target_acceptance", target_acceptance, lower=0.0, upper=1.0, upper_inclusive=False)
    check_range("max_tree_depth", max_tree_depth, lower=1.0, lower_inclusive=True, upper=15.0)
    start_key, run_key = jax.random.split(key)
    try:
        starts = laplace.sample(start_key, n_chains)
        inverse_mass = laplace.covariance
    except ValueError:  # no finite variance somewhere: start near the optimum
        jitter = 0.1 * jax.random.normal(start_key, (n_chains, laplace.flat.size))
        starts = laplace.optimum + jitter
        inverse_mass = jnp.eye(laplace.flat.size)
    draws, acceptance, divergent, step_size = _sample(
        objective,
        laplace.flat,
        starts,
        inverse_mass,
        run_key,
        int(n_warmup),
        int(n_samples),
        float(target_acceptance),
        int(max_tree_depth),
    )
    posterior = Posterior(
        flat=laplace.flat,
        draws=draws,
        r_hat=potential_scale_reduction(draws, chain_axis=0, sample_axis=1),
        effective_sample_size=effective_sample_size(draws, chain_axis=0, sample_axis=1),
        acceptance_rate=acceptance,
        divergences=divergent,
        step_size=step_size,
    )
    if warn:
        for problem in posterior.problems():
            warnings.warn(f"nuts: {problem}", stacklevel=2)
    return posterior


@eqx.filter_jit
def _sample(
    objective, flat, starts, inverse_mass, key, n_warmup, n_samples, target_acceptance, depth
):
    import blackjax

    def log_density(u):
        chi_square = jnp.sum(objective.residuals(flat.to_model(u)) ** 2)
        value = -0.5 * chi_square + flat.log_prior(u)
        # A model that fails (NaN) is a region of zero probability, not a crash.
        return jnp.where(jnp.isfinite(value), value, -jnp.inf)

    def chain(key, start):
        adapt_key, sample_key = jax.random.split(key)
        adaptation = blackjax.window_adaptation(
            blackjax.nuts,
            log_density,
            is_mass_matrix_diagonal=False,
            initial_inverse_mass_matrix=inverse_mass,
            target_acceptance_rate=target_acceptance,
            max_num_doublings=depth,
        )
        (state, tuned), _ = adaptation.run(adapt_key, start, num_steps=n_warmup)
        kernel = blackjax.nuts(log_density, **tuned).step  # tuned carries the depth

        def step(state, key):
            state, info = kernel(key, state)
            return state, (state.position, info.acceptance_rate, info.is_divergent)

        keys = jax.random.split(sample_key, n_samples)
        _, (positions, acceptance, divergent) = jax.lax.scan(step, state, keys)
        return positions, acceptance.mean(), divergent.sum(), tuned["step_size"]

    return jax.vmap(chain)(jax.random.split(key, starts.shape[0]), starts)
