"""Figures, each returned as a matplotlib `Figure` (for a caller to inspect or save) and saved to
``path`` when one is given."""

import json
import textwrap

import numpy as np
from matplotlib.figure import Figure


def _spine_colour(spine: int) -> str:
    """The one colour of ``spine`` in every panel of a figure."""
    return f"C{spine % 10}"


def _with_unit(name: str, units: str) -> str:
    return f"{name} ({units})" if units else name


def _wrap(text: str, figure_width: float) -> str:
    """``text`` broken into lines that fit a figure ``figure_width`` inches wide (small font)."""
    return "\n".join(textwrap.fill(line, width=int(14 * figure_width)) for line in text.split("\n"))


def _mark_pulses(ax, traces, label: bool) -> None:
    """Shade the uncaging pulses (in their spine's colour) and the somatic current pulses (grey)
    of ``traces`` on ``ax``; ``label`` names them in the legend."""
    duration = float(traces["uncaging_duration"])
    for spine in traces["spine"].values:
        onsets = traces["uncaging_onset"].sel(spine=spine).values
        for k, onset in enumerate(onsets[np.isfinite(onsets)]):
            ax.axvspan(
                onset,
                onset + duration,
                color=_spine_colour(int(spine)),
                alpha=0.3,
                label=f"uncaging, spine {spine}" if label and k == 0 else None,
            )
    for k, (onset, length, amplitude) in enumerate(
        zip(
            traces["current_onset"].values,
            traces["current_duration"].values,
            traces["current_amplitude"].values,
        )
    ):
        ax.axvspan(
            onset,
            onset + length,
            color="0.5",
            alpha=0.3,
            label=f"somatic current, {amplitude:g} pA" if label and k == 0 else None,
        )


def plot_pairing(traces, path: str | None = None) -> Figure:
    """Voltages and calcium over the window of ``traces`` (`plastic.experiment.traces.
    pairing_traces`) with the uncaging and current pulses shaded, and every per-pairing calcium
    readout in it against the pairing number.

    Each spine has one colour in every panel: solid lines are its head, dashed lines the
    dendrite at its base, the soma is black. The title names the protocol (delta-t, number of
    pairings, the pairing shown) and the model (the ``model`` attribute, when present).
    """
    time = traces["time"]
    per_pairing = [name for name, v in traces.data_vars.items() if v.dims == ("pairing", "spine")]
    fig = Figure(figsize=(9, 9.5 if per_pairing else 6.5), layout="constrained")
    axes = fig.subplots(3 if per_pairing else 2, 1)
    voltage, calcium = axes[0], axes[1]
    voltage.plot(time.values, traces["soma_voltage"].values, color="k", label="soma")
    for name, axis in (("voltage", voltage), ("calcium", calcium)):
        for spine in traces["spine"].values:
            colour = _spine_colour(int(spine))
            head = traces[f"head_{name}"].sel(spine=spine).values
            dendrite = traces[f"dendrite_{name}"].sel(spine=spine).values
            axis.plot(time.values, head, color=colour, label=f"spine {spine} head")
            axis.plot(time.values, dendrite, "--", color=colour, label=f"dendrite at spine {spine}")
        _mark_pulses(axis, traces, label=axis is voltage)
        axis.set_xlabel(_with_unit("time", time.attrs["units"]))
        axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    voltage.set_ylabel(_with_unit("voltage", traces["soma_voltage"].attrs["units"]))
    calcium.set_ylabel(_with_unit("free [Ca2+]", traces["head_calcium"].attrs["units"]))
    starts, window = traces["pairing_start"].values, time.values
    shown = traces["pairing"].values[(starts >= window[0]) & (starts <= window[-1])]
    if shown.size:
        voltage.set_title(f"pairing {', '.join(str(p) for p in shown)} shown", fontsize=9)
    if per_pairing:
        axis = axes[2]
        # A marker and line style per readout (named once, in grey); the colour stays the
        # spine's, named as above.
        styles = ("o-", "s--", "^:", "v-.")
        for spine in traces["spine"].values:
            axis.plot([], [], color=_spine_colour(int(spine)), label=f"spine {spine}")
        for k, name in enumerate(per_pairing):
            style, values = styles[k % len(styles)], traces[name]
            axis.plot([], [], style, color="0.4", markersize=4, label=values.attrs["long_name"])
            for spine in traces["spine"].values:
                axis.plot(
                    traces["pairing"].values,
                    values.sel(spine=spine).values,
                    style,
                    color=_spine_colour(int(spine)),
                    markersize=4,
                )
        units = sorted({traces[name].attrs["units"] for name in per_pairing})
        axis.set(
            xlabel="pairing (number, from 1)",
            ylabel=_with_unit("free [Ca2+]", ", ".join(units)),
            yscale="log",
        )
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    delta_t, n_pairings = traces["delta_t"], traces.attrs["n_pairings"]
    title = (
        f"Pairing protocol: \u0394t = {float(delta_t):+g} {delta_t.attrs['units']} (current "
        "onset \u2212 uncaging onset), "
        f"{n_pairings} pairing{'s' if n_pairings != 1 else ''}"
    )
    if "model" in traces.attrs:
        title += f"\nmodel: {traces.attrs['model']}"
    fig.suptitle(_wrap(title, fig.get_figwidth()), fontsize=10)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _panels(data, axes: tuple[str, ...]):
    """``(label, 1-D or 2-D slice)`` for every element of the dims of ``data`` beyond ``axes``."""
    extra = [dim for dim in data.dims if dim not in axes]
    if not extra:
        return [("", data.transpose(*axes))]
    stacked = data.stack(_panel=extra).transpose("_panel", *axes)
    panels = []
    for i in range(stacked.sizes["_panel"]):
        element = stacked.isel(_panel=i)
        label = ", ".join(f"{dim} {element[dim].item()}" for dim in extra)
        panels.append((label, element.drop_vars(["_panel", *extra])))
    return panels


