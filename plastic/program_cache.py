"""Traced programs kept on disk, so that a second run of the same computation skips tracing.

JAX's persistent compilation cache (`plastic.compile_times.enable_compile_cache`) keeps compiled
programs, but a second run still traces: the Python work that builds the program (5 s for
``plastic simulate``, over a minute for a fit's gradient) before JAX can look the program up.
`cached_call` keeps the traced program itself, exported with `jax.export` and serialized, next to
the compilation cache; a later run of the same computation deserializes it and calls it, and its
compilation then comes from the compilation cache too.

"The same computation" is decided by a key (`program_key`) of: a name for the function, the
tree structure, shapes and dtypes of its array arguments, everything else about the arguments
(static fields and non-array leaves, seen into where they are functions: code, defaults and
closure values), the jax version, the backend, and a hash of every source file of plastic (so
an edited or upgraded plastic never runs an old program). The function must depend on nothing
but its arguments and plastic's code: pass a module-level function.

`lower_kept` does the same for a program that is looked at before it runs and takes its inputs
spread over several devices (a sweep's chunk: its memory and custom calls are read from the
compiled program, its conditions are sharded over the CPU devices): its key includes the
inputs' shardings and the kept program takes them as they are.

Outputs come back as pytrees, rebuilt from a pickled template of them beside the program. Where
that template cannot be pickled, or the program cannot be exported (a host callback),
`cached_call` falls back to `eqx.filter_jit` and says why once.
"""

import dataclasses
import functools
import hashlib
import pickle
import re
import types
import warnings
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax

from plastic.compile_times import cache_dir, computation_key

_SUFFIX = ".jaxexport"


@functools.cache
def source_fingerprint() -> str:
    """A hash of every ``.py`` file of the installed plastic package (paths and contents)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def program_key(name: str, *args) -> str:
    """The key of ``name`` called on ``args`` (see the module docstring): `computation_key`,
    and a description of every non-array part of ``args`` that sees into functions (their code,
    defaults and the values their closures hold: an ``optax.adam(0.1)`` is not an
    ``optax.adam(0.2)``), where a repr would not."""
    description = hashlib.sha256(_describe(args, set()).encode()).hexdigest()
    return computation_key("program", name, source_fingerprint(), description, *args)


def _describe(value, seen: set[int]) -> str:
    if eqx.is_array(value):
        return f"array{tuple(value.shape)}{value.dtype}"
    if id(value) in seen:
        return "<cycle>"
    if isinstance(value, (bool, int, float, complex, str, bytes, type(None))):
        return repr(value)
    seen = seen | {id(value)}
    if isinstance(value, functools.partial):
        parts = (value.func, value.args, value.keywords)
        return f"partial({_describe(parts, seen)})"
    if isinstance(value, types.MethodType):
        return f"method({_describe(value.__func__, seen)}, {_describe(value.__self__, seen)})"
    if isinstance(value, types.FunctionType):
        code = value.__code__
        cells = [cell.cell_contents for cell in value.__closure__ or ()]
        inside = (code.co_code, code.co_consts, value.__defaults__, value.__kwdefaults__, cells)
        return f"{value.__module__}.{value.__qualname__}({_describe(inside, seen)})"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: repr(item[0]))
        return "{" + ", ".join(f"{k!r}: {_describe(v, seen)}" for k, v in items) + "}"
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__}(" + ", ".join(_describe(v, seen) for v in value) + ")"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ", ".join(
            f"{f.name}={_describe(getattr(value, f.name, None), seen)}"
            for f in dataclasses.fields(value)
        )
        return f"{type(value).__module__}.{type(value).__qualname__}({fields})"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def program_folder() -> Path:
    """Where programs are kept: ``cache_dir() / "programs"``."""
    return cache_dir() / "programs"


_folder: Path | None = None


def enable_program_cache(folder: str | Path | None = None) -> Path:
    """Keep `cached_call`'s programs in ``folder`` (default `program_folder`); the command line
    does, next to its compilation cache. Off by default for a library user, for whom
    `cached_call` is `eqx.filter_jit`."""
    global _folder
    _folder = Path(folder) if folder is not None else program_folder()
    return _folder


def disable_program_cache() -> None:
    global _folder
    _folder = None


def program_cache_folder() -> Path | None:
    """Where `cached_call` keeps programs now; None when the cache is off."""
    return _folder


def cached_call(name: str, function: Callable, *args):
    """``eqx.filter_jit(function)(*args)``, through a traced program kept on disk when the
    cache is on (`enable_program_cache`): ``cached_program(name, function, *args)(*args)``."""
    return cached_program(name, function, *args)(*args)


def cached_program(name: str, function: Callable, *args) -> Callable:
    """``eqx.filter_jit(function)`` for arguments structured as ``args``, its traced program
    kept on disk when the cache is on (`enable_program_cache`): read from there if kept
    before, else traced, exported and kept. For a function called many times with arguments
    of one structure (a fit's step): the key is computed and the program loaded once.

    Args:
        name: what ``function`` is, for the key (e.g. ``"plastic.simulate.simulate_each"``).
        function: a module-level function of its arguments alone.
        args: example arguments (pytrees; arrays are inputs, everything else is static and
            must be the same in every call of the returned function).

    Returns:
        A function of arguments like ``args`` returning ``function``'s output (arrays as jax
        arrays).
    """
    if _folder is None:
        return _jitted(function)
    kept = _kept(name, function, args, sharded=False)
    if kept is None:
        return _jitted(function)
    exported, template = kept
    call = jax.jit(exported.call)

    device = jax.local_devices()[0]

    def program(*call_args):
        # Committed to one device, so that a step's outputs, fed back, are the same program's
        # inputs: uncommitted and committed arguments make two compilations of it.
        inputs = jax.device_put(jax.tree.leaves(eqx.filter(call_args, eqx.is_array)), device)
        return _filled(template, call(*inputs))

    return program


def _kept(name: str, function: Callable, args: tuple, sharded: bool):
    """``function``'s exported program for arguments structured as ``args`` and its output
    template: read from the cache folder, else traced, exported and kept there; None (after a
    warning) where it cannot be exported. With ``sharded``, the program takes its inputs with
    the shardings of ``args``' arrays (on several devices); else on any one device."""
    dynamic, static = eqx.partition(args, eqx.is_array)
    leaves, in_tree = jax.tree.flatten(dynamic)
    key = program_key(name, *args)
    if sharded:
        key = computation_key(key, str([getattr(leaf, "sharding", None) for leaf in leaves]))
    program_path, template_path = _folder / f"{key}{_SUFFIX}", _folder / f"{key}.outputs"
    try:
        exported = jax.export.deserialize(bytearray(program_path.read_bytes()))
        return exported, pickle.loads(template_path.read_bytes())
    except Exception:  # noqa: BLE001  (missing or damaged: trace again and replace it)
        pass
    outputs = {}

    def flat_function(*flat):
        result = function(*eqx.combine(jax.tree.unflatten(in_tree, flat), static))
        out_dynamic, out_static = eqx.partition(result, eqx.is_array)
        # The outputs' structure, as an object (a pickled treedef of equinox modules does not
        # unflatten in another process): every array replaced by a marker.
        marked = jax.tree.map(lambda _: _Output(), out_dynamic)
        outputs["template"] = eqx.combine(marked, out_static, is_leaf=_is_output)
        return jax.tree.leaves(out_dynamic)

    shapes = [
        jax.ShapeDtypeStruct(
            leaf.shape, leaf.dtype, sharding=getattr(leaf, "sharding", None) if sharded else None
        )
        for leaf in leaves
    ]
    try:
        exported = jax.export.export(jax.jit(flat_function))(*shapes)
        template = outputs["template"]
        blob, pickled = exported.serialize(), pickle.dumps(template)
    except Exception as error:  # noqa: BLE001  (any failure only costs the cache)
        _fall_back(name, error)
        return None
    _keep(program_path, blob)
    _keep(template_path, pickled)
    return exported, template


