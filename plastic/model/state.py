"""The spine model's state, one pytree.

State layout (`SpineState`), per spine where marked:
soma voltage and its Na/K gates; dendritic voltage and free calcium per compartment; per spine
head voltage, free calcium, AMPA and NMDA gating (rise, decay), VGCC gating (m, h), the rule's
state, the expression state, the fill of an optional calcium store, and the calcium-bound
indicator dye of an optional imaging indicator per head and compartment.
"""

import equinox as eqx
from jaxtyping import Array, Float, PyTree

from plastic.expression import ExpressionState


class SpineState(eqx.Module):
    """Attributes (shapes; units):
    soma_voltage: (); mV. soma_gates: (3,); Na m, Na h, K n.
    dendrite_voltage, dendrite_calcium: (n_compartments,); mV, uM.
    head_voltage, head_calcium: (n_spines,); mV, uM.
    ampa, nmda: (n_spines, 2); receptor (rise, decay) states.
    vgcc: (n_spines, 2); m, h.
    rule: the rule's state with a leading (n_spines,) axis, or None.
    expression: `ExpressionState` with a leading (n_spines,) axis, or None.
    store: (n_spines,); fill fraction of each head's calcium store, or None without one.
    head_indicator, dendrite_indicator: (n_spines,), (n_compartments,); calcium-bound indicator
        dye, uM, or None without an indicator (`SpineModel.indicator`).
    """

    soma_voltage: Float[Array, ""]
    soma_gates: Float[Array, "3"]
    dendrite_voltage: Float[Array, " n_compartments"]
    dendrite_calcium: Float[Array, " n_compartments"]
    head_voltage: Float[Array, " n_spines"]
    head_calcium: Float[Array, " n_spines"]
    ampa: Float[Array, "n_spines 2"]
    nmda: Float[Array, "n_spines 2"]
    vgcc: Float[Array, "n_spines 2"]
    rule: PyTree[Float[Array, " n_spines"]] | None
    expression: ExpressionState | None = None
    store: Float[Array, " n_spines"] | None = None
    head_indicator: Float[Array, " n_spines"] | None = None
    dendrite_indicator: Float[Array, " n_compartments"] | None = None
