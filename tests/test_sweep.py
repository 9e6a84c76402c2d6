"""Sweeps of the spine model's pairing protocol (`SpinePairingExperiment` in an
`ExperimentSweep`): chunking, sharding, resuming, the memory refusal, labels against direct
solves, the CLI.

Every sweep here is the same 3 x 2 grid (one short pairing, a 4-compartment dendrite, implicit
Euler: it compiles in 2/3 of the time of the default Rodas5), so the chunk function compiles once
per chunk shape and is reused.
The 2-device run needs the XLA flag before jax is imported, so it runs in a subprocess, which
also runs the unchunked sweep (on one of its devices). The subprocess starts first and compiles
while this process compiles the chunked sweep and the direct reference (2 cores); the two tests
that read its results come last.
"""

import argparse
import dataclasses
import json
import operator
import os
import subprocess
import sys
import types

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

from plastic import cli, plot
from plastic import sweep as sweeps
from plastic.cli.spine import spine_model
from plastic.experiment import (
    DendriteCalciumAfter,
    FinalEfficacy,
    HeadCalciumAfter,
    PeakHeadCalcium,
    SpinePairingExperiment,
    dendrite_calcium_at_spines,
)
from plastic.model import SpineModel
from plastic.protocols import pairing_protocol
from plastic.rules import KinaseCompetition
from plastic.simulate import SolverSettings, simulate

# The model `plastic sweep --rule none --compartments 4` runs: the Tazerart study's fitted
# model's biophysics, spines at 40 and 42 um.
MODEL, DESCRIPTION = spine_model(
    argparse.Namespace(rule="none", model=None, position=40.0, compartments=4)
)
PROTOCOL = dict(
    n_pairings=1,
    period=200.0,
    first_pairing=20.0,
    quiet=0.0,
    current_amplitude=500.0,
    uncaged_spines=(0, 1),
)
SETTINGS = SolverSettings(solver=diffrax.ImplicitEuler(), rtol=1e-4, atol=1e-4)
# The protocol's condition fields (the others at their defaults) and its static settings.
FIXED = {k: v for k, v in PROTOCOL.items() if k not in ("n_pairings", "uncaged_spines")}
EXPERIMENT = SpinePairingExperiment(
    readouts=(HeadCalciumAfter(), PeakHeadCalcium(), DendriteCalciumAfter()),
    n_pairings=1,
    uncaged_spines=(0, 1),
    settings=SETTINGS,
)
DELTA_T = (-15.0, 7.0, 13.0)
DISTANCE = (2.0, 30.0)
# The same sweep through the command line (a range starting with a minus sign included).
CLI_ARGUMENTS = [
    "sweep",
    "--dt",
    "-15,7,13",
    "--distance",
    "2,30",
    "--n-pairings",
    "1",
    "--period",
    "200",
    "--first-pairing",
    "20",
    "--quiet-min",
    "0",
    "--two-spines",
    "--compartments",
    "4",
    "--rule",
    "none",
    "--readout",
    "head_calcium_after",
    "--readout",
    "peak_head_calcium",
    "--readout",
    "dendrite_calcium_after",
    "--solver",
    "ImplicitEuler",
    "--rtol",
    "1e-4",
    "--atol",
    "1e-4",
    "--chunk-size",
    "2",
]


def small_sweep(delta_t=DELTA_T, experiment=EXPERIMENT) -> sweeps.ExperimentSweep:
    return sweeps.ExperimentSweep.build(
        experiment,
        MODEL,
        {"delta_t": delta_t, "distance": DISTANCE},
        FIXED,
        model_description=DESCRIPTION,
    )


_SUBPROCESS = """
import sys
import jax
from plastic.sweep import run_sweep
from tests.test_sweep import RODAS5_EXPERIMENT, small_sweep
assert len(jax.devices()) == 2, jax.devices()
run_sweep(small_sweep(), sys.argv[1], chunk_size=4, batch_size=2)
run_sweep(small_sweep(), sys.argv[2], chunk_size=6, devices=jax.devices()[:1])
rodas5 = small_sweep(experiment=RODAS5_EXPERIMENT)
run_sweep(rodas5, sys.argv[3], chunk_size=6)
run_sweep(rodas5, sys.argv[4], chunk_size=6, devices=jax.devices()[:1])
"""
# The same sweep solved by Rodas5, whose dense LUs run one matrix at a time on several CPU
# devices, so that the batch stays vmapped there.
RODAS5_EXPERIMENT = eqx.tree_at(
    lambda e: e.settings, EXPERIMENT, SolverSettings(rtol=1e-4, atol=1e-4)
)


