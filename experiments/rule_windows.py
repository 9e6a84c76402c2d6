"""STDP windows of every rule with its published parameters, and the kinase-competition plateau map.

One command::

    python experiments/rule_windows.py --out out/rule_windows

Protocol: 60 pre-post pairs at 1 Hz, delta_t = t_post - t_pre from -100 to +100 ms. What drives
each rule:
- Graupner-Brunel (sets DP and cortical slices): its own linear spike-evoked calcium, analytic
  solution (`graupner_brunel_analytic.pair_protocol_change`).
- Pair STDP (Song-Miller-Abbott, Bi-Poo) and triplet STDP (Pfister-Gerstner): the spike times,
  event-driven and exact (additive weight change, in the rules' own units).
- Shouval-Bear-Cooper 2002 and the kinase-competition rule: spine calcium from the spike-evoked
  model of Shouval et al. 2002 (`reference/models.md` section 2), computed here: an NMDA
  conductance opened by the pre spike (50 % 50 ms + 50 % 200 ms decay) times the Jahr-Stevens Mg
  block (1 mM) of the spine voltage, which is rest (-65 mV) + a 1 mV EPSP (5 ms rise, 50 ms decay)
  + a 100 mV bAP (75 % 3 ms + 25 % 25 ms decay) arriving 2 ms after the post spike; calcium above
  rest decays with 50 ms, and rest (0.05 uM) is added for the kinase rule. Each pair's transient
  is over long before the next (residual < 1 %), so the 60 pairs repeat one computed waveform.
  Shouval's rule is read at the end of the protocol, the kinase rule 25 min later. The kinase rule
  is also driven with the NMDA calcium flux scaled by 2.2 and 3 (`KINASE_CALCIUM_GAINS`): at
  the published scale its transients stay below its LTP threshold.
- Kinase cascade: its own spike drive (`SpikeCalcium`, Axon's CaSyn traces), dW committed 50 ms
  after each post spike (the post spike opens the 50 ms plus phase that ends an Axon trial),
  summed over the 60 pairs; both the average of products and the product of averages.

Then (not with ``--quick``) the kinase-competition rule on the spine model's own calcium: the
default `SpineModel` (no rule) runs one pairing of the seed protocol (0.5 Hz) for each single-spine
condition of seed 000 (delta_t = +13, +7, -15, -23 ms); the uncaged spine's head calcium over the
2 s cycle is compared with the rule's half-activation levels and replayed 40 times, and the rule
is read 25 min later (with a no-pairing control at the model's resting calcium).

Outputs under ``--out``: ``stdp_windows.png`` (one panel per rule family),
``kinase_plateau_map.png`` (efficacy change over calcium amplitude x duration, read 25 min after
the plateau), ``spine_model_kinase.png`` (head calcium transients and the rule's response) and
``summary.json``; the key numbers (peak LTP, peak LTD, zero crossings) are printed.
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

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

import plastic  # noqa: E402, F401  (float64)
from plastic.model import SpineModel  # noqa: E402
from plastic.protocols import pairing_protocol  # noqa: E402
from plastic.rules import (  # noqa: E402
    KinaseCascade,
    KinaseCompetition,
    SpikeCalcium,
    plateau_efficacy,
    solve_rule,
    spike_weight_changes,
)
from plastic.rules.standalone import MINUTE  # noqa: E402
from plastic.simulate import simulate  # noqa: E402

N_PAIRS = 60
PERIOD = 1000.0  # ms
PRE_PHASE = 150.0  # ms into each period; the post spike comes delta_t later
REST = 0.05  # uM
# The kinase-competition rule is calibrated on plateaus of seconds; Shouval's transients (0.3-0.6 uM
# above rest for ~100 ms) sit below its LTP threshold, so it is also shown with the NMDA calcium
# flux multiplied by these gains (peaks 0.6-1.4 and 0.9-1.9 uM).
KINASE_CALCIUM_GAINS = (1.0, 2.2, 3.0)


class ShouvalSpineCalcium(eqx.Module):
    """Spike-evoked spine calcium of Shouval, Bear & Cooper 2002 (calcium above rest, uM).

    ``dCa/dt = P0 G (I_f e^{-s/tau_f} + I_s e^{-s/tau_s}) B(V) (V - V_r) - Ca / tau_ca``, with s the
    time since the pre spike and ``V = V_rest + EPSP + bAP``.
    """

    v_rest: float = -65.0  # mV
    epsp_peak: float = 1.0  # mV
    epsp_rise: float = 5.0  # ms
    epsp_decay: float = 50.0  # ms
    bap_amplitude: float = 100.0  # mV
    bap_fast: float = 3.0  # ms
    bap_slow: float = 25.0  # ms
    bap_fast_fraction: float = 0.75
    bap_delay: float = 2.0  # ms, soma to spine
    p0: float = 0.5
    g_nmda: float = -1.0 / 500.0  # uM / (ms mV)
    nmda_fast_fraction: float = 0.5
    nmda_fast: float = 50.0  # ms
    nmda_slow: float = 200.0  # ms
    v_reversal: float = 130.0  # mV
    magnesium: float = 1.0  # mM
    tau_ca: float = 50.0  # ms

    def voltage(self, t, t_pre, t_post):
        s = t - t_pre
        # Difference of exponentials normalised to its peak.
        r, d = self.epsp_rise, self.epsp_decay
        peak_time = r * d / (d - r) * np.log(d / r)
        norm = np.exp(-peak_time / d) - np.exp(-peak_time / r)
        epsp = jnp.where(s >= 0, (jnp.exp(-s / d) - jnp.exp(-s / r)) / norm, 0.0)
        u = t - t_post - self.bap_delay
        shape = self.bap_fast_fraction * jnp.exp(-u / self.bap_fast) + (
            1 - self.bap_fast_fraction
        ) * jnp.exp(-u / self.bap_slow)
        bap = jnp.where(u >= 0, self.bap_amplitude * shape, 0.0)
        return self.v_rest + self.epsp_peak * epsp + bap

    def influx(self, t, t_pre, t_post):
        s = t - t_pre
        f = self.nmda_fast_fraction
        gate = f * jnp.exp(-s / self.nmda_fast) + (1 - f) * jnp.exp(-s / self.nmda_slow)
        gate = jnp.where(s >= 0, gate, 0.0)
        v = self.voltage(t, t_pre, t_post)
        block = 1.0 / (1.0 + jnp.exp(-0.062 * v) * self.magnesium / 3.57)
        return self.p0 * self.g_nmda * gate * block * (v - self.v_reversal)

    def pair_waveform(self, delta_t, dt=0.05):
        """Calcium above rest (uM) over one period for a pair at ``PRE_PHASE``, ``+ delta_t``."""
        ts = jnp.arange(0.0, PERIOD + dt / 2, dt)
        decay = np.exp(-dt / self.tau_ca)

        def step(ca, t):
            # Exponential Euler with the influx at the midpoint of the step.
            influx = self.influx(t + dt / 2, PRE_PHASE, PRE_PHASE + delta_t)
            new = ca * decay + influx * self.tau_ca * (1 - decay)
            return new, new

        _, values = jax.lax.scan(step, jnp.zeros(()), ts[:-1])
        return ts, jnp.concatenate([jnp.zeros(1), values])


class PairedCalcium(eqx.Module):
    """``rest + waveform(t mod period)`` for ``n_pairs`` periods, ``rest`` afterwards (uM; t, ts
    and period in ms; the waveform is calcium above rest, linearly interpolated)."""

    ts: jax.Array
    values: jax.Array
    rest: float = REST
    period: float = PERIOD
    n_pairs: int = eqx.field(static=True, default=N_PAIRS)

    def __call__(self, t):
        during = t < self.n_pairs * self.period
        return self.rest + jnp.where(
            during, jnp.interp(jnp.mod(t, self.period), self.ts, self.values), 0.0
        )


def pair_times(delta_t):
    """Pre and post spike times (ms) of the protocol, shape ``(N_PAIRS,)`` each."""
    starts = PERIOD * jnp.arange(N_PAIRS)
    return starts + PRE_PHASE, starts + PRE_PHASE + delta_t


SPINE_CALCIUM = ShouvalSpineCalcium()


def calcium_rule_window(rule, delta_ts, readout_delay, gains=(1.0,)):
    """Efficacy change of a calcium-reading rule, read ``readout_delay`` ms after the protocol
    ends, shape ``(len(gains), len(delta_ts))``: the NMDA calcium flux of `SPINE_CALCIUM` scaled
    by each gain, for each delta_t (ms). All gains share one compilation."""

    def change(gain, delta_t):
        model = eqx.tree_at(lambda m: m.p0, SPINE_CALCIUM, SPINE_CALCIUM.p0 * gain)
        ts, values = model.pair_waveform(delta_t)
        pre, post = pair_times(delta_t)
        edges = jnp.sort(jnp.concatenate([pre, post + model.bap_delay]))
        solution = solve_rule(
            rule,
            PairedCalcium(ts, values),
            0.0,
            N_PAIRS * PERIOD + readout_delay,
            jump_ts=edges,
            rtol=1e-6,
            atol=1e-9,
            max_steps=65_536,
        )
        return solution.efficacy - 1.0

    grid = jax.jit(jax.vmap(jax.vmap(change, (None, 0)), (0, None)))
    return np.asarray(grid(jnp.asarray(gains), jnp.asarray(delta_ts)))


def peak_calcium(delta_ts, model=SPINE_CALCIUM):
    """Peak calcium above rest (uM) of one pair, for each delta_t."""
    return np.asarray(jax.jit(jax.vmap(lambda d: model.pair_waveform(d)[1].max()))(delta_ts))


CASCADE_MODES = ("average_of_products", "product_of_averages")


def kinase_cascade_windows(delta_ts):
    """Summed commits of the kinase cascade, shape ``(len(CASCADE_MODES), len(delta_ts))``."""
    rule, calcium = KinaseCascade(), SpikeCalcium()

    def change(delta_t):
        pre, post = pair_times(delta_t)
        return jnp.stack(
            [
                jnp.sum(spike_weight_changes(rule, calcium, pre, post, post + 50.0, mode=mode))
                for mode in CASCADE_MODES
            ]
        )

    # One compilation for both modes.
    return np.asarray(jax.jit(jax.vmap(change, out_axes=1))(jnp.asarray(delta_ts)))


def spike_rule_window(rule, delta_ts):
    def change(delta_t):
        return rule.weight_change(*pair_times(delta_t))

    return np.asarray(jax.vmap(change)(jnp.asarray(delta_ts)))


def graupner_brunel_window(name, delta_ts):
    from plastic.rules import GraupnerBrunel, GraupnerBrunelCalcium, graupner_brunel_analytic

    rule = GraupnerBrunel.from_published(name)
    calcium = GraupnerBrunelCalcium.from_published(name)

    def change(delta_t):
        ratio = graupner_brunel_analytic.pair_protocol_change(
            rule, calcium, delta_t, PERIOD, N_PAIRS
        )
        return ratio - 1.0

    return np.asarray(jax.vmap(change)(jnp.asarray(delta_ts)))


def windows(delta_ts):
    """{family: {rule label: (changes, units)}} for every rule available."""
    from plastic import rules

    out = {}
    if hasattr(rules, "GraupnerBrunel"):
        out["Graupner-Brunel 2012 (own linear calcium, analytic)"] = {
            f"GB {name}": (graupner_brunel_window(name, delta_ts), "relative change")
            for name in ("DP", "cortical_slices")
        }
    if hasattr(rules, "PairSTDP"):
        out["Pair and triplet STDP (event-driven)"] = {
            "pair, Song-Miller-Abbott": (
                spike_rule_window(rules.PairSTDP.song_miller_abbott(), delta_ts),
                "additive, g_max",
            ),
            "pair, Bi-Poo": (
                spike_rule_window(rules.PairSTDP.bi_poo(), delta_ts),
                "additive, Bi & Poo's 60-pair change spread over the pairs",
            ),
            "triplet, visual ctx all-to-all min.": (
                spike_rule_window(
                    rules.TripletSTDP.from_published("visual_cortex_all_to_all_minimal"), delta_ts
                ),
                "additive",
            ),
            "triplet, hippocampal all-to-all min.": (
                spike_rule_window(
                    rules.TripletSTDP.from_published("hippocampal_all_to_all_minimal"), delta_ts
                ),
                "additive",
            ),
        }
    kinase = calcium_rule_window(KinaseCompetition(), delta_ts, 25 * MINUTE, KINASE_CALCIUM_GAINS)
    calcium_rules = {
        f"kinase competition, calcium x{gain:g} (+25 min)": (changes, "relative change")
        for gain, changes in zip(KINASE_CALCIUM_GAINS, kinase, strict=True)
    }
    if hasattr(rules, "ShouvalBearCooper"):
        shouval = rules.ShouvalBearCooper.from_published("2002", calcium_rest=REST)
        calcium_rules["Shouval-Bear-Cooper 2002"] = (
            calcium_rule_window(shouval, delta_ts, 1000.0)[0],
            "relative change",
        )
    out["Calcium rules, Shouval NMDA x bAP spine calcium"] = calcium_rules
    out["Kinase cascade (own spike drive, commit 50 ms after post)"] = {
        f"kinase cascade, {mode.replace('_', ' ')}": (changes, "sum of CaP - CaD")
        for mode, changes in zip(CASCADE_MODES, kinase_cascade_windows(delta_ts), strict=True)
    }
    return out


def zero_crossings(delta_ts, changes):
    """delta_t (ms) where the window changes sign, by linear interpolation; tiny values (below
    1e-6 of the largest) count as zero and are skipped."""
    tiny = 1e-6 * np.max(np.abs(changes))
    idx = np.flatnonzero(np.abs(changes) > tiny)
    crossings = []
    for i, j in zip(idx[:-1], idx[1:], strict=True):
        if np.sign(changes[i]) != np.sign(changes[j]):
            x0, x1, y0, y1 = delta_ts[i], delta_ts[j], changes[i], changes[j]
            crossings.append(float(x0 - y0 * (x1 - x0) / (y1 - y0)))
    return crossings


def key_numbers(delta_ts, changes):
    """Peak LTP (largest positive change), peak LTD (most negative change), each None if the
    window never goes that way (as in `zero_crossings`, values below 1e-6 of the largest count as
    zero), with their delta_t (ms), and the zero crossings (ms)."""
    i, j = int(np.argmax(changes)), int(np.argmin(changes))
    tiny = 1e-6 * np.max(np.abs(changes))
    ltp, ltd = changes[i] > tiny, changes[j] < -tiny
    return dict(
        peak_ltp=float(changes[i]) if ltp else None,
        peak_ltp_delta_t=float(delta_ts[i]) if ltp else None,
        peak_ltd=float(changes[j]) if ltd else None,
        peak_ltd_delta_t=float(delta_ts[j]) if ltd else None,
        zero_crossings=zero_crossings(delta_ts, changes),
    )


def describe(peak, at):
    return "none" if peak is None else f"{peak:+.4g} at {at:+.1f} ms"


def plot_windows(delta_ts, families, peaks, path):
    fig, axes = plt.subplots(2, 3, figsize=(15.0, 8.5))
    axes = axes.ravel()
    for ax, (family, curves) in zip(axes, families.items(), strict=False):
        # Units differ within the STDP family (Bi-Poo's amplitudes are 100 times Song's): there,
        # each curve is shown relative to its own largest change, given in the legend.
        normalise = len({units for _, units in curves.values()}) > 1
        for label, (changes, units) in curves.items():
            scale = np.max(np.abs(changes)) if normalise else 1.0
            suffix = f", max |change| {scale:.3g}" if normalise else ""
            ax.plot(delta_ts, changes / scale, label=f"{label} [{units}{suffix}]")
        ax.axhline(0.0, color="k", lw=0.5)
        ax.axvline(0.0, color="k", lw=0.5)
        ax.set_title(family, fontsize=9)
        ax.set_xlabel("delta_t = t_post - t_pre (ms)")
        ylabel = "change / max |change|" if normalise else "change after 60 pairs at 1 Hz"
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
    ax = axes[len(families)]
    ax.plot(delta_ts, peaks)
    ax.set_title("Shouval spine calcium: peak of one pair (calcium x1)", fontsize=9)
    ax.set_xlabel("delta_t = t_post - t_pre (ms)")
    ax.set_ylabel("peak calcium above rest (uM)")
    for ax in axes[len(families) + 1 :]:
        ax.set_visible(False)
    fig.suptitle("STDP windows: 60 pairs at 1 Hz, each rule with its published parameters")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plateau_map(amplitudes, durations):
    rule = KinaseCompetition()

    def change(a, d):
        return plateau_efficacy(rule, a, d, rest=REST, consolidation=25 * MINUTE) - 1.0

    grid = jax.jit(jax.vmap(jax.vmap(change, (None, 0)), (0, None)))
    return np.asarray(grid(jnp.asarray(amplitudes), jnp.asarray(durations)))


def plot_plateau_map(amplitudes, durations, changes, path):
    fig, ax = plt.subplots(figsize=(6.0, 4.6))
    limit = 100 * float(np.max(np.abs(changes)))
    norm = mcolors.TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
    mesh = ax.pcolormesh(
        durations / 1000.0, amplitudes, 100 * changes, cmap="RdBu_r", norm=norm, shading="nearest"
    )
    ax.contour(
        durations / 1000.0, amplitudes, changes, levels=[-0.05, 0.05], colors="k", linewidths=0.7
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("plateau duration (s)")
    ax.set_ylabel(f"plateau amplitude above {REST} uM rest (uM)")
    ax.set_title(
        "Kinase competition: efficacy change 25 min after a calcium plateau\n"
        "(contours at -5 % and +5 %)",
        fontsize=9,
    )
    fig.colorbar(mesh, label="efficacy change (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


SEED_DELTA_TS = (13.0, 7.0, -15.0, -23.0)  # ms, the single-spine conditions of seed 000
SEED_PERIOD, SEED_PAIRINGS = 2000.0, 40  # 40 pairings at 0.5 Hz


def spine_model_transients(delta_ts, dt=0.025, dense=400.0, sparse=5.0):
    """Head calcium (uM) of the uncaged spine of the default `SpineModel` over one seed pairing
    cycle (``SEED_PERIOD`` ms, the pairing at its start), every ``dt`` ms over the first
    ``dense`` ms and every ``sparse`` ms after. Returns ``(times, calcium, resting calcium)`` with
    calcium of shape ``(len(delta_ts), n_times)``."""
    model = SpineModel()
    times = np.concatenate(
        [np.arange(0.0, dense, dt), np.arange(dense, SEED_PERIOD + sparse / 2, sparse)]
    )
    run = eqx.filter_jit(simulate)
    traces = []
    for delta_t in delta_ts:
        protocol = pairing_protocol(
            delta_t, n_pairings=1, period=SEED_PERIOD, first_pairing=0.0, quiet=0.0
        )
        simulation = run(model, protocol, jnp.asarray(times))
        simulation.raise_if_failed()
        traces.append(np.asarray(simulation.states.head_calcium[:, 0]))
    return times, np.stack(traces), float(model.calcium.resting_calcium)


def kinase_on_spine_model(times, calcium, rest):
    """Efficacy change of the default kinase-competition rule, 25 min after ``SEED_PAIRINGS``
    repeats (every ``SEED_PERIOD`` ms) of each head-calcium cycle; one row of ``calcium`` (uM) per
    condition, shape ``(n,)`` in, ``(n,)`` out."""

    def change(values):
        trace = PairedCalcium(
            jnp.asarray(times), values - rest, rest=rest, period=SEED_PERIOD, n_pairs=SEED_PAIRINGS
        )
        solution = solve_rule(
            KinaseCompetition(),
            trace,
            0.0,
            SEED_PAIRINGS * SEED_PERIOD + 25 * MINUTE,
            rtol=1e-6,
            atol=1e-9,
            max_steps=65_536,
        )
        return solution.efficacy - 1.0

    return np.asarray(jax.jit(jax.vmap(change))(jnp.asarray(calcium)))


def plot_spine_model(times, calcium, rest, changes, thresholds, path):
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.0, 4.4))
    shown = times <= 250.0
    for delta_t, trace in zip(SEED_DELTA_TS, calcium, strict=True):
        left.plot(times[shown], trace[shown], label=f"delta_t {delta_t:+g} ms")
    for name, level in thresholds.items():
        left.axhline(level, color="k", ls=":", lw=0.8)
        left.annotate(
            f"{name} half-activation", (250.0, level), ha="right", va="bottom", fontsize=7
        )
    left.axhline(rest, color="0.6", lw=0.6)
    left.set_xlabel("time from the pairing's first onset (ms)")
    left.set_ylabel("head calcium (uM)")
    left.set_title("Default spine model, one pairing: uncaged spine's head calcium", fontsize=9)
    left.legend(fontsize=7)
    labels = [f"{d:+g}" for d in SEED_DELTA_TS] + ["no pairing"]
    right.bar(labels, 100 * changes, color=["C0", "C1", "C2", "C3", "0.6"])
    right.axhline(0.0, color="k", lw=0.5)
    right.set_xlabel("delta_t (ms)")
    right.set_ylabel("efficacy change (%)")
    right.set_title(
        f"Kinase competition (default), {SEED_PAIRINGS} cycles at 0.5 Hz, read 25 min later",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report_spine_model(out):
    """The kinase-competition rule on the spine model's own calcium: peaks against thresholds."""
    start = time.time()
    times, calcium, rest = spine_model_transients(SEED_DELTA_TS)
    camkii, can, pka = (float(x) for x in KinaseCompetition().half_activation_calcium())
    thresholds = {"CaMKII (LTP)": camkii, "PKA (neutral)": pka, "CaN (LTD)": can}
    control = np.full((1, calcium.shape[1]), rest)
    changes = kinase_on_spine_model(times, np.concatenate([calcium, control]), rest)
    plot_spine_model(times, calcium, rest, changes, thresholds, out / "spine_model_kinase.png")
    step = np.diff(times, append=times[-1])
    print(
        f"Kinase competition on the default spine model's head calcium ({time.time() - start:.0f}"
        f" s); half-activation calcium: CaN {can:.3f}, PKA {pka:.3f}, CaMKII {camkii:.3f} uM;"
        f" rest {rest:.3f} uM:"
    )
    rows = {}
    for delta_t, trace, change in zip(SEED_DELTA_TS, calcium, changes[:-1], strict=True):
        above = {name: float(np.sum(step * (trace >= level))) for name, level in thresholds.items()}
        rows[f"{delta_t:+g}"] = dict(
            peak_uM=float(trace.max()),
            ms_above=above,
            change=float(change),
            end_uM=float(trace[-1]),
        )
        print(
            f"  delta_t {delta_t:+5.1f} ms: peak {trace.max():.3f} uM, time above CaN/PKA/CaMKII"
            f" half-activation {above['CaN (LTD)']:.1f}/{above['PKA (neutral)']:.1f}/"
            f"{above['CaMKII (LTP)']:.1f} ms, calcium at the end of the cycle {trace[-1]:.4f} uM;"
            f" efficacy change after {SEED_PAIRINGS} cycles + 25 min {100 * change:+.3f} %"
        )
    print(f"  no pairing (rest only): efficacy change {100 * changes[-1]:+.3f} %")
    return dict(thresholds_uM=thresholds, rest_uM=rest, conditions=rows, control=float(changes[-1]))