def lower_kept(name: str, function: Callable, *args):
    """``eqx.filter_jit(function).lower(*args)`` and the shapes of its outputs
    (``eqx.filter_eval_shape``), through a traced program kept on disk when the cache is on.
    For a program whose compiled form is looked at before it runs (its memory, its custom
    calls) and that runs with its inputs spread over several devices (a sweep's chunk): the
    kept program takes them with the shardings of ``args``' arrays.

    Returns:
        ``(lowered, shapes)``: ``lowered.as_text()`` and ``lowered.compile()``, whose result is
        called with arguments like ``args`` and has ``.compiled``, jax's compiled program.
    """
    kept = None if _folder is None else _kept(name, function, args, sharded=True)
    if kept is None:
        jitted = _jitted(function)
        return jitted.lower(*args), eqx.filter_eval_shape(jitted, *args)
    exported, template = kept
    shapes = _filled(template, [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in exported.out_avals])
    inputs = jax.tree.leaves(eqx.filter(args, eqx.is_array))
    return _KeptLowered(jax.jit(exported.call).lower(*inputs), template), shapes


@dataclasses.dataclass(frozen=True)
class _KeptLowered:
    """A kept program lowered for its inputs (`lower_kept`)."""

    lowered: jax.stages.Lowered
    template: object

    def as_text(self) -> str:
        return self.lowered.as_text()

    def compile(self) -> "_KeptCompiled":
        return _KeptCompiled(self.lowered.compile(), self.template)


@dataclasses.dataclass(frozen=True)
class _KeptCompiled:
    """A kept program compiled: called with the arguments it was lowered for, as a whole."""

    compiled: jax.stages.Compiled
    template: object

    def __call__(self, *args):
        return _filled(
            self.template, self.compiled(*jax.tree.leaves(eqx.filter(args, eqx.is_array)))
        )


class _Output:
    """Where an output array goes in a kept program's output template."""


def _is_output(x) -> bool:
    return isinstance(x, _Output)


def _filled(template, leaves):
    """``template`` with its output markers replaced by ``leaves``, in order."""
    leaves = iter(leaves)
    return jax.tree.map(
        lambda x: next(leaves) if _is_output(x) else x, template, is_leaf=_is_output
    )


@functools.cache
def _jitted(function: Callable) -> Callable:
    # One jitted wrapper per function, so that its compiled programs serve every later call.
    return eqx.filter_jit(function)


def _keep(path: Path, data: bytes) -> None:
    from plastic._atomic import write_atomically

    try:
        write_atomically(path, lambda file: file.write(data))
    except OSError:
        pass


_warned: set[str] = set()


def _fall_back(name: str, error: Exception) -> None:
    if name in _warned:
        return
    _warned.add(name)
    warnings.warn(
        f"the traced program of {name} is not kept on disk ({type(error).__name__}: {error}); "
        "it is traced again next time",
        stacklevel=3,
    )
