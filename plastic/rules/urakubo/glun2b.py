"""The structural variant of the Urakubo model: CaMKII and DAPK1 competing for the GluN2B
binding site of the NMDA receptor (Goodell et al. 2017; seed 003, "Structural LTD mechanisms").

CaMKII bound to GluN2B is held at the synapse; DAPK1, dephosphorylated at Ser308 by calcineurin
(its inhibitory autophosphorylation removed), binds the same site when Ca3CaM is on it, and the
DAPK1 so activated opposes CaMKII's phosphorylation of AMPARs. Low calcium favours calcineurin,
so DAPK1 and LTD; high calcium favours CaMKII, so LTP. The reactions and rate constants are those
of the emer/axon re-implementation's last version with the option (``examples/urakubo``,
``camkii.go``, ``dapk1.go``, ``ampar.go`` at the parent of commit bddca882; reference document
section 4), whose authors call the DAPK1 part "largely guesswork": it is an option, off by
default, and no parameter of it is fitted to data.

Species added (``urakubo_network(glun2b=True)``):
- ``psd.N2B``: free GluN2B sites, 10 uM in the PSD.
- CaMKII on GluN2B, PSD only: ``psd.N2B_K``, ``psd.N2B_KP``, ``psd.N2B_KB0..3``,
  ``psd.N2B_KP0..3`` (as the free forms of `plastic.rules.urakubo.network`), and their PP1
  complexes ``psd.N2B_KP_PP1``, ``psd.N2B_KP{n}_PP1``.
- DAPK1 in each compartment: ``D`` (Ser308-dephosphorylated: the form that binds GluN2B),
  ``DP`` (phosphorylated, inactive; all 20 uM start here), ``DB0..3`` (CaM_n-bound D), ``DP0..3``
  (CaM_n-bound DP), their calcineurin complexes ``DP_CaN``, ``DP{n}_CaN`` and, in the cytosol,
  ``DP_PP2A``; in the PSD the GluN2B-bound ``N2B_D``, ``N2B_DP``, ``N2B_DB0..3``, ``N2B_DP0..3``
  and their calcineurin complexes.

With the binding explicit, the asymmetric CaMKII diffusion (6 into the PSD, 0.6 out) and the slow
Ca3CaM release from CaMKII (reaction 6, 0.02 /s), which stood in for it in the original model,
become symmetric diffusion and the free-CaM rate (400 /s) for CaMKII off GluN2B.

Deviations from the Go code, as in `plastic.rules.urakubo.network`: every substrate has its own
enzyme complex (the Go code shares one pool per enzyme); PP2A stays in the cytosol.
"""

from plastic.rules.urakubo.reactions import NetworkBuilder

GLUN2B_CONCENTRATION = 10.0
"""uM of GluN2B binding sites in the PSD (``nmdar.go``: GluN2BN)."""
DAPK1_CONCENTRATION = 20.0
"""uM per compartment, all Ser308-phosphorylated at the start (``dapk1.go``)."""
GLUN2B_CAM_RELEASE = 0.02
"""/s: Ca3CaM -> Ca2CaM on GluN2B-bound CaMKII (reaction 6; 400 /s on free CaMKII)."""
SER308_KM, SER308_KCAT = 11.0, 0.335
"""Ser308 dephosphorylation by calcineurin (and PP2A in the cytosol): uM, per s."""


