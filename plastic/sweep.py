"""Sweeps: a protocol run over a grid of conditions, with a labelled and resumable result.

A `Sweep` names its axes and its readouts. An axis is any argument of `pairing_protocol`
(``delta_t``, ``period``, ...), the inter-spine ``distance`` (position of spine 1 minus position
of spine 0, um) or any array leaf of the `SpineModel` by its attribute path (``nmda.conductance``,
``spines.neck_length``, ``rule.tau``; ``[i]`` picks spine i). A readout is a named function of
(model, protocol, `Simulation`) with named dims (`HeadCalciumAfter`, `PeakHeadCalcium`,
`DendriteCalciumAfter`, `FinalEfficacy`, or a subclass of `AbstractReadout`).

`run_sweep` evaluates the grid in chunks of ``chunk_size`` conditions. One compiled function
evaluates a chunk: the chunk is laid out across all devices along its condition axis
(`jax.sharding.NamedSharding`) and each device vmaps its share (or runs it in batches with
`jax.lax.map`); XLA's SPMD partitioner splits the vmapped solve so that each device computes its
own conditions. (`jax.shard_map` would say the same explicitly, but lineax, inside diffrax's
implicit solvers, rejects the manual-axis shardings that it gives every traced value.) Before the
first chunk runs, the compiled function's memory analysis gives the memory one chunk needs on
each device; a chunk size that would not fit is refused with the numbers. Every finished chunk is
written at once, so an interrupted sweep resumes where it stopped.

Storage. Finished chunks go to ``<output>.partial/``, one ``.npz`` file per chunk, each written
to a temporary name and renamed into place: a crash at any instant loses at most the chunk in
flight and never corrupts a finished one (an HDF5/NetCDF4 file written in place can be left
unreadable by a crash, and a grid-shaped store cannot take a flat run of conditions as one
region write). When every chunk is done the grid is written as one NetCDF file through xarray
with scipy's NetCDF3 writer (portable, byte-for-byte deterministic, no HDF5 needed), dims = the
axes followed by the readout's own dims, and the partial folder is removed.
"""

import abc
import dataclasses
import functools
import inspect
import itertools
import json
import math
import operator
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from types import MappingProxyType

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from jaxtyping import Array, Float

from plastic._fingerprint import tree_digest
from plastic._validation import check_range
from plastic.model import SpineModel
from plastic.protocols import Protocol, pairing_protocol
from plastic.simulate import Simulation, SolverSettings, simulate

CONDITION = "condition"
"""The mesh axis that a chunk of conditions is split along."""

PROTOCOL_ARGUMENT_UNITS = MappingProxyType(
    {
        "delta_t": "ms",
        "period": "ms",
        "second_spine_delay": "ms",
        "uncaging_duration": "ms",
        "current_duration": "ms",
        "current_amplitude": "pA",
        "first_pairing": "ms",
        "quiet": "ms",
    }
)
"""The numeric arguments of `pairing_protocol` that can be swept, and their units."""

_STRUCTURAL_PROTOCOL_ARGUMENTS = ("n_pairings", "uncaged_spines", "n_spines")
_GEOMETRY_PARTS = ("soma", "dendrite", "spines")
_MODEL_PATH = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\[(\d+)\])?$")

MEMORY_FRACTION = 0.8
"""Share of the free memory that the default limit allows a sweep to use."""


# Axes: where one value of a condition goes.


class AbstractTarget(eqx.Module):
    """Where an axis value enters: a protocol argument or a model leaf."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The axis name, also the dim name in the result."""

    @property
    @abc.abstractmethod
    def units(self) -> str:
        """Units of the axis values."""

    @abc.abstractmethod
    def check(self, model: SpineModel) -> None:
        """Raise ``ValueError`` if this target does not exist in ``model`` or its protocol."""

    @abc.abstractmethod
    def apply(
        self, model: SpineModel, arguments: dict, value: Float[Array, ""]
    ) -> tuple[SpineModel, dict]:
        """``model`` and the `pairing_protocol` keyword ``arguments`` with ``value`` set."""


