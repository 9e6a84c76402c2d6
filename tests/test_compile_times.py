"""The compile-time memory behind "compiling ..., about N s last time"."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # (enables float64)
from plastic import cli, compile_times
from plastic.cli import simulate as cli_simulate
from plastic.compile_times import (
    MIN_COMPILE_SECONDS,
    CompileClock,
    cache_dir,
    compiling_message,
    computation_key,
    last_compile_time,
    remember_compile_time,
)
from plastic.fit import FitParameters, Objective, Parameter, fit
from tests.conftest import count_calls
from tests.test_fit import DISTANCES, Decay, measurements, predict


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PLASTIC_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_key_is_the_programs_shape_not_its_values():
    a = {"g": jnp.ones(3), "tau": jnp.asarray(2.0)}
    assert computation_key("x", a) == computation_key(
        "x", {"g": jnp.zeros(3), "tau": jnp.asarray(5.0)}
    )
    assert computation_key("x", a) != computation_key(
        "x", {"g": jnp.ones(4), "tau": jnp.asarray(2.0)}
    )
    # A Python number is static under `eqx.filter_jit`: its value is part of the program.
    assert computation_key("x", 2.0) != computation_key("x", 5.0)
    assert computation_key("x", a) != computation_key("y", a)
    assert computation_key("x", a) != computation_key("x", {"g": jnp.ones(3, jnp.float32)})

    # Two closures of one function: their addresses differ, their key does not.
    def make():
        return lambda m: m

    assert make() is not make()
    assert computation_key(make()) == computation_key(make())


def test_a_remembered_time_is_announced(cache):
    key = computation_key("the solve", jnp.ones(2))
    assert last_compile_time(key) is None
    assert compiling_message("the solve", key) == "compiling the solve ..."
    remember_compile_time(key, 42.26)
    assert last_compile_time(key) == 42.3
    assert compiling_message("the solve", key) == "compiling the solve ..., about 42 s last time"
    assert json.loads((cache / "compile_times.json").read_text()) == {key: 42.3}
    assert cache_dir() == cache


def test_a_damaged_or_unwritable_memory_only_loses_the_hint(cache):
    cache.mkdir()
    (cache / "compile_times.json").write_text("{not json")
    assert last_compile_time("k") is None
    remember_compile_time("k", 3.0)  # replaces the damaged file
    assert last_compile_time("k") == 3.0
    if os.geteuid() != 0:  # root writes anywhere
        cache.chmod(0o500)
        try:
            remember_compile_time("other", 1.0)
            assert last_compile_time("other") is None
        finally:
            cache.chmod(0o700)


def test_a_clock_remembers_its_time(cache):
    clock = CompileClock("key")
    seconds = clock.stop()
    assert seconds >= 0 and last_compile_time("key") == round(seconds, 1)


def test_a_second_fit_is_told_how_long_the_first_compiled(cache, capsys):
    parameters = FitParameters(
        Decay(10.0, 20.0, 90.0),
        [Parameter("alpha", 0.0, 100.0), Parameter("length_constant", 0.5, 100.0, log=True)],
    )
    objective = Objective(predict, measurements(30 * np.exp(-DISTANCES / 6) + 100))
    fit(objective, parameters, n_steps=2, seed=0)
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "compiling the loss and its gradient at 1 start ..."
    # Other data of the same shape: the same program.
    objective = Objective(predict, measurements(20 * np.exp(-DISTANCES / 9) + 100))
    fit(objective, parameters, n_steps=2, seed=0)
    second = capsys.readouterr().out.splitlines()[0]
    assert second.startswith("compiling the loss and its gradient at 1 start ..., about ")
    assert second.endswith(" s last time")


_CACHE_OPTIONS = (
    "jax_enable_compilation_cache",
    "jax_compilation_cache_dir",
    "jax_persistent_cache_min_compile_time_secs",
    "jax_persistent_cache_min_entry_size_bytes",
)


@pytest.fixture
def jax_cache_config():
    """JAX's persistent-cache settings as they were, after the test: the rest of the suite
    compiles without writing to disk."""
    from jax.experimental.compilation_cache import compilation_cache

    before = {name: getattr(jax.config, name) for name in _CACHE_OPTIONS}
    yield
    for name, value in before.items():
        jax.config.update(name, value)
    compilation_cache.reset_cache()


def _cache_settings_of(argv, monkeypatch):
    """The JAX cache settings that ``plastic ARGV`` runs its command with (the command itself
    replaced by a recorder: nothing is compiled)."""
    seen = {}
    monkeypatch.setattr(
        cli_simulate,
        "run_simulate",
        lambda args: seen.update((n, getattr(jax.config, n)) for n in _CACHE_OPTIONS),
    )
    cli.main(argv)
    return seen


def test_the_command_line_keeps_compiled_programs_where_told(
    cache, tmp_path, monkeypatch, jax_cache_config
):
    monkeypatch.setenv("PLASTIC_COMPILE_CACHE", "0")  # off unless a folder is named
    assert _cache_settings_of(["simulate"], monkeypatch)["jax_enable_compilation_cache"] is False
    monkeypatch.delenv("PLASTIC_COMPILE_CACHE")
    seen = _cache_settings_of(["simulate"], monkeypatch)
    assert seen["jax_enable_compilation_cache"] is True
    assert seen["jax_compilation_cache_dir"] == str(cache / "jax") and (cache / "jax").is_dir()
    assert seen["jax_persistent_cache_min_compile_time_secs"] == MIN_COMPILE_SECONDS
    assert seen["jax_persistent_cache_min_entry_size_bytes"] == -1
    elsewhere = tmp_path / "elsewhere"
    seen = _cache_settings_of(["simulate", "--compile-cache", str(elsewhere)], monkeypatch)
    assert seen["jax_compilation_cache_dir"] == str(elsewhere) and elsewhere.is_dir()
    seen = _cache_settings_of(["simulate", "--no-compile-cache"], monkeypatch)
    assert seen["jax_enable_compilation_cache"] is False


def test_no_compile_cache_and_a_folder_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sweep", "--no-compile-cache", "--compile-cache", "x"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_an_enabled_cache_stores_compiled_programs(tmp_path, monkeypatch, jax_cache_config):
    # Every program is kept (the threshold at 0 s), so that a tiny one shows the wiring.
    monkeypatch.setattr(compile_times, "MIN_COMPILE_SECONDS", 0.0)
    folder = plastic.enable_compile_cache(tmp_path / "jax")
    assert folder == tmp_path / "jax" and os.listdir(folder) == []
    jax.jit(lambda x: jnp.cos(x) * 3.0)(jnp.ones(7)).block_until_ready()
    assert any(name.startswith("jit_") for name in os.listdir(folder))


def test_a_second_plastic_simulate_neither_traces_nor_compiles(
    tmp_path, monkeypatch, jax_cache_config
):
    """The traced program is kept beside the compiled one (`plastic.program_cache`): the second
    run calls it; and the command leaves the program cache of its caller as it was."""
    import importlib

    # The module (``plastic.simulate`` is also the function, re-exported).
    simulate_module = importlib.import_module("plastic.simulate")
    traces = count_calls(monkeypatch, simulate_module, "simulate_each")
    folder = tmp_path / "jax"
    argv = ["simulate", "--n-pairings", "1", "--quiet-min", "0.1", "--rule", "none"]
    argv += ["--out", str(tmp_path / "out"), "--compile-cache", str(folder)]
    cli.main(argv)
    assert traces == [1] and len(list((folder / "programs").iterdir())) == 2
    jax.clear_caches()
    cli.main(argv)
    assert traces == [1]
    from plastic import program_cache

    assert program_cache.program_cache_folder() is None
