"""The species and reactions of the Urakubo, Honda, Froemke & Kuroda (2008) spine model.

Two well-mixed compartments, cytosol (0.08 fL) and PSD (0.02 fL), exchange diffusible species
(the Go re-implementation's geometry, `reference/urakubo_and_kinase.md` section 1.1: distance
0.15 um, exchange flux ``D (C_cyt - C_psd)`` in its volume units of 1/600 fL). Rate constants
cite the paper's supplementary tables (S I a-k) as numbered in the reference document, sections
1.3-1.5; where the table and the authors' GENESIS model differ, the GENESIS value is used (noted).

Per compartment (``cyt.`` or ``psd.``):
- ``Ca``; ``CaM0..3`` (free calmodulin with 0-3 Ca; Ca3CaM is the active form).
- CaMKII (Dupont et al. 2003 scheme): ``KB0..3`` CaM_n.CaMKII, ``KP0..3`` CaM_n.CaMKII-P(Thr286),
  ``K`` free, ``KP`` free phosphorylated; dephosphorylation complexes ``KPx_PP1``/``KPx_PP2A``.
- CaN: ``CaN0..2`` (0-2 Ca on calcineurin), ``CaNCaM0..2`` (bound to Ca3CaM); active =
  ``CaNCaM2``.
- AC1/cAMP/PKA: ``AC1``, ``AC1CaM`` (active), ``cAMP``, PKA holoenzyme forms ``R2C2``, ``R2C2B``,
  ``R2C2BB``, ``R2C2AB``, ``R2C2ABB``, ``R2C2_4``, ``R2C_3``, ``R2C_4``, ``R2_3``, ``R2_4``, free
  catalytic subunit ``C`` (active PKA), PDE-cAMP complex ``PDEcAMP``.
- PP1/I-1: ``I1``, ``I1P``, ``PP1_I1P`` (inactive), ``PP1`` (active), enzyme complexes
  ``I1_PKA``, ``I1P_CaN``, ``I1P_PP2A`` (cytosol).
- ``PP2A`` (cytosol only, does not diffuse).
AMPAR: ``ampar.{Int,Mbr,PSD,Trp}.{DD,PD,DP,PP}`` (S845 and PDZ-ligand phosphorylation: D or P);
Int and Mbr in cytosolic concentration units, PSD and Trp (trapped: the synaptic weight) in PSD
units; ``psd.Scaffold`` free trapping slots.
NMDAR: ``nmdar.{C0,C1,C2,C3,O}.{0,1,2}`` (gating state x CaM class: free, 2Ca.CaM-, 3Ca.CaM-
bound), fractions of the receptor pool (sum 1).

Deviations from the Go code, kept to the chemistry: each dephosphorylated CaMKII form has its own
phosphatase complex (the Go code shares one complex pool across substrates, which creates CaM);
PKA's cAMP binding to R2C2-B consumes R2C2-B (the Go code decrements R2C2, which creates PKA).
Kept quirks, because the GENESIS traces have them: NMDAR class-2 binding is driven by
2Ca.CaM (the "oldBug" flag of the Go code); free-CaM depletion by NMDAR binding is ignored; AMPAR
phosphorylation fluxes are ``Kf C_S C_E`` in the Go volume unit (so the concentration rate is
``Kf / 48`` in the cytosol and ``Kf / 12`` in the PSD); ATP, AMP and PDE are buffered.
"""

from plastic.rules.urakubo import glun2b
from plastic.rules.urakubo.reactions import NetworkBuilder, Reaction, ReactionNetwork

CYTOSOL_VOLUME = 0.08
"""fL."""
PSD_VOLUME = 0.02
"""fL."""
VOLUME_UNIT = 0.08 / 48.0
"""fL: the Go code's amount unit (cytosol = 48, PSD = 12)."""
EXCHANGE = VOLUME_UNIT / 0.15**2
"""um: multiplies D (um^2/s) and a concentration (uM) into an amount flux (uM fL / s) between
cytosol and PSD (distance 0.15 um; section 1.3)."""

