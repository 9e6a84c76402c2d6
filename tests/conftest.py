import gc
import os
import tempfile

import equinox as eqx
import jax
import pytest

import plastic  # noqa: F401  (enables float64)
from plastic.biophysics import NMDAReceptor, SomaticSpike, VoltageGatedCalciumChannel
from plastic.model import SpineModel
from plastic.simulate import simulate

_simulate = eqx.filter_jit(simulate)


def simulate_jit(*args, **kwargs):
    """`simulate`, jitted, raising if its solve failed (as an eager call does)."""
    simulation = _simulate(*args, **kwargs)
    simulation.raise_if_failed()
    return simulation


# The compile-time memory (`plastic.compile_times`) of the tests, and of the command lines they
# run, stays out of the user's cache.
os.environ.setdefault("PLASTIC_CACHE_DIR", tempfile.mkdtemp(prefix="plastic-test-cache-"))
# The command lines the tests run compile without JAX's persistent cache (hashing and writing
# every program would only cost time here); tests/test_compile_times.py turns it on.
os.environ.setdefault("PLASTIC_COMPILE_CACHE", "0")


# One CPU device in every test process, started now: `plastic.cli.main` run by a test would
# otherwise give a backend it starts one device per core (`--cpu-devices`), and what later tests
# in the same process compute would depend on which test ran first.
jax.devices()


@pytest.fixture(autouse=True, scope="module")
def release_compiled_programs():
    """Drop every compiled program after each test module. XLA's CPU backend keeps a few memory
    mappings per executable; one pytest process compiling the whole suite reached the kernel's
    ``vm.max_map_count`` (65,530) and died in the compiler (SIGSEGV / SIGABRT)."""
    yield
    jax.clear_caches()
    gc.collect()


def count_calls(monkeypatch, module, name: str) -> list:
    """Replace ``module.name`` by a wrapper that appends to the returned list at every call
    (for a traced function: every trace)."""
    calls = []
    original = getattr(module, name)

    def counted(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(module, name, counted)
    return calls


def passive(model: SpineModel) -> SpineModel:
    """``model`` without NMDA, calcium channels or spike currents: a passive cable + AMPA."""
    return eqx.tree_at(
        lambda m: (m.nmda, m.vgcc, m.spike),
        model,
        (
            NMDAReceptor(conductance=0.0),
            VoltageGatedCalciumChannel(density=0.0, dendrite_density=0.0),
            SomaticSpike(sodium_conductance=0.0, potassium_conductance=0.0),
        ),
    )


@pytest.fixture(scope="session")
def default_model():
    return SpineModel()
