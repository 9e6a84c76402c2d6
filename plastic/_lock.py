"""One writer per output: a lock file beside a sweep's or a fit's output, holding the writer's
process id, so that a second run into the same output is refused at once instead of computing
everything again and colliding on the same files."""

import contextlib
import os
from pathlib import Path


class OutputLockedError(FileExistsError):
    """Another live process holds the output's lock."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def lock_holder(output: str | Path) -> int | None:
    """The id of the live process holding ``OUTPUT.lock``, or None (no lock, or a stale one)."""
    try:
        holder = int(Path(f"{output}.lock").read_text().strip() or "0")
    except (OSError, ValueError):
        return None
    return holder if holder and holder != os.getpid() and _alive(holder) else None


@contextlib.contextmanager
def output_lock(output: str | Path):
    """Hold ``OUTPUT.lock`` while the block runs.

    A lock left by a process that no longer runs (a crash, a killed job) is taken over.

    Raises:
        OutputLockedError: naming the output and the process holding it.
    """
    lock = Path(f"{output}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            holder = lock_holder(output)
            if holder is not None:
                raise OutputLockedError(
                    f"{output} is being written by process {holder} (lock file {lock}); wait "
                    "for it to finish, or choose another output"
                ) from None
            lock.unlink(missing_ok=True)  # stale: its writer is gone
            continue
        with os.fdopen(handle, "w") as file:
            file.write(str(os.getpid()))
        break
    else:
        raise OutputLockedError(f"could not take the lock {lock} of {output}")
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
