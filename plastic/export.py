"""What a function lowers to on another platform, checked without that platform's hardware.

`jax.export` lowers a jitted function for any platform (``platforms=("cuda",)`` on a CPU-only
machine): lowering only, nothing is compiled or run. The lowered program's ``custom_call``
targets are the operations XLA does not generate itself (cuSOLVER's LU, cuBLAS, ...); a host
callback (an `eqx.error_if`, `jax.debug.print`, `jax.pure_callback`) or a CPU-only kernel
(LAPACK) among them means the program cannot run on, or cannot be cached or exported for, that
platform. `custom_call_targets` lists them; `check_custom_calls` refuses the forbidden ones.
"""

import re
from collections.abc import Callable, Iterable

import jax
from jax import export

FORBIDDEN = ("callback", "lapack", "cpu")
"""Substrings of a custom-call target (case-insensitive) that no exported GPU program may hold:
host callbacks and CPU kernels."""

CUDA_TARGETS = ("cusolver", "cublas", "cu_", "cuda", "cudnn", "gpu_", "Sharding", "SPMDFull")
"""Prefixes and substrings of the custom-call targets that are fine on CUDA: cuSOLVER, cuBLAS,
jaxlib's CUDA kernels (``cu_lu_pivots_to_permutation``, ...) and XLA's own sharding markers."""

# ``stablehlo.custom_call @target(`` (pretty form) or ``call_target_name = "target"`` (generic).
_TARGET = re.compile(r'stablehlo\.custom_call\s+@([\w.$-]+)|call_target_name\s*=\s*"([^"]+)"')


def export_for(
    function: Callable, *arguments, platforms: Iterable[str] = ("cuda",)
) -> export.Exported:
    """``function`` (jitted here if it is not) exported for ``platforms``, lowered at the shapes
    and dtypes of ``arguments`` (arrays or `jax.ShapeDtypeStruct`; any pytrees). Lowers only.

    Raises:
        ValueError: (jax's) if the program holds a custom call without a stable export
            guarantee, such as a host callback.
    """
    jitted = function if hasattr(function, "lower") else jax.jit(function)
    shapes = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), arguments)
    return export.export(jitted, platforms=tuple(platforms))(*shapes)


def custom_call_targets(exported: export.Exported) -> tuple[str, ...]:
    """The distinct custom-call targets of an exported program, sorted."""
    text = exported.mlir_module()
    return tuple(sorted({a or b for a, b in _TARGET.findall(text)}))


def check_custom_calls(targets: Iterable[str], allowed: Iterable[str] = CUDA_TARGETS) -> None:
    """Raise ValueError naming every target that holds a `FORBIDDEN` substring or matches none
    of ``allowed``."""
    allowed = tuple(allowed)
    bad = [
        t
        for t in targets
        if any(word in t.lower() for word in FORBIDDEN) or not any(a in t for a in allowed)
    ]
    if bad:
        raise ValueError(
            f"custom calls {bad} are host callbacks, CPU kernels or unknown to the platform; "
            f"allowed: targets containing any of {list(allowed)}, none of {list(FORBIDDEN)}"
        )
