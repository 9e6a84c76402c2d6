"""The Urakubo et al. (2008) spine model as an `AbstractRule` (its drive is in
`plastic.rules.urakubo.drive`, its solves in `plastic.rules.urakubo.solve`).

The state is one flat float64 vector (what `plastic.rosenbrock.Rodas5` integrates): the
concentrations of `plastic.rules.urakubo.network` (uM; NMDAR states as fractions) followed by the
two gates of the L-type VGCC (m, h). The rule reads two signals: the membrane potential
(``voltage``, mV), which sets the NMDAR magnesium block, the calcium driving force and the VGCC,
and ``glutamate`` (1 during a release pulse), which drives glutamate binding to the NMDAR at
``glutamate_concentration`` uM. GENESIS applies each release as an instantaneous jump with an
exposure of 0.4 uM s; a pulse of ``0.4 uM s / glutamate_concentration`` (0.1 ms by default) gives
the same jump up to the transitions that happen during the pulse (at most about ``duration x
300 /s`` = 3 % of the jump; a 0.02 ms pulse changes the quantities compared with GENESIS by less
than 0.3 %), and keeps the model a plain vector field, usable inside the spine model and by any
diffrax solver. Inside the spine model, whose uncaging pulses last 2 ms, set
``glutamate_concentration`` to 0.4 uM s / 2 ms = 200 uM for the paper's exposure.

Time is in ms in the rule's interface (`vector_field` returns per ms), rates are quoted per s
in the code, as in the paper.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic.rules._validation import check_range
from plastic.rules.base import AbstractRule, SynapseSignals
from plastic.rules.urakubo import glun2b
from plastic.rules.urakubo.interpolation import check_interpolation, interpolate
from plastic.rules.urakubo.network import (
    COMPARTMENTS,
    INITIAL_CONCENTRATIONS,
    NMDAR_STATES,
    urakubo_network,
)
from plastic.rules.urakubo.reactions import ReactionNetwork

_Scalar = Float[Array, ""]

REST_VOLTAGE = -65.0
"""mV."""


def _ghk_drive(v, slope):
    """``-V / (1 - exp(slope V))``, mV, finite (and differentiable) at V = 0."""
    z = slope * v
    small = jnp.abs(z) < 1e-8
    z_safe = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 - 0.5 * z, z_safe / jnp.expm1(z_safe)) / slope


def initial_concentrations(network: ReactionNetwork) -> Float[Array, " n"]:
    """The paper's initial conditions (before the 500 s rest of the GENESIS runs) as a vector
    over ``network.species``, uM."""
    x = np.zeros(network.n_species)
    given = dict(INITIAL_CONCENTRATIONS)
    if glun2b.in_network(network.species):
        given.update(glun2b.INITIAL_CONCENTRATIONS)
    for name, value in given.items():
        targets = [name] if "." in name else [f"{c}.{name}" for c in COMPARTMENTS]
        for target in targets:
            x[network.index(target)] = value
    return jnp.asarray(x)


class Urakubo2008(AbstractRule):
    """Urakubo, Honda, Froemke & Kuroda 2008: allosteric NMDAR, VGCC, Ca, CaM, CaMKII, CaN,
    AC1/cAMP/PKA, PP1/I-1, PP2A and AMPAR trafficking in a cytosol and a PSD compartment.

    State: a vector of shape ``(n + 2,)``: ``network.species`` (uM; NMDAR fractions), then the
    VGCC gates m and h (dimensionless). Efficacy: trapped AMPAR (uM, PSD) over its value at
    rest, ``reference_trapped``.

    Attributes:
        network: the reaction network (rate constants per s).
        rest_state: the state before any activity, shape ``(n + 2,)`` (see `equilibrate`).
        reference_trapped: trapped AMPAR at rest, uM.
        nmda_permeability: Ca flux per open fraction and mV of GHK drive, uM/s/mV (0.5 nmol
            s^-1 mV^-1 cm^-2 x SVR_PSD = 89,635).
        mg_coefficient: Mg block ``1 / (1 + c exp(-slope V))``, c = [Mg] / 3.57 mM (0.4202 at
            1.5 mM).
        mg_slope: per mV.
        ghk_slope: the Ca driving force ``-V / (1 - exp(slope V))``, per mV.
        glutamate_concentration: during a release pulse, uM.
        vgcc_conductance: ``G = g Phi(V) m^3 h``, dimensionless scale (0.12).
        vgcc_flux_psd, vgcc_flux_cyt: Ca influx ``-V x flux x G``, uM/s per mV (0.04 x SVR).
        vgcc_m_half, vgcc_m_slope, vgcc_h_half, vgcc_h_slope: steady-state gates
            ``1 / (1 + exp(-(V - half) / slope))`` (m) and ``1 / (1 + exp((V - half) / slope))``
            (h), mV.
        vgcc_tau_m, vgcc_tau_h: gate time constants, ms.
        prescribed_vgcc: None (the VGCC follows the voltage), or ``(ts, psd, cyt)``: the VGCC
            Ca influx (uM/s) into PSD and cytosol at times ``ts`` (ms), linearly interpolated,
            in place of the channel model. For validation against a recording whose voltage is
            sampled too coarsely to resolve the back-propagating spike (the GENESIS traces).
        prescribed_vgcc_interpolation: between the samples of ``prescribed_vgcc``:
            ``"linear"``, or ``"exponential"``: a falling influx decays geometrically (the
            channel's deactivation is a relaxation), a rising one is linear
            (`plastic.rules.urakubo.interpolation`). Static.
        dapk1_autophosphorylation: with the DAPK1 variant (``urakubo_network(dapk1=True)``),
            the scale K of DAPK1's Ser308 autophosphorylation rate, per s (1.0 in the emer/axon
            code, 0.29 in ccnlab/kinase); unused without it.
        dapk1_ampar_inhibition: with the DAPK1 variant, how much active DAPK1 takes off the
            CaMKII activity that phosphorylates AMPARs, ``max(0, CaMKII - k DAPK1)``
            (dimensionless; 2.0 in the emer/axon code).
    """

    network: ReactionNetwork
    rest_state: Float[Array, " n_plus_2"]
    reference_trapped: _Scalar
    nmda_permeability: _Scalar
    mg_coefficient: _Scalar
    mg_slope: _Scalar
    ghk_slope: _Scalar
    glutamate_concentration: _Scalar
    vgcc_conductance: _Scalar
    vgcc_flux_psd: _Scalar
    vgcc_flux_cyt: _Scalar
    vgcc_m_half: _Scalar
    vgcc_m_slope: _Scalar
    vgcc_h_half: _Scalar
    vgcc_h_slope: _Scalar
    vgcc_tau_m: _Scalar
    vgcc_tau_h: _Scalar
    prescribed_vgcc: tuple[Float[Array, " k"], Float[Array, " k"], Float[Array, " k"]] | None
    prescribed_vgcc_interpolation: str = eqx.field(static=True)
    dapk1_autophosphorylation: _Scalar
    dapk1_ampar_inhibition: _Scalar

    def __init__(
        self,
        network: ReactionNetwork | None = None,
        rest_state=None,
        reference_trapped=None,
        *,
        nmda_permeability=0.5 * 1.7927e5,
        mg_coefficient=1.5 / 3.57,
        mg_slope=0.062,
        ghk_slope=0.0756,
        glutamate_concentration=4000.0,
        vgcc_conductance=0.12,
        vgcc_flux_psd=0.04 * 1.7927e5,
        vgcc_flux_cyt=0.04 * 1.0426e5,
        vgcc_m_half=-37.0,
        vgcc_m_slope=1.0,
        vgcc_h_half=-41.0,
        vgcc_h_slope=0.5,
        vgcc_tau_m=3.6,
        vgcc_tau_h=29.0,
        prescribed_vgcc=None,
        prescribed_vgcc_interpolation="linear",
        dapk1_autophosphorylation=1.0,
        dapk1_ampar_inhibition=2.0,
    ):
        self.network = urakubo_network() if network is None else network
        n = self.network.n_species
        if rest_state is None:
            # The gates at -65 mV: m closed, h open.
            rest_state = jnp.concatenate(
                [initial_concentrations(self.network), jnp.array([0.0, 1.0])]
            )
        self.rest_state = jnp.asarray(rest_state, float)
        if self.rest_state.shape != (n + 2,):
            raise ValueError(
                f"Urakubo2008.rest_state must have shape ({n + 2},) (species + 2 VGCC gates); "
                f"got {self.rest_state.shape}"
            )
        if reference_trapped is None:
            reference_trapped = self.trapped(self.rest_state)
        self.reference_trapped = jnp.asarray(reference_trapped, float)
        self.nmda_permeability = jnp.asarray(nmda_permeability, float)
        self.mg_coefficient = jnp.asarray(mg_coefficient, float)
        self.mg_slope = jnp.asarray(mg_slope, float)
        self.ghk_slope = jnp.asarray(ghk_slope, float)
        self.glutamate_concentration = jnp.asarray(glutamate_concentration, float)
        self.vgcc_conductance = jnp.asarray(vgcc_conductance, float)
        self.vgcc_flux_psd = jnp.asarray(vgcc_flux_psd, float)
        self.vgcc_flux_cyt = jnp.asarray(vgcc_flux_cyt, float)
        self.vgcc_m_half = jnp.asarray(vgcc_m_half, float)
        self.vgcc_m_slope = jnp.asarray(vgcc_m_slope, float)
        self.vgcc_h_half = jnp.asarray(vgcc_h_half, float)
        self.vgcc_h_slope = jnp.asarray(vgcc_h_slope, float)
        self.vgcc_tau_m = jnp.asarray(vgcc_tau_m, float)
        self.vgcc_tau_h = jnp.asarray(vgcc_tau_h, float)
        if prescribed_vgcc is not None:
            prescribed_vgcc = tuple(jnp.asarray(a, float) for a in prescribed_vgcc)
            shapes = {a.shape for a in prescribed_vgcc}
            if len(prescribed_vgcc) != 3 or len(shapes) != 1 or prescribed_vgcc[0].ndim != 1:
                raise ValueError(
                    "Urakubo2008.prescribed_vgcc must be (ts, psd, cyt), three 1-D arrays of one "
                    f"length; got shapes {[a.shape for a in prescribed_vgcc]}"
                )
        self.prescribed_vgcc = prescribed_vgcc
        check_interpolation(
            "Urakubo2008.prescribed_vgcc_interpolation", prescribed_vgcc_interpolation
        )
        self.prescribed_vgcc_interpolation = prescribed_vgcc_interpolation
        self.dapk1_autophosphorylation = jnp.asarray(dapk1_autophosphorylation, float)
        self.dapk1_ampar_inhibition = jnp.asarray(dapk1_ampar_inhibition, float)

    def __check_init__(self):
        name = "Urakubo2008"
        check_range(
            name,
            "reference_trapped",
            self.reference_trapped,
            lower=0.0,
            lower_open=True,
            units="uM",
        )
        for field, units in [
            ("nmda_permeability", "uM/s/mV"),
            ("mg_coefficient", ""),
            ("glutamate_concentration", "uM"),
            ("vgcc_conductance", ""),
            ("vgcc_flux_psd", "uM/s/mV"),
            ("vgcc_flux_cyt", "uM/s/mV"),
            ("dapk1_autophosphorylation", "1/s"),
            ("dapk1_ampar_inhibition", ""),
        ]:
            check_range(name, field, getattr(self, field), lower=0.0, units=units)
        for field in ("vgcc_m_slope", "vgcc_h_slope", "vgcc_tau_m", "vgcc_tau_h"):
            check_range(name, field, getattr(self, field), lower=0.0, lower_open=True)
        # Signed or of any size, but finite: a NaN or infinity here fails deep inside a solve.
        for field, units in [
            ("rest_state", ""),
            ("mg_slope", "1/mV"),
            ("ghk_slope", "1/mV"),
            ("vgcc_m_half", "mV"),
            ("vgcc_h_half", "mV"),
        ]:
            check_range(name, field, getattr(self, field), units=units)

    # --- readouts (any leading axes) -------------------------------------------------------

    def concentration(self, state, name: str):
        """Concentration of species ``name`` (uM) in ``state`` (shape ``(..., n + 2)``)."""
        return state[..., self.network.index(name)]

    def _sum(self, state, names):
        return sum(self.concentration(state, s) for s in names)

    @property
    def has_dapk1(self) -> bool:
        """Whether the network is the DAPK1 variant (explicit GluN2B binding)."""
        return glun2b.in_network(self.network.species)

    def _forms(self, compartment: str, form: str) -> list[str]:
        """``{c}.{form}``, and in the variant's PSD its GluN2B-bound twin too."""
        names = [f"{compartment}.{form}"]
        if self.has_dapk1 and compartment == "psd":
            names.append(f"psd.N2B_{form}")
        return names

    def _sum_forms(self, state, compartment, forms):
        return self._sum(state, [n for form in forms for n in self._forms(compartment, form)])

    def camkii_fractions(self, state, compartment: str):
        """(active CaMKII in uM, autophosphorylation rate per s) of one compartment.

        Active = 0.75 W_B + W_P + 0.8 (W_T + W_A) with W_B CaM-bound, W_P Ca3CaM-bound
        phosphorylated, W_T other CaM-bound phosphorylated, W_A free phosphorylated (in the
        DAPK1 variant's PSD, on GluN2B or not); the rate is GENESIS T286Phos.c's
        ``0.29 max(0, S (-0.22 + 1.826 S - 0.8 S^2) x 0.75 a)`` with S the
        bound-or-phosphorylated fraction and ``a`` the active fraction.
        """
        c = compartment
        bound = self._sum_forms(state, c, [f"KB{n}" for n in range(4)])
        p3 = self._sum_forms(state, c, ["KP3"])
        trapped = self._sum_forms(state, c, [f"KP{n}" for n in range(3)])
        autonomous = self._sum_forms(state, c, ["KP"])
        total = bound + p3 + trapped + autonomous + self._sum_forms(state, c, ["K"])
        active = 0.75 * bound + p3 + 0.8 * (trapped + autonomous)
        s = (bound + p3 + trapped + autonomous) / total
        rate = 0.29 * jnp.maximum(0.0, s * (-0.22 + 1.826 * s - 0.8 * s**2) * 0.75 * active / total)
        return active, rate

    def dapk1_fractions(self, state, compartment: str):
        """DAPK1 variant: (active DAPK1 in uM, Ser308 autophosphorylation rate per s) of one
        compartment (the emer/axon ``dapk1.go``).

        Active = W_B + 0.75 W_I, with W_B CaM-bound and W_I free Ser308-dephosphorylated DAPK1;
        the rate is ``K T^2 max(0, -0.22 + 1.826 T - 0.8 T^2)`` with T the fraction that is
        free and phosphorylated (so phosphorylation sustains itself and CaM binding, by taking
        DAPK1 out of that fraction, opposes it) and K ``dapk1_autophosphorylation``.
        """
        c = compartment
        bound = self._sum_forms(state, c, [f"DB{n}" for n in range(4)])
        free = self._sum_forms(state, c, ["D"])
        phosphorylated = self._sum_forms(state, c, ["DP"])
        bound_phosphorylated = self._sum_forms(state, c, [f"DP{n}" for n in range(4)])
        t = phosphorylated / (bound + free + phosphorylated + bound_phosphorylated)
        rate = self.dapk1_autophosphorylation * t**2 * (-0.22 + 1.826 * t - 0.8 * t**2)
        return bound + 0.75 * free, jnp.maximum(rate, 0.0)

    def modifiers(self, state, glutamate):
        """The network's rate multipliers (`plastic.rules.urakubo.network.MODIFIERS`, and
        `DAPK1_MODIFIERS` in the variant) at ``state``, with ``glutamate`` in [0, 1]."""
        values = {"glutamate": glutamate * self.glutamate_concentration}
        for c in COMPARTMENTS:
            active, values[f"{c}.Kauto"] = self.camkii_fractions(state, c)
            if self.has_dapk1:
                dapk1_active, values[f"{c}.Dauto"] = self.dapk1_fractions(state, c)
                # Active DAPK1 opposes CaMKII at the AMPARs (ampar.go).
                active = jnp.maximum(active - self.dapk1_ampar_inhibition * dapk1_active, 0.0)
            values[f"{c}.CaMKIIact"] = active
        return jnp.stack([values[m] for m in self.network.modifier_names])

    def trapped(self, state):
        """Trapped AMPAR, uM (PSD): the synaptic weight."""
        return self._sum(state, [f"ampar.Trp.{p}" for p in ("DD", "PD", "DP", "PP")])

    def open_fraction(self, state):
        """Open NMDAR fraction."""
        return self._sum(state, [f"nmdar.O.{k}" for k in range(3)])

    def readouts(self, state) -> dict[str, Float[Array, "..."]]:
        """The quantities of the GENESIS traces, named as their columns (uM; NMDA fractions)."""
        ampar = {
            pool: self._sum(state, [f"ampar.{pool}.{p}" for p in ("DD", "PD", "DP", "PP")])
            for pool in ("Int", "Mbr", "PSD", "Trp")
        }
        out = {
            "Cyt_Ca": self.concentration(state, "cyt.Ca"),
            "PSD_Ca": self.concentration(state, "psd.Ca"),
            "NMDA_Nopen": self.open_fraction(state),
            "PSD_Ca3CaM": self.concentration(state, "psd.CaM3"),
            "Cyt_CaMKIIact": self.camkii_fractions(state, "cyt")[0],
            "PSD_CaMKIIact": self.camkii_fractions(state, "psd")[0],
            "Cyt_CaNact": self.concentration(state, "cyt.CaNCaM2"),
            "PSD_CaNact": self.concentration(state, "psd.CaNCaM2"),
            "Cyt_AC1act": self.concentration(state, "cyt.AC1CaM"),
            "PSD_AC1act": self.concentration(state, "psd.AC1CaM"),
            "PSD_cAMP": self.concentration(state, "psd.cAMP"),
            "Cyt_PKAact": self.concentration(state, "cyt.C"),
            "PSD_PKAact": self.concentration(state, "psd.C"),
            "Cyt_PP1act": self.concentration(state, "cyt.PP1"),
            "PSD_PP1act": self.concentration(state, "psd.PP1"),
            "PSD_I1P": self.concentration(state, "psd.I1P"),
        }
        for k, name in enumerate(("NMDA_Nt0", "NMDA_Nt1", "NMDA_Nt2")):
            out[name] = self._sum(state, [f"nmdar.{s}.{k}" for s in NMDAR_STATES])
        out.update({f"{pool}_AMPAR": value for pool, value in ampar.items()})
        if self.has_dapk1:
            out["PSD_DAPK1act"] = self.dapk1_fractions(state, "psd")[0]
            out["Cyt_DAPK1act"] = self.dapk1_fractions(state, "cyt")[0]
            n2b = [s for s in self.network.species if s.startswith("psd.N2B_")]
            out["PSD_CaMKIIn2b"] = self._sum(state, [s for s in n2b if s[8] == "K"])
            out["PSD_DAPK1n2b"] = self._sum(state, [s for s in n2b if s[8] == "D"])
        return out

    def totals(self, state) -> dict[str, Float[Array, "..."]]:
        """Amounts of the conserved moieties (uM fL; NMDAR: fraction): CaM, CaMKII, CaN, PKA R
        and C subunits, I-1, PP1, PP2A, AC1 (per compartment), AMPAR, scaffold, NMDAR."""
        return self.network.totals(state[..., : self.network.n_species])

    # --- AbstractRule ----------------------------------------------------------------------

    def initial_state(self) -> Float[Array, " n_plus_2"]:
        return self.rest_state

    def fluxes_in(self, state, voltage, t=None):
        """Ca influx (uM/s) through NMDARs into the PSD, and through VGCCs into PSD and
        cytosol, at membrane potential ``voltage`` (mV) and time ``t`` (ms; read only by a
        prescribed VGCC influx)."""
        n = self.network.n_species
        m, h = state[..., n], state[..., n + 1]
        drive = _ghk_drive(voltage, self.ghk_slope)
        block = 1.0 / (1.0 + self.mg_coefficient * jnp.exp(-self.mg_slope * voltage))
        nmda = self.nmda_permeability * block * drive * self.open_fraction(state)
        if self.prescribed_vgcc is not None:
            ts, psd, cyt = self.prescribed_vgcc
            how = self.prescribed_vgcc_interpolation
            return nmda, interpolate(t, ts, psd, how), interpolate(t, ts, cyt, how)
        g = self.vgcc_conductance * drive * m**3 * h
        return nmda, -voltage * self.vgcc_flux_psd * g, -voltage * self.vgcc_flux_cyt * g

    def vector_field(self, t, state, signals: SynapseSignals):
        net = self.network
        n = net.n_species
        x = state[:n]
        v = signals.voltage
        dx = net.rates(x, self.modifiers(state, signals.glutamate))
        nmda, vgcc_psd, vgcc_cyt = self.fluxes_in(state, v, t)
        dx = dx.at[net.index("psd.Ca")].add(nmda + vgcc_psd).at[net.index("cyt.Ca")].add(vgcc_cyt)
        # The gates see V capped at 0 mV (axon chans/vgcc.go).
        vc = jnp.minimum(v, 0.0)
        m_inf = jax.nn.sigmoid((vc - self.vgcc_m_half) / self.vgcc_m_slope)
        h_inf = jax.nn.sigmoid(-(vc - self.vgcc_h_half) / self.vgcc_h_slope)
        dm = (m_inf - state[n]) / self.vgcc_tau_m
        dh = (h_inf - state[n + 1]) / self.vgcc_tau_h
        return jnp.concatenate([dx / 1000.0, jnp.stack([dm, dh])])

    def efficacy(self, state):
        return self.trapped(state) / self.reference_trapped
