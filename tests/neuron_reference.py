"""The passive soma-dendrite-spines model of `plastic`, built again in NEURON.

Used by the electrics tests: same geometry, same passive membrane, the same AMPA conductance time
course (NEURON's Exp2Syn driven by a train of small events that samples the 2 ms uncaging pulse),
solved by CVODE at tight tolerance on a finely segmented cable.
"""

import math

import numpy as np

from plastic.model import SpineModel


def _neuron():
    from neuron import h

    h.load_file("stdrun.hoc")
    return h


def _cylinder_for_area(section, area_um2):
    """Make ``section`` a cylinder with L = diam and lateral area ``area_um2``."""
    section.L = section.diam = math.sqrt(area_um2 / math.pi)


def run_passive(
    model: SpineModel,
    *,
    uncaging_onset=None,
    current=None,
    clamp=None,
    record_positions=(),
    t_stop=60.0,
    dendrite_nseg=401,
):
    """Simulate in NEURON and return peak depolarisations above rest (mV).

    Args:
        model: a passive `SpineModel` (no NMDA, VGCC or spike conductances).
        uncaging_onset: onset (ms) of a 2 ms glutamate pulse at spine 0, or None.
        current: ``(onset, duration, amplitude_pA)`` of a somatic current step, or None.
        clamp: ``(position_um, voltage_mV, series_resistance_MOhm)`` of a voltage clamp (NEURON's
            SEClamp) from 0 to ``t_stop``, at the soma for position 0, else on the dendrite.
        record_positions: positions (um) along the dendrite to record as well.
    Returns:
        dict with peak depolarisation at ``"head"`` (per spine), ``"parent"`` (dendrite under each
        spine), ``"soma"``, and ``"dendrite"`` (at ``record_positions``); and the potentials
        (mV) at ``t_stop``: ``"dendrite_final"`` at ``record_positions``, ``"head_final"``.
    """
    h = _neuron()
    geo = model.geometry
    rest = float(geo.dendrite.resting_potential)
    g_pas = 1.0 / (float(geo.dendrite.membrane_resistance) * 1e3)  # S/cm^2
    ra = float(geo.dendrite.axial_resistivity)

    soma = h.Section(name="soma")
    soma_area = float(geo.soma.capacitance) / 0.01  # um^2 at 1 uF/cm^2
    _cylinder_for_area(soma, soma_area)
    soma.Ra = 1e-3  # isopotential
    soma.cm = 1.0
    soma.insert("pas")
    soma.g_pas = float(geo.soma.leak_conductance) * 1e-9 / (soma_area * 1e-8)
    soma.e_pas = rest

    dend = h.Section(name="dend")
    dend.L = float(geo.dendrite.length)
    dend.diam = float(geo.dendrite.diameter)
    dend.nseg = dendrite_nseg
    dend.Ra = ra
    dend.cm = float(geo.dendrite.specific_capacitance)
    dend.insert("pas")
    dend.g_pas = g_pas
    dend.e_pas = rest
    dend.connect(soma(0.5), 0)

    sp = geo.spines
    heads, necks = [], []
    for i in range(geo.n_spines):
        neck = h.Section(name=f"neck{i}")
        neck.L = float(sp.neck_length[i])
        neck.diam = float(sp.neck_diameter[i])
        neck.Ra = ra
        neck.cm = 1.0
        neck.insert("pas")
        neck.g_pas = g_pas
        neck.e_pas = rest
        neck.connect(dend(float(sp.position[i]) / dend.L), 0)
        head = h.Section(name=f"head{i}")
        _cylinder_for_area(head, float(sp.head_area[i]))
        head.Ra = ra
        head.cm = 1.0
        head.insert("pas")
        head.g_pas = g_pas
        head.e_pas = rest
        head.connect(neck(1), 0)
        heads.append(head)
        necks.append(neck)

    keep = []
    if uncaging_onset is not None:
        tau_rise, tau_decay = (float(x) for x in model.ampa.time_constants(model.temperature))
        syn = h.Exp2Syn(heads[0](0.5))
        syn.tau1, syn.tau2, syn.e = tau_rise, tau_decay, float(model.ampa.reversal_potential)
        # The pulse delivers release_rate * duration unit impulses; sample it with small events.
        n_events, duration = 200, 2.0
        weight_us = (
            float(model.ampa.conductance)
            * 1e-3
            * float(model.ampa.release_rate)
            * (duration / n_events)
        )
        netcon = h.NetCon(None, syn)
        netcon.weight[0] = weight_us
        times = uncaging_onset + (np.arange(n_events) + 0.5) * duration / n_events

        def queue():
            for t in times:
                netcon.event(float(t))

        keep += [syn, netcon, h.FInitializeHandler(queue)]
    if current is not None:
        step = h.IClamp(soma(0.5))
        step.delay, step.dur, step.amp = current[0], current[1], current[2] * 1e-3
        keep.append(step)
    if clamp is not None:
        position, voltage, series_resistance = clamp
        site = soma(0.5) if position == 0.0 else dend(position / dend.L)
        seclamp = h.SEClamp(site)
        seclamp.dur1, seclamp.amp1, seclamp.rs = t_stop + 1.0, voltage, series_resistance
        keep.append(seclamp)

    def record(seg):
        vec = h.Vector()
        vec.record(seg._ref_v)
        return vec

    head_v = [record(hd(0.5)) for hd in heads]
    parent_v = [record(dend(float(sp.position[i]) / dend.L)) for i in range(geo.n_spines)]
    soma_v = record(soma(0.5))
    dend_v = [record(dend(min(max(x / dend.L, 0.0), 1.0))) for x in record_positions]

    h.cvode_active(1)
    h.cvode.atol(1e-7)
    h.cvode.rtol(1e-7)
    h.finitialize(rest)
    h.continuerun(t_stop)

    def peak(vec):
        return float(np.max(np.asarray(vec)) - rest)

    def final(vec):
        return float(np.asarray(vec)[-1])

    return {
        "head": np.array([peak(v) for v in head_v]),
        "parent": np.array([peak(v) for v in parent_v]),
        "soma": peak(soma_v),
        "dendrite": np.array([peak(v) for v in dend_v]),
        "dendrite_final": np.array([final(v) for v in dend_v]),
        "head_final": np.array([final(v) for v in head_v]),
    }