class ProtocolArgument(AbstractTarget):
    """A numeric argument of `pairing_protocol` (a key of `PROTOCOL_ARGUMENT_UNITS`)."""

    argument: str = eqx.field(static=True)

    @property
    def name(self) -> str:
        return self.argument

    @property
    def units(self) -> str:
        return PROTOCOL_ARGUMENT_UNITS[self.argument]

    def check(self, model):
        if self.argument in _STRUCTURAL_PROTOCOL_ARGUMENTS:
            raise ValueError(
                f"the protocol argument {self.argument!r} sets array shapes and cannot be a sweep "
                "axis; run one sweep per value"
            )
        if self.argument not in PROTOCOL_ARGUMENT_UNITS:
            raise ValueError(
                f"unknown protocol argument {self.argument!r}; sweepable arguments are "
                f"{sorted(PROTOCOL_ARGUMENT_UNITS)}"
            )

    def apply(self, model, arguments, value):
        return model, {**arguments, self.argument: value}


class InterSpineDistance(AbstractTarget):
    """Position of spine 1 minus position of spine 0, um (spine 0 stays where it is)."""

    @property
    def name(self) -> str:
        return "distance"

    @property
    def units(self) -> str:
        return "um"

    def check(self, model):
        if model.n_spines < 2:
            raise ValueError(f"the distance axis needs >= 2 spines; the model has {model.n_spines}")

    def apply(self, model, arguments, value):
        position = model.geometry.spines.position
        moved = position.at[1].set(position[0] + value)
        return eqx.tree_at(lambda m: m.geometry.spines.position, model, moved), arguments


class ModelLeaf(AbstractTarget):
    """An array leaf of the model by attribute path, e.g. ``nmda.conductance``.

    ``soma.``, ``dendrite.`` and ``spines.`` abbreviate ``geometry.soma.`` etc. A trailing
    ``[i]`` sets element i of the last axis (spine i of a per-spine field); without it every
    element of the leaf is set to the value.

    Attributes:
        path: as written, e.g. ``spines.neck_length[0]``.
        unit: units of the values, for the labels ("" if not given).
    """

    path: str = eqx.field(static=True)
    unit: str = eqx.field(static=True, default="")

    def __check_init__(self):
        if _MODEL_PATH.match(self.path) is None:
            raise ValueError(
                f"axis {self.path!r} is not an attribute path like 'nmda.conductance' or "
                "'spines.neck_length[0]'"
            )

    @property
    def name(self) -> str:
        return self.path

    @property
    def units(self) -> str:
        return self.unit

    def _attributes(self) -> tuple[tuple[str, ...], int | None]:
        path, index = _MODEL_PATH.match(self.path).groups()
        attributes = tuple(path.split("."))
        if attributes[0] in _GEOMETRY_PARTS:
            attributes = ("geometry",) + attributes
        return attributes, None if index is None else int(index)

    def _get(self, model):
        node = model
        for attribute in self._attributes()[0]:
            node = getattr(node, attribute)
        return node

    def check(self, model):
        attributes, index = self._attributes()
        node = model
        for depth, attribute in enumerate(attributes):
            if not hasattr(node, attribute):
                raise ValueError(
                    f"axis {self.path!r}: {'.'.join(('model',) + attributes[:depth])} has no "
                    f"attribute {attribute!r}"
                )
            node = getattr(node, attribute)
        if not (eqx.is_array(node) and jnp.issubdtype(node.dtype, jnp.floating)):
            raise ValueError(
                f"axis {self.path!r} is not an array parameter of the model (got "
                f"{type(node).__name__}); structural settings cannot be swept"
            )
        if index is not None and not (node.ndim >= 1 and index < node.shape[-1]):
            raise ValueError(
                f"axis {self.path!r}: index {index} is out of range for a leaf of shape "
                f"{tuple(node.shape)}"
            )

    def apply(self, model, arguments, value):
        index = self._attributes()[1]
        leaf = self._get(model)
        new = jnp.full_like(leaf, value) if index is None else leaf.at[..., index].set(value)
        return eqx.tree_at(self._get, model, new), arguments


def target(name: str, units: str | None = None) -> AbstractTarget:
    """The target that an axis name denotes: ``distance``, a protocol argument or a model path.

    ``units`` labels a model path's values (protocol arguments and distance know theirs).
    """
    if name == "distance":
        return InterSpineDistance()
    if name in PROTOCOL_ARGUMENT_UNITS or name in _STRUCTURAL_PROTOCOL_ARGUMENTS:
        return ProtocolArgument(name)
    return ModelLeaf(name, "" if units is None else units)


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


