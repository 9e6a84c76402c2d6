"""Expression of plasticity at a spine: AMPAR trafficking and actin-driven remodelling.

The rule (inside the spine model) turns calcium into two slow signals in [0, 1], a potentiation
drive and a depression drive (`plastic.rules.AbstractRule.plasticity_drives`). Expression turns
them into what the experiment measures, per spine:

- ``psd``: AMPA receptors in the postsynaptic density relative to baseline; the spine's AMPA
  conductance is scaled by it. Receptors move between a reserve pool and the PSD: insertion
  (basal + potentiation-driven, blocked by PEP1-TGL, which stops GluR1 insertion) and removal
  (basal + depression-driven); the reserve is slowly resupplied from the dendrite. Activity also
  speeds up the cycling of the receptors already there (endocytosis and actin-dependent
  exocytosis at equal rates): balanced while actin works, a net loss under latrunculin-A.
- ``neck``: neck length relative to baseline. Potentiation drives actin remodelling that shortens
  the neck (blocked by latrunculin-A, which stops actin polymerisation); it relaxes back slowly.
  The neck length feeds back into the electrics (neck resistance) and into calcium exchange.
- ``head``: head volume relative to baseline, grown by the same actin pathway, relaxing back.

At baseline (no drive) every state is 1 and stays 1. Time in ms; every rate per ms.

Drugs that act on expression are blocked fractions of its pathways, parameters of the expression
model like any other (`TraffickingAndRemodelling.insertion_block` for PEP1-TGL,
``actin_block`` for latrunculin-A); an experiment sets them per condition (AP5, a block of NMDA
receptors, is the receptors' conductance).
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_range

_Scalar = Float[Array, ""]


def _field(default):
    return eqx.field(converter=jnp.asarray, default=default)


class ExpressionState(eqx.Module):
    """Per-spine expression state (scalars, dimensionless, 1 at baseline).

    Attributes:
        psd: AMPARs in the PSD. reserve: AMPARs in the reserve pool (in units of the baseline
            PSD content). neck: neck length. head: head volume.
    """

    psd: _Scalar
    reserve: _Scalar
    neck: _Scalar
    head: _Scalar


class AbstractExpression(eqx.Module):
    """Maps the rule's (potentiation, depression) drives to receptor and structural changes."""

    @abc.abstractmethod
    def initial_state(self) -> ExpressionState:
        """The baseline state (a fixed point without drive)."""

    @abc.abstractmethod
    def vector_field(
        self, state: ExpressionState, potentiation: _Scalar, depression: _Scalar
    ) -> ExpressionState:
        """d(state)/dt per ms given the drives in [0, 1]."""