def declare_species(b: NetworkBuilder, compartments: dict[str, float]):
    """The GluN2B sites, CaMKII on them, and DAPK1 (names in the module docstring)."""
    psd = compartments["psd"]
    b.add_species("psd.N2B", psd, {"GluN2B": 1})
    on_n2b = {"GluN2B": 1}
    b.add_species("psd.N2B_K", psd, {"CaMKII": 1, **on_n2b})
    b.add_species("psd.N2B_KP", psd, {"CaMKII": 1, **on_n2b})
    for form in ("KB", "KP"):
        for n in range(4):
            b.add_species(f"psd.N2B_{form}{n}", psd, {"CaMKII": 1, "CaM": 1, **on_n2b})
    b.add_species("psd.N2B_KP_PP1", psd, {"CaMKII": 1, "PP1": 1, **on_n2b})
    for n in range(4):
        b.add_species(f"psd.N2B_KP{n}_PP1", psd, {"CaMKII": 1, "CaM": 1, "PP1": 1, **on_n2b})
    for c, v in compartments.items():
        sites = [("", {})] + ([("N2B_", on_n2b)] if c == "psd" else [])
        for prefix, extra in sites:
            b.add_species(f"{c}.{prefix}D", v, {"DAPK1": 1, **extra})
            b.add_species(f"{c}.{prefix}DP", v, {"DAPK1": 1, **extra})
            for form in ("DB", "DP"):
                for n in range(4):
                    b.add_species(f"{c}.{prefix}{form}{n}", v, {"DAPK1": 1, "CaM": 1, **extra})
            calcineurin = {"CaN": 1, "CaM": 1}
            b.add_species(f"{c}.{prefix}DP_CaN", v, {"DAPK1": 1, **calcineurin, **extra})
            for n in range(4):
                b.add_species(
                    f"{c}.{prefix}DP{n}_CaN", v, {"DAPK1": 1, "CaM": 2, "CaN": 1, **extra}
                )
        if c == "cyt":
            b.add_species("cyt.DP_PP2A", v, {"DAPK1": 1, "PP2A": 1})


def camkii_on_glun2b(b: NetworkBuilder, v: float, cam_ca):
    """CaMKII binding GluN2B in the PSD (volume ``v``), and the reactions of the bound forms;
    ``cam_ca``: Ca binding on free CaM, ``[(kf, kb)]`` for 0 -> 1, 1 -> 2, 2 -> 3 Ca.

    Binding: CaM-bound CaMKII (phosphorylated or not) 8 /(uM s) on, 0.001 /s off; free
    Thr286-phosphorylated CaMKII stays (off 1e-4 /s) but is not recruited; free
    unphosphorylated CaMKII leaves at once (1000 /s). On GluN2B, CaM binds unphosphorylated
    CaMKII at any Ca level as Ca3CaM binds free CaMKII (8/1) and keeps its third Ca (reaction 6,
    0.02 /s); autophosphorylation (the PSD's rate) and PP1 act as on the free forms."""
    for n in range(4):
        for form in ("KB", "KP"):
            b.reversible(
                f"psd.{form}{n}+N2B",
                (f"psd.{form}{n}", "psd.N2B"),
                (f"psd.N2B_{form}{n}",),
                8.0,
                0.001,
                v,
            )
    b.reversible("psd.KP+N2B", ("psd.KP", "psd.N2B"), ("psd.N2B_KP",), 0.0, 1.0e-4, v)
    b.reversible("psd.K+N2B", ("psd.K", "psd.N2B"), ("psd.N2B_K",), 0.0, 1000.0, v)
    for n, (kf, kb) in enumerate(cam_ca):
        kb = GLUN2B_CAM_RELEASE if n == 2 else kb
        b.reversible(
            f"psd.N2B_KB{n}+Ca", (f"psd.N2B_KB{n}", "psd.Ca"), (f"psd.N2B_KB{n + 1}",), kf, kb, v
        )
    for n in range(4):
        b.reversible(
            f"psd.CaM{n}+N2B_K", (f"psd.CaM{n}", "psd.N2B_K"), (f"psd.N2B_KB{n}",), 8.0, 1.0, v
        )
    b.reversible("psd.CaM0+N2B_KP", ("psd.CaM0", "psd.N2B_KP"), ("psd.N2B_KP0",), 8.0, 0.001, v)
    for n in range(3):
        b.reversible(
            f"psd.N2B_KP{n}+Ca", (f"psd.N2B_KP{n}", "psd.Ca"), (f"psd.N2B_KP{n + 1}",), 1.0, 1.0, v
        )
    for n in range(4):
        b.reaction(
            f"psd.N2B_KB{n}>KP{n}",
            (f"psd.N2B_KB{n}",),
            (f"psd.N2B_KP{n}",),
            1.0,
            v,
            modifier="psd.Kauto",
        )
    b.enzyme(
        "psd.N2B_KP-PP1", "psd.N2B_KP", "psd.PP1", "psd.N2B_KP_PP1", "psd.N2B_K", 11.0, 0.335, v
    )
    for n in range(4):
        b.enzyme(
            f"psd.N2B_KP{n}-PP1",
            f"psd.N2B_KP{n}",
            "psd.PP1",
            f"psd.N2B_KP{n}_PP1",
            f"psd.N2B_KB{n}",
            11.0,
            0.335,
            v,
        )


