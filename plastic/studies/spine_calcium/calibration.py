"""`physiological_calcium`: the spine model's calcium sources set to physiological sizes.

Where the excess comes from (the spine model's defaults, head 0.07 fL, kappa 20, a 13 ms
extrusion decay, 21 degC; `experiments/spine_calcium_physiology.py` prints the numbers): a
back-propagating AP lets ~290 uM of total calcium into the head through its VGCCs, which the
buffers (1 + kappa = 21) turn into a ~9 uM free transient; an uncaging lets ~450-500 uM in
through NMDA receptors, but over the NMDA decay (~170 ms at 21 degC), against extrusion, so it
peaks at ~2 uM. Buffer capacity, extrusion and resting calcium already sit at Sabatini et al.
2002's values (kappa_E ~20-24, decay ~14 ms, 70 nM), and the 13 ms decay of the model's bAP
transient matches; the head volume (0.07 fL) lies in the seed's 0.026-0.148 fL. What is
several-fold too large is the entry itself: ~10x for the VGCCs and ~3x for the NMDA receptors.
"""

import equinox as eqx

from plastic.model import SpineModel

NMDA_TO_AMPA_CONDUCTANCE = 0.71
"""Peak NMDA over peak AMPA conductance of a synapse in the Blue Brain GluSynapse model
(Chindemi et al. 2022, Nat Commun 13:3038; `tmoldwin/BiophysicalPerceptron:mod/GluSynapse.mod`
@2cf6b9e, reference/models.md section 5 [CODE]). The spine model's default, 0.6 nS against
0.3 nS of AMPA (a ratio of 2), makes an uncaging alone peak at ~2 uM in the head."""

HEAD_VGCC_DENSITY = 0.009
"""nS/um^2 of R-type VGCC in the spine head: 0.12 of GluSynapse's 0.0744 (20 channels/um^2 x
3.72 pS). Calibrated, with buffer capacity, extrusion, head volume and the back-propagating AP
left as they are, so that one AP raises the head's free calcium by Sabatini, Oertner & Svoboda
2002's 1.1 uM (Neuron 33:439; the value GluSynapse quotes; `spine_calcium_physiology`): 1.15
uM in `tazerart_model`'s biophysics. It is ~2.4 channels/um^2 of 3.72 pS, ~2 channels on a
0.07 fL head (0.82 um^2). GluSynapse's density with the linear driving force to +130 mV
passes ~0.4-0.5 pA per open channel near 0 mV and ~290 uM of total calcium into the head per
AP: ten times too much for a 1 uM transient at kappa 20. Calibrated at the seed's 21 degC,
where the head's AP stays above -40 mV for ~3 ms; at 32 degC the AP is briefer and the same
density gives 0.49 uM per AP (4.1 uM with GluSynapse's density)."""


def physiological_calcium(model: SpineModel) -> SpineModel:
    """``model`` with its spine calcium sources at physiological sizes; nothing else changed.

    - NMDA conductance: `NMDA_TO_AMPA_CONDUCTANCE` times the model's AMPA conductance (0.21
      nS for 0.3 nS of AMPA), so that an uncaging alone raises head calcium by ~0.7 uM (the
      single-EPSP amplitude Chindemi et al. 2022 collect).
    - Head VGCC density: `HEAD_VGCC_DENSITY` (0.009 nS/um^2 instead of 0.0744), so that one
      back-propagating AP raises head calcium by ~1.1 uM (Sabatini et al. 2002).

    Kept: buffer capacity 20 and extrusion (a 13 ms decay; Sabatini et al. 2002: kappa_E
    24 +- 11, decay 14 ms), resting calcium 70 nM (the same), the NMDA calcium fraction (0.051
    at 2 mM [Ca]o; Schneggenburger et al. 1993 via GluSynapse), the head volume, the shaft
    VGCCs and everything electrical. The defaults of `SpineModel` and `tazerart_model` are not
    changed: the seed's fit rests on them.
    """
    return eqx.tree_at(
        lambda m: (m.nmda.conductance, m.vgcc.density),
        model,
        (NMDA_TO_AMPA_CONDUCTANCE * model.ampa.conductance, HEAD_VGCC_DENSITY),
    )