class TraffickingAndRemodelling(AbstractExpression):
    """Reserve-PSD AMPAR exchange plus actin remodelling of neck and head.

    Equations (P, D the potentiation and depression drives; rates per ms)::

        insertion = (k_basal + k_insert (1 - insertion_block) (1 - actin_dependence actin_block) P
                     + k_cycle (1 - actin_block) P) reserve
        removal   = (k_basal + k_remove D + k_cycle P) psd
        psd'      = insertion - removal
        reserve'  = removal - insertion + k_supply (1 - reserve)
        remodel   = (1 - actin_block) P
        neck'     = -k_neck remodel (neck - neck_min) + k_relax (1 - neck)
        head'     = k_head remodel (head_max - head) - k_relax (head - 1)

    Attributes:
        k_basal: constitutive AMPAR cycling, per ms [choice: 1/(30 min), receptor recycling
            time constants of tens of minutes].
        k_insert: activity-driven insertion at full drive, per ms [choice: 1/(2 min)].
        k_remove: activity-driven removal at full drive, per ms [choice: 1/(2 min)].
        k_supply: resupply of the reserve from the dendrite, per ms [choice: 1/(60 min)].
        k_neck, neck_min: neck shortening at full drive, per ms, and the shortest neck relative
            to baseline [choice: 1/(5 min); 0.5, the seed's largest shrinkage is ~35 %].
        k_head, head_max: head growth at full drive, per ms, and the largest head relative to
            baseline [choice: 1/(20 min); 2].
        k_relax: structural relaxation to baseline, per ms [choice: 1/(60 min)].
        actin_dependence: fraction of activity-driven insertion that needs actin
            polymerisation, dimensionless in [0, 1] [choice: 0, insertion independent of actin;
            LTP expression needs F-actin (Kim & Lisman 1999; Okamoto et al. 2004), and seed 000
            finds that latrunculin-A turns t-LTP into depression: `tazerart_model` fits it].
        k_cycle: activity-driven cycling of PSD receptors at full potentiation drive, per ms:
            endocytosis, and exocytosis from the reserve that needs actin (blocked by
            latrunculin-A, not by PEP1-TGL, which blocks only the GluR1-specific delivery)
            [choice: 0, off. Activity raises both AMPAR endocytosis and exocytosis (Ehlers
            2000); exocytosis of recycling endosomes is driven by myosin V on actin (Wang et
            al. 2008; Correia et al. 2008). With it, blocking actin during a potentiating
            protocol leaves the endocytosis unopposed: the depression of seed 000's
            latrunculin-A experiment, which PEP1-TGL does not give].
        insertion_block: blocked fraction of activity-driven GluR1 insertion, in [0, 1]
            (PEP1-TGL; 0: no drug).
        actin_block: blocked fraction of actin polymerisation, in [0, 1] (latrunculin-A; 0: no
            drug): stops remodelling, the actin-dependent share of insertion and exocytosis.
    """

    k_basal: _Scalar = _field(1.0 / 1.8e6)
    k_insert: _Scalar = _field(1.0 / 1.2e5)
    k_remove: _Scalar = _field(1.0 / 1.2e5)
    k_supply: _Scalar = _field(1.0 / 3.6e6)
    k_neck: _Scalar = _field(1.0 / 3e5)
    neck_min: _Scalar = _field(0.5)
    k_head: _Scalar = _field(1.0 / 1.2e6)
    head_max: _Scalar = _field(2.0)
    k_relax: _Scalar = _field(1.0 / 3.6e6)
    actin_dependence: _Scalar = _field(0.0)
    k_cycle: _Scalar = _field(0.0)
    insertion_block: _Scalar = _field(0.0)
    actin_block: _Scalar = _field(0.0)

    def __check_init__(self):
        for name in ("k_basal", "k_insert", "k_remove", "k_supply", "k_neck", "k_head", "k_cycle"):
            check_range(
                f"TraffickingAndRemodelling.{name}",
                getattr(self, name),
                lower=0.0,
                lower_inclusive=True,
                unit="1/ms",
            )
        check_range("TraffickingAndRemodelling.k_relax", self.k_relax, lower=0.0, unit="1/ms")
        check_range("TraffickingAndRemodelling.neck_min", self.neck_min, lower=0.0, upper=1.0)
        check_range("TraffickingAndRemodelling.head_max", self.head_max, lower=1.0)
        for name in ("actin_dependence", "insertion_block", "actin_block"):
            check_range(
                f"TraffickingAndRemodelling.{name}",
                getattr(self, name),
                lower=0.0,
                upper=1.0,
                lower_inclusive=True,
                upper_inclusive=True,
            )

    def initial_state(self) -> ExpressionState:
        one = jnp.ones(())
        return ExpressionState(psd=one, reserve=one, neck=one, head=one)

    def vector_field(self, state, potentiation, depression):
        blocked = (1.0 - self.insertion_block) * (1.0 - self.actin_dependence * self.actin_block)
        cycling = self.k_cycle * potentiation
        insertion = (
            self.k_basal
            + self.k_insert * blocked * potentiation
            + cycling * (1.0 - self.actin_block)
        ) * state.reserve
        removal = (self.k_basal + self.k_remove * depression + cycling) * state.psd
        remodel = (1.0 - self.actin_block) * potentiation
        return ExpressionState(
            psd=insertion - removal,
            reserve=removal - insertion + self.k_supply * (1.0 - state.reserve),
            neck=-self.k_neck * remodel * (state.neck - self.neck_min)
            + self.k_relax * (1.0 - state.neck),
            head=self.k_head * remodel * (self.head_max - state.head)
            - self.k_relax * (state.head - 1.0),
        )
