"""Figures."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from plastic.simulate import Simulation  # noqa: E402


def plot_pairing(
    simulation: Simulation, model, path: str, head_before: np.ndarray, head_after: np.ndarray
) -> None:
    """Voltage and calcium over the saved window of ``simulation``, and head calcium before and
    after every pairing (``head_before``, ``head_after``: ``(n_pairings, n_spines)`` uM, e.g.
    `plastic.experiment.CalciumPerPairing`)."""
    times = np.asarray(simulation.save_times)
    states = simulation.states
    fig, axes = plt.subplots(3, 1, figsize=(7, 8), constrained_layout=True)
    axes[0].plot(times, np.asarray(states.soma_voltage), label="soma", color="k")
    for i in range(model.n_spines):
        axes[0].plot(times, np.asarray(states.head_voltage[:, i]), label=f"spine {i} head")
    axes[0].set(ylabel="V (mV)", title="first pairing")
    axes[0].legend(fontsize=8)
    for i in range(model.n_spines):
        axes[1].plot(times, np.asarray(states.head_calcium[:, i]), label=f"spine {i} head")
    axes[1].set(xlabel="time (ms)", ylabel="[Ca2+] (uM)")
    axes[1].legend(fontsize=8)
    pairing = np.arange(1, head_before.shape[0] + 1)
    for i in range(model.n_spines):
        axes[2].plot(
            pairing,
            np.asarray(head_before[:, i]),
            "o-",
            label=f"spine {i} before",
        )
        axes[2].plot(
            pairing,
            np.asarray(head_after[:, i]),
            "s--",
            label=f"spine {i} after",
        )
    axes[2].set(xlabel="pairing", ylabel="head [Ca2+] (uM)", yscale="log")
    axes[2].legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)


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
    units = data[dim].attrs.get("units", "") if dim in data.coords else ""
    return f"{dim} ({units})" if units else dim


def plot_sweep_heatmap(data, x: str, y: str, path: str, title: str = "") -> None:
    """Heatmap of ``data`` (an `xarray.DataArray`) over the sweep axes ``x`` and ``y``.

    Each element of any other dim (e.g. ``spine``) gets its own panel; all share one colour
    scale, labelled with the variable's name and units.
    """
    panels = _panels(data, (y, x))
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.5 * len(panels) + 1, 4), constrained_layout=True, squeeze=False
    )
    low, high = float(data.min()), float(data.max())
    for ax, (label, panel) in zip(axes[0], panels):
        mesh = ax.pcolormesh(
            panel[x].values, panel[y].values, panel.values, shading="auto", vmin=low, vmax=high
        )
        ax.set(xlabel=_label(data, x), ylabel=_label(data, y), title=label)
    units = data.attrs.get("units", "")
    fig.colorbar(mesh, ax=axes[0].tolist(), label=f"{data.name} ({units})" if units else data.name)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_sweep_lines(data, x: str, path: str, title: str = "") -> None:
    """``data`` (an `xarray.DataArray`) against the sweep axis ``x``: one line per element of
    any other dim (e.g. one per ``spine``)."""
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    for label, line in _panels(data, (x,)):
        ax.plot(line[x].values, line.values, "o-", markersize=3, label=label or None)
    units = data.attrs.get("units", "")
    ax.set(xlabel=_label(data, x), ylabel=f"{data.name} ({units})" if units else data.name)
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_sweep(dataset, readout: str, path: str) -> None:
    """The ``readout`` of a sweep result (`plastic.sweep.run_sweep`) over its axes: a line plot
    for one axis, a heatmap for two (the first axis on y).

    Raises:
        ValueError: for an unknown readout, or more than two axes (select or reduce first).
    """
    if readout not in dataset.data_vars:
        raise ValueError(f"readout must be one of {sorted(dataset.data_vars)}; got {readout!r}")
    axes = [a for a in json.loads(dataset.attrs["axes"]) if dataset.sizes.get(a, 1) > 1]
    single = [dim for dim in dataset[readout].dims if dataset.sizes[dim] == 1]
    data = dataset[readout].squeeze(single)
    # The axes held at one value name the condition in the title.
    title = ", ".join(
        f"{dim} = {data[dim].item():g} {data[dim].attrs.get('units', '')}".rstrip()
        for dim in single
        if dim in data.coords
    )
    if len(axes) == 1:
        plot_sweep_lines(data, axes[0], path, title)
    elif len(axes) == 2:
        plot_sweep_heatmap(data, axes[1], axes[0], path, title)
    else:
        raise ValueError(
            f"a sweep plot shows one or two axes; {readout!r} has {len(axes)} axes with more "
            f"than one value ({axes}): select or reduce some first"
        )