COMPARTMENTS = {"cyt": CYTOSOL_VOLUME, "psd": PSD_VOLUME}
CAM_CA = [(51.2, 200.0), (133.3, 1000.0), (25.6, 400.0)]
"""Ca binding to CaM_n -> CaM_n+1, (uM^-1 s^-1, s^-1); table S I d reactions 1-3."""
NMDAR_STATES = ("C0", "C1", "C2", "C3", "O")
AMPAR_POOLS = ("Int", "Mbr", "PSD", "Trp")
AMPAR_PHOSPHO = ("DD", "PD", "DP", "PP")
PKA_R_FORMS = (
    "R2C2",
    "R2C2B",
    "R2C2BB",
    "R2C2AB",
    "R2C2ABB",
    "R2C2_4",
    "R2C_3",
    "R2C_4",
    "R2_3",
    "R2_4",
)
_C_IN_R = {
    "R2C2": 2,
    "R2C2B": 2,
    "R2C2BB": 2,
    "R2C2AB": 2,
    "R2C2ABB": 2,
    "R2C2_4": 2,
    "R2C_3": 1,
    "R2C_4": 1,
    "R2_3": 0,
    "R2_4": 0,
}

ATP = 1.0e4
PDE = 1.0
"""Buffered concentrations, uM (section 1.2); AMP, the PDE's product, is buffered too and
appears in no rate."""

MODIFIERS = ("glutamate", "cyt.Kauto", "psd.Kauto", "cyt.CaMKIIact", "psd.CaMKIIact")
"""Rate multipliers computed by `plastic.rules.urakubo.model`: glutamate (uM), the CaMKII
autophosphorylation rate (per s) and the CaMKII activity that phosphorylates AMPARs (uM) of each
compartment."""
DAPK1_MODIFIERS = ("cyt.Dauto", "psd.Dauto")
"""With the DAPK1 variant: DAPK1's Ser308 autophosphorylation rate (per s) per compartment."""


def _phosphatases(c):
    return ("PP1", "PP2A") if c == "cyt" else ("PP1",)


def _declare_species(b: NetworkBuilder):
    for c, v in COMPARTMENTS.items():
        b.add_species(f"{c}.Ca", v)
        for n in range(4):
            b.add_species(f"{c}.CaM{n}", v, {"CaM": 1})
        for n in range(4):
            b.add_species(f"{c}.KB{n}", v, {"CaM": 1, "CaMKII": 1})
        for n in range(4):
            b.add_species(f"{c}.KP{n}", v, {"CaM": 1, "CaMKII": 1})
        b.add_species(f"{c}.K", v, {"CaMKII": 1})
        b.add_species(f"{c}.KP", v, {"CaMKII": 1})
        for p in _phosphatases(c):
            b.add_species(f"{c}.KP_{p}", v, {"CaMKII": 1, p: 1})
            for n in range(4):
                b.add_species(f"{c}.KP{n}_{p}", v, {"CaMKII": 1, "CaM": 1, p: 1})
        for n in range(3):
            b.add_species(f"{c}.CaN{n}", v, {"CaN": 1})
        for n in range(3):
            b.add_species(f"{c}.CaNCaM{n}", v, {"CaN": 1, "CaM": 1})
        b.add_species(f"{c}.AC1", v, {f"{c}.AC1": 1})
        b.add_species(f"{c}.AC1CaM", v, {f"{c}.AC1": 1, "CaM": 1})
        b.add_species(f"{c}.cAMP", v)
        b.add_species(f"{c}.PDEcAMP", v)
        for r in PKA_R_FORMS:
            b.add_species(f"{c}.{r}", v, {"PKA_R": 1, "PKA_C": _C_IN_R[r]})
        b.add_species(f"{c}.C", v, {"PKA_C": 1})
        b.add_species(f"{c}.I1", v, {"I1": 1})
        b.add_species(f"{c}.I1P", v, {"I1": 1})
        b.add_species(f"{c}.PP1_I1P", v, {"I1": 1, "PP1": 1})
        b.add_species(f"{c}.PP1", v, {"PP1": 1})
        b.add_species(f"{c}.I1_PKA", v, {"I1": 1, "PKA_C": 1})
        b.add_species(f"{c}.I1P_CaN", v, {"I1": 1, "CaN": 1, "CaM": 1})
        if c == "cyt":
            b.add_species("cyt.PP2A", v, {"PP2A": 1})
            b.add_species("cyt.I1P_PP2A", v, {"I1": 1, "PP2A": 1})
    for pool in AMPAR_POOLS:
        v = CYTOSOL_VOLUME if pool in ("Int", "Mbr") else PSD_VOLUME
        for p in AMPAR_PHOSPHO:
            comp = {"AMPAR": 1, "Scaffold": 1} if pool == "Trp" else {"AMPAR": 1}
            b.add_species(f"ampar.{pool}.{p}", v, comp)
    b.add_species("psd.Scaffold", PSD_VOLUME, {"Scaffold": 1})
    for s in NMDAR_STATES:
        for k in range(3):
            # Receptor fractions: a pool of unit volume, so totals are fractions.
            b.add_species(f"nmdar.{s}.{k}", 1.0, {"NMDAR": 1})


