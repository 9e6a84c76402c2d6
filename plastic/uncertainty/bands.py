"""Prediction bands: a fit's parameter uncertainty carried to any prediction of its model."""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from plastic._validation import check_range
from plastic.uncertainty.laplace import Laplace


class PredictionBand(eqx.Module):
    """Quantiles of a prediction over draws of the parameters.

    Attributes:
        at_optimum: the prediction of the fitted model, any shape ``S``.
        median, low, high: the median and the central ``level`` interval over the draws, shape
            ``S``, in the prediction's unit.
        level: the interval's probability, e.g. 0.95.
        n_draws: draws the quantiles are taken over (non-finite predictions left out per
            element; `n_failed` counts the draws with any).
        n_failed: draws whose prediction was not finite anywhere.
    """

    at_optimum: Array
    median: Array
    low: Array
    high: Array
    level: float = eqx.field(static=True)
    n_draws: int = eqx.field(static=True)
    n_failed: int = eqx.field(static=True)


def prediction_band(
    laplace: Laplace,
    predict: Callable[[PyTree], Float[Array, "..."]],
    key: PRNGKeyArray,
    *,
    n_draws: int = 200,
    level: float = 0.95,
    batch_size: int | None = None,
    draws: Float[Array, "n_draws n"] | None = None,
) -> PredictionBand:
    """The band of ``predict(model)`` over ``n_draws`` draws of the parameters.

    Args:
        laplace: the fit's uncertainty (`laplace`); its draws are taken in the unconstrained
            coordinates, so that every drawn model lies inside the bounds.
        predict: ``predict(model) -> array`` of any shape (one study's readouts over a grid of
            conditions, a curve), pure and jittable.
        key: seeds the draws.
        n_draws: draws, >= 20.
        level: the central interval's probability, in (0, 1).
        batch_size: draws evaluated at once (`jax.lax.map`); default all at once (`jax.vmap`).
        draws: unconstrained draws to use instead (e.g. a sampler's), shape ``(n_draws, n)``.

    Returns:
        A `PredictionBand`.
    """
    check_range("level", level, lower=0.0, upper=1.0, upper_inclusive=False)
    if draws is None:
        check_range("n_draws", n_draws, lower=20.0, lower_inclusive=True)
        draws = laplace.sample(key, n_draws)
    at_optimum, predicted = _predict_draws(laplace, predict, draws, laplace.optimum, batch_size)
    predicted = np.asarray(predicted)
    finite = np.isfinite(predicted)
    failed = int(np.sum(~finite.reshape(len(draws), -1).all(axis=1)))
    if failed == len(draws):
        raise ValueError("the prediction is not finite at any draw")
    kept = np.where(finite, predicted, np.nan)
    tail = 50.0 * (1.0 - level)
    low, median, high = np.nanpercentile(kept, [tail, 50.0, 100.0 - tail], axis=0)
    return PredictionBand(
        at_optimum=np.asarray(at_optimum),
        median=median,
        low=low,
        high=high,
        level=float(level),
        n_draws=int(len(draws)),
        n_failed=failed,
    )


@eqx.filter_jit
def _predict_draws(laplace, predict, draws, optimum, batch_size):
    def one(u):
        return jnp.asarray(predict(laplace.flat.to_model(u)))

    if batch_size is None:
        return one(optimum), jax.vmap(one)(draws)
    return one(optimum), jax.lax.map(one, draws, batch_size=batch_size)