@pytest.fixture(scope="module")
def subprocess_runs(tmp_path_factory):
    """In a process with 2 CPU devices: the sweep in chunks of 4 on both devices (2 conditions
    each, asked in batches of 2 but run one at a time through `jax.lax.map`, the fallback for
    a solver with batched LAPACK calls; the last chunk half padding), then unchunked on one
    device; then with Rodas5, in one chunk on both devices (3 conditions vmapped on each) and
    on one. (process, paths)."""
    folder = tmp_path_factory.mktemp("subprocess")
    paths = tuple(folder / f"{name}.nc" for name in ("sharded", "whole", "rodas5_2", "rodas5_1"))
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env["XLA_FLAGS"] = (
        env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"
    ).strip()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen(
        [sys.executable, "-c", _SUBPROCESS, *map(str, paths)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process, paths
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def subprocess_results(subprocess_runs):
    """The subprocess's output (after waiting for it) and its two results."""
    process, paths = subprocess_runs
    try:
        output, _ = process.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0]
        raise AssertionError(f"no result in 600 s (a deadlock?): {output}") from None
    assert process.returncode == 0, output
    return output, *(xr.load_dataset(path) for path in paths)


@pytest.fixture(scope="module")
def chunked(subprocess_runs, tmp_path_factory):
    """The sweep in chunks of 2 (3 chunks, the last one full): (dataset, path, progress)."""
    path = tmp_path_factory.mktemp("chunked") / "chunked.nc"
    lines = []
    dataset = sweeps.run_sweep(small_sweep(), str(path), chunk_size=2, progress=lines.append)
    return dataset, path, lines


def _assert_same_numbers(a: xr.Dataset, b: xr.Dataset) -> None:
    assert list(a.data_vars) == list(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_labels_match_direct_solves(chunked):
    dataset = chunked[0]

    @eqx.filter_jit
    def direct(delta_t, distance):
        position = jnp.stack([40.0, 40.0 + distance])
        model = eqx.tree_at(lambda m: m.geometry.spines.position, MODEL, position)
        protocol = pairing_protocol(delta_t, n_spines=2, **PROTOCOL)
        after = protocol.pairing_end[-1:] + 4.0
        window = protocol.pairing_start[-1] + 0.1 * jnp.arange(1001)
        states = simulate(model, protocol, jnp.concatenate([after, window]), SETTINGS).states
        return (
            states.head_calcium[0],
            states.head_calcium[1:].max(axis=0),
            dendrite_calcium_at_spines(model, states)[0],
        )

    names = ("head_calcium_after", "peak_head_calcium", "dendrite_calcium_after")
    for delta_t, distance in ((-15.0, 30.0), (13.0, 2.0)):
        expected = direct(jnp.asarray(delta_t), jnp.asarray(distance))
        for name, value in zip(names, expected):
            # vmap and an unbatched solve round differently (measured 1e-13 relative);
            # neighbouring grid cells differ by more than 1e-3.
            np.testing.assert_allclose(
                dataset[name].sel(delta_t=delta_t, distance=distance).values,
                np.asarray(value),
                rtol=1e-8,
                err_msg=name,
            )
    # The check above tells the cells apart: the far spine sees the distance.
    far = dataset["head_calcium_after"].sel(spine=1, delta_t=-15.0).values
    assert abs(far[0] - far[1]) > 1e-2 * far[0]


class _Interrupted(Exception):
    pass


def _stop_after_first_chunk(line):
    if line.startswith("chunk 1/"):
        raise _Interrupted


def test_resume_after_interruption_gives_the_same_file(chunked, tmp_path):
    path = str(tmp_path / "resumed.nc")
    with pytest.raises(_Interrupted):
        sweeps.run_sweep(small_sweep(), path, chunk_size=2, progress=_stop_after_first_chunk)
    assert not os.path.exists(path)
    assert sorted(os.listdir(path + ".partial")) == ["chunk_00000000.npz", "manifest.json"]
    # Partial results of one sweep are never mixed into another.
    with pytest.raises(ValueError, match="different sweep"):
        sweeps.run_sweep(small_sweep(delta_t=(-15.0, 7.0, 14.0)), path, chunk_size=2)

    lines = []
    sweeps.run_sweep(small_sweep(), path, chunk_size=2, progress=lines.append)
    assert "1 of 3 chunks already done" in lines[1]
    assert [line.split(":")[0] for line in lines if line.startswith("chunk ")] == [
        "chunk 2/3",
        "chunk 3/3",
    ]
    _assert_same_result(path, chunked[1])
    # Asking again loads the finished result instead of recomputing it.
    lines = []
    sweeps.run_sweep(small_sweep(), path, chunk_size=2, progress=lines.append)
    assert lines == [f"{path} already holds this sweep; loaded it"]


def test_a_chunk_too_large_for_the_memory_limit_is_refused(chunked, tmp_path):
    path = str(tmp_path / "refused.nc")
    with pytest.raises(sweeps.SweepTooLargeError, match=r"chunk of 2 conditions needs") as small:
        sweeps.run_sweep(small_sweep(), path, chunk_size=2, memory_limit=1, progress=None)
    # The states saved for the peak readout (1001 samples of the whole state per condition)
    # are resident: soma voltage and 3 gates, voltage and calcium in 4 compartments, and per
    # spine voltage, calcium, 2 AMPA, 2 NMDA and 2 VGCC states.
    n_state = 1 + 3 + 2 * 4 + 2 * (1 + 1 + 2 + 2 + 2)
    assert small.value.needed >= 2 * 1001 * n_state * 8
    # Nothing smaller fits either: the suggestion is the smallest chunk.
    assert "use chunk_size <= 1 " in str(small.value)
    assert not os.path.exists(path) and not os.path.exists(path + ".partial")
    # The limit is the only reason for the refusal: at exactly the measured need it runs.
    dataset = sweeps.run_sweep(
        small_sweep(), path, chunk_size=2, memory_limit=small.value.needed, progress=None
    )
    _assert_same_numbers(dataset, chunked[0])


def test_a_result_too_large_for_the_host_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(sweeps.run, "host_memory_available", lambda: 100)
    with pytest.raises(sweeps.SweepTooLargeError, match="of host memory") as refused:
        sweeps.run_sweep(small_sweep(), str(tmp_path / "x.nc"), chunk_size=2, progress=None)
    # 6 conditions x 3 readouts x 2 spines x 8 bytes.
    assert refused.value.needed == 6 * 3 * 2 * 8


def test_conditions_are_the_grid_in_c_order():
    sweep = small_sweep()
    delta_t, distance = np.meshgrid(DELTA_T, DISTANCE, indexing="ij")
    expected = np.stack([delta_t.ravel(), distance.ravel()], axis=-1)
    np.testing.assert_array_equal(sweep.conditions(0, 6), expected)
    np.testing.assert_array_equal(sweep.conditions(2, 5), expected[2:5])
    assert sweep.shape == (3, 2) and sweep.n_conditions == 6


def test_axes_set_what_they_name():
    sweep = sweeps.ExperimentSweep.build(
        dataclasses.replace(EXPERIMENT, readouts=(HeadCalciumAfter(),)),
        MODEL,
        {
            "spines.neck_length[1]": [0.5, 2.0],
            "nmda.conductance": [0.1, 1.0],
            "distance": [5.0, 10.0],
            "period": [300.0, 400.0],
        },
        dict(FIXED, delta_t=7.0),
        units={"spines.neck_length[1]": "um"},
    )
    model, condition = sweep.evaluation.setup(jnp.array([0.5, 0.25, 7.0, 300.0]))
    model, protocol = sweep.experiment.configure(model, condition)
    np.testing.assert_array_equal(model.geometry.spines.neck_length, [1.0, 0.5])
    assert float(model.nmda.conductance) == 0.25
    np.testing.assert_array_equal(model.geometry.spines.position, [40.0, 47.0])
    reference = pairing_protocol(7.0, **dict(PROTOCOL, period=300.0))
    np.testing.assert_array_equal(protocol.duration, reference.duration)
    np.testing.assert_array_equal(protocol.current_onset, reference.current_onset)
    # A model leaf named without a unit takes the one its field's range check states.
    assert [a.units for a in sweep.axes] == ["um", "nS", "um", "ms"]


@pytest.mark.parametrize(
    "name, values, message",
    [
        ("n_pairings", [1, 2], "a setting of SpinePairingExperiment.*array shapes"),
        ("nmda.nope", [1.0, 2.0], "'nope' is not a field of SpineModel.nmda"),
        ("geometry.n_compartments", [4.0, 8.0], "only floating-point leaves"),
        ("spines.neck_length[2]", [1.0, 2.0], "index 2 is out of range"),
        ("spines.neck_length", [-1.0, 1.0], r"corner \(spines.neck_length=-1\).*neck_length"),
        ("delta_t", [-15.0, 500.0], r"corner \(delta_t=500\).*delta_t"),
        ("period", [0.0, 300.0], r"corner \(period=0\).*period must be"),
        ("distance", [0.0, 500.0], r"corner \(distance=500\).*on the dendrite"),
    ],
)
def test_bad_axes_are_refused(name, values, message):
    with pytest.raises(ValueError, match=message):
        sweeps.ExperimentSweep.build(EXPERIMENT, MODEL, {name: values}, dict(FIXED, delta_t=7.0))


def test_final_efficacy_reads_the_rule_at_every_spine():
    model = SpineModel(rule=KinaseCompetition())
    initial = model.rule.initial_state()
    final = jax.tree.map(lambda x: jnp.stack([x, x]), initial)
    final = eqx.tree_at(lambda s: s.weight, final, jnp.array([1.25, 0.75]))
    simulation = types.SimpleNamespace(final_state=types.SimpleNamespace(rule=final))
    efficacy = FinalEfficacy().read(model, None, simulation)
    # A loop over the spines, against the vmap inside the readout.
    spines = [jax.tree.map(operator.itemgetter(i), final) for i in range(2)]
    np.testing.assert_array_equal(efficacy, [model.rule.efficacy(s) for s in spines])
    np.testing.assert_array_equal(efficacy, [1.25, 0.75])


def test_bad_sweeps_are_refused():
    build = sweeps.ExperimentSweep.build
    delta_t = {"delta_t": [1.0, 2.0]}
    efficacy = dataclasses.replace(EXPERIMENT, readouts=(FinalEfficacy(),))
    with pytest.raises(ValueError, match="needs a model with a plasticity rule"):
        build(efficacy, MODEL, delta_t, FIXED)
    with pytest.raises(ValueError, match="column 'delta_t' is empty"):
        build(EXPERIMENT, MODEL, {"period": [300.0, 400.0]})
    with pytest.raises(ValueError, match=r"\['n_spines'\] are not condition fields"):
        build(EXPERIMENT, MODEL, delta_t, dict(n_spines=2))
    with pytest.raises(ValueError, match="must be finite"):
        build(EXPERIMENT, MODEL, {"delta_t": [1.0, np.nan]}, FIXED)
    with pytest.raises(ValueError, match="at least one axis"):
        build(EXPERIMENT, MODEL, {}, dict(FIXED, delta_t=7.0))
    with pytest.raises(ValueError, match="units label model-path axes only"):
        build(EXPERIMENT, MODEL, delta_t, FIXED, units={"delta_t": "s"})
    with pytest.raises(ValueError, match=r"uncaged_spines \(0, 2\) needs a model of more"):
        build(dataclasses.replace(EXPERIMENT, uncaged_spines=(0, 2)), MODEL, delta_t, FIXED)
    # A one-spine model has no spine 1 to move.
    spine_0 = jax.tree.map(operator.itemgetter(slice(1)), MODEL.geometry.spines)
    one = eqx.tree_at(lambda m: m.geometry.spines, MODEL, spine_0)
    single = dataclasses.replace(EXPERIMENT, uncaged_spines=(0,))
    with pytest.raises(ValueError, match=r"corner \(distance=5\).*needs a model of >= 2 spines"):
        build(single, one, {"distance": [2.0, 5.0]}, dict(FIXED, delta_t=7.0))
    with pytest.raises(ValueError, match="chunk_size must be a positive multiple"):
        sweeps.run_sweep(small_sweep(), "unused.nc", chunk_size=0)


def _assert_same_result(path, other):
    """The same numbers, coordinates and attributes, but for when, where and by which command
    each file was made (byte equality cannot hold once files record their provenance)."""
    first, second = xr.load_dataset(path), xr.load_dataset(other)
    for dataset in (first, second):
        for made in ("created", "command", "host"):
            dataset.attrs.pop(made)
    assert first.identical(second)


def test_the_command_line_writes_the_same_file_and_a_plot(chunked, tmp_path, capsys):
    out, png = tmp_path / "cli.nc", tmp_path / "cli.png"
    cli.main(CLI_ARGUMENTS + ["--out", str(out), "--plot", str(png)])
    _assert_same_result(out, chunked[1])
    assert f"wrote {png} (head_calcium_after)" in capsys.readouterr().out
    with open(png, "rb") as image:
        assert image.read(8) == b"\x89PNG\r\n\x1a\n"


def test_the_command_line_refuses_a_sparse_jacobian_for_another_solver(tmp_path):
    # CLI_ARGUMENTS choose ImplicitEuler; the sparse linear algebra belongs to Rodas5.
    with pytest.raises(SystemExit, match="--sparse-jacobian needs --solver Rodas5"):
        cli.main(CLI_ARGUMENTS + ["--sparse-jacobian", "--out", str(tmp_path / "never.nc")])


def test_range_parsing():
    np.testing.assert_array_equal(cli.parse_values("-50:50:1"), np.arange(-50.0, 51.0))
    np.testing.assert_array_equal(cli.parse_values("0:1:0.25"), [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(cli.parse_values("0:1:0.3"), [0.0, 0.3, 0.6, 0.9])
    np.testing.assert_array_equal(cli.parse_values("-15,7,13"), [-15.0, 7.0, 13.0])
    np.testing.assert_array_equal(cli.parse_values("13"), [13.0])
    for bad in ("1:0:1", "0:1:0", "a:b", "1,,2"):
        with pytest.raises(Exception, match="START:STOP:STEP"):
            cli.parse_values(bad)


def test_plots_of_one_and_two_axes(chunked, tmp_path):
    import matplotlib.image

    dataset = chunked[0]
    plot.plot_sweep(dataset, "peak_head_calcium", str(tmp_path / "heatmap.png"))
    plot.plot_sweep(dataset.isel(distance=[0]), "peak_head_calcium", str(tmp_path / "lines.png"))
    # Two spines: two heatmap panels side by side, against one line plot.
    heatmap = matplotlib.image.imread(tmp_path / "heatmap.png")
    lines = matplotlib.image.imread(tmp_path / "lines.png")
    assert heatmap.shape[1] > 1.5 * lines.shape[1]
    with pytest.raises(ValueError, match="readout must be one of"):
        plot.plot_sweep(dataset, "efficacy", str(tmp_path / "x.png"))


# The subprocess's results; these tests wait for it.


def test_chunked_equals_unchunked(chunked, subprocess_results):
    dataset, path, lines = chunked
    output, _, whole, *_ = subprocess_results
    assert "in 1 chunks of 6 on 1 cpu device(s)" in output
    _assert_same_numbers(dataset, whole)
    _assert_same_numbers(dataset, xr.load_dataset(path))
    assert dataset["head_calcium_after"].dims == ("delta_t", "distance", "spine")
    np.testing.assert_array_equal(dataset["delta_t"], DELTA_T)
    np.testing.assert_array_equal(dataset["distance"], DISTANCE)
    assert dataset["distance"].attrs["units"] == "um"
    assert dataset["peak_head_calcium"].attrs["units"] == "uM"
    # The file records the experiment, its fixed fields, its static settings and the solver.
    assert dataset.attrs["experiment"] == "SpinePairingExperiment"
    assert json.loads(dataset.attrs["conditions"])["period"] == 200.0
    assert json.loads(dataset.attrs["protocol_arguments"]) == dict(
        n_pairings=1, uncaged_spines=[0, 1]
    )
    assert "ImplicitEuler" in dataset.attrs["solver"]
    # One progress line per chunk, with the rate and the time left.
    chunk_lines = [line for line in lines if line.startswith("chunk ")]
    assert [line.split(",")[0] for line in chunk_lines] == [
        "chunk 1/3: 2/6 conditions",
        "chunk 2/3: 4/6 conditions",
        "chunk 3/3: 6/6 conditions",
    ]
    assert all("conditions/s" in line and "ETA" in line for line in chunk_lines)
    assert not os.path.exists(str(path) + ".partial")


def test_sharded_equals_single_device(chunked, subprocess_results):
    output, sharded, *_ = subprocess_results
    assert "in 2 chunks of 4 on 2 cpu device(s)" in output
    assert "the devices step together" in output  # implicit Euler's lineax under shard_map
    assert "batch_size 2 -> 1 on 2 CPU devices: the solver makes batched LAPACK calls" in output
    # The partitioned program, unbatched on each device, fuses and rounds differently, and the
    # adaptive solver carries the rounding along: measured 1e-12 relative. A condition on the
    # wrong device or in the wrong place would be off by more than 1e-3 (see
    # test_labels_match_direct_solves).
    for name in sharded.data_vars:
        np.testing.assert_allclose(sharded[name], chunked[0][name], rtol=1e-8, err_msg=name)


def test_rodas5_stays_batched_on_two_cpu_devices(subprocess_results):
    """Rodas5 on 2 CPU devices, 3 conditions vmapped on each, finishes (batched LAPACK calls
    there never did) and gives the one-device result."""
    output, _, _, two_devices, one_device = subprocess_results
    assert "in 1 chunks of 6 on 2 cpu device(s)" in output
    # Only the implicit-Euler sweep falls back (to batch size 1, and to stepping together).
    assert output.count("-> 1 on 2 CPU devices") == 1
    assert output.count("the devices step together") == 1
    for name in one_device.data_vars:
        np.testing.assert_allclose(two_devices[name], one_device[name], rtol=1e-10, err_msg=name)
    assert not np.allclose(two_devices["peak_head_calcium"], 0.0)
