"""Chemical coupling between spines: how one spine's plasticity signal reaches its neighbours.

The rule runs independently at every spine and reads only that spine's signals
(`plastic.rules.SynapseSignals`); electrical coupling between spines is in the biophysics
(the cable). What the seed experiments add is a short-range *chemical* coupling: two spines
3 um apart at +7 ms both potentiate, two spines 20 um apart do not (Tazerart et al. 2020,
lambda = 5.7 um, seed 000), while a spine's calcium barely depends on its neighbour at either
distance. The same experiments show a longer-range coupling on the depression side: two spines
less than 40 um apart at -15 ms do not depress, one alone does (lambda = 39.7 um). A coupling
maps the per-spine ``(potentiation, depression)`` drives of the rule
(`plastic.rules.AbstractRule.plasticity_drives`) to the drives the expression sees
(`plastic.expression`), knowing where the spines sit.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_range
from plastic.biophysics.kinetics import hill

_Drives = Float[Array, " n_spines"]


def _steady_state_profile(
    position: Float[Array, " n_spines"], length_constant
) -> Float[Array, "n_spines n_spines"]:
    """``exp(-|x_i - x_j| / length_constant)``: at spine i, the steady-state signal of a unit
    source at spine j in a 1-D cable with first-order inactivation, 1 at the source."""
    distance = jnp.abs(position[:, None] - position[None, :])
    return jnp.exp(-distance / length_constant)


class AbstractSpineCoupling(eqx.Module):
    """Maps every spine's plasticity drives to the drives its expression receives."""

    @abc.abstractmethod
    def __call__(
        self, potentiation: _Drives, depression: _Drives, position: Float[Array, " n_spines"]
    ) -> tuple[_Drives, _Drives]:
        """(potentiation, depression) drives in [0, 1] after coupling, ``(n_spines,)`` each,
        given the rule's drives and the spine positions along the dendrite (um)."""


class DiffusibleMessenger(AbstractSpineCoupling):
    """A messenger released by potentiating spines that spreads along the dendrite and gates
    the expression of potentiation (Harvey et al. 2008: H-Ras activity triggered at one spine
    spreads ~10 um along the dendrite and lowers the LTP threshold of its neighbours for
    minutes).

    The messenger equilibrates along the dendrite in seconds, fast against the drives (minutes),
    so it is taken at its steady state: a point source in a 1-D cable with first-order
    inactivation gives a profile ``exp(-|x| / length_constant)``, normalised here to 1 at the
    source. With ``P`` the rule's potentiation drives and ``x`` the positions::

        messenger_i   = sum_j exp(-|x_i - x_j| / length_constant) P_j
        potentiation_i = P_i * messenger_i^n / (messenger_i^n + half_activation^n)

    so a spine needs its own drive (an unstimulated neighbour does not potentiate) and enough
    messenger, its own plus its neighbours' (two co-active spines a few um apart reach what one
    alone does not). Depression passes unchanged.

    Attributes:
        length_constant: um [choice: 5 um, the ~10 um spread of Harvey et al. 2008].
        half_activation: messenger at which half of a spine's drive is expressed, in units of
            one spine's full potentiation drive [choice: 0.5, about what one spine alone
            reaches after 40 pairings at +7 ms in the Tazerart study's `tazerart_model`;
            fitted].
        hill: steepness of the gate, dimensionless [choice: 4; fitted].
    """

    length_constant: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=5.0)
    half_activation: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.5)
    hill: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=4.0)

    def __check_init__(self):
        check_range(
            "DiffusibleMessenger.length_constant", self.length_constant, lower=0.0, unit="um"
        )
        check_range("DiffusibleMessenger.half_activation", self.half_activation, lower=0.0)
        check_range("DiffusibleMessenger.hill", self.hill, lower=0.0)

    def messenger(
        self, potentiation: _Drives, position: Float[Array, " n_spines"]
    ) -> Float[Array, " n_spines"]:
        """Messenger at each spine, in units of one spine's full potentiation drive."""
        return _steady_state_profile(position, self.length_constant) @ potentiation

    def __call__(self, potentiation, depression, position):
        gate = hill(self.messenger(potentiation, position), self.half_activation, self.hill)
        return potentiation * gate, depression


