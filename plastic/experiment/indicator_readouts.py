"""What two-photon imaging reads from a pairing simulation of a model with a calcium indicator
(`plastic.model.SpineModel.indicator`): Delta G / R before and after each pairing, and how much
it changes over the repetitions."""

import equinox as eqx
import jax
import jax.numpy as jnp

from plastic.experiment.spine_readouts import (
    AFTER_PAIRING_DELAY,
    AbstractSpineReadout,
    CalciumPerPairing,
    shaft_at_spines,
)


class IndicatorPerPairing(AbstractSpineReadout):
    """What two-photon calcium imaging reports at each spine at one moment of every pairing:
    Delta G / R of the model's calcium indicator (`SpineModel.indicator`), the green
    fluorescence's change from its value at the start of the first pairing over the red dye's,
    in units of the saturated G / R (`plastic.biophysics.CalciumIndicator.green_over_red`);
    shape ``(n_pairings, n_spines)``.

    Moments and compartments as in `CalciumPerPairing`. Named
    ``{compartment}_delta_g_over_r_{moment}_per_pairing``. Needs a model with an indicator.

    Attributes:
        compartment: "head" or "dendrite".
        moment: "before" or "after".
        delay: ms from the end of a pairing to the "after" reading, >= 0 (not read "before").
    """

    compartment: str = eqx.field(static=True, default="head")
    moment: str = eqx.field(static=True, default="after")
    delay: float = AFTER_PAIRING_DELAY
    unit: str = eqx.field(static=True, default="1")
    dims: tuple[str, ...] = eqx.field(static=True, default=("pairing", "spine"))
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def __check_init__(self):
        # The same moments and compartments as the calcium readout, checked there.
        CalciumPerPairing(self.compartment, self.moment, self.delay)

    @property
    def name(self) -> str:
        return f"{self.compartment}_delta_g_over_r_{self.moment}_per_pairing"

    def check(self, model):
        if model.indicator is None:
            raise ValueError(
                f"readout {self.name!r} needs a model with a calcium indicator; "
                "SpineModel.indicator is None (e.g. plastic.biophysics.CalciumIndicator())"
            )

    def save_times(self, protocol):
        # The baseline first: the dye just before the first pairing.
        times = CalciumPerPairing(self.compartment, self.moment, self.delay).save_times(protocol)
        return jnp.concatenate([protocol.pairing_start[:1], times])

    def read(self, model, protocol, simulation):
        states, dye = simulation.states, model.indicator
        if self.compartment == "head":
            bound = states.head_indicator
        else:
            resting = dye.resting_bound(model.calcium.resting_calcium)
            bound = shaft_at_spines(model, states.dendrite_indicator, resting)
        green_over_red = dye.green_over_red(bound)
        return green_over_red[1:] - green_over_red[0]


def delta_g_over_r_index(before, after, moment: str, early, late):
    """How much Delta G / R changes over the repetitions: 1 for no change (``before``,
    ``after``: Delta G / R before and after each pairing, pairing axis first; ``early``,
    ``late``: 1-based inclusive windows of repetitions).

    After each pairing: the mean over ``late`` over the mean over ``early``. Before each
    pairing, where Delta G / R is 0 at the first repetition by construction (its baseline is the
    first image): 1 + (mean over ``late`` - mean over ``early``) / (mean after, over ``early``),
    the build-up between pairings as a fraction of one pairing's signal.
    """

    def mean(values, window):
        return jnp.mean(values[window[0] - 1 : window[1]], axis=0)

    early_after = mean(after, early)
    if moment == "after":
        return mean(after, late) / early_after
    return 1.0 + (mean(before, late) - mean(before, early)) / early_after


class IndicatorIndex(AbstractSpineReadout):
    """The change of an imaged spine's Delta G / R over the repetitions of a pairing protocol
    (`delta_g_over_r_index`: 1 = no change), before or after each pairing, in its head or the
    shaft under it: one number, which a data row can bound (``relation`` ``>=``: "calcium
    rose"). Needs a model with an indicator and at least ``late[1]`` pairings. Named
    ``{compartment}_delta_g_over_r_{moment}_index``.

    Attributes:
        compartment: "head" or "dendrite". moment: "before" or "after".
        spine: which spine is imaged (default 0, the first uncaged).
        early, late: windows of repetitions, 1-based and inclusive (default 1-5 and 35-40,
            Tazerart et al. 2020, Fig. 8g).
        delay: ms from the end of a pairing to the "after" image.
    """

    compartment: str = eqx.field(static=True, default="head")
    moment: str = eqx.field(static=True, default="before")
    spine: int = eqx.field(static=True, default=0)
    early: tuple[int, int] = eqx.field(static=True, default=(1, 5))
    late: tuple[int, int] = eqx.field(static=True, default=(35, 40))
    delay: float = AFTER_PAIRING_DELAY
    unit: str = eqx.field(static=True, default="1")
    dims: tuple[str, ...] = eqx.field(static=True, default=())
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def __check_init__(self):
        CalciumPerPairing(self.compartment, self.moment, self.delay)
        for name in ("early", "late"):
            first, last = getattr(self, name)
            if not 1 <= first <= last:
                raise ValueError(
                    f"IndicatorIndex.{name} must be (first, last) repetitions with 1 <= first "
                    f"<= last; got {getattr(self, name)}"
                )

    @property
    def name(self) -> str:
        return f"{self.compartment}_delta_g_over_r_{self.moment}_index"

    def _per_pairing(self):
        return tuple(
            IndicatorPerPairing(self.compartment, moment, self.delay)
            for moment in ("before", "after")
        )

    def check(self, model):
        self._per_pairing()[0].check(model)
        if self.spine >= model.n_spines:
            raise ValueError(
                f"readout {self.name!r} images spine {self.spine}; the model has "
                f"{model.n_spines} spines"
            )

    def save_times(self, protocol):
        n_pairings = protocol.pairing_start.shape[0]
        if n_pairings < self.late[1]:
            raise ValueError(
                f"readout {self.name!r} compares repetitions {self.late} with {self.early}: it "
                f"needs at least {self.late[1]} pairings; the protocol has {n_pairings}"
            )
        before, after = self._per_pairing()
        return jnp.concatenate([before.save_times(protocol), after.save_times(protocol)[1:]])

    def read(self, model, protocol, simulation):
        n_pairings = protocol.pairing_start.shape[0]
        before, after = self._per_pairing()
        # Both readouts' times share the baseline, saved once.
        split = eqx.tree_at(
            lambda s: s.states,
            simulation,
            jax.tree.map(
                lambda x: jnp.concatenate([x[:1], x[1 + n_pairings :]]), simulation.states
            ),
        )
        values = (
            before.read(model, protocol, simulation)[:n_pairings, self.spine],
            after.read(model, protocol, split)[:, self.spine],
        )
        return delta_g_over_r_index(*values, self.moment, self.early, self.late)


INDICATOR_PER_PAIRING = tuple(
    IndicatorPerPairing(compartment, moment)
    for compartment in ("head", "dendrite")
    for moment in ("before", "after")
)
"""Head and shaft Delta G / R before and after each pairing (`IndicatorPerPairing`, the default
delay): what the seed imaged."""
