"""The seed's protocol on the spine model: a condition's model (second spine, drug,
temperature), the 40 pairings at 0.5 Hz, and the uEPSP test uncaging the paper measures with.

A condition is a dict of scalars by field name (`plastic.experiment.Condition`):
``delta_t`` (ms: current onset minus first uncaging onset), ``n_spines_uncaged`` (1, or 2 with
the second spine uncaged 2.1 ms after the first), ``distance`` (um between the two spines),
``drug`` (the index of its label in `DRUG_NAMES`) and ``temperature`` (degC).
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from plastic.experiment import CALCIUM_PER_PAIRING, INDICATOR_PER_PAIRING, Condition
from plastic.model import SpineModel, SpineState
from plastic.protocols import MINUTE, NEVER, pairing_protocol
from plastic.readouts import percent_change
from plastic.simulate import SolverSettings, simulate, simulate_each
from plastic.solver_status import nan_where_failed

READOUT_DELAY = 20.0 * MINUTE
"""Quiet time after the last pairing before the readouts (the paper: 15-25 min)."""
PERIOD = 2000.0
"""ms between pairings (0.5 Hz)."""
FIRST_PAIRING = 100.0
"""ms of rest before the first pairing."""
EARLY_PAIRINGS = (1, 5)
LATE_PAIRINGS = (35, 40)
"""Repetitions (1-based, inclusive) whose calcium is compared to tell accumulation over the
induction, the windows of the paper's Fig. 8g."""
TEST_UNCAGING_WINDOW = 60.0
"""ms of somatic recording after a test uncaging, in which the uEPSP peak is found."""

DRUGS = {
    "none": (0.0, 0.0, 0.0),
    "AP5": (1.0, 0.0, 0.0),
    "PEP1-TGL": (0.0, 1.0, 0.0),
    "latrunculin-A": (0.0, 0.0, 1.0),
}
"""The drugs of the seed's conditions as blocked fractions of (NMDA receptors, activity-driven
GluR1 insertion, actin polymerisation): each a full block of what it targets (D-AP5, PEP1-TGL,
latrunculin-A)."""
DRUG_NAMES = tuple(DRUGS)
"""The labels of a condition's ``drug`` field, in the order of its index."""


def model_in_condition(model: SpineModel, condition: Condition) -> SpineModel:
    """``model`` with the second spine ``condition["distance"]`` um from the first, the
    condition's temperature, and its drug: AP5 scales the NMDA conductance by the unblocked
    fraction, PEP1-TGL and latrunculin-A set the expression's ``insertion_block`` and
    ``actin_block`` (`plastic.expression.TraffickingAndRemodelling`)."""
    index = jnp.asarray(condition["drug"]).astype(int)
    nmda_block, insertion_block, actin_block = jnp.asarray(tuple(DRUGS.values()))[index]
    model = eqx.tree_at(
        lambda m: (m.nmda.conductance, m.temperature),
        model.with_spine_distance(condition["distance"]),
        (
            model.nmda.conductance * (1.0 - nmda_block),
            jnp.asarray(condition["temperature"], dtype=float),
        ),
    )
    if model.expression is None:
        return model
    return eqx.tree_at(
        lambda m: (m.expression.insertion_block, m.expression.actin_block),
        model,
        (insertion_block, actin_block),
    )


def _two_spines(condition: Condition):
    return jnp.asarray(condition["n_spines_uncaged"]) > 1.5


def _mask_second_spine(protocol, two_spines):
    onsets = protocol.uncaging_onset
    return eqx.tree_at(
        lambda p: p.uncaging_onset,
        protocol,
        onsets.at[1].set(jnp.where(two_spines, onsets[1], NEVER)),
    )


def induction_protocol(
    model: SpineModel, condition: Condition, *, n_pairings: int = 40, quiet=READOUT_DELAY
):
    """The seed's pairing protocol for ``condition`` (0.5 Hz, the second spine uncaged 2.1 ms
    after the first when two are), then ``quiet`` ms without input."""
    protocol = pairing_protocol(
        condition["delta_t"],
        n_pairings=n_pairings,
        period=PERIOD,
        uncaged_spines=(0, 1),
        n_spines=model.n_spines,
        first_pairing=FIRST_PAIRING,
        quiet=quiet,
    )
    return _mask_second_spine(protocol, _two_spines(condition))


def uepsp_amplitude(
    model: SpineModel, condition: Condition, settings: SolverSettings | None = None
) -> Float[Array, ""]:
    """Peak somatic depolarisation (mV) after a 2 ms test uncaging of the first spine (and of
    the second, 2.1 ms later, when the condition uncages two), from rest. ``model`` is used as
    given: pass `SpineModel.expressed` of a state for the expressed synapse."""
    biophysics = model.without_plasticity()
    protocol = pairing_protocol(
        0.0,
        n_pairings=1,
        uncaged_spines=(0, 1),
        n_spines=model.n_spines,
        current_amplitude=0.0,
        first_pairing=5.0,
        period=TEST_UNCAGING_WINDOW,
        quiet=0.0,
    )
    protocol = _mask_second_spine(protocol, _two_spines(condition))
    times = jnp.linspace(5.0, 5.0 + TEST_UNCAGING_WINDOW, 601)
    sim = simulate(biophysics, protocol, save_times=times, settings=settings)
    # NaN, not a number, if the test recording failed (nothing can raise under jit).
    return nan_where_failed(
        jnp.max(sim.states.soma_voltage) - sim.states.soma_voltage[0], sim.solver_result
    )


