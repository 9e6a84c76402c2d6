"""What a fit reports while it runs (`FitProgress`) and what it returns (`FitResult`)."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PyTree

from plastic.fit.objective import Objective
from plastic.fit.parameters import FitParameters

_MAX_PRINTED_STARTS = 8


class FitProgress(eqx.Module):
    """What a progress report knows (host values, for printing or logging).

    Attributes:
        step: steps done (0 after evaluating the starts).
        n_steps: steps in the whole fit.
        best_loss: each start's lowest loss so far, shape ``(n_starts,)``.
        rejections: rejected steps per start, shape ``(n_starts,)``.
        steps_per_second: since the previous report; NaN for the first report of a run, whose
            time is mostly compilation.
        loss: each start's loss at its current point, shape ``(n_starts,)`` (it may rise while
            the best stays), or None.
        first_seconds: in the first report of a run, the seconds it waited for (compiling, or
            loading a kept program, and the first step); else None.
    """

    step: int
    n_steps: int
    best_loss: np.ndarray
    rejections: np.ndarray
    steps_per_second: float
    loss: np.ndarray | None = None
    first_seconds: float | None = None

    def line(self) -> str:
        """One line: step, best loss overall and per start, each start's current loss,
        rejections, speed and the time left."""
        best = int(np.argmin(np.where(np.isnan(self.best_loss), np.inf, self.best_loss)))
        shown = slice(0, _MAX_PRINTED_STARTS)
        more = " ..." if self.best_loss.size > _MAX_PRINTED_STARTS else ""
        losses = " ".join(f"{x:.4g}" for x in self.best_loss[shown])
        rejected = " ".join(str(int(x)) for x in self.rejections[shown])
        now = "" if self.loss is None else " ".join(f"{x:.4g}" for x in self.loss[shown])
        left = (self.n_steps - self.step) / max(self.steps_per_second, 1e-12)
        width = len(str(self.n_steps))
        return (
            f"step {self.step:>{width}}/{self.n_steps}  best loss {self.best_loss[best]:.6g} "
            f"(start {best})  per start [{losses}{more}]  rejected {int(self.rejections.sum())} "
            + (
                f"[{rejected}{more}]  {self.steps_per_second:.3g} steps/s"
                if np.isfinite(self.steps_per_second)
                else f"[{rejected}{more}]  ({self._first()}; steps/s from the next report)"
            )
            + (f"  now [{now}{more}]" if self.loss is not None else "")
            + (f"  ETA {left:.0f} s" if self.steps_per_second > 0 else "")
        )

    def _first(self) -> str:
        if self.first_seconds is None:
            return "compiled"
        return f"compiled and ran in {self.first_seconds:.1f} s"


class FitResult(eqx.Module):
    """The outcome of `fit`.

    Attributes:
        objective: the objective that was minimised.
        parameters: the fitted parameters and the template model.
        start_values: each start's first values, path -> array ``(n_starts, *leaf shape)``.
        values: each start's best values, path -> array ``(n_starts, *leaf shape)``.
        best_loss: each start's lowest loss, shape ``(n_starts,)`` (``inf`` for a start whose
            loss was never finite).
        loss_history: accepted loss after each step, shape ``(n_steps + 1, n_starts)``; row 0 is
            the loss at the starts.
        rejections: rejected steps per start, shape ``(n_starts,)``.
        settings: how `fit` was called: seed, number of starts and steps, whether the starts
            were drawn or given, the optimiser (its settings where it is a `default_optimiser`)
            and the checkpoint; JSON values, written to ``parameters.json`` by `write_fit`.
    """

    objective: Objective
    parameters: FitParameters
    start_values: dict[str, Array]
    values: dict[str, Array]
    best_loss: Float[Array, " n_starts"]
    loss_history: Float[Array, "n_steps_plus_1 n_starts"]
    rejections: Int[Array, " n_starts"]
    settings: dict = eqx.field(static=True, default_factory=dict)

    @property
    def n_starts(self) -> int:
        return self.best_loss.shape[0]

    @property
    def n_steps(self) -> int:
        return self.loss_history.shape[0] - 1

    @property
    def best_start(self) -> int:
        """The start with the lowest loss."""
        return int(jnp.argmin(self.best_loss))

    @property
    def best_values(self) -> dict[str, Array]:
        """The best start's values, path -> array of the leaf's shape."""
        return {name: value[self.best_start] for name, value in self.values.items()}

    @property
    def model(self) -> PyTree:
        """The template model with the best values: the fitted model."""
        return self.parameters.with_values(self.best_values)
