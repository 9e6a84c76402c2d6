"""The unit system of `plastic`, written in one place.

Every quantity in the package is expressed in these units; docstrings refer to them.

| quantity      | unit  | note                                          |
|---------------|-------|-----------------------------------------------|
| time          | ms    |                                               |
| length        | um    | positions, lengths, diameters                 |
| volume        | fL    | = um^3                                        |
| voltage       | mV    |                                               |
| conductance   | nS    | nS * mV = pA                                  |
| current       | pA    |                                               |
| capacitance   | pF    | pA / pF = mV / ms                             |
| concentration | uM    | calcium; extracellular ions in mM where named |

Material constants use the conventional units of the literature and are converted here:
axial resistivity in Ohm cm, specific capacitance in uF/cm^2, specific membrane resistance in
kOhm cm^2.
"""

FARADAY = 96485.33212
"""Faraday's constant, C/mol."""

CALCIUM_FLUX_PER_PA_PER_FL = 1e6 / (2.0 * FARADAY)
"""uM/ms of calcium delivered into 1 fL by 1 pA of calcium current: 1e-15 C/ms / (2 F) / 1e-15 L."""


def specific_capacitance_to_pf_per_um2(cm_uf_per_cm2):
    """uF/cm^2 -> pF/um^2 (1 uF/cm^2 = 0.01 pF/um^2)."""
    return 0.01 * cm_uf_per_cm2


def specific_resistance_to_ns_per_um2(rm_kohm_cm2):
    """Specific membrane resistance kOhm cm^2 -> leak conductance density nS/um^2."""
    return 0.01 / rm_kohm_cm2


def axial_conductance_ns(diameter_um, length_um, resistivity_ohm_cm):
    """Conductance (nS) of a cylinder of cytoplasm: pi d^2 / (4 R_i L).

    R_i in Ohm cm = 1e4 Ohm um, and 1 S = 1e9 nS, hence the factor 1e5.
    """
    return 1e5 * 3.141592653589793 * diameter_um**2 / (4.0 * resistivity_ohm_cm * length_um)
