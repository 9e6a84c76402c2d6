"""STDP curve of the Urakubo 2008 spine model: 100 pairs at 1 Hz, delta_t = t_post - t_pre from -50
to +50 ms, trapped AMPAR read 50 s after the last pair, against the Go re-implementation's curve
(`reference/fig_urakubo22_stdp_100rep_final50.tsv`).

One command::

    python experiments/urakubo_stdp.py --out out/urakubo_stdp [--step 5]

Drive (no neuron model here): the membrane potential is rest (-65 mV) plus a back-propagating
spike and an EPSP, both read from the authors' GENESIS -16 ms trace, whose first pairing has
them separated (bAP at 501.006 s, release 16 ms later): the bAP is the trace's ``Vdend`` + 65 mV
from 11 ms before to 16 ms after the post spike, continued by an exponential decay (15 ms); the
EPSP is what remains after the release once that bAP is subtracted. Each pair adds both, shifted
to its spike times (linear superposition, an approximation where they overlap). The VGCC Ca
influx is the trace's own around its bAP, repeated at every post spike (it ignores the EPSP's few
mV). The Go curve comes from a one-compartment AdEx neuron instead: compare shapes and signs, not
digits.

Outputs under ``--out``: ``stdp.png`` and ``stdp.json``; the curve is printed.
"""

import argparse
import importlib.resources
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
from plastic.rules import Urakubo2008, UrakuboDrive, equilibrate, solve_urakubo  # noqa: E402
from plastic.rules.urakubo.genesis import POST_SPIKE, REST_DURATION, load_trace  # noqa: E402

N_PAIRS = 100
PERIOD = 1000.0
READOUT = 50_000.0
"""ms after the last pair."""
BAP_WINDOW = (-11.0, 16.0)
"""ms around the post spike."""
BAP_TAIL = 15.0
"""ms: decay of the bAP after its window."""
EPSP_LENGTH = 200.0
"""ms after release."""


def templates():
    """(bAP: times relative to the post spike, mV above rest; EPSP: times relative to release, mV;
    VGCC influx: times relative to the post spike, PSD and cytosol, uM/s), from the -16 ms trace."""
    trace = load_trace(-16)
    t, v = trace["t"], trace["Vdend"] + 65.0
    release = POST_SPIKE + 16.0
    in_bap = (t >= POST_SPIKE + BAP_WINDOW[0]) & (t < POST_SPIKE + BAP_WINDOW[1])
    bap_t, bap_v = t[in_bap] - POST_SPIKE, v[in_bap]

    def bap(s):
        tail = bap_v[-1] * np.exp(-np.maximum(s - bap_t[-1], 0.0) / BAP_TAIL)
        inside = np.interp(s, bap_t, bap_v, left=0.0)
        return np.where(s <= bap_t[-1], inside, tail)

    in_epsp = (t >= release) & (t < release + EPSP_LENGTH)
    epsp_t = np.concatenate([[0.0], t[in_epsp] - release])
    epsp_v = np.concatenate([[0.0], v[in_epsp] - bap(t[in_epsp] - POST_SPIKE)])
    vgcc = (bap_t, trace["PSD_VGCC_Jca"][in_bap], trace["Cyt_VGCC_Jca"][in_bap])
    return (bap_t, bap), (epsp_t, epsp_v), vgcc


def protocol(delta_t: float, rule: Urakubo2008):
    """The drive and the VGCC-prescribed rule for one delta_t (ms)."""
    (bap_t, bap), (epsp_t, epsp_v), (vgcc_t, vgcc_psd, vgcc_cyt) = templates()
    start = REST_DURATION + 1000.0
    posts = start + PERIOD * np.arange(N_PAIRS)
    pres = posts - delta_t
    tail = BAP_WINDOW[1] + np.array([5.0, 20.0, 60.0])
    # Sorted, not deduplicated: the same number of knots for every delta_t, one compiled solve.
    knots = np.sort(
        np.concatenate(
            [
                [REST_DURATION],
                *(p + bap_t for p in posts),
                *(p + tail for p in posts),
                *(p + epsp_t for p in pres),
            ]
        )
    )
    voltage = np.full_like(knots, -65.0)
    for post, pre in zip(posts, pres, strict=True):
        voltage += bap(knots - post) * (knots >= post + bap_t[0])
        voltage += np.interp(knots - pre, epsp_t, epsp_v, left=0.0, right=0.0)
    drive = UrakuboDrive(knots, voltage, pres)
    influx_t = np.concatenate([p + vgcc_t for p in posts])
    influx = (
        np.concatenate([[REST_DURATION], influx_t]),
        np.concatenate([[0.0], np.tile(vgcc_psd, N_PAIRS)]),
        np.concatenate([[0.0], np.tile(vgcc_cyt, N_PAIRS)]),
    )
    rule = eqx.tree_at(lambda r: r.prescribed_vgcc, rule, influx, is_leaf=lambda x: x is None)
    return rule, drive, float(posts[-1] + READOUT)


@eqx.filter_jit
def weight_change(rule, drive, t1):
    solution = solve_urakubo(rule, drive, REST_DURATION, t1, max_steps=400_000)
    return solution.efficacy - 1.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/urakubo_stdp"))
    parser.add_argument("--step", type=float, default=5.0, help="delta_t grid step, ms")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    rest = equilibrate(Urakubo2008())
    name = "fig_urakubo22_stdp_100rep_final50.tsv"
    text = importlib.resources.files("plastic.rules.urakubo").joinpath("reference", name)
    reference = np.loadtxt(text.open(), skiprows=1, usecols=(0, 2))
    delta_ts = np.arange(-50.0, 50.0 + 1e-9, args.step)
    changes = []
    for delta_t in delta_ts:
        began = time.perf_counter()
        rule, drive, t1 = protocol(delta_t, rest)
        changes.append(float(weight_change(rule, drive, jnp.asarray(t1))))
        go = np.interp(delta_t, reference[:, 0], reference[:, 1])
        print(
            f"delta_t {delta_t:+6.1f} ms: model {changes[-1]:+7.1%}, Go {go:+7.1%} "
            f"({time.perf_counter() - began:.0f} s)",
            flush=True,
        )
    (args.out / "stdp.json").write_text(
        json.dumps(
            {
                "delta_t_ms": delta_ts.tolist(),
                "model": changes,
                "go_delta_t_ms": reference[:, 0].tolist(),
                "go": reference[:, 1].tolist(),
            },
            indent=2,
        )
    )
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.plot(reference[:, 0], 100 * reference[:, 1], "ks-", ms=3, label="Go re-implementation")
    ax.plot(delta_ts, 100 * np.asarray(changes), "C1o-", ms=4, label="this model")
    ax.set_xlabel("delta_t = t_post - t_pre (ms)")
    ax.set_ylabel("trapped AMPAR change, 50 s after (%)")
    ax.set_title("100 pairs at 1 Hz")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / "stdp.png", dpi=120)
    print(f"wrote {args.out / 'stdp.png'}")


if __name__ == "__main__":
    main()