def _label(data, dim: str) -> str:
    """``dim`` with its coordinate's ``units`` attribute, e.g. ``delta_t (ms)``."""
    return _with_unit(dim, data[dim].attrs.get("units", "") if dim in data.coords else "")


def _readout_label(data) -> str:
    return _with_unit(str(data.name), data.attrs.get("units", ""))


def plot_sweep_heatmap(data, x: str, y: str, path: str | None = None, title: str = "") -> Figure:
    """Heatmap of ``data`` (an `xarray.DataArray`) over the sweep axes ``x`` and ``y``, titled
    ``title``.

    Each element of any other dim (e.g. ``spine``) gets its own panel; all share one colour
    scale, labelled with the variable's name and units; the axes carry their coordinates'
    units.
    """
    panels = _panels(data, (y, x))
    fig = Figure(figsize=(4.5 * len(panels) + 1, 4.5), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    low, high = float(data.min()), float(data.max())
    for ax, (label, panel) in zip(axes, panels):
        mesh = ax.pcolormesh(
            panel[x].values, panel[y].values, panel.values, shading="auto", vmin=low, vmax=high
        )
        ax.set(xlabel=_label(data, x), ylabel=_label(data, y), title=label)
    fig.colorbar(mesh, ax=axes.tolist(), label=_readout_label(data))
    if title:
        fig.suptitle(_wrap(title, fig.get_figwidth()), fontsize=9)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_sweep_lines(data, x: str, path: str | None = None, title: str = "") -> Figure:
    """``data`` (an `xarray.DataArray`) against the sweep axis ``x``, titled ``title``: one line
    per element of any other dim (e.g. one per ``spine``), the axes labelled with units."""
    fig = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = fig.subplots()
    for label, line in _panels(data, (x,)):
        ax.plot(line[x].values, line.values, "o-", markersize=3, label=label or None)
    ax.set(xlabel=_label(data, x), ylabel=_readout_label(data))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(_wrap(title, fig.get_figwidth()), fontsize=9)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _settings(text: str, units: dict[str, str]) -> str:
    """``name = value unit, ...`` of a JSON object of settings (a result file's attribute)."""
    return ", ".join(
        f"{name} = {value:g} {units.get(name, '')}".rstrip()
        if isinstance(value, (int, float))
        else f"{name} = {value}"
        for name, value in json.loads(text).items()
    )


def sweep_title(dataset, readout: str) -> str:
    """What a plot of ``readout`` of the sweep result ``dataset`` shows: the readout and its
    unit, the experiment with its protocol settings and fixed condition fields, the axes held
    at one value, and the model (each from the dataset's attributes, where present)."""
    data = dataset[readout]
    lines = [_readout_label(data)]
    attrs = dataset.attrs
    units = json.loads(attrs.get("condition_units", "{}"))
    setup = [
        _settings(attrs[key], units)
        for key in ("protocol_arguments", "conditions")
        if attrs.get(key, "{}") != "{}"
    ]
    # The axes held at one value name the condition too.
    setup += [
        f"{dim} = {dataset[dim].item():g} {dataset[dim].attrs.get('units', '')}".rstrip()
        for dim in data.dims
        if dataset.sizes[dim] == 1 and dim in dataset.coords
    ]
    if "experiment" in attrs or setup:
        lines.append(f"{attrs.get('experiment', 'experiment')}: " + "; ".join(setup))
    if attrs.get("model"):
        lines.append(f"model: {attrs['model']}")
    return "\n".join(lines)


def plot_sweep(dataset, readout: str, path: str | None = None) -> Figure:
    """The ``readout`` of a sweep result (`plastic.sweep.run_sweep`) over its axes: a line plot
    for one axis, a heatmap for two (the first axis on y), titled by `sweep_title`.

    Raises:
        ValueError: for an unknown readout, or more than two axes (select or reduce first).
    """
    if readout not in dataset.data_vars:
        raise ValueError(f"readout must be one of {sorted(dataset.data_vars)}; got {readout!r}")
    axes = [a for a in json.loads(dataset.attrs["axes"]) if dataset.sizes.get(a, 1) > 1]
    single = [dim for dim in dataset[readout].dims if dataset.sizes[dim] == 1]
    data = dataset[readout].squeeze(single)
    title = sweep_title(dataset, readout)
    if len(axes) == 1:
        return plot_sweep_lines(data, axes[0], path, title)
    if len(axes) == 2:
        return plot_sweep_heatmap(data, axes[1], axes[0], path, title)
    raise ValueError(
        f"a sweep plot shows one or two axes; {readout!r} has {len(axes)} axes with more "
        f"than one value ({axes}): select or reduce some first"
    )
