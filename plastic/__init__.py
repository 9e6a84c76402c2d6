"""plastic: differentiable mechanistic models of synaptic plasticity at dendritic spines."""

import jax

# float64 is the default everywhere: the solves are stiff and gradients are checked against
# finite differences. Float32 is opt-in where a test shows it holds its tolerance.
jax.config.update("jax_enable_x64", True)

from plastic import rules as rules  # noqa: E402
