"""The authors' GENESIS traces for one pairing at +16 and -16 ms, and the comparison metrics.

Provenance: emer/axon commit 94fab30c, ``examples/urakubo/geneplot/urakubo_stdp_{+,-}16ms.tsv``
(BSD-style licence), copied unchanged into ``reference/``. Both runs rest 500 s from the paper's
initial conditions, then pair once: the somatic current of the postsynaptic spike starts at
501.000 s. The +16 ms file starts at 0.55 s and its times omit the 500 s of rest (added here);
the -16 ms file covers 0-537 s with GENESIS's own column names (mapped here to the +16 ms
file's names by their resting values).

Times are printed to 1 ms, so several rows share a printed time around the spikes; the rows of
such a run are spread evenly over the millisecond they were rounded to (their order is kept).
"""

import csv
import importlib.resources

import numpy as np

DELTA_TS = (16, -16)
"""ms, t_post - t_pre."""

_GENESIS_NAMES = {
    "Ca.Co12": "PSD_Ca", "Ca.Co6": "Cyt_Ca", "CaM-AC1.Co10": "PSD_AC1act",
    "CaM-AC1.Co4": "Cyt_AC1act", "CaMCa3.Co15": "PSD_Ca3CaM", "I1_active.Co14": "PSD_I1P",
    "Internal_AMPAR.Co16": "Int_AMPAR", "Jca27": "NMDA_Jca", "Jca31": "PSD_VGCC_Jca",
    "Jca32": "Cyt_VGCC_Jca", "Ji29": "NMDA_Ji", "Memb_AMPAR.Co17": "Mbr_AMPAR", "Mg30": "NMDA_Mg",
    "Nopen26": "NMDA_Nopen", "Nt023": "NMDA_Nt0", "Nt124": "NMDA_Nt1", "Nt225": "NMDA_Nt2",
    "PP1_active.Co1": "Cyt_PP1act", "PP1_active.Co7": "PSD_PP1act", "PSD_AMPAR.Co18": "PSD_AMPAR",
    "Trapped_AMPAR.Co19": "Trp_AMPAR", "Vca28": "NMDA_Vca", "Vm21": "Vsoma",
    "membrane_potential20": "Vdend", "Vm22": "Vdend2", "activeCaMKII.Co11": "PSD_CaMKIIact",
    "activeCaMKII.Co5": "Cyt_CaMKIIact", "activeCaN.Co3": "Cyt_CaNact",
    "activeCaN.Co9": "PSD_CaNact", "activePKA.Co2": "Cyt_PKAact", "activePKA.Co8": "PSD_PKAact",
    "cAMP.Co13": "PSD_cAMP",
}

REST_DURATION = 500_000.0
"""ms of rest before the pairing, in both GENESIS runs."""


def _spread_duplicates(t: np.ndarray, resolution: float) -> np.ndarray:
    out = t.astype(float).copy()
    i = 0
    while i < len(t):
        j = i
        while j + 1 < len(t) and t[j + 1] == t[i]:
            j += 1
        k = j - i + 1
        if k > 1:
            out[i : j + 1] = t[i] + resolution * ((np.arange(k) + 0.5) / k - 0.5)
        i = j + 1
    return out


def load_trace(delta_t: int) -> dict[str, np.ndarray]:
    """The GENESIS trace of one pairing at ``delta_t`` = +16 or -16 ms (t_post - t_pre).

    Returns columns named as in the +16 ms file (``PSD_Ca``, ``PSD_CaMKIIact``, ``Trp_AMPAR``,
    ``Vdend``, ...; uM, mV, fractions) plus ``t``: the time in ms from the start of the 500 s
    rest.
    """
    if delta_t not in DELTA_TS:
        raise ValueError(f"load_trace: delta_t must be one of {DELTA_TS} ms; got {delta_t!r}")
    name = f"urakubo_stdp_{delta_t:+d}ms.tsv"
    text = importlib.resources.files("plastic.rules.urakubo").joinpath("reference", name).read_text()
    rows = list(csv.reader(text.splitlines(), delimiter="\t"))
    header = [h.lstrip("#") for h in rows[0]]
    data = np.asarray(rows[1:], float)
    columns = {_GENESIS_NAMES.get(h, h): data[:, j] for j, h in enumerate(header)}
    seconds = columns.pop("Time") + (REST_DURATION / 1000.0 if delta_t > 0 else 0.0)
    columns["t"] = _spread_duplicates(np.round(seconds * 1000.0, 6), 1.0)
    return columns


def peak(t: np.ndarray, y: np.ndarray, window: tuple[float, float]) -> tuple[float, float]:
    """(largest value, its time) of ``y`` for ``t`` in ``window`` (ms)."""
    inside = (t >= window[0]) & (t <= window[1])
    i = int(np.argmax(np.where(inside, y, -np.inf)))
    return float(y[i]), float(t[i])


def normalised_rms(model: np.ndarray, reference: np.ndarray) -> float:
    """RMS of ``model - reference`` over the range (max - min) of ``reference``."""
    span = float(np.max(reference) - np.min(reference))
    if span <= 0.0:
        raise ValueError("normalised_rms: the reference is constant; its range is 0")
    return float(np.sqrt(np.mean((model - reference) ** 2)) / span)
