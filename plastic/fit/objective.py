"""The SEM-weighted sum of squares (chi-square) between a model's predictions and measurements."""

from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from plastic._validation import check_range, is_concrete
from plastic.experiment.dataset import DataSet
from plastic.solver_status import combined, raise_if_failed


class Objective(eqx.Module):
    """``chi2(model) = sum_i r_i^2`` over the rows of ``data``, ``r_i = (prediction_i - mean_i) /
    sem_i``; for a row that states a bound (`plastic.experiment.DataSet.relations`) only the
    shortfall counts: ``min(r_i, 0)`` for ``>=``, ``max(r_i, 0)`` for ``<=``.

    One model, shared by every row: whatever conditions the rows describe (delta-t, distances,
    drugs, readouts), ``predict`` maps the model and all rows to one prediction per row. For a
    correct model and independent Gaussian errors of the given SEMs, chi2 at the fitted
    parameters is about ``n_rows - n_parameters``.

    Rows without a usable SEM (NaN, or 0, or below ``sem_floor``) are an error unless
    ``sem_floor`` is given; then each such row is weighted as if its SEM were ``sem_floor``.

    Attributes:
        predict: ``predict(model, data) -> predictions``, shape ``(n_rows,)``, each in the unit of
            its row; pure and differentiable in the model's parameters (it runs under `jax.jit`,
            `jax.vmap` and `jax.grad`).
        data: the `plastic.experiment.DataSet` of ``n_rows`` rows.
        sem: the SEM each row is weighted with (the data's, or ``sem_floor``), shape ``(n_rows,)``.
        sem_floor: the smallest SEM used, in the unit of the rows, or None.
    """

    predict: Callable[[PyTree, DataSet], Float[Array, " n_rows"]]
    data: DataSet
    sem: Float[Array, " n_rows"]
    sem_floor: float | None = eqx.field(static=True)

    def __init__(
        self,
        predict: Callable[[PyTree, DataSet], Float[Array, " n_rows"]],
        data: DataSet,
        *,
        sem_floor: float | None = None,
    ):
        if not callable(predict):
            raise ValueError(f"predict must be callable as predict(model, data); got {predict!r}")
        self.predict = predict
        self.data = data
        self.sem = jnp.asarray(weighting_sem(data, sem_floor))
        self.sem_floor = None if sem_floor is None else float(sem_floor)

    @property
    def n_rows(self) -> int:
        return self.data.n_rows

    def predictions(self, model: PyTree) -> Float[Array, " n_rows"]:
        """``predict(model, data)``, checked to give one prediction per row; NaN for rows whose
        solves failed under `jax.jit` (see `predictions_and_results`).

        Raises:
            plastic.solver_status.SolveFailedError: called eagerly, if a solve failed.
        """
        predicted, codes = self.predictions_and_results(model)
        if is_concrete(codes):
            labels = getattr(self.predict, "condition_labels", None)
            raise_if_failed(
                codes,
                "the objective's predictions",
                labels=labels() if labels is not None and np.ndim(codes) == 1 else None,
                hint="a larger max_steps or looser tolerances may help",
            )
        return predicted

    def predictions_and_results(self, model: PyTree) -> tuple[Float[Array, " n_rows"], Array]:
        """The predictions and the diffrax result codes of their solves (0 on success,
        `plastic.solver_status`), one per condition for a `plastic.experiment.Predictor`
        (its ``predictions_and_results``), a single 0 for any other ``predict``; never raises
        for a failed solve (its rows are NaN)."""
        predicted, codes = _predict(self.predict, model, self.data)
        if predicted.shape != (self.n_rows,):
            raise ValueError(
                f"predict must return one prediction per data row, shape ({self.n_rows},); "
                f"got shape {predicted.shape}"
            )
        return predicted, codes

    def loss_and_result(self, model: PyTree) -> tuple[Float[Array, ""], Array]:
        """chi2 (NaN if a solve failed) and one result code for all its solves
        (`plastic.solver_status.combined`), never raising: what a fit step differentiates."""
        predicted, codes = self.predictions_and_results(model)
        return jnp.sum(self._residuals(predicted) ** 2), combined(codes)

    def residuals(self, model: PyTree) -> Float[Array, " n_rows"]:
        """``(prediction - mean) / sem`` per row, dimensionless; 0 for a row whose bound the
        prediction meets."""
        return self._residuals(self.predictions(model))

    def _residuals(self, predicted):
        residual = (predicted - self.data.mean) / self.sem
        relations = np.asarray(self.data.relations)
        residual = jnp.where(relations == ">=", jnp.minimum(residual, 0.0), residual)
        return jnp.where(relations == "<=", jnp.maximum(residual, 0.0), residual)

    def chi_square_per_row(self, model: PyTree) -> Float[Array, " n_rows"]:
        """Each row's contribution to the objective, ``residual ** 2``."""
        return self.residuals(model) ** 2

    def __call__(self, model: PyTree) -> Float[Array, ""]:
        """chi2, the sum of `chi_square_per_row`: the loss a fit minimises."""
        return jnp.sum(self.chi_square_per_row(model))


@eqx.filter_jit
def _predict(predict, model: PyTree, data: DataSet) -> tuple[Array, Array]:
    # Compiled once per (predict, model structure, data): an eager call would trace the
    # prediction's solves anew every time. A predictor reports its solves' result codes; any
    # other predict cannot, and its failed solves show only as NaN.
    if hasattr(predict, "predictions_and_results"):
        predicted, codes = predict.predictions_and_results(model)
    else:
        predicted, codes = predict(model, data), jnp.zeros((), jnp.int32)
    return jnp.asarray(predicted), codes


def weighting_sem(data: DataSet, sem_floor: float | None = None) -> np.ndarray:
    """The SEM each row of ``data`` is weighted with: its own, or ``sem_floor`` where that is
    larger or the row has none. Cheap: call it before any simulation to refuse data a fit
    cannot weight.

    Raises:
        ValueError: naming the rows without a usable SEM (NaN or 0) when ``sem_floor`` is None,
            or a bad ``sem_floor``.
    """
    if not isinstance(data, DataSet) or data.n_rows == 0:
        raise ValueError(f"data must be a DataSet with at least one row; got {data!r}")
    sem = np.asarray(data.sem, dtype=float)
    if sem_floor is None:
        unusable = np.flatnonzero(~(sem > 0))
        if unusable.size:
            rows = [f"{i} ({data.condition[i]!r}, {data.readout[i]})" for i in unusable[:5]]
            raise ValueError(
                f"Objective: data rows {', '.join(rows)}{' ...' if unusable.size > 5 else ''} "
                "have no usable SEM (NaN or 0); drop them with data.select(...) or give "
                "sem_floor, the SEM to weight them with"
            )
        return sem
    check_range("sem_floor", sem_floor, lower=0.0, upper=None)
    return np.where(sem >= sem_floor, sem, float(sem_floor))  # NaN compares False: floored
