"""A roofline on paper: the least time per condition of the spine benchmark on a given device.

A Rodas5 step of ``n`` states does, per condition (`bench_spine.operation_counts`):
- flop: 7 right-hand sides, one Jacobian (``n + 1`` forward-mode directions dense, one per
  colour plus df/dt sparse), one LU of ``W = I / (h gamma) - J`` and 8 pairs of triangular
  solves (XLA's cost analysis for the first two, counted by hand for the last two);
- bytes, at least: 12 passes of 8 bytes over the entries of ``W``'s factors (``n^2`` dense,
  the sparse LU's stored entries): ``W`` formed from ``J`` (read, write), the LU (read, write),
  each of the 8 stage solves reading the factors. A batch of 65,536 conditions keeps 65,536 such
  matrices (3.9 GB for n = 86), far beyond any cache, so these passes go to device memory;
- bytes, at most: that, plus what XLA's kernels of the right-hand sides and the Jacobian move
  (its cost analysis of the unbatched call, as compiled for the CPU: a GPU program fused under
  vmap may keep much of it on chip).

The device's time per condition is at least the larger of flop / peak and bytes / bandwidth:
compute-bound if the first is larger, memory-bound otherwise. Under vmap every condition of a
batch takes as many steps as the slowest one (the solver's loop runs until all are done).
"""

import dataclasses

RODAS5_RHS = 7  # the first stage's right-hand side comes with the Jacobian
RODAS5_SOLVES = 8
FACTOR_PASSES = 2 + 2 + RODAS5_SOLVES  # W from J, the LU in place, the stage solves
BYTES_PER_ENTRY = 8  # float64


@dataclasses.dataclass(frozen=True)
class DeviceSpec:
    """A device's quoted ceilings.

    Attributes:
        name: what it is.
        flops: float64 peak, flop/s.
        bandwidth: device-memory bandwidth, bytes/s.
        source: where the numbers are from.
    """

    name: str
    flops: float
    bandwidth: float
    source: str


H100_SOURCE = (
    "NVIDIA H100 SXM5 spec table: FP64 34 TFLOPS, FP64 Tensor Core 67 TFLOPS, HBM3 3,350 GB/s "
    "(archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html; 33.5 / 66.9 TFLOPS and 3.35 TB/s "
    "in glennklockwood.com/garden/processors/h100)"
)
H100_SXM = DeviceSpec("H100 SXM, FP64 vector", 34e12, 3.35e12, H100_SOURCE)
H100_SXM_TENSOR = DeviceSpec("H100 SXM, FP64 tensor cores", 67e12, 3.35e12, H100_SOURCE)


def factor_bytes(operations: dict) -> float:
    """Bytes one Rodas5 step moves per condition for ``W``'s factors (the least, module
    docstring), from `bench_spine.operation_counts`."""
    return FACTOR_PASSES * BYTES_PER_ENTRY * operations["factor_entries"]


def kernel_bytes(operations: dict) -> float:
    """Bytes XLA's CPU kernels of one step's right-hand sides and Jacobian move (module
    docstring), from `bench_spine.operation_counts`."""
    return RODAS5_RHS * operations["rhs_bytes"] + operations["rodas5_jacobian_bytes"]


def predict(flop: float, moved_bytes: float, device: DeviceSpec) -> dict:
    """The roofline of a computation of ``flop`` flop moving ``moved_bytes`` bytes (per
    condition) on ``device``: seconds at the compute and at the memory ceiling, which one
    binds, and the conditions per second it allows."""
    compute_s = flop / device.flops
    memory_s = moved_bytes / device.bandwidth
    return dict(
        compute_s=compute_s,
        memory_s=memory_s,
        intensity=flop / moved_bytes,  # flop per byte, against device.flops / device.bandwidth
        bound="compute" if compute_s >= memory_s else "memory",
        conditions_per_s=1.0 / max(compute_s, memory_s),
    )
