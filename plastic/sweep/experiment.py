"""A sweep of any experiment: a grid over its condition fields and model leaves, its readouts."""

import dataclasses
import itertools
import json
from collections.abc import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PyTree

from plastic.experiment import AbstractAcrossConditions, AbstractExperiment, AbstractReadout
from plastic.paths import ModelPath
from plastic.provenance import model_parameters
from plastic.sweep.targets import AbstractGrid, AbstractTarget, Axis, ConditionValue, ModelLeaf


class ExperimentEvaluation(eqx.Module):
    """One condition of an `ExperimentSweep` from its axis values: the readouts, in order, and
    the diffrax result code of its solves (0 on success; `plastic.solver_status`), which the
    sweep checks on the host after each chunk.

    Attributes:
        targets: one per axis, in the order of the values.
        experiment: what runs the condition.
        model: the base model that model-leaf axes change.
        base: the value of every condition field that is not an axis.
        names: the readouts kept.
    """

    targets: tuple[AbstractTarget, ...]
    experiment: AbstractExperiment
    model: PyTree
    base: dict[str, Float[Array, ""]]
    names: tuple[str, ...] = eqx.field(static=True)

    def setup(self, values: Float[Array, " n_axes"]) -> tuple[PyTree, dict]:
        """The model and the condition (field name -> value) with these axis ``values``."""
        model, condition = self.model, dict(self.base)
        for where, value in zip(self.targets, values):
            model, condition = where.apply(model, condition, value)
        return model, condition

    def __call__(self, values: Float[Array, " n_axes"]) -> tuple[tuple[Array, ...], Int[Array, ""]]:
        model, condition = self.setup(values)
        return self.experiment.measure(model, condition, self.names)


def _check_modules(module: eqx.Module) -> None:
    """Rerun the ``__check_init__`` of ``module`` and its submodules (`eqx.tree_at` skips them)."""
    for cls in type(module).__mro__:
        check = cls.__dict__.get("__check_init__")
        if check is not None:
            check(module)
    for field in dataclasses.fields(module):
        children = jax.tree_util.tree_leaves(
            getattr(module, field.name), is_leaf=lambda x: isinstance(x, eqx.Module)
        )
        for child in children:
            if isinstance(child, eqx.Module):
                _check_modules(child)


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
        axes: Mapping[str, np.ndarray],
        fixed: Mapping[str, float] | None = None,
        readouts: tuple[str, ...] | None = None,
        model_description: str = "",
        units: Mapping[str, str] | None = None,
    ) -> "ExperimentSweep":
        """The sweep of ``experiment`` on ``model`` over ``axes`` (name -> values: a condition
        field or a model path such as ``nmda.conductance``, in C order), the other fields at
        ``fixed`` (or their defaults), keeping ``readouts`` (default: every per-condition
        readout). ``units`` labels model-path axes (fields know theirs).

        Raises:
            ValueError: naming what is wrong, before anything runs: no axis, an unknown axis
                or readout, a setting of the experiment given as an axis, a field without a
                value, a value outside its field's range, clashing axis, readout and dim names,
                or a grid corner (every axis at its minimum or maximum) whose model fails its
                checks (`AbstractExperiment.model_in_condition`, then every module's
                ``__check_init__``) or that the experiment refuses (its `sized_for`). The
                corners bound the grid for these checks, which are monotone in each value.
        """
        experiment.check_model(model)
        if not axes:
            raise ValueError("a sweep needs at least one axis")
        fixed, units = dict(fixed or {}), dict(units or {})
        names = {field.name for field in experiment.fields}
        unknown = sorted(set(fixed) - names)
        if unknown:
            raise ValueError(
                f"{unknown} are not condition fields of {type(experiment).__name__}; "
                f"its fields are {sorted(names)}"
            )
        stray = sorted(set(units) - (set(axes) - names))
        if stray:
            raise ValueError(f"units {stray}: units label model-path axes only")
        targets = [
            ConditionValue(experiment.field(name))
            if name in names
            else _model_leaf(experiment, model, name, units.get(name, ""))
            for name in axes
        ]
        grid = tuple(Axis(t, values) for t, values in zip(targets, axes.values()))
        base = experiment.encode_condition(fixed, "the sweep", omit=tuple(axes))
        for a in grid:
            if isinstance(a.target, ConditionValue):
                for value in a.values:
                    a.target.field.encode(f"axis {a.name!r}", float(value))
        chosen = _readouts(experiment, readouts)
        taken = [a.name for a in grid] + [r.name for r in chosen]
        dims = {dim for r in chosen for dim in r.dims}
        clashes = {n for n in taken if taken.count(n) > 1} | (dims & set(taken))
        if clashes:
            raise ValueError(f"axis, readout and dim names must be distinct; {sorted(clashes)}")
        corners = _check_corners(experiment, model, grid, base)
        sized = experiment.sized_for(corners)
        return cls(grid, chosen, sized, model, base, model_description)

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
        """What the result file records besides the axes: the experiment and its settings
        (`AbstractExperiment.attributes`), the fixed fields and their units, the model."""
        fixed, units = {}, {}
        for name, value in self.base.items():
            field = self.experiment.field(name)
            fixed[name] = field.choices[int(value)] if field.choices else value
            units[name] = field.unit
        return {
            **self.experiment.attributes(),
            "experiment": type(self.experiment).__name__,
            "conditions": json.dumps(fixed),
            "condition_units": json.dumps(units),
            "model": self.model_description,
            "model_parameters": json.dumps(model_parameters(self.model)),
        }