def main(argv=None):
    """Run the experiment; ``argv`` are the command-line arguments (default ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/rule_windows"))
    parser.add_argument("--quick", action="store_true", help="tiny grids, for a smoke test")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        delta_ts = np.array([-100.0, -20.0, -10.0, 10.0, 20.0, 100.0])
        amplitudes, durations = np.array([0.05, 0.3, 2.0]), np.array([1e3, 60e3])
    else:
        delta_ts = np.linspace(-100.0, 100.0, 81)
        amplitudes = np.geomspace(0.02, 5.0, 36)
        durations = np.geomspace(500.0, 120_000.0, 28)

    start = time.time()
    families = windows(delta_ts)
    peaks = peak_calcium(delta_ts)
    plot_windows(delta_ts, families, peaks, args.out / "stdp_windows.png")
    summary = {"delta_t_ms": delta_ts.tolist(), "rules": {}}
    print(f"STDP windows, 60 pairs at 1 Hz ({time.time() - start:.0f} s):")
    for curves in families.values():
        for label, (changes, units) in curves.items():
            numbers = key_numbers(delta_ts, changes)
            summary["rules"][label] = dict(units=units, changes=changes.tolist(), **numbers)
            crossings = ", ".join(f"{x:+.1f}" for x in numbers["zero_crossings"]) or "none"
            ltp = describe(numbers["peak_ltp"], numbers["peak_ltp_delta_t"])
            ltd = describe(numbers["peak_ltd"], numbers["peak_ltd_delta_t"])
            print(
                f"  {label:50s} peak LTP {ltp}, peak LTD {ltd},"
                f" zero crossings (ms): {crossings}  [{units}]"
            )
    print(f"  Shouval spine calcium, peak per pair: {peaks.min():.3f} to {peaks.max():.3f} uM")

    start = time.time()
    changes = plateau_map(amplitudes, durations)
    plot_plateau_map(amplitudes, durations, changes, args.out / "kinase_plateau_map.png")
    summary["kinase_plateau_map"] = dict(
        amplitudes_uM=amplitudes.tolist(), durations_ms=durations.tolist(), changes=changes.tolist()
    )
    print(
        f"Kinase-competition plateau map ({time.time() - start:.0f} s): change from"
        f" {100 * changes.min():+.1f} % to {100 * changes.max():+.1f} %"
    )
    written = ["stdp_windows.png", "kinase_plateau_map.png"]
    if not args.quick:  # one spine-model compilation: too slow for the smoke test
        summary["spine_model_kinase"] = report_spine_model(args.out)
        written.append("spine_model_kinase.png")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"Wrote {', '.join(written)} and summary.json to {args.out}")


if __name__ == "__main__":
    main()
