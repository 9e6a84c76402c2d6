"""How much memory a sweep may use, and how much a compiled chunk needs: a sweep that would not
fit is refused before it runs."""

import os
from collections.abc import Sequence

import jax

MEMORY_FRACTION = 0.8
"""Share of the free memory that the default limit allows a sweep to use."""


class SweepTooLargeError(ValueError):
    """A sweep refused before it runs because it would not fit in memory.

    Attributes:
        needed: bytes it would need. limit: bytes it may use.
    """

    def __init__(self, message: str, needed: int, limit: int):
        super().__init__(message)
        self.needed = needed
        self.limit = limit


def format_bytes(n: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


def host_memory_available() -> int:
    """Bytes of host memory available now (``MemAvailable`` on Linux)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def device_memory_limit(devices: Sequence[jax.Device]) -> int:
    """Default per-device limit, bytes: `MEMORY_FRACTION` of the free memory of the emptiest
    device; CPU devices share the host's memory equally."""
    if all(d.platform == "cpu" for d in devices):
        return int(MEMORY_FRACTION * host_memory_available() / len(devices))
    free = []
    for device in devices:
        stats = device.memory_stats()
        free.append(stats["bytes_limit"] - stats["bytes_in_use"])
    return int(MEMORY_FRACTION * min(free))


def memory_needed(compiled) -> int:
    """Bytes one call of ``compiled`` (an equinox ``Compiled``) needs on each device."""
    memory = compiled.compiled.memory_analysis()
    return (
        memory.argument_size_in_bytes
        + memory.output_size_in_bytes
        + memory.temp_size_in_bytes
        + memory.generated_code_size_in_bytes
        - memory.alias_size_in_bytes
    )
