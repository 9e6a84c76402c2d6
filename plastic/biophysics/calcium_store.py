"""A slow, saturable calcium store in each spine head: what lets calcium build up over repeated
pairings.

Fast buffers and extrusion (`plastic.biophysics.CalciumHandling`) bring a spine head back to
rest within a few hundred ms of a pairing, so at 0.5 Hz nothing carries over from one pairing
to the next. Tazerart et al. 2020 (seed 000, Figs. 6-8) see the calcium just *before* each
pairing rise over the 40 repetitions in the conditions that potentiate (+13 ms, two clustered
spines at +7 ms), NMDA receptor-dependently, and read it as "the inability to efficiently
extrude the local calcium signals in between each pre-post pairing". A store that takes up
calcium quickly during each transient and gives it back slowly (seconds) does that: the
calcium it releases between pairings holds the head above rest, the more so the more it has
taken up, and a store that is filling takes up less of each new transient. Spine heads hold
smooth endoplasmic reticulum (the spine apparatus) with SERCA pumps and a slow leak (Emptage et
al. 1999; Korkotian & Segal 2011).

Units: time ms, calcium uM. Fluxes are in uM/ms of total (free + fast-buffered) calcium in the
head volume, like the influx of the spine model; the store's content is its fill fraction
(dimensionless, in [0, 1]) times its ``capacity`` in the same uM.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_range
from plastic.biophysics.kinetics import hill

_Scalar = Float[Array, ""]


class AbstractCalciumStore(eqx.Module):
    """A calcium store in each spine head, described by its fill fraction."""

    @abc.abstractmethod
    def uptake(self, calcium, fill):
        """Net flux from each head's cytosol into its store, uM/ms (any shape: calcium in uM and
        fill fraction broadcast together)."""

    @abc.abstractmethod
    def fill_derivative(
        self, calcium: Float[Array, " n_spines"], fill: Float[Array, " n_spines"], position
    ) -> Float[Array, " n_spines"]:
        """d(fill)/dt per ms of every spine's store, given every head's calcium (uM), the fills
        and the spine positions along the dendrite (um)."""

    @abc.abstractmethod
    def resting_fill(self, calcium_rest) -> _Scalar:
        """The fill in equilibrium with ``calcium_rest`` (uM): ``uptake`` is zero there."""


class SpineCalciumStore(AbstractCalciumStore):
    """SERCA-like uptake that saturates as the store fills, a first-order leak back into the head,
    and exchange between the stores of nearby spines through the dendritic ER::

        uptake_i = max_uptake h(Ca_i; uptake_half, uptake_hill) (1 - fill_i)
                   - release_rate capacity fill_i                       (uM/ms)
        fill_i'  = uptake_i / capacity
                   + exchange_rate sum_{j != i} exp(-|x_i - x_j| / exchange_length_constant)
                     (fill_j - fill_i)

    The store is in equilibrium at rest (``resting_fill``), so it does not move resting calcium.
    A pairing fills it by about (uptake during the transient) / ``capacity``; between pairings it
    leaks back with time constant ``1 / release_rate``, and the leaked calcium holds the head
    above rest by about ``release_rate capacity (fill - resting fill) / extrusion rate``.

    The exchange is why two co-active neighbours build up more calcium than one spine alone
    (seed 000, Fig. 6: "striking" accumulation for two clustered spines at +7 ms, little for
    one): the spine apparatus is continuous with the dendritic ER (Spacek & Harris 1997), whose
    lumen carries calcium along the dendrite (Petersen et al. 2001; Choi et al. 2006), so the
    store of a lone active spine drains into its idle neighbours', while two active neighbours
    fill each other's. It equalises fills, and conserves the stores' content exactly when the
    heads have equal volumes (the model's heads differ only by the expressed head growth, a few
    %).

    Attributes:
        max_uptake: uptake into an empty store at saturating calcium, uM/ms of head volume.
        uptake_half: calcium of half-maximal uptake, uM.
        uptake_hill: its cooperativity, dimensionless.
        release_rate: leak of the stored calcium, per ms.
        capacity: calcium the full store holds, uM of head volume.
        exchange_rate: exchange between the stores of two spines at the same place, per ms.
        exchange_length_constant: how it falls off with the distance between them, um.

    Defaults [choice; SERCA itself is half-active at 0.2-1 uM (Lytton et al. 1992), raised here
    to 8 uM with n = 4 so that the store loads during the peaks of a pairing (10-18 uM in the
    seed model: a +13 ms pairing fills it by 0.037, a back-propagating spike alone by 0.015)
    and not at rest; a 10-s leak; room for about 25 pairings' uptake; exchange with a neighbour
    3 um away in 4 s].
    """

    max_uptake: _Scalar = eqx.field(converter=jnp.asarray, default=5.0)
    uptake_half: _Scalar = eqx.field(converter=jnp.asarray, default=8.0)
    uptake_hill: _Scalar = eqx.field(converter=jnp.asarray, default=4.0)
    release_rate: _Scalar = eqx.field(converter=jnp.asarray, default=1e-4)
    capacity: _Scalar = eqx.field(converter=jnp.asarray, default=2000.0)
    exchange_rate: _Scalar = eqx.field(converter=jnp.asarray, default=5e-4)
    exchange_length_constant: _Scalar = eqx.field(converter=jnp.asarray, default=5.0)

    def __check_init__(self):
        name = "SpineCalciumStore"
        for field, unit in (("max_uptake", "uM/ms"), ("exchange_rate", "1/ms")):
            check_range(
                f"{name}.{field}", getattr(self, field), lower=0.0, lower_inclusive=True, unit=unit
            )
        check_range(f"{name}.uptake_half", self.uptake_half, lower=0.0, unit="uM")
        check_range(f"{name}.uptake_hill", self.uptake_hill, lower=0.0)
        check_range(f"{name}.release_rate", self.release_rate, lower=0.0, unit="1/ms")
        check_range(f"{name}.capacity", self.capacity, lower=0.0, unit="uM")
        check_range(
            f"{name}.exchange_length_constant", self.exchange_length_constant, lower=0.0, unit="um"
        )

    def _pump(self, calcium):
        # Uptake into an empty store at ``calcium``, uM/ms.
        return self.max_uptake * hill(calcium, self.uptake_half, self.uptake_hill)

    def uptake(self, calcium, fill):
        return self._pump(calcium) * (1.0 - fill) - self.release_rate * self.capacity * fill

    def fill_derivative(self, calcium, fill, position):
        distance = jnp.abs(position[:, None] - position[None, :])
        weight = jnp.exp(-distance / self.exchange_length_constant)
        # The diagonal would add fill_i - fill_i = 0: no need to mask it.
        exchange = self.exchange_rate * (weight @ fill - jnp.sum(weight, axis=1) * fill)
        return self.uptake(calcium, fill) / self.capacity + exchange

    def resting_fill(self, calcium_rest):
        pump = self._pump(calcium_rest)
        return pump / (pump + self.release_rate * self.capacity)
