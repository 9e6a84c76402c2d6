"""Axes of a sweep: where one value of a condition goes (a condition field of the experiment or
a leaf of the model), the grid axis that holds its values, and the grid.
"""

import abc
import math

import equinox as eqx
import numpy as np
from jaxtyping import Array, Float, PyTree

from plastic.experiment import ConditionField
from plastic.paths import ModelPath


class AbstractTarget(eqx.Module):
    """Where an axis value enters: a condition field or a model leaf."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The axis name, also the dim name in the result."""

    @property
    @abc.abstractmethod
    def units(self) -> str:
        """Units of the axis values."""

    @abc.abstractmethod
    def check(self, model: PyTree) -> None:
        """Raise ``ValueError`` if this target does not exist in ``model``."""

    @abc.abstractmethod
    def apply(self, model: PyTree, condition: dict, value: Float[Array, ""]) -> tuple[PyTree, dict]:
        """``model`` and ``condition`` (field name -> value) with ``value`` set."""


class ConditionValue(AbstractTarget):
    """A condition field of an experiment (e.g. ``delta_t``, ``frequency``, ``v_clamp``)."""

    field: ConditionField = eqx.field(static=True)

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def units(self) -> str:
        return self.field.unit

    def check(self, model) -> None:
        """Fields are checked by `ExperimentSweep.build` against their ranges."""

    def apply(self, model, condition, value):
        return model, {**condition, self.field.name: value}


class ModelLeaf(AbstractTarget):
    """A leaf of the model by path (`plastic.paths.ModelPath`, the syntax of ``plastic fit
    --parameter`` too), e.g. ``nmda.conductance`` or ``spines.neck_length[0]``; without an index
    every element of the leaf is set to the value.

    Attributes:
        path: as written.
        unit: units of the values, for the labels ("" if not given).
    """

    path: str = eqx.field(static=True)
    unit: str = eqx.field(static=True, default="")

    def __check_init__(self):
        ModelPath(self.path)

    @property
    def name(self) -> str:
        return self.path

    @property
    def units(self) -> str:
        return self.unit

    def check(self, model):
        ModelPath(self.path).check(model)

    def apply(self, model, condition, value):
        return ModelPath(self.path).set(model, value), condition


def _axis_values(values) -> np.ndarray:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


class Axis(eqx.Module):
    """One axis of the grid.

    Attributes:
        target: where the values go.
        values: ``(n,)`` the values, in the target's units (kept on the host: they are not
            compiled into the chunk function, so one compile serves every grid of a chunk size).
    """

    target: AbstractTarget
    values: np.ndarray = eqx.field(converter=_axis_values)

    def __check_init__(self):
        if self.values.ndim != 1 or self.values.size == 0:
            raise ValueError(
                f"axis {self.name!r} needs a non-empty 1-D array of values; got shape "
                f"{self.values.shape}"
            )
        if not np.all(np.isfinite(self.values)):
            raise ValueError(f"axis {self.name!r} values must be finite; got {self.values}")

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def units(self) -> str:
        return self.target.units


class AbstractGrid(eqx.Module):
    """The product of its axes' values, in C order: what `run_sweep` walks through in chunks."""

    axes: eqx.AbstractVar[tuple[Axis, ...]]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.values.size for a in self.axes)

    @property
    def n_conditions(self) -> int:
        return math.prod(self.shape)

    def conditions(self, start: int, stop: int) -> np.ndarray:
        """``(stop - start, n_axes)`` axis values of the conditions ``start:stop`` (C order)."""
        index = np.unravel_index(np.arange(start, stop), self.shape)
        return np.stack([a.values[i] for a, i in zip(self.axes, index)], axis=-1)
