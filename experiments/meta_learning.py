"""Meta-learning: gradient descent on the kinase-competition rule's rate constants, through a whole
learning episode, so that a spiking network learns a target response in one episode.

One command::

    python experiments/meta_learning.py --out out/meta_learning

The network is the one of ``experiments/network_pattern.py``, smaller: 40 afferents (20 of them
replay a frozen 50 ms pattern every 250 ms, the others stay 5 Hz Poisson) onto one LIF neuron,
through synapses that run the kinase-competition rule on spike-evoked calcium (same calcium and
rule as that example, but with the default expression rates). One learning episode lasts 10 s
(`EPISODE`, 40 pattern presentations).

Target behaviour: after one episode, the neuron's mean membrane potential during the pattern
windows of a fixed 2-s test input (spiking disabled, so that it is a smooth function of the
weights) should be `TARGET_PATTERN_GAIN` mV above its value before learning. The meta-loss is the
squared error, in mV^2; the depolarisation outside the pattern windows is reported alongside.
With the default rates the rule learns nothing in 10 s.

Meta-parameters: the logarithms of the rule's 24 rate constants (every ``k_`` field), starting
from the defaults. `jax.grad` runs through the whole episode (10^4 steps of the synapse layer and
the neuron, checkpointed); the neuron's spikes are treated as fixed by the gradient (their
derivative is zero almost everywhere). Adam with a cosine-decaying step, `--iterations` steps.

A target that also asks for less depolarisation outside the pattern (selectivity) is not reached
this way: within one episode, faster rates potentiate the other afferents about 0.6 times as much
as the pattern's, and gradient descent stalls at that trade-off.

Outputs under ``--out``: ``meta_learning.png`` (meta-loss curve, rate constants before and after,
and the rule's STDP window before and after: 60 pairs at 1 Hz on one synapse) and
``summary.json``; the meta-loss reduction and the runtime are printed.
"""

import argparse
import json
import pathlib
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import plastic  # noqa: E402, F401  (float64)
from plastic.network import FeedforwardNetwork, PlasticSynapses, SpikeSignals  # noqa: E402
from plastic.rules import KinaseCompetition  # noqa: E402

N_AFFERENTS = 40
N_PATTERN = 20
RATE = 5e-3  # per ms
PATTERN_LENGTH = 50.0  # ms
PATTERN_PERIOD = 250.0  # ms
EPISODE = 10_000.0  # ms
DT = 1.0  # ms
INITIAL_WEIGHT = 1.4  # mV
TARGET_PATTERN_GAIN = 3.0  # mV
SIGNALS = SpikeSignals(calcium_pre=0.45, calcium_post=0.45, calcium_pair=2.0)
RATES = tuple(f for f in KinaseCompetition.__dataclass_fields__ if f.startswith("k_"))


def base_rule() -> KinaseCompetition:
    """The default rule with PKA's inhibition of PP1 at 0.05 of the default, as in
    ``experiments/network_pattern.py``."""
    rule = KinaseCompetition()
    return eqx.tree_at(lambda r: r.k_pp1_pka, rule, 0.05 * rule.k_pp1_pka)


def with_log_rates(rule: KinaseCompetition, log_rates) -> KinaseCompetition:
    return eqx.tree_at(lambda r: [getattr(r, f) for f in RATES], rule, list(jnp.exp(log_rates)))


def input_spikes(rng, pattern, n_steps):
    """Poisson spikes with the pattern replayed every period, and the pattern-window mask."""
    spikes = rng.random((n_steps, N_AFFERENTS)) < RATE * DT
    length, period = pattern.shape[0], int(round(PATTERN_PERIOD / DT))
    in_pattern = np.zeros(n_steps, bool)
    for start in range(0, n_steps - length + 1, period):
        spikes[start : start + length, :N_PATTERN] = pattern
        in_pattern[start : start + length] = True
    return spikes.astype(float), in_pattern


