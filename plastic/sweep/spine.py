"""A grid of conditions of the spine model's pairing protocol (`Sweep`) and the function that
evaluates one condition (`Evaluation`).
"""

import dataclasses
import inspect
import itertools
import json
import operator

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic.model import SpineModel
from plastic.protocols import Protocol, pairing_protocol
from plastic.simulate import SolverSettings, simulate
from plastic.sweep.readouts import AbstractReadout
from plastic.sweep.targets import AbstractGrid, AbstractTarget, Axis

# The sweep.


class Evaluation(eqx.Module):
    """Everything one condition needs besides its axis values: a pure function of the values.

    Attributes:
        targets: one per axis, in the order of the values.
        model: the base model. protocol_arguments: fixed keyword arguments of `pairing_protocol`.
        readouts: what to keep. settings: how to solve.
    """

    targets: tuple[AbstractTarget, ...]
    model: SpineModel
    protocol_arguments: dict
    readouts: tuple[AbstractReadout, ...]
    settings: SolverSettings

    def configure(self, values: Float[Array, " n_axes"]) -> tuple[SpineModel, Protocol]:
        """The model and protocol of the condition with these axis ``values``."""
        model, arguments = self.model, dict(self.protocol_arguments)
        for where, value in zip(self.targets, values):
            model, arguments = where.apply(model, arguments, value)
        delta_t = arguments.pop("delta_t")
        return model, pairing_protocol(delta_t, n_spines=model.n_spines, **arguments)

    def __call__(self, values: Float[Array, " n_axes"]) -> tuple[Array, ...]:
        """One array per readout for the condition with these axis ``values``."""
        model, protocol = self.configure(values)
        requested = [readout.save_times(protocol) for readout in self.readouts]
        simulation = simulate(model, protocol, jnp.concatenate(requested), self.settings)
        bounds = np.cumsum([0] + [times.shape[0] for times in requested])
        outputs = []
        for readout, times, start, stop in zip(self.readouts, requested, bounds, bounds[1:]):
            states = jax.tree.map(operator.itemgetter(slice(start, stop)), simulation.states)
            view = eqx.tree_at(lambda s: (s.save_times, s.states), simulation, (times, states))
            outputs.append(readout(model, protocol, view))
        return tuple(outputs)


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


class Sweep(AbstractGrid):
    """A grid of conditions (the product of the axes, in C order) and the readouts to keep.

    Attributes:
        axes: the grid's axes; the result has one dim per axis, in this order.
        readouts: one result variable each.
        model: the base model that the axes modify.
        protocol_arguments: fixed keyword arguments of `pairing_protocol` (``n_spines`` comes
            from the model); ``delta_t`` must be here or an axis.
        settings: solver settings.
        model_description: which model this is, in words, for the result file.

    Raises:
        ValueError: for an unknown or structural axis, a duplicate name, a readout the model
            cannot give, or a grid corner (every axis at its minimum or maximum) that the model
            or the protocol rejects. The corners bound the grid for the range checks, which are
            all monotone in each value.
    """

    axes: tuple[Axis, ...] = eqx.field(converter=tuple)
    readouts: tuple[AbstractReadout, ...] = eqx.field(converter=tuple)
    model: SpineModel = SpineModel()
    protocol_arguments: dict = eqx.field(default_factory=dict)
    settings: SolverSettings = SolverSettings()
    model_description: str = eqx.field(static=True, default="")

    def __check_init__(self):
        if len(self.axes) == 0:
            raise ValueError("a sweep needs at least one axis")
        if len(self.readouts) == 0:
            raise ValueError("a sweep needs at least one readout")
        names = [a.name for a in self.axes] + [r.name for r in self.readouts]
        dims = {d for r in self.readouts for d in r.dims}
        clashes = {n for n in names if names.count(n) > 1} | (dims & set(names))
        if clashes:
            raise ValueError(f"axis, readout and dim names must be distinct; {sorted(clashes)}")
        allowed = set(inspect.signature(pairing_protocol).parameters) - {"n_spines"}
        unknown = set(self.protocol_arguments) - allowed
        if unknown:
            raise ValueError(
                f"protocol_arguments {sorted(unknown)} are not arguments of pairing_protocol; "
                f"allowed: {sorted(allowed)} (n_spines comes from the model)"
            )
        if "delta_t" not in self.protocol_arguments and "delta_t" not in names:
            raise ValueError("delta_t must be a sweep axis or a key of protocol_arguments")
        for a in self.axes:
            a.target.check(self.model)
        for r in self.readouts:
            r.check(self.model)
        evaluation = self.evaluation
        extremes = [sorted({float(a.values.min()), float(a.values.max())}) for a in self.axes]
        for corner in itertools.product(*extremes):
            try:
                model, protocol = evaluation.configure(jnp.asarray(corner))
                _check_modules(model)
            except ValueError as error:
                where = ", ".join(f"{a.name}={v:g}" for a, v in zip(self.axes, corner))
                raise ValueError(f"the sweep's corner ({where}) is invalid: {error}") from error

    @property
    def evaluation(self) -> Evaluation:
        return Evaluation(
            tuple(a.target for a in self.axes),
            self.model,
            self.protocol_arguments,
            self.readouts,
            self.settings,
        )

    def attributes(self) -> dict:
        """What the result file records besides the axes: protocol and solver."""
        arguments = json.dumps(self.protocol_arguments, default=lambda x: np.asarray(x).tolist())
        return {
            "protocol_arguments": arguments,
            "solver": repr(self.settings),
            "model": self.model_description,
        }