def axis(name: str, values, units: str | None = None) -> Axis:
    """An `Axis` from a name (see `target`) and its values."""
    return Axis(target(name, units), values)


# Readouts: what is kept of each condition's simulation.


class AbstractReadout(eqx.Module):
    """A named function of (model, protocol, `Simulation`) giving an array with named dims.

    A readout that needs the full state at some times returns them from `save_times`; its call
    then sees exactly those times in ``simulation.save_times`` and ``simulation.states``.
    """

    name: eqx.AbstractClassVar[str]
    dims: eqx.AbstractClassVar[tuple[str, ...]]
    units: eqx.AbstractClassVar[str]

    def save_times(self, protocol: Protocol) -> Float[Array, " n_save"]:
        """Times (ms) at which this readout needs the full state; none by default."""
        return jnp.zeros((0,))

    def check(self, model: SpineModel) -> None:
        """Raise ``ValueError`` if ``model`` lacks what this readout reads."""

    @abc.abstractmethod
    def __call__(self, model: SpineModel, protocol: Protocol, simulation: Simulation) -> Array:
        """The readout, with one axis per name in ``dims``."""


class HeadCalciumAfter(AbstractReadout):
    """Free calcium in each spine head `AFTER_PAIRING_DELAY` ms after the last pairing, uM;
    shape ``(n_spines,)``."""

    name = "head_calcium_after"
    dims = ("spine",)
    units = "uM"

    def __call__(self, model, protocol, simulation):
        return simulation.head_calcium_after[-1]


class DendriteCalciumAfter(AbstractReadout):
    """Shaft calcium under each spine `AFTER_PAIRING_DELAY` ms after the last pairing, uM;
    shape ``(n_spines,)``."""

    name = "dendrite_calcium_after"
    dims = ("spine",)
    units = "uM"

    def __call__(self, model, protocol, simulation):
        return simulation.dendrite_calcium_after[-1]


class PeakHeadCalcium(AbstractReadout):
    """Peak free calcium in each spine head during the last pairing, uM; shape ``(n_spines,)``.

    The maximum over samples every ``resolution`` ms from the start of the last pairing over
    ``window`` ms (clipped to the protocol's end).

    Attributes:
        window: ms. resolution: ms.
    """

    window: float = 100.0
    resolution: float = 0.1

    name = "peak_head_calcium"
    dims = ("spine",)
    units = "uM"

    def __check_init__(self):
        check_range("PeakHeadCalcium.window", self.window, lower=0.0, unit="ms")
        check_range("PeakHeadCalcium.resolution", self.resolution, lower=0.0, unit="ms")

    def save_times(self, protocol):
        n_samples = int(round(self.window / self.resolution)) + 1
        times = protocol.pairing_start[-1] + self.resolution * jnp.arange(n_samples)
        return jnp.minimum(times, protocol.duration)

    def __call__(self, model, protocol, simulation):
        return simulation.states.head_calcium.max(axis=0)


class FinalEfficacy(AbstractReadout):
    """The rule's efficacy at each spine at the end of the protocol (1 = unchanged);
    shape ``(n_spines,)``. Needs a model with a rule."""

    name = "efficacy"
    dims = ("spine",)
    units = "1"

    def check(self, model):
        if model.rule is None:
            raise ValueError(
                "readout 'efficacy' needs a model with a plasticity rule; SpineModel.rule is None"
            )

    def __call__(self, model, protocol, simulation):
        return jax.vmap(model.rule.efficacy)(simulation.final_state.rule)


READOUTS = MappingProxyType(
    {r.name: r for r in (HeadCalciumAfter, PeakHeadCalcium, DendriteCalciumAfter, FinalEfficacy)}
)
"""The built-in readouts by name."""


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