def _calcium_and_calmodulin(b: NetworkBuilder, c: str, v: float, ca_rest: float, pump: float):
    # Extrusion and buffering towards rest, dC/dt = K (rest - C) (GENESIS Ca2_efflux.g).
    b.reaction(f"{c}.Ca_in", (), (f"{c}.Ca",), pump * ca_rest, v)
    b.reaction(f"{c}.Ca_out", (f"{c}.Ca",), (), pump, v)
    for n, (kf, kb) in enumerate(CAM_CA):
        b.reversible(f"{c}.CaM{n}+Ca", (f"{c}.CaM{n}", f"{c}.Ca"), (f"{c}.CaM{n + 1}",), kf, kb, v)


def _camkii(b: NetworkBuilder, c: str, v: float, explicit_glun2b: bool):
    # Table S I d; numbers are the table's reaction numbers.
    for n, (kf, kb) in enumerate(CAM_CA):
        # (1, 2) as for free CaM; (6) 2Ca -> 3Ca on CaMKII-bound CaM: slow dissociation, which
        # stands for GluN2B binding unless that is explicit (`glun2b`).
        kb = 0.02 if n == 2 and not explicit_glun2b else kb
        b.reversible(f"{c}.KB{n}+Ca", (f"{c}.KB{n}", f"{c}.Ca"), (f"{c}.KB{n + 1}",), kf, kb, v)
    for n in range(4):
        # (4) CaM0-2 + CaMKII; (5) Ca3CaM + CaMKII.
        kf = 8.0 if n == 3 else 0.0004
        b.reversible(f"{c}.CaM{n}+K", (f"{c}.CaM{n}", f"{c}.K"), (f"{c}.KB{n}",), kf, 1.0, v)
    # (9) CaM trapping by Thr286-phosphorylated CaMKII.
    b.reversible(f"{c}.CaM0+KP", (f"{c}.CaM0", f"{c}.KP"), (f"{c}.KP0",), 8.0, 0.001, v)
    for n in range(3):
        # (8) Ca binding on CaM.CaMKII-P.
        b.reversible(f"{c}.KP{n}+Ca", (f"{c}.KP{n}", f"{c}.Ca"), (f"{c}.KP{n + 1}",), 1.0, 1.0, v)
    for n in range(4):
        # (7) Thr286 autophosphorylation at the holoenzyme rate Kauto (per s).
        b.reaction(
            f"{c}.KB{n}>KP{n}", (f"{c}.KB{n}",), (f"{c}.KP{n}",), 1.0, v, modifier=f"{c}.Kauto"
        )
    for p in _phosphatases(c):
        # (10, 11) PP1 and PP2A: Km 11 uM, kcat 0.335 /s, k_back = 4 kcat.
        b.enzyme(f"{c}.KP-{p}", f"{c}.KP", f"{c}.{p}", f"{c}.KP_{p}", f"{c}.K", 11.0, 0.335, v)
        for n in range(4):
            b.enzyme(
                f"{c}.KP{n}-{p}",
                f"{c}.KP{n}",
                f"{c}.{p}",
                f"{c}.KP{n}_{p}",
                f"{c}.KB{n}",
                11.0,
                0.335,
                v,
            )


