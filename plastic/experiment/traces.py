"""A spine model's simulation over a window of time as a labelled `xarray.Dataset`: what
``plastic simulate`` plots (`plastic.plot.plot_pairing`) and, with ``--save-traces``, writes."""

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from plastic.experiment.spine_readouts import CalciumPerPairing, dendrite_calcium_at_spines
from plastic.model import SpineModel
from plastic.protocols import Protocol
from plastic.provenance import provenance
from plastic.simulate import Simulation


def _inside(onsets: np.ndarray, first: float, last: float) -> np.ndarray:
    """Which ``onsets`` (ms) lie in [``first``, ``last``]; padding events
    (`plastic.protocols.NEVER`) lie beyond any simulated time, so they do not."""
    return (onsets >= first) & (onsets <= last)


def _variable(dims, values, units: str, long_name: str) -> tuple:
    return dims, np.asarray(values, dtype=float), {"units": units, "long_name": long_name}


def pairing_traces(
    model: SpineModel,
    protocol: Protocol,
    simulation: Simulation,
    per_pairing: Sequence[tuple[CalciumPerPairing, np.ndarray]] = (),
    attrs: Mapping[str, str | int | float] | None = None,
) -> xr.Dataset:
    """The voltages and calcium of ``simulation`` at its save times, the protocol's pulses that
    fall among them and per-pairing calcium readouts, every variable with ``units`` and
    ``long_name`` attributes.

    Args:
        model: the model simulated (its spine positions place the dendrite traces).
        protocol: the protocol simulated.
        simulation: saved at ascending times (ms), the window.
        per_pairing: `CalciumPerPairing` readouts with their ``(n_pairings, n_spines)`` values
            (the readout's unit), each kept under the readout's name.
        attrs: added to the dataset's attributes, e.g. ``model``: which model ran, in words.

    Returns:
        Coordinates ``time`` (ms), ``spine`` (index), ``pairing`` (number, from 1); variables
        ``soma_voltage`` (time; mV), ``head_voltage``, ``dendrite_voltage`` (at the base of
        each spine neck) (time, spine; mV), ``head_calcium``, ``dendrite_calcium`` (under each
        spine) (time, spine; uM); the pulses inside the window: ``uncaging_onset`` (spine,
        uncaging; ms, NaN where a spine has fewer), ``uncaging_duration`` (ms),
        ``current_onset``, ``current_duration`` (current; ms), ``current_amplitude`` (current;
        pA), ``delta_t`` (the first current onset minus the first uncaging onset in the window,
        ms; NaN without either); ``pairing_start`` (pairing; ms); the ``per_pairing`` readouts.
        Attributes: ``n_pairings``, the provenance (`plastic.provenance.provenance`),
        ``attrs``.
    """
    time = np.asarray(simulation.save_times, dtype=float)
    first, last = float(time[0]), float(time[-1])
    states = simulation.states
    n_spines = int(np.shape(states.head_voltage)[-1])

    uncaging = [
        np.sort(row[_inside(row, first, last)]) for row in np.asarray(protocol.uncaging_onset)
    ]
    uncaging_onset = np.full((n_spines, max(len(row) for row in uncaging)), np.nan)
    for spine, row in enumerate(uncaging):
        uncaging_onset[spine, : len(row)] = row
    all_current = np.asarray(protocol.current_onset, dtype=float)
    inside = _inside(all_current, first, last)
    current_onset = all_current[inside]
    # Duration and amplitude are one for every pulse or one per pulse.
    current_duration = np.broadcast_to(np.asarray(protocol.current_duration), all_current.shape)
    current_amplitude = np.broadcast_to(np.asarray(protocol.current_amplitude), all_current.shape)
    uncaged = uncaging_onset[np.isfinite(uncaging_onset)]
    delta_t = (
        float(current_onset.min() - uncaged.min())
        if current_onset.size and uncaged.size
        else np.nan
    )

    variables = {
        "soma_voltage": _variable(("time",), states.soma_voltage, "mV", "soma voltage"),
        "head_voltage": _variable(
            ("time", "spine"), states.head_voltage, "mV", "spine head voltage"
        ),
        "dendrite_voltage": _variable(
            ("time", "spine"),
            model.parent_voltage(states),
            "mV",
            "dendrite voltage at the base of the spine neck",
        ),
        "head_calcium": _variable(
            ("time", "spine"), states.head_calcium, "uM", "spine head free [Ca2+]"
        ),
        "dendrite_calcium": _variable(
            ("time", "spine"),
            dendrite_calcium_at_spines(model, states),
            "uM",
            "dendrite free [Ca2+] under the spine",
        ),
        "uncaging_onset": _variable(
            ("spine", "uncaging"), uncaging_onset, "ms", "uncaging onset (NaN: none)"
        ),
        "uncaging_duration": _variable((), protocol.uncaging_duration, "ms", "uncaging duration"),
        "current_onset": _variable(("current",), current_onset, "ms", "somatic current onset"),
        "current_duration": _variable(
            ("current",), current_duration[inside], "ms", "somatic current duration"
        ),
        "current_amplitude": _variable(
            ("current",), current_amplitude[inside], "pA", "somatic current amplitude"
        ),
        "delta_t": _variable((), delta_t, "ms", "current onset minus uncaging onset"),
        "pairing_start": _variable(
            ("pairing",), protocol.pairing_start, "ms", "first onset of the pairing"
        ),
    }
    for readout, values in per_pairing:
        moment = (
            "before each pairing"
            if readout.moment == "before"
            else f"{float(readout.delay):g} ms after each pairing"
        )
        variables[readout.name] = _variable(
            ("pairing", "spine"), values, readout.unit, f"{readout.compartment} [Ca2+] {moment}"
        )
    coords = {
        "time": ("time", time, {"units": "ms", "long_name": "time from the protocol's start"}),
        "spine": ("spine", np.arange(n_spines), {"long_name": "spine index"}),
        "pairing": (
            "pairing",
            np.arange(1, protocol.n_pairings + 1),
            {"long_name": "pairing number, from 1"},
        ),
    }
    return xr.Dataset(
        variables,
        coords=coords,
        attrs={
            "title": "plastic simulate: traces of a pairing protocol",
            "n_pairings": protocol.n_pairings,
            **provenance(),
            **(attrs or {}),
        },
    )