class Sweep(eqx.Module):
    """A grid of conditions (the product of the axes, in C order) and the readouts to keep.

    Attributes:
        axes: the grid's axes; the result has one dim per axis, in this order.
        readouts: one result variable each.
        model: the base model that the axes modify.
        protocol_arguments: fixed keyword arguments of `pairing_protocol` (``n_spines`` comes
            from the model); ``delta_t`` must be here or an axis.
        settings: solver settings.

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
    def shape(self) -> tuple[int, ...]:
        return tuple(a.values.size for a in self.axes)

    @property
    def n_conditions(self) -> int:
        return math.prod(self.shape)

    @property
    def evaluation(self) -> Evaluation:
        return Evaluation(
            tuple(a.target for a in self.axes),
            self.model,
            self.protocol_arguments,
            self.readouts,
            self.settings,
        )

    def conditions(self, start: int, stop: int) -> np.ndarray:
        """``(stop - start, n_axes)`` axis values of the conditions ``start:stop`` (C order)."""
        index = np.unravel_index(np.arange(start, stop), self.shape)
        return np.stack([a.values[i] for a, i in zip(self.axes, index)], axis=-1)


# Running a sweep.


class SweepTooLargeError(ValueError):
    """A sweep refused before it runs because it would not fit in memory.

    Attributes:
        needed: bytes it would need. limit: bytes it may use.
    """

    def __init__(self, message: str, needed: int, limit: int):
        super().__init__(message)
        self.needed = needed
        self.limit = limit


def _evaluate_chunk(evaluation, conditions, mesh, batch_size):
    # (chunk, n_axes) -> (devices, share, n_axes), sharded along the leading axis: a batch of
    # `jax.lax.map` then spans every device instead of the scan running over a sharded axis.
    on_devices = NamedSharding(mesh, P(CONDITION))
    shares = conditions.reshape(mesh.size, -1, conditions.shape[-1])
    shares = jax.lax.with_sharding_constraint(shares, on_devices)
    if batch_size is None:
        run = jax.vmap(evaluation)
    else:
        run = functools.partial(jax.lax.map, evaluation, batch_size=batch_size)
    outputs = jax.lax.with_sharding_constraint(jax.vmap(run)(shares), on_devices)
    return jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), outputs)


# One module-level jitted function: a second sweep with the same structure and chunk shape reuses
# its compiled code.
_evaluate_chunk_jit = eqx.filter_jit(_evaluate_chunk)


def _bytes(n: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


def host_memory_available() -> int:
    """Bytes of host memory available now (``MemAvailable`` on Linux)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def device_memory_limit(devices: Sequence[jax.Device]) -> int:
    """Default per-device limit, bytes: `MEMORY_FRACTION` of the free memory of the emptiest
    device; CPU devices share the host's memory equally."""
    if all(d.platform == "cpu" for d in devices):
        return int(MEMORY_FRACTION * host_memory_available() / len(devices))
    free = []
    for device in devices:
        stats = device.memory_stats()
        free.append(stats["bytes_limit"] - stats["bytes_in_use"])
    return int(MEMORY_FRACTION * min(free))


def _fingerprint(*trees) -> str:
    """A hash of values and structure, stable across processes."""
    return tree_digest(*trees).hex()


def _chunk_file(folder: str, index: int) -> str:
    return os.path.join(folder, f"chunk_{index:08d}.npz")


def _open_partial(folder: str, fingerprint: str, overwrite: bool) -> set[int]:
    """Create or reopen the folder of finished chunks; the indices already finished."""
    manifest = os.path.join(folder, "manifest.json")
    if os.path.isdir(folder) and overwrite:
        shutil.rmtree(folder)
    if os.path.isdir(folder):
        with open(manifest) as file:
            if json.load(file)["fingerprint"] != fingerprint:
                raise ValueError(
                    f"{folder} holds partial results of a different sweep (axes, readouts, "
                    "model, protocol, solver or chunk size differ); delete it, choose another "
                    "output file or pass overwrite=True"
                )
        found = (re.fullmatch(r"chunk_(\d+)\.npz", name) for name in os.listdir(folder))
        return {int(match.group(1)) for match in found if match}
    os.makedirs(folder)
    with open(manifest, "w") as file:
        json.dump({"fingerprint": fingerprint}, file)
    return set()