class MessengerWithDepressionVeto(AbstractSpineCoupling):
    """`DiffusibleMessenger`'s gate on potentiation, plus a veto on depression by co-depressing
    neighbours that reaches tens of um.

    Why: two spines paired at -15 ms less than 40 um apart do not depress, while one spine, or
    two more than 40 um apart, do (lambda = 39.7 um; Tazerart et al. 2020, seed 000, Fig. 5).
    The electrical coupling of the cable moves a neighbour's calcium too little at those
    distances to explain it (`plastic.studies.tazerart2020`), so this is a phenomenological
    second coupling whose carrier the data do not identify. With ``D`` the rule's depression
    drives, each spine's depression is vetoed by its *neighbours'* drives (a spine never vetoes
    itself, so one spine alone depresses as without coupling)::

        veto_signal_i = sum_{j != i} exp(-|x_i - x_j| / veto_length_constant) D_j
        veto_i        = veto_signal_i^m / (veto_signal_i^m + veto_half_activation^m)
        depression_i  = D_i (1 - veto_i)

    Potentiation is gated as in `DiffusibleMessenger`, to ``P'_i``. With ``veto_conversion``
    ``c`` > 0 the vetoed depression is not lost but drives the potentiation side of the
    expression (receptor insertion and the actin remodelling that shortens the neck), combined
    with ``P'_i`` as independent probabilities so that it stays in [0, 1]::

        potentiation_i = 1 - (1 - P'_i) (1 - c D_i veto_i) = P'_i + c D_i veto_i (1 - P'_i)

    Why: two spines paired at -15 ms less than 40 um apart neither depress nor keep their necks:
    the necks shrink to 88 % (P = 0.04), and across pairs both the loss of depression and the
    neck shrinkage grow as the spines come closer (Tazerart et al. 2020, Fig. 5 and
    Supplementary Fig. 9d). Without the conversion the vetoed spine has no drive for it.

    Attributes:
        length_constant, half_activation, hill: the potentiation messenger (`DiffusibleMessenger`).
        veto_length_constant: um [choice: 40 um, the seed's lambda at -15 ms; fitted].
        veto_half_activation: neighbours' depression drive at which half of a spine's depression
            is vetoed, in units of one spine's full depression drive [choice: 0.003, about one
            spine's drive after 40 pairings at -15 ms in the Tazerart study's
            `tazerart_model`; fitted].
        veto_hill: steepness of the veto, dimensionless (``m`` above) [choice: 2; fitted].
        veto_conversion: fraction of the vetoed depression drive that drives the potentiation
            side of the expression, in [0, 1] (``c`` above) [choice: 0, none, as the shipped
            `tazerart_model` was fitted; fitted in `physiological_tazerart_model`].
    """

    length_constant: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=5.0)
    half_activation: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.5)
    hill: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=4.0)
    veto_length_constant: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=40.0)
    veto_half_activation: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.003)
    veto_hill: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=2.0)
    veto_conversion: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.0)

    def __check_init__(self):
        name = "MessengerWithDepressionVeto"
        for field in ("length_constant", "veto_length_constant"):
            check_range(f"{name}.{field}", getattr(self, field), lower=0.0, unit="um")
        for field in ("half_activation", "hill", "veto_half_activation", "veto_hill"):
            check_range(f"{name}.{field}", getattr(self, field), lower=0.0)
        check_range(
            f"{name}.veto_conversion", self.veto_conversion, lower=0.0, upper=1.0,
            lower_inclusive=True, upper_inclusive=True,
        )  # fmt: skip

    @property
    def potentiation_messenger(self) -> DiffusibleMessenger:
        return DiffusibleMessenger(self.length_constant, self.half_activation, self.hill)

    def veto_signal(
        self, depression: _Drives, position: Float[Array, " n_spines"]
    ) -> Float[Array, " n_spines"]:
        """The neighbours' depression drive reaching each spine, in units of one spine's full
        depression drive (its own drive excluded)."""
        weight = _steady_state_profile(position, self.veto_length_constant)
        weight = jnp.where(jnp.eye(position.shape[0], dtype=bool), 0.0, weight)
        return weight @ depression

    def __call__(self, potentiation, depression, position):
        gated, _ = self.potentiation_messenger(potentiation, depression, position)
        signal = self.veto_signal(depression, position)
        vetoed = depression * hill(signal, self.veto_half_activation, self.veto_hill)
        # 1 - (1 - P')(1 - c V), written so that c = 0 gives P' bit for bit
        converted = gated + self.veto_conversion * vetoed * (1.0 - gated)
        return converted, depression - vetoed