def stdp_window(rule, delta_ts, n_pairs=60, period=1000.0):
    """Efficacy change (%) of one synapse after ``n_pairs`` pre-post pairs at ``1/period``, for
    each ``delta_t = t_post - t_pre`` (ms), read at the end of the protocol."""
    n_steps = int(n_pairs * period / DT)
    synapse = PlasticSynapses(rule, jnp.ones((1, 1)), SIGNALS, dt=DT)
    steps = jnp.arange(n_steps)

    def change(delta_t):
        pre_step = 100 + jnp.maximum(0, -delta_t)
        post_step = pre_step + delta_t
        pre = ((steps % int(period / DT)) == pre_step).astype(float)[:, None]
        post = ((steps % int(period / DT)) == post_step).astype(float)[:, None]
        return 100.0 * (synapse.run(pre, post).weights[-1, 0, 0] - 1.0)

    return jax.vmap(change)(jnp.asarray(delta_ts, int))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--learning-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out/meta_learning")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    length = int(round(PATTERN_LENGTH / DT))
    pattern = np.zeros((length, N_PATTERN), bool)
    pattern[rng.integers(0, length, N_PATTERN), np.arange(N_PATTERN)] = True
    episode_input, _ = input_spikes(rng, pattern, int(EPISODE / DT))
    test_input, test_pattern = input_spikes(rng, pattern, int(2000.0 / DT))
    episode_input, test_input = jnp.asarray(episode_input), jnp.asarray(test_input)
    test_pattern = jnp.asarray(test_pattern)

    rule = base_rule()
    weights0 = jnp.full((1, N_AFFERENTS), INITIAL_WEIGHT)
    network = FeedforwardNetwork(PlasticSynapses(rule, weights0, SIGNALS, dt=DT))
    # The same neurons without spikes: the readout is the subthreshold potential.
    silent = eqx.tree_at(lambda n: n.neurons.threshold, network, 1e6)

    def depolarisation(weights):
        voltage = silent.respond(test_input, weights).voltage[:, 0]
        rest = network.neurons.resting_potential
        inside = jnp.sum(jnp.where(test_pattern, voltage - rest, 0.0)) / jnp.sum(test_pattern)
        outside = jnp.sum(jnp.where(test_pattern, 0.0, voltage - rest)) / jnp.sum(~test_pattern)
        return inside, outside

    before = depolarisation(weights0)
    target = before[0] + TARGET_PATTERN_GAIN

    def meta_loss(log_rates):
        learner = eqx.tree_at(lambda n: n.synapses.rule, network, with_log_rates(rule, log_rates))
        episode = learner.run(episode_input)
        inside, outside = depolarisation(episode.weights[-1])
        return (inside - target) ** 2, (inside, outside, episode.spikes.sum())

    schedule = optax.cosine_decay_schedule(args.learning_rate, args.iterations, alpha=0.1)
    optimiser = optax.adam(schedule)
    log_rates = jnp.log(jnp.stack([getattr(rule, f) for f in RATES]))
    initial_log_rates = log_rates
    opt_state = optimiser.init(log_rates)

    @jax.jit
    def update(log_rates, opt_state):
        (loss, aux), grad = jax.value_and_grad(meta_loss, has_aux=True)(log_rates)
        updates, opt_state = optimiser.update(grad, opt_state)
        return optax.apply_updates(log_rates, updates), opt_state, loss, aux

    losses = []
    began = time.perf_counter()
    for iteration in range(args.iterations):
        log_rates, opt_state, loss, (inside, outside, spikes) = update(log_rates, opt_state)
        losses.append(float(loss))
        print(
            f"iteration {iteration:3d} ({time.perf_counter() - began:6.1f} s): meta-loss "
            f"{losses[-1]:10.6f} mV^2, depolarisation {float(inside):5.2f} mV in the pattern "
            f"(target {float(target):.2f}), {float(outside):5.2f} mV outside (before "
            f"{float(before[1]):.2f}), {int(spikes)} spikes in the episode",
            flush=True,
        )
    final_loss = float(meta_loss(log_rates)[0])
    losses.append(final_loss)
    runtime = time.perf_counter() - began
    reduction = losses[0] / final_loss
    print(f"meta-loss {losses[0]:.4f} -> {final_loss:.4f} mV^2: {reduction:.1f}x lower")
    print(f"meta-learning took {runtime:.1f} s for {args.iterations} iterations")

    delta_ts = np.arange(-80, 81, 10)
    learnt = with_log_rates(rule, log_rates)
    window = eqx.filter_jit(stdp_window)
    windows = {
        "before": np.asarray(window(rule, delta_ts)),
        "after": np.asarray(window(learnt, delta_ts)),
    }

    summary = {
        "meta_loss_initial_mV2": losses[0],
        "meta_loss_final_mV2": final_loss,
        "reduction": reduction,
        "runtime_s": runtime,
        "iterations": args.iterations,
        "rates_before_per_ms": {f: float(v) for f, v in zip(RATES, jnp.exp(initial_log_rates))},
        "rates_after_per_ms": {f: float(v) for f, v in zip(RATES, jnp.exp(log_rates))},
        "stdp_window_delta_t_ms": delta_ts.tolist(),
        "stdp_window_percent": {k: v.tolist() for k, v in windows.items()},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), constrained_layout=True)
    axes[0].semilogy(np.arange(len(losses)), losses, "o-", ms=3)
    axes[0].set(
        xlabel="meta-iteration",
        ylabel="meta-loss (mV$^2$)",
        title=f"meta-loss: {reduction:.0f}x lower in {runtime:.0f} s",
    )
    position = np.arange(len(RATES))
    axes[1].bar(position - 0.2, np.exp(initial_log_rates) * 1e3, 0.4, label="before")
    axes[1].bar(position + 0.2, np.exp(log_rates) * 1e3, 0.4, label="after")
    axes[1].set_xticks(position, [r.removeprefix("k_") for r in RATES], rotation=90, fontsize=7)
    axes[1].set(yscale="log", ylabel="rate (1/s)", title="rate constants")
    axes[1].legend()
    for label, values in windows.items():
        axes[2].plot(delta_ts, values, "o-", label=label)
    axes[2].axhline(0.0, color="0.6", lw=0.8)
    axes[2].set(
        xlabel="$\\Delta t = t_{post} - t_{pre}$ (ms)",
        ylabel="efficacy change (%)",
        title="STDP window, 60 pairs at 1 Hz",
    )
    axes[2].legend()
    fig.savefig(out / "meta_learning.png", dpi=120)
    plt.close(fig)
    print(f"wrote {out / 'meta_learning.png'} and summary.json")


if __name__ == "__main__":
    main()
