"""CaMKII and DAPK1 compete for GluN2B: the default plasticity rule of the spine model.

A reduced, smooth version of the mechanism reviewed in seed 003 (Goodell et al. 2017; Bayer &
Giese 2025) on the calcium sensitivities and time courses of Urakubo et al. 2008
(`reference/urakubo_and_kinase.md`). Time in ms, calcium in uM, every other species a
dimensionless active or bound fraction of its pool::

    Ca  --(fast, rapid equilibrium)-->  Ca4-CaM  ("cam")
    cam --(fast, low affinity, steep)--> CaMKII*  --(binds, slow off)-->  GluN2B . CaMKII  -> LTP
    cam --(high affinity)--> CaN* --(dephosphorylates Ser308, slow)--> DAPK1*  -> GluN2B . DAPK1
                               \\--(dephosphorylates I-1, slow)--> PP1*                     -> LTD
    cam --(low affinity)--> PKA (lumped AC1/cAMP/PKA) --(phosphorylates I-1)--| PP1*

The GluN2B site pool is conserved: CaMKII and DAPK1 bind the same free sites. AMPAR insertion is
driven by GluN2B-bound CaMKII, removal by PP1 acting where DAPK1 holds the site; both act on the
efficacy with soft bounds.

Why each branch has the sensitivity and speed it has, which gives the calcium-control shape:
- Low calcium: CaN barely active, nothing happens.
- Moderate, sustained calcium: high-affinity CaN slowly dephosphorylates DAPK1 and activates PP1;
  DAPK1 takes GluN2B, LTD. A brief pulse does not last long enough for the slow steps: no LTD.
- Higher calcium: the lumped PKA branch (low affinity, as AC1/PKA in Urakubo 2008) keeps I-1
  phosphorylated, silencing PP1, while CaMKII is still below its steep threshold: neutral band.
- High calcium: CaMKII activates, binds GluN2B faster than DAPK1, keeps the sites (slow off rate)
  and drives insertion: LTP, growing with the plateau's duration.
- Optionally (``k_camkii_auto > 0``), active subunits autophosphorylate their neighbours in the
  holoenzyme (Thr286; Lisman 1985, Miller et al. 2005): CaMKII becomes bistable, and repeated
  pairings either push it over its unstable middle state, after which it stays active at resting
  calcium, or they do not. This turns a small difference in the calcium of each pairing into an
  all-or-none difference after many pairings. Off by default.

Every rate is per ms; every half-activation is in the units of its activator (uM for calcium, a
fraction for the others). Values marked "choice" are modelling choices tuned so that the default
rule gives the regions of Tazerart et al. 2020 (seed 000) for plateaus of 1-60 s; the others
quote their source.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.biophysics.kinetics import hill
from plastic.rules._validation import check_range
from plastic.rules.base import AbstractRule, SynapseSignals

_Scalar = Float[Array, ""]


class KinaseCompetitionState(eqx.Module):
    """State of one synapse (all scalars, shape ``()``, dimensionless).

    Attributes:
        camkii: active (CaM-bound or Thr286-phosphorylated) fraction of CaMKII.
        can: active fraction of calcineurin.
        dapk1: Ser308-dephosphorylated (active) fraction of DAPK1.
        pp1: active (I-1-free) fraction of PP1.
        pka: active fraction of the lumped AC1/cAMP/PKA branch.
        camkii_n2b: fraction of GluN2B sites holding CaMKII.
        dapk1_n2b: fraction of GluN2B sites holding DAPK1.
        weight: synaptic efficacy relative to baseline (1 = no change).
    """

    camkii: _Scalar
    can: _Scalar
    dapk1: _Scalar
    pp1: _Scalar
    pka: _Scalar
    camkii_n2b: _Scalar
    dapk1_n2b: _Scalar
    weight: _Scalar


def _field(default):
    return eqx.field(converter=jnp.asarray, default=default)


class KinaseCompetition(AbstractRule):
    """CaMKII vs DAPK1 competition at GluN2B, with CaN, PP1 and AMPAR trafficking.

    Equations (``h(x; K, n)`` is the Hill function `hill`; rates per ms)::

        cam         = h(Ca; cam_half, cam_hill)
        camkii'     = (k_camkii_act h(cam; camkii_half, camkii_hill)
                       + k_camkii_auto h(camkii; camkii_auto_half, camkii_auto_hill)) (1 - camkii)
                      - k_camkii_inact camkii
        can'        = k_can_act h(cam; can_half, can_hill) (1 - can) - k_can_inact can
        dapk1'      = k_dapk1_dephos can (1 - dapk1) - k_dapk1_autophos dapk1
        pka'        = k_pka_act h(cam; pka_half, pka_hill) (1 - pka) - k_pka_inact pka
        pp1'        = k_pp1_act can (1 - pp1) - (k_pp1_inact + k_pp1_pka pka) pp1
        free        = 1 - camkii_n2b - dapk1_n2b
        camkii_n2b' = k_camkii_n2b_on camkii free - k_camkii_n2b_off camkii_n2b
        dapk1_n2b'  = k_dapk1_n2b_on dapk1 free - k_dapk1_n2b_off dapk1_n2b
        weight'     = k_insert h(camkii_n2b; insert_half, insert_hill) (weight_max - weight)
                      - k_remove pp1 h(dapk1_n2b; remove_half, remove_hill) (weight - weight_min)

    The initial state is the steady state at ``calcium_rest`` (closed form; with
    autophosphorylation, CaMKII's lowest steady state, found numerically), with weight 1. At rest
    the insertion and removal drives are not exactly zero, only tiny: for the defaults the efficacy
    drifts by less than 1e-5 over an hour of resting calcium.

    Default plateau map (efficacy change 25 min after a plateau of ``0.05 + A`` uM lasting T; see
    ``tests/rules/test_kinase_competition.py``): A <= 0.1 uM no change (|change| <= 1 %);
    A = 0.2-0.5 uM LTD (-21 to -33 % at 60 s, -8 to -18 % at 30 s, < 4 % at 10 s or less);
    A = 0.7-1.0 uM neutral (|change| < 2 %); A >= 1.5 uM LTP (+65 % at 60 s, +57 % at 30 s,
    +28 % at 10 s, +5 % at 3 s, +1 % at 1 s).

    Attributes (sources in brackets; "choice" = tuned modelling choice; the calcium levels quoted
    are where each Hill function is half-activated, through ``cam`` = Ca^4 / (Ca^4 + 2^4)):
        calcium_rest: resting calcium, uM [Urakubo 2008: 0.05].
        cam_half, cam_hill: Ca4-CaM formation, uM and dimensionless [choice: CaM binds 4 Ca,
            n = 4; half at 2 uM].
        k_camkii_act, k_camkii_inact: CaMKII activation at saturating Ca-CaM and inactivation, per
            ms [choice: 2/s and 0.5/s; CaMKII activity follows Ca-CaM within about a second, as in
            the structural picture of seed 003].
        k_camkii_auto, camkii_auto_half, camkii_auto_hill: Thr286 autophosphorylation by active
            neighbouring subunits, per ms at full activity, and the active fraction (and
            steepness) at which it is half-maximal [choice: 0 (off), 0.3, 4; with
            ``k_camkii_auto`` a few times ``k_camkii_inact`` CaMKII is bistable at rest].
        camkii_half, camkii_hill: CaMKII needs much Ca-CaM, cooperatively [choice: half at 0.2 of
            CaM, about 1.4 uM calcium; holoenzyme cooperativity n = 4].
        k_can_act, k_can_inact: CaN activation at saturating Ca-CaM and inactivation, per ms
            [choice: 1/s and 0.5/s].
        can_half, can_hill: CaN's high affinity for Ca-CaM [choice: half at 8e-4 of CaM, about
            0.34 uM calcium, n = 1; Urakubo 2008 binds Ca3CaM to CaN at 40/uM/s, off 0.04/s].
        k_pka_act, k_pka_inact: the lumped AC1/cAMP/PKA branch, per ms [choice: 1/s and 0.1/s;
            slower off than CaN, so that PP1 does not rebound when calcium falls].
        pka_half, pka_hill: its low affinity [choice: half at 0.04 of CaM, about 0.9 uM calcium,
            n = 4; Urakubo 2008 binds Ca3CaM to AC1 at 6/uM/s, off 1/s].
        k_dapk1_dephos: DAPK1 Ser308 dephosphorylation by fully active CaN, per ms [Urakubo 2008
            CaN kinetics (kcat 0.335/s, Km 11 uM), used for DAPK1 in the axon code, at a few uM
            of CaN: 0.1/s].
        k_dapk1_autophos: re-phosphorylation of Ser308, per ms [choice: 0.05/s].
        k_pp1_act: PP1 release by CaN dephosphorylating I-1, per ms [choice: 0.05/s; Urakubo 2008
            makes PP1 the slowest branch].
        k_pp1_inact: basal re-inhibition of PP1 by I-1, per ms [choice: 0.02/s].
        k_pp1_pka: re-inhibition of PP1 by fully active PKA phosphorylating I-1, per ms [Urakubo
            2008 mechanism; value choice: 5/s].
        k_camkii_n2b_on, k_camkii_n2b_off: CaMKII-GluN2B binding per ms, at full CaMKII activity,
            and unbinding [on: choice, 0.05/s; off: axon DAPK1 code, 0.001/s].
        k_dapk1_n2b_on, k_dapk1_n2b_off: DAPK1-GluN2B binding at full DAPK1 activity and
            unbinding, per ms [choice: 0.02/s and 0.005/s; with the axon code's off rate of 1/s
            DAPK1 would leave the site before removal could act].
        k_insert, insert_half, insert_hill: AMPAR insertion by GluN2B-bound CaMKII, per ms and
            dimensionless [choice: 1/(15 min), half at 0.3 of the sites, n = 3].
        k_remove, remove_half, remove_hill: AMPAR removal by PP1 where DAPK1 holds GluN2B [choice:
            1/min, half at 0.2 of the sites, n = 3].
        weight_min, weight_max: soft bounds of the efficacy [choice: 0.3 and 2].
    """

    calcium_rest: _Scalar = _field(0.05)
    cam_half: _Scalar = _field(2.0)
    cam_hill: _Scalar = _field(4.0)
    k_camkii_act: _Scalar = _field(2e-3)
    k_camkii_inact: _Scalar = _field(5e-4)
    camkii_half: _Scalar = _field(0.2)
    camkii_hill: _Scalar = _field(4.0)
    k_camkii_auto: _Scalar = _field(0.0)
    camkii_auto_half: _Scalar = _field(0.3)
    camkii_auto_hill: _Scalar = _field(4.0)
    k_can_act: _Scalar = _field(1e-3)
    k_can_inact: _Scalar = _field(5e-4)
    can_half: _Scalar = _field(8e-4)
    can_hill: _Scalar = _field(1.0)
    k_dapk1_dephos: _Scalar = _field(1e-4)
    k_dapk1_autophos: _Scalar = _field(5e-5)
    k_pp1_act: _Scalar = _field(5e-5)
    k_pp1_inact: _Scalar = _field(2e-5)
    k_pka_act: _Scalar = _field(1e-3)
    k_pka_inact: _Scalar = _field(1e-4)
    pka_half: _Scalar = _field(0.04)
    pka_hill: _Scalar = _field(4.0)
    k_pp1_pka: _Scalar = _field(5e-3)
    k_camkii_n2b_on: _Scalar = _field(5e-5)
    k_camkii_n2b_off: _Scalar = _field(1e-6)
    k_dapk1_n2b_on: _Scalar = _field(2e-5)
    k_dapk1_n2b_off: _Scalar = _field(5e-6)
    k_insert: _Scalar = _field(1.0 / 9e5)
    insert_half: _Scalar = _field(0.3)
    insert_hill: _Scalar = _field(3.0)
    k_remove: _Scalar = _field(1.0 / 6e4)
    remove_half: _Scalar = _field(0.2)
    remove_hill: _Scalar = _field(3.0)
    weight_min: _Scalar = _field(0.3)
    weight_max: _Scalar = _field(2.0)

    def __check_init__(self):
        name = type(self).__name__
        check_range(name, "calcium_rest", self.calcium_rest, lower=0.0, units="uM")
        check_range(name, "cam_half", self.cam_half, lower=0.0, lower_open=True, units="uM")
        for field in (
            "camkii_half",
            "camkii_auto_half",
            "can_half",
            "pka_half",
            "insert_half",
            "remove_half",
            "cam_hill",
            "camkii_hill",
            "camkii_auto_hill",
            "can_hill",
            "pka_hill",
            "insert_hill",
            "remove_hill",
        ):
            check_range(name, field, getattr(self, field), lower=0.0, lower_open=True)
        # Inactivation and unbinding rates set the resting state: they must be positive.
        for field in (
            "k_camkii_inact",
            "k_can_inact",
            "k_dapk1_autophos",
            "k_pp1_inact",
            "k_pka_inact",
            "k_camkii_n2b_off",
            "k_dapk1_n2b_off",
        ):
            check_range(name, field, getattr(self, field), lower=0.0, lower_open=True, units="1/ms")
        for field in (
            "k_camkii_act",
            "k_camkii_auto",
            "k_can_act",
            "k_pka_act",
            "k_dapk1_dephos",
            "k_pp1_act",
            "k_pp1_pka",
            "k_camkii_n2b_on",
            "k_dapk1_n2b_on",
            "k_insert",
            "k_remove",
        ):
            check_range(name, field, getattr(self, field), lower=0.0, units="1/ms")
        check_range(name, "weight_min", self.weight_min, lower=0.0, upper=1.0)
        check_range(name, "weight_max", self.weight_max, lower=1.0)

    def calmodulin(self, calcium):
        """Active (Ca4) fraction of calmodulin at ``calcium`` (uM), in rapid equilibrium."""
        return hill(calcium, self.cam_half, self.cam_hill)

    def half_activation_calcium(self) -> tuple[_Scalar, _Scalar, _Scalar]:
        """Calcium (uM) at which CaMKII, CaN and PKA activation are half-maximal, in that order:
        where ``h(cam(Ca); half, n) = 1/2``, i.e. ``cam(Ca) = half``. CaN's sets the onset of LTD,
        PKA's the neutral band, CaMKII's the onset of LTP (each for sustained calcium)."""

        def calcium(half):
            return self.cam_half * (half / (1.0 - half)) ** (1.0 / self.cam_hill)

        return calcium(self.camkii_half), calcium(self.can_half), calcium(self.pka_half)

    def _activation_rates(self, cam):
        # Activation rates (per ms) of CaMKII, CaN and PKA at Ca-CaM fraction ``cam``.
        return (
            self.k_camkii_act * hill(cam, self.camkii_half, self.camkii_hill),
            self.k_can_act * hill(cam, self.can_half, self.can_hill),
            self.k_pka_act * hill(cam, self.pka_half, self.pka_hill),
        )

    def _camkii_activation(self, camkii_on, camkii):
        # Activation rate (per ms) of the inactive subunits: by Ca-CaM (``camkii_on``) plus
        # autophosphorylation by their active neighbours.
        autophosphorylation = hill(camkii, self.camkii_auto_half, self.camkii_auto_hill)
        return camkii_on + self.k_camkii_auto * autophosphorylation

    def _d_camkii(self, camkii_on, camkii):
        # camkii' per ms (the first line of the equations).
        return (
            self._camkii_activation(camkii_on, camkii) * (1.0 - camkii)
            - self.k_camkii_inact * camkii
        )

    def _resting_camkii(self, camkii_on):
        # The lowest steady state of camkii' at constant activation rate ``camkii_on``. The map
        # c -> r(c) / (r(c) + k_inact), r = `_camkii_activation`, is increasing, so iterating it
        # from the state without autophosphorylation climbs to that root and stops there, below
        # the unstable middle state of a bistable CaMKII; Newton steps polish it where the climb
        # is slow (near the fold). Without autophosphorylation the first iterate is the closed
        # form.
        def climb(_, camkii):
            rate = self._camkii_activation(camkii_on, camkii)
            return rate / (rate + self.k_camkii_inact)

        camkii = jax.lax.fori_loop(0, 64, climb, camkii_on / (camkii_on + self.k_camkii_inact))
        for _ in range(2):
            residual, slope = jax.value_and_grad(self._d_camkii, argnums=1)(camkii_on, camkii)
            camkii = camkii - residual / slope
        return camkii

    def initial_state(self) -> KinaseCompetitionState:
        camkii_on, can_on, pka_on = self._activation_rates(self.calmodulin(self.calcium_rest))
        camkii = self._resting_camkii(camkii_on)
        can = can_on / (can_on + self.k_can_inact)
        pka = pka_on / (pka_on + self.k_pka_inact)
        dapk1 = self.k_dapk1_dephos * can / (self.k_dapk1_dephos * can + self.k_dapk1_autophos)
        pp1_on = self.k_pp1_act * can
        pp1 = pp1_on / (pp1_on + self.k_pp1_inact + self.k_pp1_pka * pka)
        # Steady competitive binding: bound_i = r_i * free, free = 1 / (1 + r_camkii + r_dapk1).
        r_camkii = self.k_camkii_n2b_on * camkii / self.k_camkii_n2b_off
        r_dapk1 = self.k_dapk1_n2b_on * dapk1 / self.k_dapk1_n2b_off
        free = 1.0 / (1.0 + r_camkii + r_dapk1)
        return KinaseCompetitionState(
            camkii=camkii,
            can=can,
            dapk1=dapk1,
            pp1=pp1,
            pka=pka,
            camkii_n2b=r_camkii * free,
            dapk1_n2b=r_dapk1 * free,
            weight=jnp.ones_like(camkii),
        )

    def plasticity_drives(self, state: KinaseCompetitionState):
        """(insertion, removal) drives in [0, 1]: the LTP and LTD signals of ``state``."""
        insertion = hill(state.camkii_n2b, self.insert_half, self.insert_hill)
        removal = state.pp1 * hill(state.dapk1_n2b, self.remove_half, self.remove_hill)
        return insertion, removal

    def vector_field(
        self, t, state: KinaseCompetitionState, signals: SynapseSignals
    ) -> KinaseCompetitionState:
        camkii_on, can_on, pka_on = self._activation_rates(self.calmodulin(signals.calcium))
        free = 1.0 - state.camkii_n2b - state.dapk1_n2b
        insertion, removal = self.plasticity_drives(state)
        pp1_off = self.k_pp1_inact + self.k_pp1_pka * state.pka
        return KinaseCompetitionState(
            camkii=self._d_camkii(camkii_on, state.camkii),
            can=can_on * (1.0 - state.can) - self.k_can_inact * state.can,
            dapk1=self.k_dapk1_dephos * state.can * (1.0 - state.dapk1)
            - self.k_dapk1_autophos * state.dapk1,
            pp1=self.k_pp1_act * state.can * (1.0 - state.pp1) - pp1_off * state.pp1,
            pka=pka_on * (1.0 - state.pka) - self.k_pka_inact * state.pka,
            camkii_n2b=self.k_camkii_n2b_on * state.camkii * free
            - self.k_camkii_n2b_off * state.camkii_n2b,
            dapk1_n2b=self.k_dapk1_n2b_on * state.dapk1 * free
            - self.k_dapk1_n2b_off * state.dapk1_n2b,
            weight=self.k_insert * insertion * (self.weight_max - state.weight)
            - self.k_remove * removal * (state.weight - self.weight_min),
        )

    def efficacy(self, state: KinaseCompetitionState):
        return state.weight
