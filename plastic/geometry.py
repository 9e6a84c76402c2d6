"""Soma, dendrite and spines: the morphology of the model, as arrays.

Every numeric field is an array so that geometry can be batched with `jax.vmap` (for example over
inter-spine distance) and differentiated. The number of dendritic compartments is structural and
static. Units: um for lengths and positions, fL for volumes, pF and nS for the lumped soma, Ohm cm
for axial resistivity, uF/cm^2 for specific capacitance, kOhm cm^2 for specific membrane
resistance, mV for potentials.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic._validation import check_range
from plastic.units import (
    axial_conductance_ns,
    specific_capacitance_to_pf_per_um2,
    specific_resistance_to_ns_per_um2,
)

SPINE_SPECIFIC_CAPACITANCE = 1.0
"""uF/cm^2, the membrane of a modelled spine (head and neck)."""


class Soma(eqx.Module):
    """An isopotential soma that also lumps the rest of the neuron (other dendrites, axon).

    Attributes:
        capacitance: total capacitance, pF.
        leak_conductance: total leak conductance, nS.
    """

    capacitance: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=100.0)
    leak_conductance: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=8.0)

    def __check_init__(self):
        check_range("Soma.capacitance", self.capacitance, lower=0.0, unit="pF")
        check_range("Soma.leak_conductance", self.leak_conductance, lower=0.0, unit="nS")


class Dendrite(eqx.Module):
    """A passive unbranched cylindrical dendrite attached to the soma at position 0, sealed end.

    Defaults: a thin L5 basal dendrite with the passive parameters of Hay et al. 2011 (basal
    R_i = 100 Ohm cm, c_m = 2 uF/cm^2 including spine area, R_m = 1/4.67e-5 S/cm^2).

    Attributes:
        length: um. diameter: um. axial_resistivity: Ohm cm.
        specific_capacitance: uF/cm^2. membrane_resistance: kOhm cm^2.
        resting_potential: leak reversal potential, mV.
    """

    length: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=200.0)
    diameter: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.8)
    axial_resistivity: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=100.0)
    specific_capacitance: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=2.0)
    membrane_resistance: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=21.4)
    resting_potential: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=-70.0)

    def __check_init__(self):
        check_range("Dendrite.length", self.length, lower=0.0, unit="um")
        check_range("Dendrite.diameter", self.diameter, lower=0.0, unit="um")
        check_range("Dendrite.axial_resistivity", self.axial_resistivity, lower=0.0, unit="Ohm cm")
        check_range(
            "Dendrite.specific_capacitance", self.specific_capacitance, lower=0.0, unit="uF/cm^2"
        )
        check_range(
            "Dendrite.membrane_resistance", self.membrane_resistance, lower=0.0, unit="kOhm cm^2"
        )
        check_range(
            "Dendrite.resting_potential", self.resting_potential, lower=-120, upper=0, unit="mV"
        )


class Spines(eqx.Module):
    """N spines on the dendrite; every field has shape ``(n_spines,)``.

    The neck is a cylindrical resistor (its small membrane area is lumped into the head); the head
    is an isopotential, well-mixed sphere of the given volume. Defaults are two spines 40 um from
    the soma (the seed's mean distance), 1 um necks of 0.1 um diameter (~130 MOhm at 100 Ohm cm),
    heads of 0.07 fL (seed range 0.026-0.148 fL).

    Attributes:
        position: distance of each neck's base from the soma along the dendrite, um.
        neck_length: um. neck_diameter: um. head_volume: fL.
    """

    position: Float[Array, " n_spines"] = eqx.field(converter=jnp.asarray, default=(40.0, 42.0))
    neck_length: Float[Array, " n_spines"] = eqx.field(converter=jnp.asarray, default=(1.0, 1.0))
    neck_diameter: Float[Array, " n_spines"] = eqx.field(converter=jnp.asarray, default=(0.1, 0.1))
    head_volume: Float[Array, " n_spines"] = eqx.field(converter=jnp.asarray, default=(0.07, 0.07))

    def __check_init__(self):
        check_range("Spines.position", self.position, lower=0.0, lower_inclusive=True, unit="um")
        check_range("Spines.neck_length", self.neck_length, lower=0.0, unit="um")
        check_range("Spines.neck_diameter", self.neck_diameter, lower=0.0, unit="um")
        check_range("Spines.head_volume", self.head_volume, lower=0.0, unit="fL")
        shapes = {
            jnp.shape(x)[-1:]
            for x in (self.position, self.neck_length, self.neck_diameter, self.head_volume)
        }
        if len(shapes) != 1 or shapes == {()}:
            raise ValueError(
                "Spines fields position, neck_length, neck_diameter and head_volume must all "
                f"have the same trailing shape (n_spines,); got shapes {sorted(shapes)}"
            )

    @property
    def n_spines(self) -> int:
        return jnp.shape(self.position)[-1]

    @property
    def head_area(self) -> Float[Array, " n_spines"]:
        """Membrane area of a spherical head of volume ``head_volume``, um^2."""
        radius = (3.0 * self.head_volume / (4.0 * math.pi)) ** (1.0 / 3.0)
        return 4.0 * math.pi * radius**2

    @property
    def neck_area(self) -> Float[Array, " n_spines"]:
        """Lateral membrane area of the neck, um^2."""
        return math.pi * self.neck_diameter * self.neck_length


class Geometry(eqx.Module):
    """Soma + dendrite + spines, and the dendrite's spatial discretisation.

    The dendrite is split into ``n_compartments`` equal compartments (finite volumes). Each spine
    neck attaches to the two nodes that bracket its position (the soma is the node at 0 um) with
    linear weights, so readouts and gradients vary continuously with spine position.
    """

    soma: Soma = eqx.field(default_factory=Soma)
    dendrite: Dendrite = eqx.field(default_factory=Dendrite)
    spines: Spines = eqx.field(default_factory=Spines)
    n_compartments: int = eqx.field(static=True, default=20)

    def __check_init__(self):
        if self.n_compartments < 1:
            raise ValueError(f"n_compartments must be >= 1; got {self.n_compartments}")
        check_range(
            "Spines.position",
            self.spines.position - self.dendrite.length,
            upper=0.0,
            unit="um relative to the dendrite end (a spine must lie on the dendrite)",
        )

    @property
    def n_spines(self) -> int:
        return self.spines.n_spines

    @property
    def compartment_length(self) -> Float[Array, ""]:
        return self.dendrite.length / self.n_compartments

    @property
    def node_positions(self) -> Float[Array, " n_compartments+1"]:
        """Soma (0 um) followed by the compartment centres, um."""
        dx = self.compartment_length
        centres = (jnp.arange(self.n_compartments) + 0.5) * dx
        return jnp.concatenate([jnp.zeros(1), centres])

    def attachment_weights(self, position: Float[Array, "..."]) -> Float[Array, "... nodes"]:
        """Linear interpolation weights of ``position`` (um) over the nodes; rows sum to 1.

        Positions beyond the last compartment centre attach to the last compartment.
        """
        nodes = self.node_positions
        position = jnp.clip(position, 0.0, nodes[-1])
        right = jnp.clip(jnp.searchsorted(nodes, position, side="right"), 1, nodes.shape[0] - 1)
        left = right - 1
        frac = (position - nodes[left]) / (nodes[right] - nodes[left])
        n_nodes = nodes.shape[0]
        return (1.0 - frac)[..., None] * jax.nn.one_hot(left, n_nodes) + frac[
            ..., None
        ] * jax.nn.one_hot(right, n_nodes)

    def attachment_resistance(
        self, position: Float[Array, " n_spines"]
    ) -> Float[Array, "n_spines n_spines"]:
        """Sub-compartment correction to the parent potential of each spine, GOhm.

        With linear attachment weights the potential under a spine is interpolated between the
        two bracketing nodes, which misses the kink that the spine's own neck current makes in the
        cable (a first-order error in the compartment length). Condensing the cable between the
        two nodes onto the spine bases restores it exactly for the resistive part: the parent
        potential is ``weights @ node_voltage - R @ neck_current`` with
        ``R_ij = r_a (min(p_i, p_j) - a)(b - max(p_i, p_j)) / (b - a)`` for spines i, j between
        the same nodes a < b (0 otherwise; r_a is the axial resistance per um) and, beyond the last
        node (sealed end), ``R_ij = r_a (min(p_i, p_j) - a)``.
        """
        nodes = self.node_positions
        last = nodes.shape[0] - 1
        position = jnp.clip(position, 0.0, self.dendrite.length)
        right = jnp.clip(jnp.searchsorted(nodes, position, side="right"), 1, last)
        beyond = position > nodes[-1]
        left = jnp.where(beyond, last, right - 1)
        a = nodes[left]
        b = jnp.where(beyond, jnp.inf, nodes[right])
        low = jnp.minimum(position[:, None], position[None, :]) - a[:, None]
        high_gap = b[:, None] - jnp.maximum(position[:, None], position[None, :])
        span = (b - a)[:, None]
        interior = low * high_gap / jnp.where(beyond[:, None], 1.0, span)
        green = jnp.where(beyond[:, None] & beyond[None, :], low, interior)
        same = left[:, None] == left[None, :]
        resistance_per_um = 1.0 / axial_conductance_ns(
            self.dendrite.diameter, 1.0, self.dendrite.axial_resistivity
        )
        return jnp.where(same, resistance_per_um * green, 0.0)

    # Electrical and diffusive constants derived from the morphology.

    @property
    def compartment_capacitance(self) -> Float[Array, ""]:
        """pF, one dendritic compartment."""
        area = math.pi * self.dendrite.diameter * self.compartment_length
        return specific_capacitance_to_pf_per_um2(self.dendrite.specific_capacitance) * area

    @property
    def compartment_leak(self) -> Float[Array, ""]:
        """nS, one dendritic compartment."""
        area = math.pi * self.dendrite.diameter * self.compartment_length
        return specific_resistance_to_ns_per_um2(self.dendrite.membrane_resistance) * area

    @property
    def compartment_area(self) -> Float[Array, ""]:
        """Lateral membrane area of one compartment, um^2."""
        return math.pi * self.dendrite.diameter * self.compartment_length

    @property
    def compartment_volume(self) -> Float[Array, ""]:
        """fL, one dendritic compartment."""
        return math.pi * self.dendrite.diameter**2 / 4.0 * self.compartment_length

    @property
    def axial_conductance(self) -> Float[Array, " n_compartments"]:
        """nS between consecutive nodes: soma-compartment 0 (half a compartment), then i-1 to i."""
        d, ri, dx = self.dendrite.diameter, self.dendrite.axial_resistivity, self.compartment_length
        between = axial_conductance_ns(d, dx, ri)
        first = axial_conductance_ns(d, 0.5 * dx, ri)
        return jnp.concatenate([first[None], jnp.full(self.n_compartments - 1, between)])

    @property
    def neck_conductance(self) -> Float[Array, " n_spines"]:
        """nS, each spine neck as a cylinder of cytoplasm."""
        s = self.spines
        return axial_conductance_ns(s.neck_diameter, s.neck_length, self.dendrite.axial_resistivity)

    @property
    def head_capacitance(self) -> Float[Array, " n_spines"]:
        """pF, head plus neck membrane at 1 uF/cm^2.

        The dendrite's c_m = 2 uF/cm^2 carries the usual correction for its unmodelled spines; a
        modelled spine's own membrane has the bare 1 uF/cm^2.
        """
        area = self.spines.head_area + self.spines.neck_area
        return specific_capacitance_to_pf_per_um2(SPINE_SPECIFIC_CAPACITANCE) * area

    @property
    def head_leak(self) -> Float[Array, " n_spines"]:
        """nS, head plus neck membrane at the dendrite's specific membrane resistance."""
        area = self.spines.head_area + self.spines.neck_area
        return specific_resistance_to_ns_per_um2(self.dendrite.membrane_resistance) * area