def _calcineurin(b: NetworkBuilder, c: str, v: float):
    # Table S I e: Ca3CaM binding 40/0.04; Ca binding 20/1 then 10/2.
    for n in range(3):
        b.reversible(
            f"{c}.CaN{n}+CaM3", (f"{c}.CaN{n}", f"{c}.CaM3"), (f"{c}.CaNCaM{n}",), 40.0, 0.04, v
        )
    for form in ("CaN", "CaNCaM"):
        for n, (kf, kb) in enumerate([(20.0, 1.0), (10.0, 2.0)]):
            b.reversible(
                f"{c}.{form}{n}+Ca",
                (f"{c}.{form}{n}", f"{c}.Ca"),
                (f"{c}.{form}{n + 1}",),
                kf,
                kb,
                v,
            )


def _pka(b: NetworkBuilder, c: str, v: float):
    # Table S I f, g. AC1 activation 6/1: the GENESIS value (the table says 5).
    b.reversible(f"{c}.AC1+CaM3", (f"{c}.AC1", f"{c}.CaM3"), (f"{c}.AC1CaM",), 6.0, 1.0, v)
    # Basal synthesis 4e-7 /s x ATP per volume: the GENESIS resting cAMP (the Go code makes the
    # PSD's 4 times faster, which gives 37 % more resting cAMP than GENESIS).
    b.reaction(f"{c}.basal_cAMP", (), (f"{c}.cAMP",), 4.0e-7, v, catalysts=("ATP",))
    # AC1 catalysis: Michaelis-Menten on buffered ATP, the enzyme not consumed (Km 40, kcat 10).
    b.add(Reaction(f"{c}.AC1>cAMP", (), (f"{c}.cAMP",), (f"{c}.AC1CaM", "ATP"), 10.0, v, km=40.0))
    # PDE (buffered enzyme; only its complex is a state): Km 10, kcat 20, k_back = 4 kcat.
    b.reaction(
        f"{c}.PDE+cAMP",
        (f"{c}.cAMP",),
        (f"{c}.PDEcAMP",),
        (80.0 + 20.0) / 10.0,
        v,
        catalysts=("PDE",),
    )
    b.reaction(f"{c}.PDEcAMP>", (f"{c}.PDEcAMP",), (f"{c}.cAMP",), 80.0, v)
    b.reaction(f"{c}.PDEcAMP*", (f"{c}.PDEcAMP",), (), 20.0, v)
    camp = f"{c}.cAMP"
    for left, right, kf, kb in [
        ("R2C2", "R2C2B", 0.2, 0.1),
        ("R2C2B", "R2C2BB", 0.1, 0.2),
        ("R2C2B", "R2C2AB", 2.0, 5.0),
        ("R2C2BB", "R2C2ABB", 4.0, 5.0),
        ("R2C2AB", "R2C2ABB", 0.1, 0.1),
        ("R2C2ABB", "R2C2_4", 2.0, 10.0),
        ("R2C_3", "R2C_4", 20.0, 1.0),
        ("R2_3", "R2_4", 200.0, 0.1),
    ]:
        b.reversible(f"{c}.{left}+cAMP", (f"{c}.{left}", camp), (f"{c}.{right}",), kf, kb, v)
    # Catalytic-subunit release (s^-1) and rebinding (uM^-1 s^-1).
    for free, holo, k_bind, k_release in [
        ("R2C_3", "R2C2ABB", 10.0, 2.0),
        ("R2C_4", "R2C2_4", 1.0, 20.0),
        ("R2_3", "R2C_3", 20.0, 1.0),
        ("R2_4", "R2C_4", 2.0, 10.0),
    ]:
        b.reversible(
            f"{c}.{free}+C", (f"{c}.{free}", f"{c}.C"), (f"{c}.{holo}",), k_bind, k_release, v
        )


