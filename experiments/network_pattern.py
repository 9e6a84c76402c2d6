"""LIF neurons learn a repeated spike pattern with the kinase-competition rule.

One command::

    python experiments/network_pattern.py --out out/network_pattern

Setup (after Masquelier, Guyonneau & Thorpe 2008, with a calcium rule instead of STDP): 100
afferents fire as 5 Hz Poisson trains onto 2 LIF neurons (`plastic.network.LIFNeurons`, all
weights 0.5 mV of PSP peak at the start). Every 250 ms, afferents 0-49 replay one frozen 50 ms
pattern (one spike each, at fixed times) instead of their Poisson activity; afferents 50-99 stay
Poisson throughout. Each synapse runs the kinase-competition rule (`KinaseCompetition`), read by
the spike-evoked calcium of `plastic.network.SpikeSignals`: 0.45 uM per presynaptic and per
postsynaptic spike (20 ms decay), plus the NMDA coincidence term, 2 uM per postsynaptic spike per
glutamate-bound presynaptic spike (50 ms binding). Alone, a spike gives moderate calcium (the
calcineurin, DAPK1, depression range); a presynaptic spike shortly before a postsynaptic one
gives a peak in the CaMKII range, and the CaMKII it binds to GluN2B keeps DAPK1 off: the
synapses that predict the neuron's spikes, the pattern's, are potentiated, the others depressed.

Changes to the default rule, for spike-evoked calcium: the expression steps (GluN2B binding and
unbinding of CaMKII and DAPK1, AMPAR insertion and removal) run `EXPRESSION_SPEEDUP` times faster,
so that learning takes minutes of network time instead of an hour; PKA's inhibition of PP1 is
`PKA_ON_PP1` times the default, so that the brief PKA activation by each calcium peak does not
silence the depression branch for tens of seconds (with the default, every synapse potentiates
and the neurons' rates run away).

Outputs under ``--out``: ``network_pattern.png`` (weights before and after, their time course,
and the membrane potential's response to a test input before and after) and ``summary.json``;
the key numbers are printed.
"""

import argparse
import json
import pathlib
import time

import equinox as eqx
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import plastic  # noqa: E402, F401  (float64)
from plastic.network import FeedforwardNetwork, PlasticSynapses, SpikeSignals  # noqa: E402
from plastic.rules import KinaseCompetition  # noqa: E402

N_AFFERENTS = 100
N_PATTERN = 50  # afferents 0..49 take part in the pattern
N_NEURONS = 2
RATE = 5e-3  # per ms
PATTERN_LENGTH = 50.0  # ms
PATTERN_PERIOD = 250.0  # ms
INITIAL_WEIGHT = 0.5  # mV
CALCIUM_PRE = 0.45  # uM per presynaptic spike
CALCIUM_POST = 0.45  # uM per postsynaptic spike
CALCIUM_PAIR = 2.0  # uM per postsynaptic spike per bound presynaptic spike
EXPRESSION_SPEEDUP = 20.0
PKA_ON_PP1 = 0.05  # factor on k_pp1_pka
CHUNK = 10_000.0  # ms of network time per compiled call (progress is printed per chunk)


def pattern_rule() -> KinaseCompetition:
    """The default rule with its expression steps `EXPRESSION_SPEEDUP` times faster and PKA's
    inhibition of PP1 scaled by `PKA_ON_PP1`."""
    rule = KinaseCompetition()
    rule = eqx.tree_at(lambda r: r.k_pp1_pka, rule, PKA_ON_PP1 * rule.k_pp1_pka)
    fields = (
        "k_camkii_n2b_on",
        "k_camkii_n2b_off",
        "k_dapk1_n2b_on",
        "k_dapk1_n2b_off",
        "k_insert",
        "k_remove",
    )
    return eqx.tree_at(
        lambda r: [getattr(r, f) for f in fields],
        rule,
        [EXPRESSION_SPEEDUP * getattr(rule, f) for f in fields],
    )


