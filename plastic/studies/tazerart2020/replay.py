"""The seed's induction replayed (`plastic.replay`): the biophysics of a condition recorded once
over one pairing period, the rule, coupling, expression and head calcium stores driven by that
recording through the 40 pairings and the quiet. For fits of the `plastic.replay.REPLAY_FITTABLE`
leaves at a small fraction of the cost of the coupled solve; what it neglects is the expression
acting back on the calcium during the 80 s of induction (compare with the coupled solve)."""

import jax
import jax.numpy as jnp

from plastic._validation import is_concrete
from plastic.experiment import Condition
from plastic.model import SpineModel
from plastic.program_cache import cached_call
from plastic.replay import (
    RepeatedSignals,
    pairing_nodes,
    record_calcium_drive,
    record_signals,
    repeat_times,
    replay,
)
from plastic.rules import HermiteSignals
from plastic.simulate import SolverSettings
from plastic.solver_status import nan_where_failed, raise_if_failed
from plastic.studies.tazerart2020.protocol import (
    FIRST_PAIRING,
    PERIOD,
    ConditionReadouts,
    induction_protocol,
    measure,
    model_in_condition,
    uepsp_amplitude,
)

_HERMITE_PARTS = ("start", "end", "start_slope", "end_slope")
RECORDED = ("recording", "pulse_edges", "uepsp_before")
"""The entries `record_conditions` adds to each condition."""


def record_conditions(
    model: SpineModel,
    conditions: dict,
    *,
    n_pairings: int,
    settings: SolverSettings | None = None,
) -> dict:
    """Record ``model``'s biophysics (without plasticity) in each of the batched
    ``conditions`` over one pairing period: ``recording``, `HermiteSignals` with leading
    ``(n_conditions, n_spines)`` axes of each spine's `SynapseSignals` and its head's calcium
    drive (`plastic.replay.record_calcium_drive`) as a pair, so that one interval lookup serves
    both; ``pulse_edges``, ``(n_conditions, n_edges)`` pulse edges of the whole induction, ms;
    ``uepsp_before``, ``(n_conditions,)`` the baseline uEPSP, mV.

    Raises:
        plastic.solver_status.SolveFailedError: if a recording's solve failed, naming its
            conditions.
    """
    # A module-level function of its arguments alone, so that the command line keeps its traced
    # program (`plastic.program_cache`): a second fit of the same rows does not trace it.
    recorded, codes = cached_call(
        "plastic.studies.tazerart2020.replay.record_all",
        _record_all,
        model.without_plasticity(),
        conditions,
        n_pairings,
        settings,
    )
    if is_concrete(codes):  # traced, a failed recording shows as NaN in the replay
        labels = [
            ", ".join(f"{name}={float(values[i]):g}" for name, values in conditions.items())
            for i in range(len(codes))
        ]
        raise_if_failed(codes, "recording the biophysics for a replay", labels=labels)
    return recorded


def _record_all(biophysics: SpineModel, conditions: dict, n_pairings: int, settings):
    """`record_conditions`'s solves, one condition after another."""

    def record(condition):
        in_condition = model_in_condition(biophysics, condition)
        protocol = induction_protocol(in_condition, condition, n_pairings=1, quiet=0.0)
        edges = protocol.pulse_edges()
        nodes = pairing_nodes(edges, PERIOD)
        signals, simulation = record_signals(in_condition, protocol, nodes, settings)
        drive = record_calcium_drive(in_condition, protocol, simulation)
        recording = HermiteSignals(
            signals.ts,
            *((getattr(signals, part), getattr(drive, part)) for part in _HERMITE_PARTS),
        )
        before = uepsp_amplitude(in_condition, condition, settings)
        recorded = dict(
            recording=recording,
            pulse_edges=repeat_times(edges, PERIOD, n_pairings),
            uepsp_before=before,
        )
        return nan_where_failed(recorded, simulation.solver_result), simulation.solver_result

    return jax.lax.map(record, conditions)


def replay_condition(
    model: SpineModel,
    condition: Condition,
    *,
    n_pairings: int,
    readout_delay: float,
    settings: SolverSettings | None,
    rtol: float,
    atol: float,
    checkpoints: int | None,
    uepsp: bool,
) -> ConditionReadouts:
    """The readouts of one recorded condition (with the `RECORDED` entries) on the plasticity
    of ``model``, already set up for ``condition`` (`model_in_condition`, as
    `record_conditions` set up the biophysics it recorded); the uEPSP after induction on the
    full biophysics as the expression leaves it, only when ``uepsp``."""
    period = jnp.asarray(PERIOD)
    repeated = RepeatedSignals(condition["recording"], period, n_pairings)
    replayed = replay(
        model,
        lambda t: repeated(t)[0],
        FIRST_PAIRING + n_pairings * PERIOD + readout_delay,
        calcium_drive=lambda t: repeated(t)[1],
        quiet_from=n_pairings * period,
        jump_ts=condition["pulse_edges"],
        rtol=rtol,
        atol=atol,
        checkpoints=checkpoints,
    )
    before = condition["uepsp_before"]
    return measure(
        model,
        condition,
        replayed.expression,
        before,
        settings,
        uepsp=uepsp,
        solver_result=replayed.solver_result,
    )