def _pp1(b: NetworkBuilder, c: str, v: float):
    # Table S I i, j.
    b.reversible(f"{c}.I1P+PP1", (f"{c}.I1P", f"{c}.PP1"), (f"{c}.PP1_I1P",), 100.0, 1.0, v)
    b.enzyme(f"{c}.I1-PKA", f"{c}.I1", f"{c}.C", f"{c}.I1_PKA", f"{c}.I1P", 8.1, 5.3, v)
    b.enzyme(f"{c}.I1P-CaN", f"{c}.I1P", f"{c}.CaNCaM2", f"{c}.I1P_CaN", f"{c}.I1", 3.0, 2.8, v)
    if c == "cyt":
        b.enzyme("cyt.I1P-PP2A", "cyt.I1P", "cyt.PP2A", "cyt.I1P_PP2A", "cyt.I1", 3.0, 2.8, v)


def _diffusion(b: NetworkBuilder, explicit_glun2b: bool):
    # D in um^2/s (section 1.3): (species, D into the PSD, D out of it). CaMKII's slower exit
    # from the PSD stands for GluN2B binding unless that is explicit.
    out = 6.0 if explicit_glun2b else 0.6
    exchange = [("Ca", 600.0, 600.0)]
    exchange += [(f"CaM{n}", 130.0, 130.0) for n in range(4)]
    exchange += [(f"KB{n}", 6.0, out) for n in range(4)] + [(f"KP{n}", 6.0, out) for n in range(4)]
    exchange += [("K", 6.0, 6.0), ("KP", 6.0, out)]
    exchange += [(f"CaN{n}", 20.0, 20.0) for n in range(3)]
    exchange += [(f"CaNCaM{n}", 20.0, 20.0) for n in range(3)]
    exchange += [(r, 32.0, 32.0) for r in PKA_R_FORMS] + [("cAMP", 500.0, 500.0)]
    exchange += [("I1", 35.9, 35.9), ("I1P", 35.9, 35.9)]
    exchange += [("PP1", 31.4, 5.23), ("PP1_I1P", 31.4, 5.23)]
    if explicit_glun2b:
        exchange += [(s, 6.0, 6.0) for s in glun2b.DIFFUSING]
    for s, d_in, d_out in exchange:
        b.reaction(f"{s}:cyt>psd", (f"cyt.{s}",), (f"psd.{s}",), d_in * EXCHANGE, 1.0)
        b.reaction(f"{s}:psd>cyt", (f"psd.{s}",), (f"cyt.{s}",), d_out * EXCHANGE, 1.0)


