"""Sweeps: an experiment run over a grid of conditions, with a labelled and resumable result.

An `ExperimentSweep` sweeps any `plastic.experiment.AbstractExperiment` (the spine model's
pairing protocol is `plastic.experiment.SpinePairingExperiment`; each study has its own): its
axes are the experiment's condition fields (`ConditionValue`: for the pairing protocol
``delta_t``, ``period``, ..., the inter-spine ``distance``) or array leaves of the model by
attribute path (`ModelLeaf`: ``nmda.conductance``, ``spines.neck_length``, ``rule.tau``; ``[i]``
picks spine i); its readouts are the experiment's (for the pairing protocol
`plastic.experiment.HeadCalciumAfter`, ``PeakHeadCalcium``, ``DendriteCalciumAfter``,
``FinalEfficacy``, ``CalciumPerPairing`` (with a ``pairing`` dim), or a subclass of
`plastic.experiment.AbstractSpineReadout`).

`run_sweep` evaluates the grid in chunks of ``chunk_size`` conditions. One compiled function
evaluates a chunk: the chunk is laid out across all devices along its condition axis
(`jax.sharding.NamedSharding`) and each device vmaps its share (or runs it in batches with
`jax.lax.map`); XLA's SPMD partitioner splits the vmapped solve so that each device computes its
own conditions. (`jax.shard_map` would say the same explicitly, but lineax, inside diffrax's
implicit solvers, rejects the manual-axis shardings that it gives every traced value.) Before the
first chunk runs, the compiled function's memory analysis gives the memory one chunk needs on
each device; a chunk size that would not fit is refused with the numbers. Every finished chunk is
written at once, so an interrupted sweep resumes where it stopped.

Storage. Finished chunks go to ``<output>.partial/``, one ``.npz`` file per chunk, each written
to a temporary name and renamed into place: a crash at any instant loses at most the chunk in
flight and never corrupts a finished one (an HDF5/NetCDF4 file written in place can be left
unreadable by a crash, and a grid-shaped store cannot take a flat run of conditions as one
region write). When every chunk is done the grid is written as one NetCDF file through xarray
with scipy's NetCDF3 writer (portable, byte-for-byte deterministic, no HDF5 needed), dims = the
axes followed by the readout's own dims, and the partial folder is removed.

Parts. A sweep too long for one job runs as ``n`` parts, ``run_sweep(..., part=(i, n))`` or
``plastic sweep ... --part i/n`` (e.g. the jobs of a scheduler's array, at the same time or
not): part i computes chunks i, i + n, i + 2n, ... (numbered from 1; interleaved rather than in
blocks, so that parts take about as long when the cost varies along the grid) into the same
partial folder, holding its own lock ``<output>.part-i-of-n.lock``, and writes no result.
The folder's ``manifest.json`` records, besides the sweep's fingerprint, its layout (axes and
their values, readouts, chunking, attributes), so that `merge_sweep` (``plastic merge
<output>``) writes the result file without the sweep, once every chunk is there: the same file
an unsplit run writes, apart from the provenance of the command that wrote it.
"""

from plastic.sweep.experiment import ExperimentEvaluation as ExperimentEvaluation
from plastic.sweep.experiment import ExperimentSweep as ExperimentSweep
from plastic.sweep.memory import MEMORY_FRACTION as MEMORY_FRACTION
from plastic.sweep.memory import SweepTooLargeError as SweepTooLargeError
from plastic.sweep.memory import device_memory_limit as device_memory_limit
from plastic.sweep.memory import host_memory_available as host_memory_available
from plastic.sweep.parts import merge_sweep as merge_sweep
from plastic.sweep.run import CONDITION as CONDITION
from plastic.sweep.run import evaluate_chunk as evaluate_chunk
from plastic.sweep.run import run_sweep as run_sweep
from plastic.sweep.targets import AbstractGrid as AbstractGrid
from plastic.sweep.targets import AbstractTarget as AbstractTarget
from plastic.sweep.targets import Axis as Axis
from plastic.sweep.targets import ConditionValue as ConditionValue
from plastic.sweep.targets import ModelLeaf as ModelLeaf
