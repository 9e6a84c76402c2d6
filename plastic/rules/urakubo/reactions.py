"""A chemical reaction network as data: species, reactions with mass-action or Michaelis-Menten
rate laws, and their vectorised right-hand side in JAX.

Why data rather than hand-written derivatives: a spine model such as Urakubo et al. 2008 has
over a hundred species and a few hundred fluxes; written out by hand, one wrong sign or one
forgotten product silently breaks a conservation law. Here every reaction is one record (what it
consumes, what it produces, which concentrations its rate multiplies), the stoichiometry is
derived from the records, and the conservation laws can be checked against it.

Units: concentrations in uM, volumes in fL, amounts in uM fL, rate constants per s (per uM per
s for bimolecular reactions), fluxes in uM fL / s. Each reaction happens in a volume (its
compartment's, or an explicit transfer volume for exchange between compartments): its amount
flux is ``volume * k * modifier * x[a] * x[b]`` (mass action; a missing factor is 1) or
``volume * k * modifier * x[a] * x[b] / (km + x[b])`` (Michaelis-Menten: ``a`` the enzyme,
``b`` the substrate, ``k`` = kcat). Each species' concentration changes by its net amount flux
divided by its own volume, so reactions between compartments of different volumes (diffusion)
conserve amounts.

Buffered species (held at a fixed concentration, e.g. ATP) may appear in rates; they are not
part of the state and reactions do not change them. A *modifier* is a rate multiplier computed
outside the network at each instant (a glutamate concentration, an autophosphorylation rate that
depends on the whole holoenzyme's state); index 0 is the constant 1.
"""

import dataclasses
from collections.abc import Mapping

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


@dataclasses.dataclass(frozen=True)
class Reaction:
    """One irreversible reaction (a reversible one is two records).

    Attributes:
        name: unique label, for reports.
        consumed: species names whose amount decreases by one per event.
        produced: species names whose amount increases by one per event.
        rate_factors: names (species or buffered constants) whose concentrations multiply the
            rate, at most 2; for ``michaelis_menten`` exactly 2: (enzyme, substrate).
        k: rate constant, per s (per uM per s with two factors; kcat for Michaelis-Menten).
        volume: where it happens, fL (amount flux = volume x concentration rate).
        km: Michaelis constant, uM; None for mass action.
        modifier: name of the rate multiplier supplied at evaluation time, or None.
    """

    name: str
    consumed: tuple[str, ...]
    produced: tuple[str, ...]
    rate_factors: tuple[str, ...]
    k: float
    volume: float
    km: float | None = None
    modifier: str | None = None


