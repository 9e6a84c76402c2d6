"""The structural sparsity pattern of a Jacobian, read from the function's jaxpr.

Why structural, not sampled: a pattern taken from Jacobians evaluated at a few points misses
every entry that happens to vanish there (a drug at zero conductance, a receptor that only
feels glutamate during a pulse), and it needs concrete parameter values, which a solve under
``jax.vmap`` or ``jax.grad`` does not have. Here each intermediate value of the jaxpr carries,
per element, the set of input elements it depends on (a boolean array with one more trailing
axis of length ``n``), propagated primitive by primitive. The pattern contains every entry that
can be nonzero for some parameter values; it may contain more (a conservative rule for a
primitive that has no exact one), never fewer. The jaxpr's constants are known values:
arithmetic on them is folded (calls and loops included), so an index array or the interpolation
weights of a fixed geometry give exact gathers and products, and a factor known to be zero
carries no dependency.

- `plastic.sparsity.primitives`: what each primitive's outputs depend on, given its operands'.
- `plastic.sparsity.propagate`: the walk through a jaxpr, calls and loops included.
- `plastic.sparsity.fold`: arithmetic on constants folded in NumPy (else by binding).
- `plastic.sparsity.structure`: `jacobian_structure` (the pattern, with cut variables that keep
  it sparse), `jacobian_sparsity` (without), `evaluate_with_cuts`.
- `plastic.sparsity.colouring`: `column_colouring`, for one forward-mode direction per colour.
"""

from plastic.sparsity.colouring import column_colouring as column_colouring
from plastic.sparsity.structure import MAX_CUT_SIZE as MAX_CUT_SIZE
from plastic.sparsity.structure import MIN_CUT_DEPENDENCIES as MIN_CUT_DEPENDENCIES
from plastic.sparsity.structure import JacobianStructure as JacobianStructure
from plastic.sparsity.structure import evaluate_with_cuts as evaluate_with_cuts
from plastic.sparsity.structure import jacobian_sparsity as jacobian_sparsity
from plastic.sparsity.structure import jacobian_structure as jacobian_structure
