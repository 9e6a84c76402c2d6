"""A sweep of any experiment: a grid over its condition fields and model leaves, its readouts."""

import itertools
import json

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from plastic.experiment.experiment import (
    AbstractAcrossConditions,
    AbstractExperiment,
    AbstractReadout,
    ConditionField,
)
from plastic.sweep.targets import AbstractGrid, AbstractTarget, Axis, ModelLeaf


class ConditionValue(AbstractTarget):
    """A condition field of an experiment (e.g. ``frequency``, ``v_clamp``)."""

    field: ConditionField = eqx.field(static=True)

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def units(self) -> str:
        return self.field.unit

    def check(self, model) -> None:
        """Fields are checked by `ExperimentSweep` against their ranges."""

    def apply(self, model, arguments, value):
        return model, {**arguments, self.field.name: value}


class ExperimentEvaluation(eqx.Module):
    """One condition of an `ExperimentSweep` from its axis values: the readouts, in order."""

    targets: tuple[AbstractTarget, ...]
    experiment: AbstractExperiment
    model: PyTree
    base: dict[str, Float[Array, ""]]
    names: tuple[str, ...] = eqx.field(static=True)

    def __call__(self, values: Float[Array, " n_axes"]) -> tuple[Array, ...]:
        model, condition = self.model, dict(self.base)
        for where, value in zip(self.targets, values):
            model, condition = where.apply(model, condition, value)
        return self.experiment.measure_each(model, condition, self.names)


class ExperimentSweep(AbstractGrid):
    """A grid over an experiment's condition fields and its model's leaves.

    Attributes:
        axes: the grid's axes (`ConditionValue` or `ModelLeaf` targets); one result dim each.
        readouts: the experiment's readouts to keep (per condition; one value per site for a
            readout read at several sites).
        experiment: the experiment, sized for the grid.
        model: the base model.
        base: the value of every condition field that is not an axis.
        model_description: which model this is, in words, for the result file.

    Build it with `ExperimentSweep.build`.
    """

    axes: tuple[Axis, ...]
    readouts: tuple[AbstractReadout, ...]
    experiment: AbstractExperiment
    model: PyTree
    base: dict[str, float]
    model_description: str = eqx.field(static=True, default="")

    @classmethod
    def build(
        cls,
        experiment: AbstractExperiment,
        model: PyTree,
        axes: dict[str, np.ndarray],
        fixed: dict[str, float] | None = None,
        readouts: tuple[str, ...] | None = None,
        model_description: str = "",
    ) -> "ExperimentSweep":
        """The sweep of ``experiment`` on ``model`` over ``axes`` (name -> values: a condition
        field or a model path), the other fields at ``fixed`` (or their defaults).

        Raises:
            ValueError: naming what is wrong, before anything runs: an unknown axis or readout,
                a field without a value, a value outside its field's range, or a grid corner
                the experiment refuses.
        """
        experiment.check_model(model)
        fixed = dict(fixed or {})
        names = {field.name for field in experiment.fields}
        unknown = sorted(set(fixed) - names)
        if unknown:
            raise ValueError(
                f"{sorted(unknown)} are not condition fields of {type(experiment).__name__}; "
                f"its fields are {sorted(names)}"
            )
        targets = []
        for name in axes:
            if name in names:
                targets.append(ConditionValue(experiment.field(name)))
            else:
                leaf = ModelLeaf(name)
                leaf.check(model)
                targets.append(leaf)
        grid = tuple(Axis(t, values) for t, values in zip(targets, axes.values()))
        base = {}
        for field in experiment.fields:
            if field.name in axes:
                continue
            value = fixed.get(field.name, field.default)
            base[field.name] = field.encode("the sweep", np.nan if value is None else value)
        for a in grid:
            if isinstance(a.target, ConditionValue):
                for value in a.values:
                    a.target.field.encode(f"axis {a.name!r}", float(value))
        # The corners bound the grid for the experiment's checks (event counts to pad to,
        # pairings that must fit their period), as in `Sweep`.
        extremes = [sorted({float(a.values.min()), float(a.values.max())}) for a in grid]
        corners = {name: np.full(2 ** len(grid), value) for name, value in base.items()}
        for a, column in zip(grid, np.array(list(itertools.product(*extremes))).T):
            if isinstance(a.target, ConditionValue):
                corners[a.name] = column
        sized = experiment.sized_for(corners)
        per_condition = [
            r.name for r in experiment.readouts if not isinstance(r, AbstractAcrossConditions)
        ]
        chosen = readouts or tuple(per_condition)
        for name in chosen:
            if isinstance(experiment.readout(name), AbstractAcrossConditions):
                raise ValueError(
                    f"readout {name!r} is derived across conditions; a sweep reads one condition "
                    f"per grid point: sweep its field instead (readouts {per_condition})"
                )
        chosen_readouts = tuple(experiment.readout(n) for n in chosen)
        return cls(grid, chosen_readouts, sized, model, base, model_description)

    @property
    def evaluation(self) -> ExperimentEvaluation:
        return ExperimentEvaluation(
            tuple(a.target for a in self.axes),
            self.experiment,
            self.model,
            {name: jnp.asarray(value) for name, value in self.base.items()},
            tuple(r.name for r in self.readouts),
        )

    def attributes(self) -> dict:
        """What the result file records besides the axes: experiment and fixed fields."""
        fixed = {}
        for name, value in self.base.items():
            choices = self.experiment.field(name).choices
            fixed[name] = choices[int(value)] if choices else value
        return {
            "experiment": type(self.experiment).__name__,
            "conditions": json.dumps(fixed),
            "model": self.model_description,
        }
