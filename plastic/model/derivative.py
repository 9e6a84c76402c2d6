"""The spine model's vector field: electrics, calcium and the plasticity they drive.

Electrical coupling: soma - dendritic compartments (cable) - spine necks - heads. Calcium
coupling: heads - necks - dendritic compartments (1-D diffusion); the soma is a calcium sink at
rest.
"""

from typing import TYPE_CHECKING

import jax.numpy as jnp

from plastic.model.state import SpineState
from plastic.protocols import Drive
from plastic.rules.base import SynapseSignals
from plastic.units import CALCIUM_FLUX_PER_PA_PER_FL

if TYPE_CHECKING:
    from plastic.model.spine_model import SpineModel


def _derivative(model: "SpineModel", state: SpineState, drive: Drive) -> SpineState:
    # The biophysics of an already expressed model (see `SpineModel.expressed`).
    geo = model.geometry
    temperature = model.temperature
    rest = geo.dendrite.resting_potential
    weights = geo.attachment_weights(geo.spines.position)  # (n_spines, nodes)

    # Electrics: axial currents along soma + compartments, necks, membranes.
    node_voltage = jnp.concatenate([state.soma_voltage[None], state.dendrite_voltage])
    axial = geo.axial_conductance * (node_voltage[:-1] - node_voltage[1:])
    neck = model.neck_current(state)
    node_current = (
        jnp.zeros_like(node_voltage).at[1:].add(axial).at[:-1].add(-axial) - weights.T @ neck
    )
    if drive.clamp is not None:
        clamp = drive.clamp
        clamp_weights = geo.attachment_weights(clamp.position)  # (nodes,)
        holding = clamp.conductance * (clamp.voltage - clamp_weights @ node_voltage)  # pA
        node_current = node_current + clamp_weights * holding
    soma_membrane = geo.soma.leak_conductance * (state.soma_voltage - rest) + (
        model.spike.current(state.soma_gates, state.soma_voltage)
    )
    dendrite_vgcc = model.vgcc.dendrite_current(state.dendrite_voltage, geo.compartment_area)
    dendrite_membrane = geo.compartment_leak * (state.dendrite_voltage - rest) + dendrite_vgcc
    head_vgcc = model.vgcc.head_current(state.vgcc, state.head_voltage, geo.spines.head_area)
    nmda_current = model.nmda.current(state.nmda, state.head_voltage, temperature)
    head_membrane = (
        geo.head_leak * (state.head_voltage - rest)
        + model.ampa.current(state.ampa, state.head_voltage, temperature)
        + nmda_current
        + head_vgcc
    )
    d_soma_voltage = (node_current[0] - soma_membrane + drive.soma_current) / geo.soma.capacitance
    d_dendrite_voltage = (node_current[1:] - dendrite_membrane) / geo.compartment_capacitance
    d_head_voltage = (neck - head_membrane) / geo.head_capacitance

    # Calcium: influx, extrusion, neck exchange and shaft diffusion (rapid buffering).
    ca = model.calcium
    node_calcium = jnp.concatenate([ca.resting_calcium[None], state.dendrite_calcium])
    d_head_calcium, d_store, neck_flux = model.head_calcium_derivative(
        state.head_calcium,
        state.store,
        model._head_influx(state.nmda, state.head_voltage, head_vgcc),
        weights @ node_calcium,
    )
    compartment_flux = _shaft_exchange(geo, ca.diffusion_coefficient, state.dendrite_calcium) + (
        weights[:, 1:].T @ neck_flux
    )
    d_dendrite_calcium = (
        -CALCIUM_FLUX_PER_PA_PER_FL * dendrite_vgcc / geo.compartment_volume
        - ca.dendrite_extrusion_rate * (state.dendrite_calcium - ca.resting_calcium)
        + compartment_flux / geo.compartment_volume
    ) / (1.0 + ca.dendrite_buffer_capacity)

    d_head_indicator = d_dendrite_indicator = None
    if model.indicator is not None:
        # The dye binds free calcium at finite rates, on top of the rapid endogenous buffer,
        # and diffuses: bound dye carries calcium through the neck and along the shaft.
        dye = model.indicator
        node_dye = jnp.concatenate(
            [dye.resting_bound(ca.resting_calcium)[None], state.dendrite_indicator]
        )
        dye_neck_flux = (  # uM fL / ms of bound dye from head to parent
            dye.diffusion_coefficient
            * (jnp.pi * geo.spines.neck_diameter**2 / 4.0)
            / geo.spines.neck_length
            * (state.head_indicator - weights @ node_dye)
        )
        head_binding = dye.binding_flux(state.head_calcium, state.head_indicator)
        dendrite_binding = dye.binding_flux(state.dendrite_calcium, state.dendrite_indicator)
        d_head_calcium = d_head_calcium - head_binding / (1.0 + ca.head_buffer_capacity)
        d_dendrite_calcium = d_dendrite_calcium - dendrite_binding / (
            1.0 + ca.dendrite_buffer_capacity
        )
        d_head_indicator = head_binding - dye_neck_flux / geo.spines.head_volume
        d_dendrite_indicator = (
            dendrite_binding
            + (
                _shaft_exchange(geo, dye.diffusion_coefficient, state.dendrite_indicator)
                + weights[:, 1:].T @ dye_neck_flux
            )
            / geo.compartment_volume
        )

    if model.rule is None:
        d_rule, d_expression = None, None
    else:
        signals = SynapseSignals(
            calcium=state.head_calcium,
            voltage=state.head_voltage,
            glutamate=drive.glutamate,
            soma_voltage=jnp.broadcast_to(state.soma_voltage, state.head_voltage.shape),
        )
        d_rule, d_expression = model.plasticity_derivative(state.rule, state.expression, signals)

    return SpineState(
        soma_voltage=d_soma_voltage,
        soma_gates=model.spike.gating_derivative(state.soma_gates, state.soma_voltage, temperature),
        dendrite_voltage=d_dendrite_voltage,
        dendrite_calcium=d_dendrite_calcium,
        head_voltage=d_head_voltage,
        head_calcium=d_head_calcium,
        ampa=model.ampa.gating_derivative(state.ampa, drive.glutamate, temperature),
        nmda=model.nmda.gating_derivative(state.nmda, drive.glutamate, temperature),
        vgcc=model.vgcc.gating_derivative(state.vgcc, state.head_voltage, temperature),
        rule=d_rule,
        expression=d_expression,
        store=d_store,
        head_indicator=d_head_indicator,
        dendrite_indicator=d_dendrite_indicator,
    )


def _shaft_exchange(geometry, diffusion_coefficient, concentration):
    """Net diffusive flux into each dendritic compartment from its neighbours along the shaft,
    uM fL/ms, for a mobile species at ``concentration`` (uM, ``(n_compartments,)``) with
    ``diffusion_coefficient`` (um^2/ms); sealed ends."""
    cross_section = jnp.pi * geometry.dendrite.diameter**2 / 4.0
    flux = (  # from compartment i to i + 1
        diffusion_coefficient
        * cross_section
        / geometry.compartment_length
        * (concentration[:-1] - concentration[1:])
    )
    return jnp.zeros_like(concentration).at[1:].add(flux).at[:-1].add(-flux)
