"""`plastic.program_cache`: a traced program kept on disk is called instead of tracing again, gives
the same outputs, and is never reused where the computation differs."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import plastic  # noqa: F401  (float64)
from plastic import program_cache
from plastic.program_cache import cached_call, program_key
from tests.conftest import count_calls

TRACES = []


class Scaled(eqx.Module):
    values: jax.Array
    label: str = eqx.field(static=True)


def scale(module: Scaled, factor):
    """Module-level, as `cached_call` asks; counts its traces."""
    TRACES.append(module.label)
    return Scaled(module.values * factor, module.label + "!"), {"sum": jnp.sum(module.values)}


@pytest.fixture
def cache(tmp_path):
    folder = program_cache.enable_program_cache(tmp_path / "programs")
    yield folder
    program_cache.disable_program_cache()


def test_a_kept_program_is_called_without_tracing_and_gives_the_same_outputs(cache):
    TRACES.clear()
    module = Scaled(jnp.arange(3.0), "x")
    first, totals = cached_call("scale", scale, module, jnp.asarray(2.0))
    assert len(TRACES) == 1 and len(list(cache.iterdir())) == 2
    jax.clear_caches()
    second, again = cached_call(
        "scale", scale, Scaled(jnp.arange(3.0) + 1, "x"), 3.0 * jnp.ones(())
    )
    assert len(TRACES) == 1  # not traced again
    np.testing.assert_array_equal(first.values, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(second.values, [3.0, 6.0, 9.0])
    assert second.label == "x!" and float(again["sum"]) == 6.0 and float(totals["sum"]) == 3.0


def test_another_shape_static_value_or_closure_is_another_program(cache):
    TRACES.clear()
    cached_call("scale", scale, Scaled(jnp.arange(3.0), "x"), jnp.asarray(2.0))
    cached_call("scale", scale, Scaled(jnp.arange(4.0), "x"), jnp.asarray(2.0))
    cached_call("scale", scale, Scaled(jnp.arange(3.0), "y"), jnp.asarray(2.0))
    assert TRACES == ["x", "x", "y"]
    # Closures are seen into: a learning rate baked into the program changes the key.
    assert program_key("f", optax.adam(0.1)) != program_key("f", optax.adam(0.2))
    assert program_key("f", optax.adam(0.1)) == program_key("f", optax.adam(0.1))
    assert program_key("f", jnp.ones(2)) == program_key("f", jnp.zeros(2))


def test_edited_plastic_sources_change_every_key(monkeypatch):
    before = program_key("f", jnp.ones(2))
    monkeypatch.setattr(program_cache, "source_fingerprint", lambda: "edited")
    assert program_key("f", jnp.ones(2)) != before


def test_a_damaged_program_is_traced_again_and_replaced(cache):
    TRACES.clear()
    module = Scaled(jnp.arange(3.0), "x")
    cached_call("scale", scale, module, jnp.asarray(2.0))
    for path in cache.iterdir():
        path.write_bytes(b"not a program")
    jax.clear_caches()
    out, _ = cached_call("scale", scale, module, jnp.asarray(2.0))
    np.testing.assert_array_equal(out.values, [0.0, 2.0, 4.0])
    assert len(TRACES) == 2
    jax.clear_caches()
    cached_call("scale", scale, module, jnp.asarray(2.0))
    assert len(TRACES) == 2  # the replacement is read


def test_off_by_default_it_is_filter_jit(tmp_path):
    assert program_cache._folder is None
    out, _ = cached_call("scale", scale, Scaled(jnp.arange(2.0), "z"), jnp.asarray(2.0))
    np.testing.assert_array_equal(out.values, [0.0, 2.0])


def with_callback(x):
    return jax.pure_callback(lambda v: np.asarray(v) + 1.0, jax.ShapeDtypeStruct((), x.dtype), x)


def test_a_program_that_cannot_be_kept_runs_and_says_so(cache):
    with pytest.warns(UserWarning, match="not kept on disk"):
        out = cached_call("with_callback", with_callback, jnp.asarray(1.0))
    assert float(out) == 2.0
    assert not cache.exists() or not list(cache.iterdir())


def test_a_second_sweep_runs_its_kept_chunk_without_tracing(cache, tmp_path, monkeypatch):
    """`plastic.sweep.run_sweep` lowers its chunk through `lower_kept`: the second sweep of the
    same grid neither traces the chunk nor changes a value (the triplet rule's Markram grid,
    chunks of 2 on this process's devices)."""
    import importlib

    import xarray as xr

    from plastic.studies import get_study
    from plastic.sweep import ExperimentSweep, run_sweep

    run = importlib.import_module("plastic.sweep.run")
    traces = count_calls(monkeypatch, run, "_evaluate_share")
    markram = get_study("markram1997")
    axes = {"frequency": np.array([10.0, 20.0, 30.0]), "delta_t": np.array([-10.0, 10.0])}
    bursts = {"n_per_burst": 5.0, "n_bursts": 10.0, "burst_period": 4000.0}
    sweep = ExperimentSweep.build(markram.experiment, markram.rule("triplet").model(), axes, bursts)
    first = run_sweep(sweep, str(tmp_path / "first.nc"), chunk_size=2, progress=None)
    n_traces = len(traces)
    assert n_traces >= 1 and any(p.suffix == ".jaxexport" for p in cache.iterdir())
    jax.clear_caches()
    second = run_sweep(sweep, str(tmp_path / "second.nc"), chunk_size=2, progress=None)
    assert len(traces) == n_traces  # not traced again
    xr.testing.assert_identical(first.drop_attrs(), second.drop_attrs())