class NetworkBuilder:
    """Collects species and reactions, then `build` freezes them into a `ReactionNetwork`."""

    def __init__(self):
        self.species: list[str] = []
        self.volumes: list[float] = []
        self.compositions: list[dict[str, float]] = []
        self.constants: dict[str, float] = {}
        self.modifiers: list[str] = []
        self.reactions: list[Reaction] = []

    def add_species(self, name: str, volume: float, composition: Mapping[str, float] = ()):
        """A state species in a compartment of ``volume`` fL; ``composition`` says how many
        units of each conserved moiety (e.g. ``{"CaM": 1, "CaMKII": 1}``) one molecule holds."""
        if name in self.species or name in self.constants:
            raise ValueError(f"species {name!r} declared twice")
        self.species.append(name)
        self.volumes.append(float(volume))
        self.compositions.append(dict(composition))

    def add_constant(self, name: str, concentration: float):
        """A buffered species held at ``concentration`` uM."""
        if name in self.species or name in self.constants:
            raise ValueError(f"species {name!r} declared twice")
        self.constants[name] = float(concentration)

    def add_modifier(self, name: str):
        """A rate multiplier supplied at evaluation time (`ReactionNetwork.rates`)."""
        self.modifiers.append(name)

    def add(self, reaction: Reaction):
        known = set(self.species) | set(self.constants)
        for name in (*reaction.consumed, *reaction.produced):
            if name not in self.species:
                raise ValueError(f"reaction {reaction.name!r}: {name!r} is not a state species")
        for name in reaction.rate_factors:
            if name not in known:
                raise ValueError(f"reaction {reaction.name!r}: unknown rate factor {name!r}")
        if len(reaction.rate_factors) > 2:
            raise ValueError(f"reaction {reaction.name!r}: at most 2 rate factors")
        if reaction.km is not None and len(reaction.rate_factors) != 2:
            raise ValueError(
                f"reaction {reaction.name!r}: Michaelis-Menten needs (enzyme, substrate)"
            )
        if reaction.modifier is not None and reaction.modifier not in self.modifiers:
            raise ValueError(f"reaction {reaction.name!r}: unknown modifier {reaction.modifier!r}")
        if not (reaction.k >= 0.0 and reaction.volume > 0.0):
            raise ValueError(f"reaction {reaction.name!r}: needs k >= 0 and volume > 0")
        self.reactions.append(reaction)

    def reaction(self, name, consumed, produced, k, volume, *, catalysts=(), modifier=None):
        """Mass action: rate factors are the consumed species plus the ``catalysts``."""
        self.add(
            Reaction(
                name,
                tuple(consumed),
                tuple(produced),
                (*consumed, *catalysts),
                k,
                volume,
                modifier=modifier,
            )
        )

    def reversible(self, name, left, right, kf, kb, volume):
        """``left <-> right`` by mass action, forward ``kf`` and backward ``kb``."""
        self.reaction(name + ">", left, right, kf, volume)
        self.reaction(name + "<", right, left, kb, volume)

    def enzyme(self, name, substrate, enzyme, complex_, product, km, kcat, volume, k_back=None):
        """Explicit-complex Michaelis-Menten: ``S + E <-> C -> P + E`` with
        ``k_on = (k_back + kcat) / km`` and ``k_back = 4 kcat`` unless given."""
        k_back = 4.0 * kcat if k_back is None else k_back
        self.reversible(
            name, (substrate, enzyme), (complex_,), (k_back + kcat) / km, k_back, volume
        )
        self.reaction(name + "*", (complex_,), (product, enzyme), kcat, volume)

    def build(self) -> "ReactionNetwork":
        names = {name: i for i, name in enumerate(self.species)}
        n, n_const = len(self.species), len(self.constants)
        # Rate factors index [state..., constants..., 1.0]; a missing factor reads the 1.
        extended = {**names, **{c: n + j for j, c in enumerate(self.constants)}}
        one = n + n_const
        factors = []
        for r in self.reactions:
            idx = [extended[f] for f in r.rate_factors]
            factors.append(tuple(idx + [one] * (2 - len(idx))))
        rows, cols, coeffs = [], [], []
        for j, r in enumerate(self.reactions):
            net: dict[int, float] = {}
            for s in r.consumed:
                net[names[s]] = net.get(names[s], 0.0) - 1.0
            for s in r.produced:
                net[names[s]] = net.get(names[s], 0.0) + 1.0
            for i, c in net.items():
                if c != 0.0:
                    rows.append(i)
                    cols.append(j)
                    coeffs.append(c)
        moieties = sorted({m for comp in self.compositions for m in comp})
        modifier_index = {m: i + 1 for i, m in enumerate(self.modifiers)}
        mm = [r.km is not None for r in self.reactions]
        return ReactionNetwork(
            species=tuple(self.species),
            constant_names=tuple(self.constants),
            modifier_names=tuple(self.modifiers),
            reaction_names=tuple(r.name for r in self.reactions),
            moieties=tuple(moieties),
            factor_index=tuple(factors),
            modifier_index=tuple(modifier_index.get(r.modifier, 0) for r in self.reactions),
            michaelis_menten=tuple(mm),
            stoich_rows=tuple(rows),
            stoich_cols=tuple(cols),
            stoich_coeffs=tuple(coeffs),
            composition=tuple(
                tuple(float(comp.get(m, 0.0)) for m in moieties) for comp in self.compositions
            ),
            volumes=jnp.asarray(self.volumes, float),
            constants=jnp.asarray(list(self.constants.values()), float).reshape(n_const),
            rate_constants=jnp.asarray([r.k for r in self.reactions], float),
            reaction_volumes=jnp.asarray([r.volume for r in self.reactions], float),
            michaelis_constants=jnp.asarray(
                [1.0 if r.km is None else r.km for r in self.reactions], float
            ),
        )


