"""A time budget for a benchmark of several items: each next item's time estimated from the last.

A lent GPU is held for minutes, and a run killed by the time limit loses what it was measuring.
So items run in order of importance, and an item whose estimated time would overrun the budget
is skipped (and said so) rather than started. The estimate scales the last measurement of a
similar item (compile as it was, run time in proportion to the work); an item like none before
is estimated at the last item's whole time, the only measurement there is.
"""

import dataclasses
import time


def similarity_keys(kind: str, device: str) -> tuple[str, str, str]:
    """Under which keys an item of ``kind`` (``program-device``, e.g. ``spine-sparse-gpu``) on
    ``device`` is remembered, most similar first: its kind; its program on any device (the
    compile time follows the program); its family (the first word, e.g. ``spine``: work counted
    in the same units) on the same device."""
    return kind, kind.rsplit("-", 1)[0], f"{kind.split('-')[0]} on {device}"


def estimate_seconds(previous: dict | None, work: float, last_total_s: float | None) -> float:
    """Estimated seconds of an item of ``work`` units (conditions, steps).

    Args:
        previous: the last measured item like this one (work counted in the same units):
            ``work``, ``compile_s`` and ``run_s`` (seconds), or None.
        work: the item's work, in the units of ``previous["work"]``.
        last_total_s: the whole time of the last item of any kind, seconds, or None.

    Returns:
        compile as measured plus the run scaled with the work (linear: on a GPU that is not yet
        saturated it overestimates, which errs on the side of the budget); without ``previous``
        ``last_total_s``; 0 when nothing has been measured yet (the first item always runs).
    """
    if previous is not None:
        return previous["compile_s"] + previous["run_s"] * work / previous["work"]
    return 0.0 if last_total_s is None else last_total_s


@dataclasses.dataclass
class Budget:
    """Seconds allowed from ``started`` (a `time.perf_counter` reading) for the whole run."""

    seconds: float
    started: float = dataclasses.field(default_factory=time.perf_counter)

    def left(self, now: float | None = None) -> float:
        """Seconds left at ``now`` (default: the present)."""
        return self.seconds - ((time.perf_counter() if now is None else now) - self.started)

    def allows(self, estimate_s: float, now: float | None = None) -> bool:
        """Whether an item estimated at ``estimate_s`` seconds still fits."""
        return estimate_s <= self.left(now)