class ImagedCalcium(eqx.Module):
    """The free calcium the paper images during induction (Figs. 6-8): in each spine head and
    in the dendrite under it, just before each pairing and
    `plastic.experiment.AFTER_PAIRING_DELAY` ms after its end (the readouts
    `plastic.experiment.CALCIUM_PER_PAIRING`, in this order); ``(n_pairings, n_spines)`` uM.
    With an indicator in the model, also what was imaged: its Delta G / R at the same times
    (`plastic.experiment.INDICATOR_PER_PAIRING`, in this order; None without one)."""

    head_before: Float[Array, "n_pairings n_spines"]
    head_after: Float[Array, "n_pairings n_spines"]
    dendrite_before: Float[Array, "n_pairings n_spines"]
    dendrite_after: Float[Array, "n_pairings n_spines"]
    imaged: tuple[Float[Array, "n_pairings n_spines"], ...] | None = None


class ConditionReadouts(eqx.Module):
    """What the paper measures for one condition.

    Attributes:
        uepsp_initial: baseline uEPSP amplitude, mV.
        uepsp: uEPSP after induction, % of baseline (NaN when not measured).
        neck_length, head_volume: ``(n_spines,)``, % of baseline.
        final_state: the model state at the readout time (None for a replay, which has no
            biophysical state).
        calcium: the calcium during induction (None for a replay, which does not solve the
            dendrite's calcium).
        solver_result: diffrax's result code of the induction's solve (or replay), 0 on
            success (`plastic.solver_status`); a failed uEPSP recording shows as NaN.
    """

    uepsp_initial: Float[Array, ""]
    uepsp: Float[Array, ""]
    neck_length: Float[Array, " n_spines"]
    head_volume: Float[Array, " n_spines"]
    final_state: SpineState | None
    calcium: ImagedCalcium | None = None
    solver_result: Int[Array, ""] | None = None


def measure(
    model: SpineModel,
    condition: Condition,
    expression,
    uepsp_before,
    settings: SolverSettings | None = None,
    final_state: SpineState | None = None,
    uepsp: bool = True,
    calcium: ImagedCalcium | None = None,
    solver_result: Int[Array, ""] | None = None,
) -> ConditionReadouts:
    """The readouts of ``model`` (in ``condition``) whose induction left ``expression``; the
    uEPSP test recording only when ``uepsp`` (it is the stiff, costly part)."""
    if uepsp:
        after = uepsp_amplitude(model.with_expression(expression), condition, settings)
        change = percent_change(after, uepsp_before)
    else:
        change = jnp.full_like(uepsp_before, jnp.nan)
    return ConditionReadouts(
        uepsp_initial=uepsp_before,
        uepsp=change,
        neck_length=100.0 * expression.neck,
        head_volume=100.0 * expression.head,
        final_state=final_state,
        calcium=calcium,
        solver_result=solver_result,
    )


def run_condition(
    model: SpineModel,
    condition: Condition,
    *,
    n_pairings: int = 40,
    readout_delay=READOUT_DELAY,
    settings: SolverSettings | None = None,
    uepsp: bool = True,
) -> ConditionReadouts:
    """Induce ``condition`` on ``model`` (with rule and expression, all coupled) and measure
    it (the uEPSP after induction only when ``uepsp``): `model_in_condition`, then
    `run_in_condition`."""
    return run_in_condition(
        model_in_condition(model, condition),
        condition,
        n_pairings=n_pairings,
        readout_delay=readout_delay,
        settings=settings,
        uepsp=uepsp,
    )


def run_in_condition(
    model: SpineModel,
    condition: Condition,
    *,
    n_pairings: int,
    readout_delay,
    settings: SolverSettings | None,
    uepsp: bool,
) -> ConditionReadouts:
    """`run_condition` on a ``model`` already set up for ``condition`` (by `model_in_condition`,
    or `TazerartExperiment.model_in_condition`, which a sweep checks at its corners)."""
    if model.expression is None:
        raise ValueError("run_condition needs a model with an expression model; got None")
    protocol = induction_protocol(model, condition, n_pairings=n_pairings, quiet=readout_delay)
    # One solve, saved where the imaged calcium is read; its final state is the readouts'.
    readouts = CALCIUM_PER_PAIRING
    if model.indicator is not None:
        readouts = (*readouts, *INDICATOR_PER_PAIRING)
    requested = [readout.save_times(protocol) for readout in readouts]
    simulations = simulate_each(model, protocol, requested, settings)
    values = [
        readout.read(model, protocol, simulation)
        for readout, simulation in zip(readouts, simulations)
    ]
    calcium = ImagedCalcium(*values[:4], imaged=tuple(values[4:]) or None)
    final = simulations[0].final_state
    before = uepsp_amplitude(model, condition, settings)
    return measure(
        model,
        condition,
        final.expression,
        before,
        settings,
        final,
        uepsp,
        calcium,
        simulations[0].solver_result,
    )