class ReactionNetwork(eqx.Module):
    """A frozen reaction network (build it with `NetworkBuilder`).

    Structure (names, indices, stoichiometry) is static, so the Jacobian's sparsity is known at
    trace time; rate constants, volumes and buffered concentrations are array fields, so they can
    be differentiated, fitted and vmapped.

    Attributes:
        species: state species names, length ``n``.
        constant_names, modifier_names, reaction_names, moieties: labels.
        factor_index: per reaction, the 2 indices into ``[x, constants, 1]`` its rate multiplies.
        modifier_index: per reaction, index into ``[1, modifiers...]``.
        michaelis_menten: per reaction, whether its rate law is Michaelis-Menten.
        stoich_rows, stoich_cols, stoich_coeffs: the nonzero entries of the ``(n, m)``
            stoichiometry matrix (events per reaction event).
        composition: per species, units of each conserved moiety it holds.
        volumes: species' compartment volumes, fL, shape ``(n,)``.
        constants: buffered concentrations, uM.
        rate_constants: per reaction, per s (or per uM per s), shape ``(m,)``.
        reaction_volumes: per reaction, fL, shape ``(m,)``.
        michaelis_constants: per reaction, uM (unused by mass-action reactions).
    """

    species: tuple[str, ...] = eqx.field(static=True)
    constant_names: tuple[str, ...] = eqx.field(static=True)
    modifier_names: tuple[str, ...] = eqx.field(static=True)
    reaction_names: tuple[str, ...] = eqx.field(static=True)
    moieties: tuple[str, ...] = eqx.field(static=True)
    factor_index: tuple[tuple[int, int], ...] = eqx.field(static=True)
    modifier_index: tuple[int, ...] = eqx.field(static=True)
    michaelis_menten: tuple[bool, ...] = eqx.field(static=True)
    stoich_rows: tuple[int, ...] = eqx.field(static=True)
    stoich_cols: tuple[int, ...] = eqx.field(static=True)
    stoich_coeffs: tuple[float, ...] = eqx.field(static=True)
    composition: tuple[tuple[float, ...], ...] = eqx.field(static=True)
    volumes: Float[Array, " n"]
    constants: Float[Array, " c"]
    rate_constants: Float[Array, " m"]
    reaction_volumes: Float[Array, " m"]
    michaelis_constants: Float[Array, " m"]

    @property
    def n_species(self) -> int:
        return len(self.species)

    def index(self, name: str) -> int:
        """Position of species ``name`` in the state vector."""
        try:
            return self.species.index(name)
        except ValueError:
            raise KeyError(f"no species {name!r} in the network") from None

    def reaction_position(self, name: str) -> int:
        """Position of reaction ``name`` in ``rate_constants``."""
        try:
            return self.reaction_names.index(name)
        except ValueError:
            raise KeyError(f"no reaction {name!r} in the network") from None

    def stoichiometry(self) -> np.ndarray:
        """The dense ``(n, m)`` stoichiometry matrix (for checks, not for the solve)."""
        s = np.zeros((self.n_species, len(self.reaction_names)))
        np.add.at(
            s, (np.asarray(self.stoich_rows), np.asarray(self.stoich_cols)), self.stoich_coeffs
        )
        return s

    def fluxes(self, x: Float[Array, " n"], modifiers: Float[Array, " k"]) -> Float[Array, " m"]:
        """Amount flux of every reaction, uM fL / s, at concentrations ``x`` (uM) and modifier
        values ``modifiers`` (one per `modifier_names`, in their units)."""
        if modifiers.shape != (len(self.modifier_names),):
            raise ValueError(
                f"modifiers must have shape ({len(self.modifier_names)},) for "
                f"{self.modifier_names}; got {modifiers.shape}"
            )
        extended = jnp.concatenate([x, self.constants.astype(x.dtype), jnp.ones(1, x.dtype)])
        index = np.asarray(self.factor_index)
        first, second = extended[index[:, 0]], extended[index[:, 1]]
        saturation = jnp.where(
            np.asarray(self.michaelis_menten), 1.0 / (self.michaelis_constants + second), 1.0
        )
        scale = jnp.concatenate([jnp.ones(1, x.dtype), modifiers])[np.asarray(self.modifier_index)]
        return self.reaction_volumes * self.rate_constants * scale * first * second * saturation

    def rates(self, x: Float[Array, " n"], modifiers: Float[Array, " k"]) -> Float[Array, " n"]:
        """d(concentration)/dt of every species, uM/s."""
        flux = self.fluxes(x, modifiers)
        contributions = np.asarray(self.stoich_coeffs) * flux[np.asarray(self.stoich_cols)]
        amount = jnp.zeros_like(x).at[np.asarray(self.stoich_rows)].add(contributions)
        return amount / self.volumes

    def totals(self, x: Float[Array, "... n"]) -> dict[str, Float[Array, "..."]]:
        """Amount of every conserved moiety, uM fL: ``sum_i volume_i x_i composition_i``."""
        weights = jnp.asarray(self.composition, float).reshape(self.n_species, len(self.moieties))
        amounts = (x * self.volumes) @ weights
        return {m: amounts[..., j] for j, m in enumerate(self.moieties)}

    def conservation_defects(self) -> dict[str, float]:
        """For each moiety, the largest amount any reaction creates or destroys per event
        (0 when the network conserves it)."""
        s = self.stoichiometry()
        weights = np.asarray(self.composition).reshape(self.n_species, len(self.moieties))
        defect = np.abs(weights.T @ s).max(axis=1)
        return dict(zip(self.moieties, defect.tolist(), strict=True))