def _model_leaf(experiment, model, name: str, unit: str) -> ModelLeaf:
    """The model-leaf target of axis ``name``, checked on ``model``; without a ``unit``, the unit
    its field's range check states (`plastic.provenance.model_parameters`), so that the result's
    axis is labelled."""
    leaf = ModelLeaf(name)
    try:
        leaf.check(model)
    except ValueError:
        if hasattr(experiment, name):
            kind = type(experiment).__name__
            raise ValueError(
                f"axis {name!r} is a setting of {kind}, not a condition field (it may set "
                f"array shapes); run one sweep per value, or sweep a field: "
                f"{[field.name for field in experiment.fields]}"
            ) from None
        raise
    if not unit:
        path = ".".join(ModelPath(name).parts(model))
        unit = model_parameters(model).get(path, {}).get("unit", "")
    return ModelLeaf(name, unit)


def _readouts(experiment, names) -> tuple[AbstractReadout, ...]:
    """The experiment's readouts ``names`` (default: every per-condition one)."""
    per_condition = [
        r.name for r in experiment.readouts if not isinstance(r, AbstractAcrossConditions)
    ]
    chosen = tuple(names or per_condition)
    if not chosen:
        raise ValueError("a sweep needs at least one readout")
    for name in chosen:
        if isinstance(experiment.readout(name), AbstractAcrossConditions):
            raise ValueError(
                f"readout {name!r} is derived across conditions; a sweep reads one condition "
                f"per grid point: sweep its field instead (readouts {per_condition})"
            )
    return tuple(experiment.readout(name) for name in chosen)


def _check_corners(experiment, model, grid, base) -> dict[str, np.ndarray]:
    """Check every corner of the grid (each axis at its minimum or maximum): the model the
    corner sets up passes its modules' checks and the experiment accepts the condition. The
    corners' conditions, field name -> ``(n_corners,)`` values."""
    extremes = [sorted({float(a.values.min()), float(a.values.max())}) for a in grid]
    conditions = []
    for corner in itertools.product(*extremes):
        here, condition = model, dict(base)
        for a, value in zip(grid, corner):
            here, condition = a.target.apply(here, condition, value)
        try:
            _check_modules(experiment.model_in_condition(here, condition))
            experiment.sized_for({name: np.array([v]) for name, v in condition.items()})
        except ValueError as error:
            where = ", ".join(f"{a.name}={value:g}" for a, value in zip(grid, corner))
            raise ValueError(f"the sweep's corner ({where}) is invalid: {error}") from error
        conditions.append(condition)
    return {name: np.array([c[name] for c in conditions]) for name in conditions[0]}
