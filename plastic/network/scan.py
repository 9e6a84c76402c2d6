"""A `jax.lax.scan` whose backward pass keeps one state per segment instead of one per step."""

import jax
from jaxtyping import PyTree


def checkpointed_scan(step, carry: PyTree, xs: PyTree, segment_steps: int):
    """``jax.lax.scan(step, carry, xs)`` in segments of ``segment_steps`` steps, rematerialised
    (`jax.checkpoint`) in the backward pass.

    Under `jax.grad` the forward pass stores the carry at the start of every segment; the backward
    pass recomputes one segment at a time, storing the carry at every step of it, and then each
    step once more for its own backward pass. Memory is ``n_steps / segment_steps +
    segment_steps`` carries instead of ``n_steps`` steps' intermediate values, for two extra
    forward passes; ``segment_steps`` near ``sqrt(n_steps)`` minimises it. (Saving only carries
    is also faster on CPU than saving every intermediate value of a step.)

    Args:
        step: ``(carry, x) -> (carry, y)`` as for `jax.lax.scan`.
        carry: the initial carry.
        xs: inputs with a leading axis of ``n_steps``, a multiple of ``segment_steps``.
        segment_steps: steps per checkpointed segment, >= 1.

    Returns:
        ``(final_carry, (ys, segment_carries))``: the per-step outputs with a leading axis of
        ``n_steps``, and the carry at the end of every segment, with a leading axis of
        ``n_steps // segment_steps``.
    """
    n_steps = jax.tree.leaves(xs)[0].shape[0]
    if segment_steps < 1 or n_steps % segment_steps:
        raise ValueError(
            f"segment_steps must be a divisor of the number of steps ({n_steps}) and >= 1; "
            f"got {segment_steps}"
        )
    n_segments = n_steps // segment_steps

    @jax.checkpoint
    def plain_step(carry, x):
        # A plain function: scan hashes its body, and a bound method of a module holding
        # tracers cannot be hashed.
        return step(carry, x)

    @jax.checkpoint
    def segment(carry, segment_xs):
        carry, ys = jax.lax.scan(plain_step, carry, segment_xs)
        return carry, (ys, carry)

    segmented = jax.tree.map(lambda x: x.reshape(n_segments, segment_steps, *x.shape[1:]), xs)
    carry, (ys, carries) = jax.lax.scan(segment, carry, segmented)
    ys = jax.tree.map(lambda y: y.reshape(n_steps, *y.shape[2:]), ys)
    return carry, (ys, carries)
