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
    cross_section = jnp.pi * geo.dendrite.diameter**2 / 4.0
    shaft_flux = (  # uM fL / ms from compartment i to i + 1 (sealed ends)
        ca.diffusion_coefficient
        * cross_section
        / geo.compartment_length
        * (state.dendrite_calcium[:-1] - state.dendrite_calcium[1:])
    )
    compartment_flux = (
        jnp.zeros_like(state.dendrite_calcium).at[1:].add(shaft_flux).at[:-1].add(-shaft_flux)
        + weights[:, 1:].T @ neck_flux
    )
    d_dendrite_calcium = (
        -CALCIUM_FLUX_PER_PA_PER_FL * dendrite_vgcc / geo.compartment_volume
        - ca.dendrite_extrusion_rate * (state.dendrite_calcium - ca.resting_calcium)
        + compartment_flux / geo.compartment_volume
    ) / (1.0 + ca.dendrite_buffer_capacity)

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
    )
