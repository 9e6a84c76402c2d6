"""The passive soma-dendrite-spines cell of a `plastic.model.SpineModel`, built in Jaxley.

For `bench_jaxley.py`. The same geometry as `tests/neuron_reference.py` builds in NEURON: a
soma cylinder (L = diam) of the soma's capacitance at 1 uF/cm^2, the dendrite as three
branches split at the two spine positions (Jaxley attaches a child at its parent's distal end),
each neck a one-compartment branch, each head a cylinder (L = diam) of the head's area; a leak
everywhere. The uncaging of spine 0 is `UncagedAMPA`: plastic's own dual-exponential AMPA
kinetics (`plastic.biophysics.AMPAReceptor`), driven by the same rectangular glutamate pulse
and integrated exactly over each step. Units: um, mV, ms, nS for the synapse.
"""

import math

import jax.numpy as jnp
import jaxley as jx
import numpy as np
from jaxley.channels import Channel, Leak

from plastic.units import axial_conductance_ns

SPINE_CAPACITANCE = 1.0  # uF/cm^2, necks and heads (as plastic's spines)
SOMA_AXIAL_RESISTIVITY = 1e-3  # Ohm cm: an isopotential soma (as the NEURON reference)


class UncagedAMPA(Channel):
    """Dual-exponential AMPA conductance driven by a train of rectangular glutamate pulses.

    States ``rise`` and ``decay`` (1) follow ``dx/dt = rate * pulse(t) - x / tau``, integrated
    exactly over a step with the pulses' overlap with that step as its drive; ``time`` (ms)
    counts the steps taken. Current ``gmax * norm * (decay - rise) * (v - e)``. Parameters:
    ``gmax`` S/cm^2, ``e`` mV, ``onset``, ``duration`` and ``period`` ms (``count`` pulses, the
    k-th from ``onset + k period``; a step overlaps at most two), ``rate`` 1/ms, ``tau_rise``
    and ``tau_decay`` ms, ``norm`` (1; the peak of the unit dual exponential scaled to 1).
    """

    def __init__(self, name=None):
        self.current_is_in_mA_per_cm2 = True
        super().__init__(name)
        p = self._name
        self.channel_params = {
            f"{p}_gmax": 0.0,
            f"{p}_e": 0.0,
            f"{p}_onset": 0.0,
            f"{p}_duration": 2.0,
            f"{p}_period": 2000.0,
            f"{p}_count": 1.0,
            f"{p}_rate": 0.5,
            f"{p}_tau_rise": 0.2,
            f"{p}_tau_decay": 1.7,
            f"{p}_norm": 1.0,
        }
        self.channel_states = {f"{p}_rise": 0.0, f"{p}_decay": 0.0, f"{p}_time": 0.0}
        self.current_name = f"i_{p}"

    def update_states(self, states, dt, v, params):
        p = self._name
        t = states[f"{p}_time"]
        onset, duration = params[f"{p}_onset"], params[f"{p}_duration"]
        period, count = params[f"{p}_period"], params[f"{p}_count"]
        first = jnp.clip(jnp.floor((t - onset) / period), 0.0, count - 1.0)

        def overlap(pulse):  # ms of the step [t, t + dt] within pulse number ``pulse``
            start = onset + pulse * period
            return jnp.clip(jnp.minimum(t + dt, start + duration) - jnp.maximum(t, start), 0.0, dt)

        within = overlap(first) + jnp.where(first + 1.0 < count, overlap(first + 1.0), 0.0)
        drive = params[f"{p}_rate"] * within / dt
        updated = {f"{p}_time": t + dt}
        for state in ("rise", "decay"):
            tau = params[f"{p}_tau_{state}"]
            kept = jnp.exp(-dt / tau)
            updated[f"{p}_{state}"] = states[f"{p}_{state}"] * kept + drive * tau * (1.0 - kept)
        return updated

    def compute_current(self, states, v, params):
        p = self._name
        open_fraction = params[f"{p}_norm"] * (states[f"{p}_decay"] - states[f"{p}_rise"])
        return params[f"{p}_gmax"] * open_fraction * (v - params[f"{p}_e"])  # mA/cm^2


def _branch(n_compartments, length, diameter, axial_resistivity, capacitance, leak, rest):
    """A Jaxley branch of ``n_compartments`` equal compartments over ``length`` um; leak in
    S/cm^2 reversing at ``rest`` mV."""
    branch = jx.Branch(jx.Compartment(), ncomp=n_compartments)
    branch.set("length", length / n_compartments)
    branch.set("radius", diameter / 2.0)
    branch.set("axial_resistivity", axial_resistivity)
    branch.set("capacitance", capacitance)
    branch.insert(Leak())
    branch.set("Leak_gLeak", leak)
    branch.set("Leak_eLeak", rest)
    branch.set("v", rest)
    return branch