def dapk1(b: NetworkBuilder, c: str, v: float, cam_ca):
    """DAPK1 in compartment ``c`` (volume ``v``): CaM and Ca binding (on the bound CaM as on
    free CaM, ``cam_ca``: see `camkii_on_glun2b`), inhibitory Ser308
    autophosphorylation (rate: the modifier ``{c}.Dauto``), its removal by calcineurin (and
    PP2A in the cytosol), and in the PSD binding to GluN2B.

    Ser308-phosphorylated DAPK1 hardly binds CaM (0.0004 /(uM s), Ca binding 1/1 on the bound
    CaM); dephosphorylated DAPK1 binds Ca3CaM strongly (400/1) and, CaM-bound, binds GluN2B
    (40 /(uM s) on, 1 /s off); the others leave GluN2B (10 /s free dephosphorylated, 1000 /s
    phosphorylated)."""
    sites = [""] + (["N2B_"] if c == "psd" else [])
    for p in sites:
        for n, (kf, kb) in enumerate(cam_ca):
            b.reversible(
                f"{c}.{p}DB{n}+Ca", (f"{c}.{p}DB{n}", f"{c}.Ca"), (f"{c}.{p}DB{n + 1}",), kf, kb, v
            )
        for n in range(3):
            bound, more = f"{c}.{p}DP{n}", f"{c}.{p}DP{n + 1}"
            b.reversible(f"{bound}+Ca", (bound, f"{c}.Ca"), (more,), 1.0, 1.0, v)
        for n in range(4):
            kf = 400.0 if n == 3 else 0.0004
            b.reversible(
                f"{c}.CaM{n}+{p}D", (f"{c}.CaM{n}", f"{c}.{p}D"), (f"{c}.{p}DB{n}",), kf, 1.0, v
            )
        b.reversible(
            f"{c}.CaM0+{p}DP", (f"{c}.CaM0", f"{c}.{p}DP"), (f"{c}.{p}DP0",), 0.0004, 1.0, v
        )
        for n in range(4):
            b.reaction(
                f"{c}.{p}DB{n}>DP{n}",
                (f"{c}.{p}DB{n}",),
                (f"{c}.{p}DP{n}",),
                1.0,
                v,
                modifier=f"{c}.Dauto",
            )
        for form in ["", *range(4)]:
            b.enzyme(
                f"{c}.{p}DP{form}-CaN",
                f"{c}.{p}DP{form}",
                f"{c}.CaNCaM2",
                f"{c}.{p}DP{form}_CaN",
                f"{c}.{p}DB{form}" if form != "" else f"{c}.{p}D",
                SER308_KM,
                SER308_KCAT,
                v,
            )
    if c == "cyt":
        b.enzyme(
            "cyt.DP-PP2A", "cyt.DP", "cyt.PP2A", "cyt.DP_PP2A", "cyt.D", SER308_KM, SER308_KCAT, v
        )
    if c == "psd":
        for n in range(4):
            b.reversible(
                f"psd.DB{n}+N2B", (f"psd.DB{n}", "psd.N2B"), (f"psd.N2B_DB{n}",), 40.0, 1.0, v
            )
            b.reversible(
                f"psd.DP{n}+N2B", (f"psd.DP{n}", "psd.N2B"), (f"psd.N2B_DP{n}",), 0.0, 1000.0, v
            )
        b.reversible("psd.D+N2B", ("psd.D", "psd.N2B"), ("psd.N2B_D",), 0.0, 10.0, v)
        b.reversible("psd.DP+N2B", ("psd.DP", "psd.N2B"), ("psd.N2B_DP",), 0.0, 1000.0, v)


def in_network(species) -> bool:
    """Whether a network of ``species`` (names) is the variant."""
    return "psd.N2B" in species


INITIAL_CONCENTRATIONS = {"DP": DAPK1_CONCENTRATION, "psd.N2B": GLUN2B_CONCENTRATION}
"""uM, per compartment unless prefixed (``dapk1.go``, ``nmdar.go``)."""

DIFFUSING = ("D", "DP", *(f"DB{n}" for n in range(4)), *(f"DP{n}" for n in range(4)))
"""DAPK1 forms that diffuse between cytosol and PSD (6 um^2/s both ways); complexes and
GluN2B-bound forms do not."""
