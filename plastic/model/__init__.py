"""The spine model: biophysics and a plasticity rule composed into one vector field.

With an expression model, each spine's AMPA conductance is scaled by its PSD receptor content
and its neck length and head volume by the structural states, so plasticity feeds back into the
electrics and the calcium exchange (`plastic.expression`).

- `plastic.model.state`: `SpineState`, the state pytree.
- `plastic.model.spine_model`: `SpineModel`, its parts, expression and resting state.
- `plastic.model.derivative`: the vector field of the electrics and calcium.
"""

from plastic.model.spine_model import SpineModel as SpineModel
from plastic.model.state import SpineState as SpineState