class JaxleyCell:
    """The Jaxley cell of a passive two-spine `SpineModel`, uncaging spine 0 at ``onset`` ms
    (and every ``period`` ms after it, ``count`` times).

    Args:
        model: a passive `SpineModel` with two spines (positions increasing, inside the
            dendrite).
        onset: ms. compartment_length: the dendrite's target compartment length, um.
        period: ms between uncagings. count: uncagings.
    Attributes:
        cell: the `jaxley.Cell`, recording head 0, the soma and the three compartments around
            spine 0's branch point (in that order).
        parent_weights: ``(3,)`` axial conductances (nS) from those three compartments'
            centres to the branch point: the branch point's potential is their weighted mean
            (no membrane at a branch point), the potential under spine 0.
        head_area: um^2 of head 0.
    """

    def __init__(
        self,
        model,
        onset: float,
        compartment_length: float = 10.0,
        period: float = 2000.0,
        count: int = 1,
    ):
        geometry = model.geometry
        if geometry.n_spines != 2:
            raise ValueError(f"JaxleyCell builds two spines; the model has {geometry.n_spines}")
        dendrite, spines = geometry.dendrite, geometry.spines
        rest = float(dendrite.resting_potential)
        ra = float(dendrite.axial_resistivity)
        leak = 1.0 / (float(dendrite.membrane_resistance) * 1e3)  # S/cm^2
        diameter = float(dendrite.diameter)

        soma_area = float(geometry.soma.capacitance) / 0.01  # um^2 at 1 uF/cm^2
        soma_side = math.sqrt(soma_area / math.pi)
        soma_leak = float(geometry.soma.leak_conductance) * 1e-9 / (soma_area * 1e-8)
        soma = _branch(1, soma_side, soma_side, SOMA_AXIAL_RESISTIVITY, 1.0, soma_leak, rest)

        first, second = (float(p) for p in spines.position)
        pieces = (first, second - first, float(dendrite.length) - second)
        counts = [max(int(round(piece / compartment_length)), 1) for piece in pieces]
        dendrites = [
            _branch(n, piece, diameter, ra, float(dendrite.specific_capacitance), leak, rest)
            for piece, n in zip(pieces, counts)
        ]
        head_area = np.asarray(spines.head_area)
        head_side = np.sqrt(head_area / np.pi)
        necks, heads = [], []
        for i in range(2):
            neck_length, neck_diameter = (
                float(spines.neck_length[i]),
                float(spines.neck_diameter[i]),
            )
            necks.append(_branch(1, neck_length, neck_diameter, ra, SPINE_CAPACITANCE, leak, rest))
            side = float(head_side[i])
            heads.append(_branch(1, side, side, ra, SPINE_CAPACITANCE, leak, rest))
        # Branches: soma 0, dendrite 1-3, neck 0 (4) on 1's end, head 0 (5), neck 1 (6) on 2's.
        self.cell = jx.Cell(
            [soma, *dendrites, necks[0], heads[0], necks[1], heads[1]],
            parents=[-1, 0, 1, 2, 1, 4, 2, 6],
        )
        tau_rise, tau_decay = (float(x) for x in model.ampa.time_constants(model.temperature))
        peak_time = tau_rise * tau_decay / (tau_decay - tau_rise) * math.log(tau_decay / tau_rise)
        norm = 1.0 / (math.exp(-peak_time / tau_decay) - math.exp(-peak_time / tau_rise))
        self.cell.branch(5).comp(0).insert(UncagedAMPA())
        head = self.cell.branch(5).comp(0)
        for key, value in (
            ("onset", onset),
            ("period", period),
            ("count", float(count)),
            ("rate", float(model.ampa.release_rate)),
            ("tau_rise", tau_rise),
            ("tau_decay", tau_decay),
            ("norm", norm),
            ("e", float(model.ampa.reversal_potential)),
        ):
            head.set(f"UncagedAMPA_{key}", value)
        self.head_area = float(head_area[0])
        head.set("UncagedAMPA_gmax", self.gmax(float(model.ampa.conductance)))

        for branch, compartment in ((5, 0), (0, 0), (1, counts[0] - 1), (2, 0), (4, 0)):
            self.cell.branch(branch).comp(compartment).record("v", verbose=False)

        self.parent_weights = np.array(  # half a compartment of cytoplasm each
            [
                axial_conductance_ns(diameter, pieces[0] / counts[0] / 2.0, ra),
                axial_conductance_ns(diameter, pieces[1] / counts[1] / 2.0, ra),
                axial_conductance_ns(
                    float(spines.neck_diameter[0]), float(spines.neck_length[0]) / 2.0, ra
                ),
            ]
        )
        self.rest = rest

    def gmax(self, conductance):
        """The synapse's ``gmax`` (S/cm^2) for a total ``conductance`` (nS) on head 0."""
        return conductance * 1e-9 / (self.head_area * 1e-8)

    def peaks(self, conductance, delta_t: float, duration: float, after: float = 0.0):
        """Peak depolarisation (mV above rest) at head 0, under spine 0 and at the soma, ``(3,)``,
        from ``after`` ms on, for an AMPA ``conductance`` (nS), backward Euler at ``delta_t`` ms
        for ``duration`` ms. Traceable in ``conductance``."""
        head = self.cell.branch(5).comp(0)
        state = head.data_set("UncagedAMPA_gmax", self.gmax(conductance), None)
        v = jx.integrate(self.cell, param_state=state, delta_t=delta_t, t_max=duration)
        v = v[:, int(round(after / delta_t)) :]
        weights = jnp.asarray(self.parent_weights / self.parent_weights.sum())
        parent = weights @ v[2:5]
        return jnp.stack([v[0].max(), parent.max(), v[1].max()]) - self.rest
