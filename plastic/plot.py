"""Figures."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from plastic.simulate import Simulation  # noqa: E402


def plot_pairing(simulation: Simulation, model, path: str) -> None:
    """Voltage and calcium over the saved window, and calcium before/after every pairing."""
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
    pairing = np.arange(1, simulation.head_calcium_before.shape[0] + 1)
    for i in range(model.n_spines):
        axes[2].plot(
            pairing,
            np.asarray(simulation.head_calcium_before[:, i]),
            "o-",
            label=f"spine {i} before",
        )
        axes[2].plot(
            pairing,
            np.asarray(simulation.head_calcium_after[:, i]),
            "s--",
            label=f"spine {i} after",
        )
    axes[2].set(xlabel="pairing", ylabel="head [Ca2+] (uM)", yscale="log")
    axes[2].legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
