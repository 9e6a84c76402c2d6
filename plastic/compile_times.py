"""How long the last compilation of the same computation took, so that a long compile is
announced with what to expect: "compiling ..., about 52 s last time".

Kept per user in ``PLASTIC_CACHE_DIR`` (default ``$XDG_CACHE_HOME/plastic``, else
``~/.cache/plastic``), file ``compile_times.json``: computation key -> seconds. The key hashes
what decides the compiled program (the structure and shapes of its arguments, the backend and the
versions of plastic and jax), never array values, so that a fit of other data of the same shape
finds the time of the last one. The memory is a hint: a missing, unreadable or unwritable file
only leaves the hint out.

The compiled programs themselves can be kept too, in JAX's persistent compilation cache
(`enable_compile_cache`, default folder ``cache_dir() / "jax"``): a second run of the same
computation then loads its program instead of compiling it. The command line turns it on
(``--compile-cache DIR``, ``--no-compile-cache``); a library user opts in. JAX keeps no program
with host callbacks, so none of plastic's solves has one (`plastic.solver_status`: no
``eqx.error_if`` inside, failures come out as result codes and are checked on the host). What this
cache cannot save is tracing, the Python work that builds the program before JAX looks it up:
`plastic.program_cache` keeps the traced programs too (the command line turns it on with the
compilation cache), for ``plastic simulate``, the fit step, the replay's recording and a sweep's
chunk. Measured on 2 CPU cores, first run / second run, 2026-12-07:

- ``plastic simulate --n-pairings 1 --quiet-min 0.1``: the solve 9.7 s / 0.5 s (with the
  compilation cache alone 10.7 s / 3.0 s); the whole command 16.4 s / 6.6 s.
- ``plastic fit --select "condition=single +13 ms" --parameter rule.cam_half:0.5:40:log
  --n-steps 2 --n-pairings 2 --readout-min 1``: 100 s / 12.7 s (the compilation cache alone:
  90 s / 46 s); the wait for the step's program and the first step, 63.7 s / 1.9 s.
- ``plastic sweep --dt -10:10:20 --n-pairings 1 --quiet-min 0.1`` (2 CPU devices): the chunk
  8.5 s / 0.5 s, the whole command 11.5 s / 3.7 s; with ``--sparse-jacobian`` 12.6 s / 0.6 s
  and 15.8 s / 3.7 s (with the compilation cache alone, earlier
  and at load ~7: the chunk 44 s / 13 s).
"""

import hashlib
import json
import os
import re
import time
from pathlib import Path

import jax

_FILE = "compile_times.json"

MIN_COMPILE_SECONDS = 1.0
"""Programs that compile faster than this are not kept: loading them would save little, and
every small jitted helper would add a file."""


def cache_dir() -> Path:
    """The folder of plastic's per-user caches (``PLASTIC_CACHE_DIR``, else the XDG cache)."""
    given = os.environ.get("PLASTIC_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "plastic"


def enable_compile_cache(path: str | os.PathLike | None = None) -> Path:
    """Keep compiled programs in JAX's persistent compilation cache in ``path`` (default
    ``cache_dir() / "jax"``, created if needed), so that later processes load them instead of
    compiling: every program that took at least `MIN_COMPILE_SECONDS` to compile, whatever its
    size. Call it before the first compilation that should be kept. The folder, which JAX keys
    by the program, jax version and backend, can be deleted at any time.

    Returns:
        The folder.

    Raises:
        OSError: if the folder cannot be created.
    """
    from jax.experimental.compilation_cache import compilation_cache

    folder = Path(path) if path is not None else cache_dir() / "jax"
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    # -1: no size threshold (0 would let JAX pick one per file system); the time decides.
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    # JAX settles on a cache once, at the first compilation: start again from this folder.
    compilation_cache.reset_cache()
    return folder


def disable_compile_cache() -> None:
    """Compile every program afresh: JAX's persistent compilation cache off (also when
    ``JAX_COMPILATION_CACHE_DIR`` names a folder)."""
    from jax.experimental.compilation_cache import compilation_cache

    jax.config.update("jax_enable_compilation_cache", False)
    compilation_cache.reset_cache()


def computation_key(*parts) -> str:
    """A key for the compiled program of ``parts`` (pytrees, strings, numbers): their tree
    structure, the shapes and dtypes of their array leaves, the repr of the rest (static in a
    jitted call), the backend
    and the versions of plastic and jax."""
    from plastic import __version__

    digest = hashlib.sha256(f"{__version__} {jax.__version__} {jax.default_backend()}".encode())
    for part in parts:
        leaves, structure = jax.tree.flatten(part)
        digest.update(_without_addresses(str(structure)))
        for leaf in leaves:
            # Arrays enter a jitted program by shape and dtype; anything else is part of it.
            shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
            array = shape is not None and dtype is not None  # a Mesh has a shape, no dtype
            text = f"{shape}{dtype}" if array else _without_addresses(repr(leaf))
            digest.update(text if isinstance(text, bytes) else text.encode())
    return digest.hexdigest()[:32]


def _without_addresses(text: str) -> bytes:
    # Memory addresses (``<function f at 0x...>``) differ between processes.
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text).encode()


def _read() -> dict[str, float]:
    try:
        recorded = json.loads((cache_dir() / _FILE).read_text())
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def last_compile_time(key: str) -> float | None:
    """Seconds the last compilation of ``key`` took, or None if none is remembered."""
    seconds = _read().get(key)
    return float(seconds) if isinstance(seconds, (int, float)) else None


def remember_compile_time(key: str, seconds: float) -> None:
    """Record ``seconds`` as the compile time of ``key`` (silently skipped if the cache folder
    cannot be written)."""
    from plastic._atomic import write_atomically

    recorded = _read()
    recorded[key] = round(float(seconds), 1)
    text = json.dumps(recorded, indent=0, sort_keys=True).encode()
    try:
        write_atomically(cache_dir() / _FILE, lambda file: file.write(text))
    except OSError:
        pass


def compiling_message(what: str, key: str) -> str:
    """``"compiling WHAT ..."`` with ``", about N s last time"`` when that is remembered."""
    last = last_compile_time(key)
    return f"compiling {what} ..." + ("" if last is None else f", about {last:.0f} s last time")


class CompileClock:
    """Times a first call (mostly compilation) and remembers it under ``key``.

    clock = CompileClock(key); print(clock.message("the fit step"))
    ... first call ...
    clock.stop()   # remembers and returns the seconds since construction
    """

    def __init__(self, key: str):
        self.key = key
        self.began = time.perf_counter()

    def message(self, what: str) -> str:
        return compiling_message(what, self.key)

    def stop(self) -> float:
        seconds = time.perf_counter() - self.began
        remember_compile_time(self.key, seconds)
        return seconds