def _write_atomically(path: str, write: Callable) -> None:
    temporary = path + ".tmp"
    with open(temporary, "wb") as file:
        write(file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def _dataset(sweep: Sweep, outputs: Sequence[np.ndarray], attrs: dict) -> xr.Dataset:
    names = tuple(a.name for a in sweep.axes)
    coords = {a.name: (a.name, a.values, {"units": a.units}) for a in sweep.axes}
    variables = {}
    for readout, output in zip(sweep.readouts, outputs):
        grid = output.reshape(sweep.shape + output.shape[1:])
        variables[readout.name] = (
            names + readout.dims,
            grid,
            {"units": readout.units, "description": " ".join(type(readout).__doc__.split())},
        )
        for dim, size in zip(readout.dims, output.shape[1:]):
            coords.setdefault(dim, (dim, np.arange(size, dtype=np.int32)))
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def _default_progress(line: str) -> None:
    print(line, flush=True)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _memory_needed(compiled) -> int:
    """Bytes one call of ``compiled`` (an equinox ``Compiled``) needs on each device."""
    memory = compiled.compiled.memory_analysis()
    return (
        memory.argument_size_in_bytes
        + memory.output_size_in_bytes
        + memory.temp_size_in_bytes
        + memory.generated_code_size_in_bytes
        - memory.alias_size_in_bytes
    )


def run_sweep(
    sweep: Sweep,
    path: str,
    *,
    chunk_size: int = 64,
    batch_size: int | None = None,
    devices: Sequence[jax.Device] | None = None,
    memory_limit: int | None = None,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = _default_progress,
) -> xr.Dataset:
    """Evaluate every condition of ``sweep`` and write the labelled result to ``path`` (NetCDF).

    Args:
        sweep: the grid and readouts.
        path: the output file. Finished chunks are kept in ``path + ".partial"`` until the end;
            a later call with the same sweep and chunk size resumes from there (on any number
            of devices), and a call whose ``path`` already holds this sweep's result loads it.
        chunk_size: conditions per compiled call, a multiple of the number of devices; it
            bounds memory (capped at the grid size rounded up to that multiple).
        batch_size: conditions vmapped together on a device; the rest of the device's share of
            a chunk runs batch after batch (`jax.lax.map`). Default: the whole share at once.
            On several CPU devices it is 1 whatever is asked (and the progress says so):
            there, jaxlib's batched LAPACK LU (in every implicit step) deadlocks the devices'
            shared thread pool (measured with 2 forced host devices and 84-state LUs; one
            matrix at a time, or one device, runs).
        devices: the devices to split chunks over (default: all of `jax.devices()`).
        memory_limit: bytes one chunk may use on each device (default `device_memory_limit`).
        overwrite: replace an existing result, or partial results of a different sweep.
        progress: called with one line per chunk (done/total, conditions/s, ETA); None for
            silence.

    Returns:
        The result: one variable per readout with dims ``(*axis names, *readout dims)`` and
        coordinates with units.

    Raises:
        SweepTooLargeError: before any chunk runs, if a chunk or the result would not fit.
        FileExistsError: if ``path`` holds a different result and ``overwrite`` is False.
        RuntimeError: if a chunk fails (e.g. a solve reaches ``max_steps``); finished chunks
            are kept for a rerun.
    """
    report = progress if progress is not None else (lambda line: None)
    devices = tuple(jax.devices() if devices is None else devices)
    n_devices = len(devices)
    if chunk_size < 1 or chunk_size % n_devices:
        raise ValueError(
            f"chunk_size must be a positive multiple of the number of devices ({n_devices}); "
            f"got {chunk_size}"
        )
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 or None; got {batch_size}")
    if n_devices > 1 and devices[0].platform == "cpu" and batch_size != 1:
        report(
            f"batch_size {batch_size} -> 1 on {n_devices} CPU devices (batched LAPACK LUs "
            "deadlock their shared thread pool)"
        )
        batch_size = 1
    n_conditions = sweep.n_conditions
    chunk_size = min(chunk_size, -(-n_conditions // n_devices) * n_devices)
    n_chunks = -(-n_conditions // chunk_size)
    fingerprint = _fingerprint(sweep, chunk_size)

    if os.path.exists(path) and not overwrite:
        existing = xr.load_dataset(path, engine="scipy")
        if existing.attrs.get("fingerprint") == fingerprint:
            report(f"{path} already holds this sweep; loaded it")
            return existing
        raise FileExistsError(
            f"{path} holds a different result; delete it, choose another output file or pass "
            "overwrite=True"
        )

    grid = " x ".join(f"{a.name} {a.values.size}" for a in sweep.axes)
    report(
        f"sweep of {n_conditions} conditions ({grid}) in {n_chunks} chunks of {chunk_size} on "
        f"{n_devices} {devices[0].platform} device(s); compiling ..."
    )
    began = time.perf_counter()
    mesh = Mesh(np.asarray(devices), (CONDITION,))
    dynamic, static = eqx.partition(sweep.evaluation, eqx.is_array)
    evaluation = eqx.combine(jax.device_put(dynamic, NamedSharding(mesh, P())), static)
    on_devices = NamedSharding(mesh, P(CONDITION))

    def chunk(index):
        start = index * chunk_size
        values = sweep.conditions(start, min(start + chunk_size, n_conditions))
        # The last chunk repeats its last condition so that every chunk has the compiled shape.
        padded = np.concatenate([values, np.repeat(values[-1:], chunk_size - len(values), 0)])
        return jax.device_put(padded, on_devices), len(values)

    arguments = (evaluation, chunk(0)[0], mesh, batch_size)
    # Traced once: the trace is cached for the compile below and for later sweeps alike.
    shapes = eqx.filter_eval_shape(_evaluate_chunk_jit, *arguments)
    result_bytes = n_conditions * sum(8 * math.prod(s.shape[1:]) for s in shapes)
    host_limit = int(MEMORY_FRACTION * host_memory_available())
    if result_bytes > host_limit:
        raise SweepTooLargeError(
            f"the result of {n_conditions} conditions needs {_bytes(result_bytes)} of host "
            f"memory but the limit is {_bytes(host_limit)}; split the grid into several sweeps",
            result_bytes,
            host_limit,
        )

    compiled = _evaluate_chunk_jit.lower(*arguments).compile()
    needed = _memory_needed(compiled)
    limit = device_memory_limit(devices) if memory_limit is None else memory_limit
    if needed > limit:
        fits = max(n_devices, int(chunk_size * limit / needed) // n_devices * n_devices)
        raise SweepTooLargeError(
            f"a chunk of {chunk_size} conditions needs {_bytes(needed)} per device "
            f"({_bytes(needed * n_devices / chunk_size)} per condition, from the compiled "
            f"function's memory analysis) but the limit is {_bytes(limit)}; use chunk_size <= "
            f"{fits} or a larger memory_limit",
            needed,
            limit,
        )
    folder = path + ".partial"
    finished = _open_partial(folder, fingerprint, overwrite)
    report(
        f"compiled in {time.perf_counter() - began:.1f} s; a chunk needs {_bytes(needed)} per "
        f"device (limit {_bytes(limit)}); {len(finished)} of {n_chunks} chunks already done"
    )

    began = time.perf_counter()
    done_before = sum(min(chunk_size, n_conditions - i * chunk_size) for i in finished)
    done_now = 0
    for index in range(n_chunks):
        if index in finished:
            continue
        conditions, n_real = chunk(index)
        try:
            outputs = compiled(evaluation, conditions, mesh, batch_size)
            outputs = [np.asarray(out)[:n_real] for out in outputs]
        except jax.errors.JaxRuntimeError as error:
            start = index * chunk_size
            raise RuntimeError(
                f"chunk {index + 1}/{n_chunks} (conditions {start}:{start + n_real}) failed; "
                f"finished chunks are kept in {folder} for a rerun"
            ) from error
        named = {r.name: out for r, out in zip(sweep.readouts, outputs)}
        _write_atomically(_chunk_file(folder, index), functools.partial(np.savez, **named))
        finished.add(index)
        done_now += n_real
        rate = done_now / (time.perf_counter() - began)
        remaining = n_conditions - done_before - done_now
        report(
            f"chunk {len(finished)}/{n_chunks}: {done_before + done_now}/{n_conditions} "
            f"conditions, {rate:.3g} conditions/s, ETA {_duration(remaining / rate)}"
        )

    pieces = {r.name: [] for r in sweep.readouts}
    for index in range(n_chunks):
        with np.load(_chunk_file(folder, index)) as stored:
            for name, arrays in pieces.items():
                arrays.append(stored[name])
    outputs = [np.concatenate(arrays) for arrays in pieces.values()]
    attrs = {
        "title": "plastic sweep",
        "axes": json.dumps([a.name for a in sweep.axes]),
        "protocol_arguments": json.dumps(
            sweep.protocol_arguments, default=lambda x: np.asarray(x).tolist()
        ),
        "solver": repr(sweep.settings),
        "chunk_size": chunk_size,
        "fingerprint": fingerprint,
    }
    dataset = _dataset(sweep, outputs, attrs)
    _write_atomically(path, lambda file: file.write(dataset.to_netcdf(engine="scipy")))
    shutil.rmtree(folder)
    report(f"wrote {path}")
    return dataset
