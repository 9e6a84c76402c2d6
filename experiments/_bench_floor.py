"""The floor of a benchmark: the arithmetic it cannot avoid, at the machine's measured peak rate.

A solver spends at least (operations per right-hand-side evaluation) x (evaluations) / (peak rate)
seconds. The peak is measured, not quoted: a float64 matrix product, the fastest thing the machine
does (numpy's BLAS on all CPU cores; XLA on an accelerator). Operations per evaluation are counted
by XLA's cost analysis of the compiled right-hand side. The ratio of a measured time to its floor
says how far from the limit a code runs: per-step overhead, memory traffic and scalar code all
show up there.

Shared by the benchmarks in `experiments/` (``bench_gb.py``, ``bench_spine.py``, ``bench_gpu.py``).
"""

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np


def peak_flops(device: jax.Device, size: int = 2048, repeats: int = 10) -> float:
    """Measured float64 rate, flop/s: the best of ``repeats`` ``size x size`` matrix products.

    On a CPU device the product is numpy's (BLAS, every core); on an accelerator it is XLA's on
    ``device``. A matrix product costs ``2 size^3`` flop.
    """
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, size, size))
    if device.platform == "cpu":

        def product():
            return a @ b
    else:
        a, b = jax.device_put((a, b), device)
        matmul = jax.jit(jnp.matmul)

        def product():
            return jax.block_until_ready(matmul(a, b))

    product()  # warm-up: thread pools, compilation
    best = np.inf
    for _ in range(repeats):
        began = time.perf_counter()
        product()
        best = min(best, time.perf_counter() - began)
    return 2.0 * size**3 / best


def cost_per_call(fn, *args) -> dict:
    """XLA's cost analysis of one compiled call ``fn(*args)``: ``flops`` (transcendental
    functions such as exp and log counted as one operation each, on top of XLA's flops) and
    ``bytes``, the bytes XLA's fused kernels read and write in memory."""
    analysis = jax.jit(fn).lower(*args).compile().cost_analysis()
    # Older jax versions return one dict per device program.
    if isinstance(analysis, (list, tuple)):
        analysis = analysis[0]
    return dict(
        flops=float(analysis.get("flops", 0.0)) + float(analysis.get("transcendentals", 0.0)),
        bytes=float(analysis.get("bytes accessed", 0.0)),
    )


def flops_per_call(fn, *args) -> float:
    """Floating-point operations of one call ``fn(*args)`` (`cost_per_call`'s ``flops``)."""
    return cost_per_call(fn, *args)["flops"]


@dataclasses.dataclass(frozen=True)
class Floor:
    """The least time a computation of ``operations`` flop takes at ``peak`` flop/s.

    Attributes:
        operations: flop, total (operations per evaluation x evaluations).
        peak: measured peak rate, flop/s.
    """

    operations: float
    peak: float

    @property
    def seconds(self) -> float:
        return self.operations / self.peak

    def distance(self, measured_seconds: float) -> float:
        """How many times slower than the floor ``measured_seconds`` is."""
        return measured_seconds / self.seconds