def _ampar(b: NetworkBuilder):
    # Section 1.5. Enzymes of each pool: Int, Mbr see the cytosol's; PSD, Trp the PSD's.
    for pool in AMPAR_POOLS:
        c = "cyt" if pool in ("Int", "Mbr") else "psd"

        def s(p, pool=pool):
            return f"ampar.{pool}.{p}"

        # (substrate, product, enzyme or modifier, Kf): S845 by PKA, PDZ by CaMKII, and back.
        steps = [
            ("DD", "PD", f"{c}.C", 20.0),
            ("DP", "PP", f"{c}.C", 20.0),
            ("DD", "DP", None, 1.0),
            ("PD", "PP", None, 1.0),
            ("PD", "DD", f"{c}.PP1", 4.0),
            ("PP", "DP", f"{c}.PP1", 4.0),
            ("DP", "DD", f"{c}.PP1", 100.0),
            ("PP", "PD", f"{c}.PP1", 100.0),
            ("PD", "DD", f"{c}.CaNCaM2", 1.5),
            ("PP", "DP", f"{c}.CaNCaM2", 1.5),
            ("DP", "DD", f"{c}.CaNCaM2", 1.0),
            ("PP", "PD", f"{c}.CaNCaM2", 1.0),
        ]
        if c == "cyt":
            steps += [
                ("PD", "DD", "cyt.PP2A", 4.0),
                ("PP", "DP", "cyt.PP2A", 4.0),
                ("DP", "DD", "cyt.PP2A", 100.0),
                ("PP", "PD", "cyt.PP2A", 100.0),
            ]
        for sub, prod, enzyme, kf in steps:
            name = f"ampar.{pool}.{sub}>{prod}:{enzyme or 'CaMKII'}"
            if enzyme is None:
                b.reaction(name, (s(sub),), (s(prod),), kf, VOLUME_UNIT, modifier=f"{c}.CaMKIIact")
            else:
                b.reaction(name, (s(sub),), (s(prod),), kf, VOLUME_UNIT, catalysts=(enzyme,))
    for p in AMPAR_PHOSPHO:
        internal, mbr, psd, trp = (f"ampar.{pool}.{p}" for pool in AMPAR_POOLS)
        if p[0] == "P":
            # S845-P: endocytosis 1/(9 min), exocytosis 1/(30 min).
            b.reversible(
                f"ampar.endo.{p}", (mbr,), (internal,), 1.0 / 540.0, 1.0 / 1800.0, CYTOSOL_VOLUME
            )
        else:
            b.reaction(f"ampar.endo.{p}", (mbr,), (internal,), 1.0, CYTOSOL_VOLUME)
        # Lateral diffusion membrane <-> PSD, 1.6 per s in the Go volume unit.
        b.reversible(f"ampar.lateral.{p}", (mbr,), (psd,), 1.6, 1.6, VOLUME_UNIT)
        # Trapping by the scaffold: faster when the PDZ ligand is phosphorylated.
        k_on = 0.5 if p[1] == "P" else 0.03
        b.reversible(f"ampar.trap.{p}", (psd, "psd.Scaffold"), (trp,), k_on, 1.0 / 30.0, PSD_VOLUME)


def _nmdar(b: NetworkBuilder, genesis_cam_binding: bool):
    # Allosteric NMDAR (section 1.3; GENESIS NMDAR.c). Rates per s; CaM and Ca act as catalysts
    # (their depletion by the receptor pool is ignored, as in GENESIS).
    def s(state, k):
        return f"nmdar.{state}.{k}"

    for k in range(3):
        b.reaction(
            f"nmdar.C0>C1.{k}", (s("C0", k),), (s("C1", k),), 10.0, 1.0, modifier="glutamate"
        )
        b.reaction(f"nmdar.C1>C2.{k}", (s("C1", k),), (s("C2", k),), 5.0, 1.0, modifier="glutamate")
        b.reaction(f"nmdar.C1>C0.{k}", (s("C1", k),), (s("C0", k),), 25.0, 1.0)
        b.reaction(f"nmdar.C2>C1.{k}", (s("C2", k),), (s("C1", k),), 50.0, 1.0)
        open_, close, desens, resens = (
            (280.0, 275.0, 8.0, 1.8) if k == 0 else (150.0, 2000.0, 3.0, 2.0)
        )
        b.reversible(f"nmdar.C2-O.{k}", (s("C2", k),), (s("O", k),), open_, close, 1.0)
        b.reversible(f"nmdar.C2-C3.{k}", (s("C2", k),), (s("C3", k),), desens, resens, 1.0)
    cam_rates = {
        "C0": (400.0, 34.8),
        "C1": (400.0, 34.8),
        "C2": (4.0, 0.348),
        "C3": (3.458, 0.891),
        "O": (1.994, 2.355),
    }
    for state, (kf, kb) in cam_rates.items():
        for k in (1, 2):
            # GENESIS (and the Go figures, flag "oldBug") bind 2Ca.CaM for both classes.
            cam = "psd.CaM2" if k == 1 or genesis_cam_binding else "psd.CaM3"
            b.reaction(
                f"nmdar.{state}.0>{k}", (s(state, 0),), (s(state, k),), kf, 1.0, catalysts=(cam,)
            )
            b.reaction(f"nmdar.{state}.{k}>0", (s(state, k),), (s(state, 0),), kb, 1.0)
        b.reaction(
            f"nmdar.{state}.1>2", (s(state, 1),), (s(state, 2),), 25.6, 1.0, catalysts=("psd.Ca",)
        )
        b.reaction(f"nmdar.{state}.2>1", (s(state, 2),), (s(state, 1),), 400.0, 1.0)


