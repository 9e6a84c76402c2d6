"""The figures say what they show: every axis labelled with its unit, the pulses of a pairing
marked, one colour per spine, and titles naming the protocol, the readout and the model."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

from plastic import plot
from plastic.experiment import CalciumPerPairing
from plastic.experiment.traces import pairing_traces
from plastic.model import SpineModel
from plastic.protocols import pairing_protocol
from plastic.simulate import Simulation


@pytest.fixture(scope="module")
def traces():
    """Traces of a resting model over the window of the first pairing: the labels, pulses and
    colours are under test here, not the simulation (`plastic simulate` runs one)."""
    model = SpineModel()
    protocol = pairing_protocol(-7.0, n_pairings=3, uncaged_spines=(0, 1))
    time = jnp.arange(80.0, 400.0, 0.1)
    rest = model.resting_state()
    states = jax.tree.map(lambda leaf: jnp.broadcast_to(leaf, time.shape + leaf.shape), rest)
    simulation = Simulation(time, states, rest, jnp.array(0), jnp.array(0))
    per_pairing = [
        (CalciumPerPairing("head", "before"), np.full((3, 2), 0.07)),
        (CalciumPerPairing("head", "after"), np.array([[10.0, 8.0], [11.0, 8.5], [12.0, 9.0]])),
    ]
    return pairing_traces(model, protocol, simulation, per_pairing, attrs={"model": "a test model"})


def test_pairing_traces_record_the_pulses_in_the_window_and_units(traces):
    # delta_t < 0: the current at the pairing's start, uncaging 7 ms later, spine 1 2.1 ms after.
    assert float(traces["delta_t"]) == pytest.approx(-7.0)
    np.testing.assert_allclose(traces["uncaging_onset"].values, [[107.0], [109.1]])
    np.testing.assert_allclose(traces["current_onset"].values, [100.0])
    np.testing.assert_allclose(traces["pairing_start"].values, [100.0, 2100.0, 4100.0])
    assert traces["time"].attrs["units"] == "ms"
    for name, variable in traces.data_vars.items():
        assert variable.attrs["units"], name
    assert traces["head_calcium_after_per_pairing"].attrs["units"] == "uM"
    np.testing.assert_array_equal(traces["pairing"].values, [1, 2, 3])


def test_pairing_figure_labels_marks_and_colours(traces, tmp_path):
    path = tmp_path / "pairing.png"
    fig = plot.plot_pairing(traces, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    voltage, calcium, per_pairing = fig.axes
    for ax in (voltage, calcium):
        assert ax.get_xlabel() == "time (ms)"
    assert "(mV)" in voltage.get_ylabel() and "(uM)" in calcium.get_ylabel()
    assert "pairing" in per_pairing.get_xlabel() and "(uM)" in per_pairing.get_ylabel()
    title = fig.get_suptitle()
    assert "-7 ms" in title and "3 pairings" in title and "a test model" in title
    legend = [text.get_text() for text in voltage.get_legend().get_texts()]
    assert {"uncaging, spine 0", "uncaging, spine 1", "somatic current, 500 pA"} <= set(legend)
    # The shaded pulses start at the onsets.
    spans = [patch.get_x() for patch in voltage.patches]
    np.testing.assert_allclose(sorted(spans), [100.0, 107.0, 109.1])
    # One colour per spine, distinct, in every panel.
    for spine in (0, 1):
        colours = {
            line.get_color()
            for ax in fig.axes
            for line in ax.get_lines()
            if f"spine {spine}" in line.get_label()
        }
        assert colours == {f"C{spine}"}, colours
    per_pairing_legend = [text.get_text() for text in per_pairing.get_legend().get_texts()]
    assert {"spine 0", "spine 1"} <= set(per_pairing_legend)
    spine_1 = [line for line in per_pairing.get_lines() if line.get_color() == "C1"]
    # Its legend entry, then its line for each readout.
    assert len(spine_1) == 3 and all(len(line.get_xdata()) == 3 for line in spine_1[1:])


def sweep_result(n_distances: int) -> xr.Dataset:
    delta_t = np.array([-10.0, 0.0, 10.0])
    distance = np.arange(n_distances) * 5.0
    values = np.random.default_rng(0).uniform(1, 10, (3, n_distances, 2))
    attrs = {
        "axes": json.dumps(["delta_t", "distance"]),
        "experiment": "SpinePairingExperiment",
        "protocol_arguments": json.dumps({"n_pairings": 40, "uncaged_spines": [0]}),
        "conditions": json.dumps({"period": 2000.0, "current_amplitude": 500.0}),
        "condition_units": json.dumps({"period": "ms", "current_amplitude": "pA"}),
        "model": "a test model",
    }
    return xr.Dataset(
        {"head_calcium_after": (("delta_t", "distance", "spine"), values, {"units": "uM"})},
        coords={
            "delta_t": ("delta_t", delta_t, {"units": "ms"}),
            "distance": ("distance", distance, {"units": "um"}),
            "spine": ("spine", np.arange(2)),
        },
        attrs=attrs,
    )


@pytest.mark.parametrize("n_distances", [1, 3])
def test_sweep_figures_label_every_axis_with_its_unit_and_name_the_protocol(n_distances):
    fig = plot.plot_sweep(sweep_result(n_distances), "head_calcium_after")
    title = fig.get_suptitle()
    for part in (
        "head_calcium_after (uM)",
        "SpinePairingExperiment",
        "n_pairings = 40",
        "period = 2000 ms",
        "current_amplitude = 500 pA",
        "a test model",
    ):
        assert part in title.replace("\n", " "), part
    if n_distances == 1:
        # The distance held at one value belongs to the condition.
        (ax,) = fig.axes
        assert ax.get_xlabel() == "delta_t (ms)" and ax.get_ylabel() == "head_calcium_after (uM)"
        assert "distance = 0 um" in title
        return
    *panels, colorbar = fig.axes
    assert len(panels) == 2 and colorbar.get_ylabel() == "head_calcium_after (uM)"
    for ax in panels:
        assert ax.get_xlabel() == "distance (um)" and ax.get_ylabel() == "delta_t (ms)"