def input_spikes(rng, pattern, n_steps, dt):
    """``(n_steps, N_AFFERENTS)`` Poisson spikes with the pattern replayed every period, and a
    boolean ``(n_steps,)`` mask of the pattern windows."""
    spikes = rng.random((n_steps, N_AFFERENTS)) < RATE * dt
    length, period = pattern.shape[0], int(round(PATTERN_PERIOD / dt))
    in_pattern = np.zeros(n_steps, bool)
    for start in range(0, n_steps - length + 1, period):
        spikes[start : start + length, :N_PATTERN] = pattern
        in_pattern[start : start + length] = True
    return spikes.astype(float), in_pattern


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=4.0, help="learning time, min")
    parser.add_argument("--dt", type=float, default=1.0, help="time step, ms")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out/network_pattern")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dt = args.dt
    rng = np.random.default_rng(args.seed)
    length = int(round(PATTERN_LENGTH / dt))
    # Each pattern afferent spikes once, at a random time of the pattern.
    pattern = np.zeros((length, N_PATTERN), bool)
    pattern[rng.integers(0, length, N_PATTERN), np.arange(N_PATTERN)] = True

    signals = SpikeSignals(
        calcium_pre=CALCIUM_PRE, calcium_post=CALCIUM_POST, calcium_pair=CALCIUM_PAIR
    )
    weights0 = jnp.full((N_NEURONS, N_AFFERENTS), INITIAL_WEIGHT)
    network = FeedforwardNetwork(PlasticSynapses(pattern_rule(), weights0, signals, dt=dt))
    chunk_steps = int(round(CHUNK / dt))
    n_chunks = max(1, int(round(args.minutes * 60_000.0 / CHUNK)))
    run = eqx.filter_jit(lambda net, pre, state: net.run(pre, initial_state=state))

    state = network.initial_state()
    times, weights, rates = [0.0], [np.asarray(weights0)], []
    began = time.perf_counter()
    for chunk in range(n_chunks):
        pre, in_pattern = input_spikes(rng, pattern, chunk_steps, dt)
        episode = run(network, jnp.asarray(pre), state)
        state = episode.final_state
        times.extend(np.asarray(episode.times) / 1000.0)
        weights.extend(np.asarray(episode.weights))
        spikes = np.asarray(episode.spikes)
        rates.append(spikes.sum() / (N_NEURONS * CHUNK / 1000.0))
        mean = np.asarray(episode.weights[-1])
        print(
            f"{(chunk + 1) * CHUNK / 1000:5.0f} s of {n_chunks * CHUNK / 1000:.0f} s "
            f"({time.perf_counter() - began:5.1f} s): output {rates[-1]:5.1f} Hz, mean weight "
            f"pattern {mean[:, :N_PATTERN].mean():.3f} mV, other {mean[:, N_PATTERN:].mean():.3f}"
            " mV",
            flush=True,
        )
    runtime = time.perf_counter() - began
    times, weights = np.asarray(times), np.asarray(weights)

    # Response to one fresh test input (2 s) through the initial and the learned weights.
    test_steps = int(round(2000.0 / dt))
    test, test_pattern = input_spikes(np.random.default_rng(args.seed + 1), pattern, test_steps, dt)
    respond = eqx.filter_jit(lambda net, pre, w: net.respond(pre, w))
    responses = {
        label: respond(network, jnp.asarray(test), jnp.asarray(w))
        for label, w in (("before", weights[0]), ("after", weights[-1]))
    }

    def selectivity(response):
        spikes = np.asarray(response.spikes)
        seconds_in = test_pattern.sum() * dt / 1000.0
        seconds_out = (~test_pattern).sum() * dt / 1000.0
        per_neuron = N_NEURONS
        return (
            spikes[test_pattern].sum() / (seconds_in * per_neuron),
            spikes[~test_pattern].sum() / (seconds_out * per_neuron),
        )

    summary = {
        "minutes": n_chunks * CHUNK / 60_000.0,
        "dt_ms": dt,
        "runtime_s": runtime,
        "mean_weight_pattern_mV": [
            float(weights[0][:, :N_PATTERN].mean()),
            float(weights[-1][:, :N_PATTERN].mean()),
        ],
        "mean_weight_other_mV": [
            float(weights[0][:, N_PATTERN:].mean()),
            float(weights[-1][:, N_PATTERN:].mean()),
        ],
    }
    for label, response in responses.items():
        inside, outside = selectivity(response)
        summary[f"rate_{label}_Hz"] = {"pattern": float(inside), "other": float(outside)}
        print(f"test input, {label} learning: {inside:.1f} Hz in pattern windows, ", end="")
        print(f"{outside:.1f} Hz outside")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))

    fig, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    index = np.arange(N_AFFERENTS)
    for label, w, marker in (("before", weights[0], "o"), ("after", weights[-1], "s")):
        axes[0, 0].plot(index, w[0], marker, ms=3, label=label)
    axes[0, 0].axvspan(-0.5, N_PATTERN - 0.5, color="0.9", zorder=0)
    axes[0, 0].set(
        xlabel="afferent (shaded: in the pattern)", ylabel="weight (mV)", title="neuron 0"
    )
    axes[0, 0].legend()
    axes[0, 1].plot(times, weights[:, :, :N_PATTERN].mean(axis=(1, 2)), label="pattern afferents")
    axes[0, 1].plot(times, weights[:, :, N_PATTERN:].mean(axis=(1, 2)), label="other afferents")
    axes[0, 1].set(xlabel="time (s)", ylabel="mean weight (mV)", title="learning")
    axes[0, 1].legend()
    t = np.arange(1, test_steps + 1) * dt
    for ax, (label, response) in zip(axes[1], responses.items()):
        ax.plot(t, np.asarray(response.voltage[:, 0]), color="k", lw=0.7)
        spike_times = t[np.asarray(response.spikes[:, 0]) > 0]
        ax.plot(spike_times, np.full(spike_times.shape, -50.0), "|", color="r", ms=8)
        starts = np.flatnonzero(np.diff(test_pattern.astype(int)) == 1) + 1
        for start in np.concatenate([[0] if test_pattern[0] else [], starts]):
            ax.axvspan(start * dt, start * dt + PATTERN_LENGTH, color="C2", alpha=0.2)
        ax.set(
            xlabel="time (ms)",
            ylabel="V (mV)",
            title=f"test input, {label} learning (green: pattern)",
        )
    fig.savefig(out / "network_pattern.png", dpi=120)
    plt.close(fig)
    print(f"learning took {runtime:.1f} s; wrote {out / 'network_pattern.png'} and summary.json")


if __name__ == "__main__":
    main()