GO_CYTOSOLIC_PUMP = 1.0426e5 * 0.8 / 12.0
"""per s: the cytosolic Ca pump of the emer/axon Go re-implementation (SVR_cyt x 0.8 / 12), 4x
the GENESIS value this network uses by default; ``urakubo_network(pump_cyt=GO_CYTOSOLIC_PUMP)``
reproduces the Go code's rate tables (``experiments/urakubo_rates.py --pump go``)."""


def urakubo_network(
    ca_rest: float = 0.05,
    pump_cyt: float = 1.0426e5 * 0.8 / 48.0,
    pump_psd: float = 1.7927e5 * 0.8 / 12.0,
    genesis_cam_binding: bool = True,
    dapk1: bool = False,
) -> ReactionNetwork:
    """The Urakubo 2008 network (DAPK1-free, section 1.2), or its structural variant.

    Args:
        ca_rest: the calcium level pumps and buffers restore, uM.
        pump_cyt, pump_psd: their rates, per s. PSD: SVR_PSD x 0.8 / 12 (the Go code's reading
            of GENESIS Ca2_efflux.g). Cytosol: SVR_cyt x 0.8 / 48, a quarter of the Go code's
            value (a volume factor 48 / 12): it reproduces the GENESIS cytosolic calcium of
            both pairings (normalised RMS 2-5 % against 13-18 % with the Go value).
        genesis_cam_binding: NMDARs join the 3Ca.CaM-bound class by binding 2Ca.CaM, as in
            GENESIS; False binds 3Ca.CaM, as the paper describes.
        dapk1: add explicit GluN2B binding sites and DAPK1 competing with CaMKII for them
            (`plastic.rules.urakubo.glun2b`; an exploratory variant, off by default).
    """
    b = NetworkBuilder()
    _declare_species(b)
    if dapk1:
        glun2b.declare_species(b, COMPARTMENTS)
    b.add_constant("ATP", ATP)
    b.add_constant("PDE", PDE)
    for m in MODIFIERS + (DAPK1_MODIFIERS if dapk1 else ()):
        b.add_modifier(m)
    for c, v in COMPARTMENTS.items():
        _calcium_and_calmodulin(b, c, v, ca_rest, pump_cyt if c == "cyt" else pump_psd)
        _camkii(b, c, v, explicit_glun2b=dapk1)
        if dapk1:
            glun2b.dapk1(b, c, v, CAM_CA)
        _calcineurin(b, c, v)
        _pka(b, c, v)
        _pp1(b, c, v)
    if dapk1:
        glun2b.camkii_on_glun2b(b, PSD_VOLUME, CAM_CA)
    _diffusion(b, explicit_glun2b=dapk1)
    _ampar(b)
    _nmdar(b, genesis_cam_binding)
    return b.build()


INITIAL_CONCENTRATIONS = {
    # The paper's initial conditions (the GENESIS run's t = 0, before its 500 s rest), uM, per
    # compartment unless prefixed; section 1.2.
    "Ca": 0.05,
    "CaM0": 80.0,
    "K": 20.0,
    "CaN0": 3.0,
    "AC1": 2.0,
    "R2C2": 2.0,
    "C": 0.05,
    "I1": 2.0,
    "PP1_I1P": 2.0,
    "cyt.PP2A": 0.03,
    "ampar.Int.DD": 3.0,
    "ampar.Int.PD": 3.0,
    "ampar.Trp.DD": 1.0,
    "ampar.Trp.PD": 3.0,
    "nmdar.C0.0": 1.0,
}
