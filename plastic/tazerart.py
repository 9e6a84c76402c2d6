"""The experiments of Tazerart et al. 2020 (seed 000) on the spine model: conditions, the
measurement of uEPSP, neck and head as the paper measures them, and the predictor for the fit.

An experimental condition (`Condition`) is the pairing protocol (delta-t; one spine, or two
spines with the second uncaged 2.1 ms after the first at a given distance), the drugs and the
temperature. The model runs the 40 pairings and 20 minutes of quiet (the paper reads out 15-25
min after induction); then:

- uEPSP: a test uncaging of the spines the condition uncages, on the model as its expression
  state leaves it, from rest; the peak somatic depolarisation (mV), in % of the same test on the
  model before induction (`uepsp_amplitude`, `percent_change`). The paper's initial uEPSP
  amplitudes are the baseline test itself (mV).
- neck length and head volume: the structural expression states, in % of baseline.

`predict(model, data)` maps a model and `plastic.data.Measurements` rows (readouts ``uepsp``,
``uepsp_initial``, ``neck_length``, ``head_volume``, ``length_constant``; sites ``activated`` =
the first uncaged spine, ``neighbour`` = the other spine) to one prediction per row, simulating
each distinct condition once, batched with `jax.vmap`: the function `plastic.fit.Objective`
wants. A ``length_constant`` row is eq. 2 fitted to the uEPSP changes of pairs at
`LENGTH_CONSTANT_DISTANCES` (`plastic.readouts.fit_length_constant`, differentiable).

Distances: the paper gives classes, not values. A row's distance is the middle of its
``[distance_min, distance_max]`` range, ``distance_min + UNBOUNDED_DISTANCE_MARGIN`` for an
open range, and `NEIGHBOUR_DISTANCE` for single-spine conditions (where the second spine is an
unstimulated neighbour).
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic.biophysics import NMDAReceptor, SpineCalciumStore
from plastic.coupling import MessengerWithDepressionVeto
from plastic.data.measurements import Measurements
from plastic.expression import Drugs, TraffickingAndRemodelling
from plastic.fit.parameters import FitParameters, Parameter
from plastic.geometry import Geometry, Spines
from plastic.model import SpineModel, SpineState
from plastic.protocols import MINUTE, NEVER, pairing_protocol
from plastic.readouts import fit_length_constant, percent_change
from plastic.replay import (
    RepeatedSignals,
    pairing_nodes,
    record_calcium_drive,
    record_signals,
    repeat_times,
    replay,
)
from plastic.rules import HermiteSignals, KinaseCompetition
from plastic.simulate import SolverSettings, simulate

FIRST_SPINE_POSITION = 40.0
"""um from the soma: the middle of the 10-80 um range of the seed's basal spines."""
NEIGHBOUR_DISTANCE = 3.0
"""um between the uncaged spine and its unstimulated neighbour in single-spine conditions."""
UNBOUNDED_DISTANCE_MARGIN = 15.0
"""um added to ``distance_min`` for an open-ended distance class ("> 5 um")."""
LENGTH_CONSTANT_DISTANCES = (1.0, 3.0, 8.0, 20.0, 40.0, 80.0)
"""um: the inter-spine distances at which a ``length_constant`` row's pairs are simulated before
eq. 2 is fitted to their uEPSP changes. Dense below 10 um for lambda(+7 ms) = 5.7 um, out to 80
um for lambda(-15 ms) = 39.7 um (the paper's pairs lie 1-100 um apart); 3 and 20 um coincide
with the clustered and distributed +7 ms conditions, which are then simulated once."""
READOUT_DELAY = 20.0 * MINUTE
"""Quiet time after the last pairing before the readouts (the paper: 15-25 min)."""
PERIOD = 2000.0
"""ms between pairings (0.5 Hz)."""
FIRST_PAIRING = 100.0
"""ms of rest before the first pairing."""
TEST_UNCAGING_WINDOW = 60.0
"""ms of somatic recording after a test uncaging, in which the uEPSP peak is found."""
NMDA_TAU_RISE = 4.0
"""ms at 34 degC (9.8 ms at the experiments' 21 degC: a 10-90 % rise of 15 ms): the rise of the
uncaging-evoked NMDA conductance in `tazerart_model`. GluSynapse's 0.29 ms (a synaptic release)
puts the NMDA conductance at its plateau within 4 ms of the uncaging, so the bAP of +7 and +13 ms
pairings (15 and 21 ms after it: the soma fires ~8 ms into the current step) meets the same
conductance and the spine gets the same calcium (peak 17.7 vs 17.5 uM). Uncaged glutamate lingers
for milliseconds and juvenile GluN2B-rich receptors at room temperature rise over ~10 ms; with
this rise the +13 ms pairing gets more calcium than the +7 ms one (peak 17.7 vs 16.7 uM, excess
over 8 uM integrated 94 vs 81 uM ms): the timing information the seed's single-spine rule needs."""

_HERMITE_PARTS = ("start", "end", "start_slope", "end_slope")
_DRUG_COLUMN = {"none": None, "PEP1-TGL": "pep1_tgl", "latrunculin-A": "latrunculin", "AP5": "ap5"}
_READOUTS = ("uepsp", "uepsp_initial", "neck_length", "head_volume", "length_constant")


class Condition(eqx.Module):
    """One experimental condition (scalars; batch them with leading axes).

    Attributes:
        delta_t: current onset minus first uncaging onset, ms.
        two_spines: 1 when the second spine is uncaged too, 0 when only the first is.
        distance: between the two spines, um.
        drugs: blocked fractions (`Drugs`).
        temperature: degC.
    """

    delta_t: Float[Array, ""]
    two_spines: Float[Array, ""]
    distance: Float[Array, ""]
    drugs: Drugs
    temperature: Float[Array, ""]


FITTED_PARAMETERS = {
    "rule.cam_half": 16.15,
    "rule.camkii_half": 0.4885,
    "rule.can_half": 1.224e-05,
    "rule.pka_half": 0.000278,
    "rule.k_pp1_act": 0.0002836,
    "rule.k_dapk1_dephos": 1.211e-05,
    "rule.insert_half": 0.1645,
    "rule.remove_half": 0.02115,
    "rule.k_camkii_act": 0.03278,
    "expression.k_insert": 9.803e-05,
    "expression.k_remove": 0.0006871,
    "expression.k_neck": 0.0001436,
    "expression.neck_min": 0.698,
    "expression.k_head": 7.213e-08,
    "expression.actin_dependence": 0.99999,
    "expression.k_cycle": 2.605e-05,
    "coupling.length_constant": 3.325,
    "coupling.half_activation": 0.9515,
    "coupling.hill": 18.89,
    "coupling.veto_length_constant": 16.15,
    "coupling.veto_half_activation": 0.004723,
    "coupling.veto_hill": 1.191,
    "plasticity_q10": 3.592,
    "calcium_sensitivity_q10": 1.762,
}
"""The `default_fit_parameters` as `plastic fit` fitted them (replay, with the spine calcium
store) to every uEPSP, neck and head row of Tazerart et al. 2020 and the two length constants
of eq. 2 (``--select readout=uepsp,neck_length,head_volume,length_constant``). A chain of
fits, each from the last: 60 steps with the CaMKII threshold moved to 16 uM (between the
+13 and +7 ms head calcium peaks); 80 steps with ``calcium_sensitivity_q10`` added; 80 steps
with the calcium store; then 150 steps, 1 start, learning rate 0.1,
``--length-constant-sem 0.3``: chi-square 24.4 over the 37 rows. Replayed, 11/11 uEPSP rows
lie within 2 SEM (10 within 1), 11/12 neck rows within 2 SEM (9 within 1; the clustered
-15 ms neck does not shrink), lambda(+7 ms) 7.1 um and lambda(-15 ms) 40.9 um (5.7 and 39.7
in the paper). Units as in `default_fit_parameters`."""


def tazerart_model(fitted: bool = True) -> SpineModel:
    """The spine model of the seed experiments: two spines, kinase competition rule, AMPAR
    trafficking and actin remodelling, potentiation gated by a messenger that spreads between
    spines and depression vetoed by co-depressing neighbours (`MessengerWithDepressionVeto`).

    Args:
        fitted: with the `FITTED_PARAMETERS`; False gives the components' own defaults (from
            the literature and choices, half of activity-driven insertion needing actin).
    """
    positions = (FIRST_SPINE_POSITION, FIRST_SPINE_POSITION + NEIGHBOUR_DISTANCE)
    model = SpineModel(
        geometry=Geometry(spines=Spines(position=positions)),
        nmda=NMDAReceptor(tau_rise=NMDA_TAU_RISE),
        calcium_store=SpineCalciumStore(),
        rule=KinaseCompetition(),
        expression=TraffickingAndRemodelling(actin_dependence=0.5),
        coupling=MessengerWithDepressionVeto(),
    )
    if not fitted:
        return model
    paths = [Parameter(path) for path in FITTED_PARAMETERS]
    return FitParameters(model, paths).with_values(FITTED_PARAMETERS)


def model_in_condition(model: SpineModel, condition: Condition) -> SpineModel:
    """``model`` with the second spine ``condition.distance`` um from the first, and the
    condition's drugs and temperature."""
    position = model.geometry.spines.position
    return eqx.tree_at(
        lambda m: (m.geometry.spines.position, m.drugs, m.temperature),
        model,
        (
            position.at[1].set(position[0] + condition.distance),
            condition.drugs,
            condition.temperature,
        ),
    )


def induction_protocol(
    model: SpineModel, condition: Condition, *, n_pairings: int = 40, quiet=READOUT_DELAY
):
    """The seed's pairing protocol for ``condition`` (0.5 Hz, the second spine uncaged 2.1 ms
    after the first when ``two_spines``), then ``quiet`` ms without input."""
    protocol = pairing_protocol(
        condition.delta_t,
        n_pairings=n_pairings,
        period=PERIOD,
        uncaged_spines=(0, 1),
        n_spines=model.n_spines,
        first_pairing=FIRST_PAIRING,
        quiet=quiet,
    )
    return _mask_second_spine(protocol, condition.two_spines)


def _mask_second_spine(protocol, two_spines):
    onsets = protocol.uncaging_onset
    return eqx.tree_at(
        lambda p: p.uncaging_onset,
        protocol,
        onsets.at[1].set(jnp.where(two_spines > 0.5, onsets[1], NEVER)),
    )


def uepsp_amplitude(
    model: SpineModel, two_spines, settings: SolverSettings | None = None
) -> Float[Array, ""]:
    """Peak somatic depolarisation (mV) after a 2 ms test uncaging of the first spine (and of
    the second, 2.1 ms later, when ``two_spines`` is 1), from rest. ``model`` is used as given:
    pass `SpineModel.expressed` of a state for the expressed synapse."""
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
    protocol = _mask_second_spine(protocol, two_spines)
    times = jnp.linspace(5.0, 5.0 + TEST_UNCAGING_WINDOW, 601)
    sim = simulate(biophysics, protocol, save_times=times, settings=settings)
    return jnp.max(sim.states.soma_voltage) - sim.states.soma_voltage[0]


class ConditionReadouts(eqx.Module):
    """What the paper measures for one condition.

    Attributes:
        uepsp_initial: baseline uEPSP amplitude, mV.
        uepsp: uEPSP after induction, % of baseline.
        neck_length, head_volume: ``(n_spines,)``, % of baseline.
        final_state: the model state at the readout time (None for a replay, which has no
            biophysical state).
    """

    uepsp_initial: Float[Array, ""]
    uepsp: Float[Array, ""]
    neck_length: Float[Array, " n_spines"]
    head_volume: Float[Array, " n_spines"]
    final_state: SpineState | None


def run_condition(
    model: SpineModel,
    condition: Condition,
    *,
    n_pairings: int = 40,
    readout_delay=READOUT_DELAY,
    settings: SolverSettings | None = None,
) -> ConditionReadouts:
    """Induce ``condition`` on ``model`` (with rule and expression) and measure it."""
    if model.expression is None:
        raise ValueError("run_condition needs a model with an expression model; got None")
    model = model_in_condition(model, condition)
    protocol = induction_protocol(model, condition, n_pairings=n_pairings, quiet=readout_delay)
    final = simulate(model, protocol, settings=settings).final_state
    before = baseline_uepsp(model, condition, settings)
    return _measure(model, condition, final.expression, before, settings, final)


def _test_model(model: SpineModel, expression) -> SpineModel:
    # with_expression applies the drugs; the test recording must not apply them twice.
    return eqx.tree_at(lambda m: m.drugs, model.with_expression(expression), Drugs())


def baseline_uepsp(
    model: SpineModel, condition: Condition, settings: SolverSettings | None = None
) -> Float[Array, ""]:
    """The uEPSP (mV) of ``condition``'s test uncaging before induction (``model`` already in
    the condition)."""
    return uepsp_amplitude(_test_model(model, None), condition.two_spines, settings)


def _measure(model, condition, expression, before, settings, final_state=None, uepsp=True):
    if uepsp:
        after = uepsp_amplitude(_test_model(model, expression), condition.two_spines, settings)
        change = percent_change(after, before)
    else:  # not asked for: skip the stiff test recording
        change = jnp.full_like(before, jnp.nan)
    return ConditionReadouts(
        uepsp_initial=before,
        uepsp=change,
        neck_length=100.0 * expression.neck,
        head_volume=100.0 * expression.head,
        final_state=final_state,
    )


def row_distance(row_min, row_max, two_spines) -> float:
    """The distance (um) that stands for a data row's distance class (see the module doc)."""
    if not two_spines:
        return NEIGHBOUR_DISTANCE
    if np.isfinite(row_max):
        return 0.5 * (row_min + row_max)
    return row_min + UNBOUNDED_DISTANCE_MARGIN


def drugs_named(drug: str) -> Drugs:
    """`Drugs` for a data set's drug name ("none", "PEP1-TGL", "latrunculin-A", "AP5")."""
    blocked = _DRUG_COLUMN[drug]
    return Drugs(**({blocked: 1.0} if blocked else {}))


def conditions_of(data: Measurements) -> tuple[Condition, np.ndarray, tuple[tuple[int, ...], ...]]:
    """The distinct conditions of ``data``'s rows, batched along a leading axis; for each row
    the index of its condition; and for each row the indices of the pairs at
    `LENGTH_CONSTANT_DISTANCES` whose uEPSP changes eq. 2 is fitted to (``length_constant``
    rows; an empty tuple for the others, whose index is their condition's). ``data`` must be
    concrete (not traced).

    Raises:
        ValueError: for a row whose readout or drug the predictor does not model, or a
            ``length_constant`` row that does not uncage two spines.
    """
    delta_t, n_uncaged, distance_min, distance_max, temperature = (
        np.asarray(column, dtype=float)
        for column in (
            data.delta_t,
            data.n_spines_uncaged,
            data.distance_min,
            data.distance_max,
            data.temperature,
        )
    )
    keys, index, sweeps = {}, [], []

    def condition_index(i, two_spines, distance):
        key = (float(delta_t[i]), two_spines, float(distance), data.drug[i], float(temperature[i]))
        return keys.setdefault(key, len(keys))

    for i in range(data.n_rows):
        if data.readout[i] not in _READOUTS:
            raise ValueError(
                f"data row {i} ({data.condition[i]!r}) has readout {data.readout[i]!r}; the "
                f"spine predictor models {_READOUTS} (select those rows first)"
            )
        if data.drug[i] not in _DRUG_COLUMN:
            raise ValueError(
                f"data row {i} ({data.condition[i]!r}) has drug {data.drug[i]!r}; known drugs: "
                f"{tuple(_DRUG_COLUMN)}"
            )
        two_spines = int(n_uncaged[i]) == 2
        if data.readout[i] == "length_constant":
            if not two_spines:
                raise ValueError(
                    f"data row {i} ({data.condition[i]!r}) is a length_constant row with "
                    f"n_spines_uncaged {n_uncaged[i]:g}; eq. 2 is fitted over pairs of spines (2)"
                )
            sweep = tuple(condition_index(i, True, d) for d in LENGTH_CONSTANT_DISTANCES)
            index.append(sweep[0])
            sweeps.append(sweep)
        else:
            distance = row_distance(distance_min[i], distance_max[i], two_spines)
            index.append(condition_index(i, two_spines, distance))
            sweeps.append(())
    columns = list(zip(*keys))
    conditions = Condition(
        delta_t=jnp.asarray(columns[0], dtype=float),
        two_spines=jnp.asarray(columns[1], dtype=float),
        distance=jnp.asarray(columns[2], dtype=float),
        drugs=jax.tree.map(lambda *x: jnp.stack(x), *[drugs_named(d) for d in columns[3]]),
        temperature=jnp.asarray(columns[4], dtype=float),
    )
    return conditions, np.asarray(index), tuple(sweeps)


class AbstractTazerartPredictor(eqx.Module):
    """``predictor(model, data) -> (n_rows,)`` predictions for the rows it was built from, in
    each row's unit (% of baseline, or mV for ``uepsp_initial``): the ``predict`` of
    `plastic.fit.Objective`. Each distinct condition is simulated once (vmapped).

    Attributes:
        conditions: the distinct conditions, batched.
        row_condition: per row, the index of its condition (static).
        row_spine: per row, 0 for the first uncaged spine, 1 for its neighbour (static).
        row_readout: per row, the readout name (static).
        row_distance_sweep: per row, the conditions (pairs at `LENGTH_CONSTANT_DISTANCES`)
            whose uEPSP changes eq. 2 is fitted to for a ``length_constant`` row (um); empty
            for the other rows (static).
        n_pairings: pairings of the induction protocol (40 in the paper).
        readout_delay: ms of quiet before the readouts.
        settings: the solver settings of the biophysics.
    """

    conditions: eqx.AbstractVar[Condition]
    row_condition: eqx.AbstractVar[tuple[int, ...]]
    row_spine: eqx.AbstractVar[tuple[int, ...]]
    row_readout: eqx.AbstractVar[tuple[str, ...]]
    row_distance_sweep: eqx.AbstractVar[tuple[tuple[int, ...], ...]]
    n_pairings: eqx.AbstractVar[int]
    readout_delay: eqx.AbstractVar[Float[Array, ""]]
    settings: eqx.AbstractVar[SolverSettings | None]

    @abc.abstractmethod
    def readouts(self, model: SpineModel) -> ConditionReadouts:
        """The readouts of every distinct condition (leading axis: condition)."""

    def __call__(self, model: SpineModel, data: Measurements | None = None):
        del data  # the rows were fixed at construction
        readouts = self.readouts(model)
        index, spine = np.asarray(self.row_condition), np.asarray(self.row_spine)
        table = {
            "uepsp": readouts.uepsp[index],
            "uepsp_initial": readouts.uepsp_initial[index],
            "neck_length": readouts.neck_length[index, spine],
            "head_volume": readouts.head_volume[index, spine],
        }
        kinds = np.asarray(self.row_readout)
        prediction = jnp.zeros(len(self.row_readout))
        for kind, values in table.items():
            prediction = jnp.where(kinds == kind, values, prediction)
        distances = jnp.asarray(LENGTH_CONSTANT_DISTANCES)
        for row, sweep in enumerate(self.row_distance_sweep):
            if sweep:
                fit = fit_length_constant(distances, readouts.uepsp[np.asarray(sweep)])
                prediction = prediction.at[row].set(fit.length_constant)
        return prediction


def _rows(data: Measurements):
    conditions, index, sweeps = conditions_of(data)
    spine = tuple(1 if site == "neighbour" else 0 for site in data.site)
    readout = tuple(str(name) for name in data.readout)
    return conditions, tuple(int(i) for i in index), spine, readout, sweeps


class TazerartPredictor(AbstractTazerartPredictor):
    """The predictor on the full coupled model: biophysics, rule and expression solved together
    (`run_condition`), so any model parameter can be fitted. Build it with `from_data` on
    concrete data, outside `jax.jit`."""

    conditions: Condition
    row_condition: tuple[int, ...] = eqx.field(static=True)
    row_spine: tuple[int, ...] = eqx.field(static=True)
    row_readout: tuple[str, ...] = eqx.field(static=True)
    row_distance_sweep: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    n_pairings: int = eqx.field(static=True, default=40)
    readout_delay: Float[Array, ""] = READOUT_DELAY
    settings: SolverSettings | None = None

    @classmethod
    def from_data(cls, data: Measurements, **kwargs) -> "TazerartPredictor":
        return cls(*_rows(data), **kwargs)

    def readouts(self, model: SpineModel) -> ConditionReadouts:
        return jax.vmap(
            lambda condition: run_condition(
                model,
                condition,
                n_pairings=self.n_pairings,
                readout_delay=self.readout_delay,
                settings=self.settings,
            )
        )(self.conditions)


class ReplayPredictor(AbstractTazerartPredictor):
    """The predictor with the induction replayed on recorded biophysics (`plastic.replay`):
    for fits of ``rule.*`` and ``expression.*`` parameters only, at a small fraction of the
    cost of `TazerartPredictor`.

    `from_data` runs the biophysics of ``model`` (without plasticity) once per condition over
    one pairing period and records each spine's signals; a call replays the rule and
    expression of the model it is given through ``n_pairings`` repetitions of that period and
    the quiet, then measures the uEPSP on the full biophysics as the expression leaves it. The
    baseline uEPSPs are measured at construction; the uEPSP after induction only when a row
    asks for it (a fit of neck and head rows skips that stiff solve). What it neglects: the
    expression acting back on the calcium during the 80 s of induction (see `plastic.replay`);
    compare with `TazerartPredictor` on the fitted model.

    Attributes (beyond those of `AbstractTazerartPredictor`):
        recording: the recorded period, `HermiteSignals` with leading ``(n_conditions,
            n_spines)`` axes, of each spine's `SynapseSignals` and its head's calcium drive
            (`plastic.replay.record_calcium_drive`: what a model with a calcium store integrates
            its head calcium on), as a pair: one trace, so that one interval lookup serves both.
        pulse_edges: ``(n_conditions, n_edges)`` pulse edges of the whole induction, ms.
        uepsp_before: ``(n_conditions,)`` baseline uEPSP, mV.
        rtol, atol: tolerances of the replay (rule and expression states are fractions).
            1e-5 and 1e-7: on the 24 neck and head rows of the seed data, with the fitted
            model, every prediction lies within 0.015 percentage points of the one at 1e-6
            and 1e-8 (the smallest SEM there is 2.6 %), and a value and gradient of 4 starts
            took 5.9 s instead of 7.8 s (before the calcium store).
        checkpoints: states each replay keeps for reverse mode (`plastic.replay.replay`;
            4096: a gradient over the 24 neck and head rows of the seed data, 11 conditions,
            took 3.9 s instead of 5.2 s with diffrax's default, before the calcium store).
    """

    conditions: Condition
    row_condition: tuple[int, ...] = eqx.field(static=True)
    row_spine: tuple[int, ...] = eqx.field(static=True)
    row_readout: tuple[str, ...] = eqx.field(static=True)
    row_distance_sweep: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    recording: HermiteSignals
    pulse_edges: Float[Array, "n_conditions n_edges"]
    uepsp_before: Float[Array, " n_conditions"]
    n_pairings: int = eqx.field(static=True, default=40)
    readout_delay: Float[Array, ""] = READOUT_DELAY
    settings: SolverSettings | None = None
    rtol: float = 1e-5
    atol: float = 1e-7
    checkpoints: int | None = eqx.field(static=True, default=4096)

    @classmethod
    def from_data(
        cls,
        data: Measurements,
        model: SpineModel,
        *,
        n_pairings: int = 40,
        settings: SolverSettings | None = None,
        **kwargs,
    ) -> "ReplayPredictor":
        """Record ``model``'s biophysics for the conditions of ``data`` (concrete)."""
        conditions, *rows = _rows(data)
        biophysics = model.without_plasticity()

        @jax.jit
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
            before = baseline_uepsp(in_condition, condition, settings)
            return recording, repeat_times(edges, PERIOD, n_pairings), before

        recording, edges, before = jax.lax.map(record, conditions)
        return cls(
            conditions,
            *rows,
            recording=recording,
            pulse_edges=edges,
            uepsp_before=before,
            n_pairings=n_pairings,
            settings=settings,
            **kwargs,
        )

    def readouts(self, model: SpineModel) -> ConditionReadouts:
        if model.rule is None or model.expression is None:
            raise ValueError("ReplayPredictor needs a model with a rule and an expression model")
        duration = FIRST_PAIRING + self.n_pairings * PERIOD + self.readout_delay

        def one(condition, recording, edges, before):
            in_condition = model_in_condition(model, condition)
            period = jnp.asarray(PERIOD)
            repeated = RepeatedSignals(recording, period, self.n_pairings)
            expression = replay(
                in_condition,
                lambda t: repeated(t)[0],
                duration,
                calcium_drive=lambda t: repeated(t)[1],
                quiet_from=self.n_pairings * period,
                jump_ts=edges,
                rtol=self.rtol,
                atol=self.atol,
                checkpoints=self.checkpoints,
            ).expression
            uepsp = any(kind in self.row_readout for kind in ("uepsp", "length_constant"))
            return _measure(in_condition, condition, expression, before, self.settings, uepsp=uepsp)

        return jax.vmap(one)(self.conditions, self.recording, self.pulse_edges, self.uepsp_before)


def default_fit_parameters() -> list[Parameter]:
    """The rule and expression parameters `plastic fit` moves by default, with their bounds:
    the calcium sensitivities of Ca-CaM, CaMKII, CaN and PKA (where LTD starts, the neutral
    band, where LTP starts) and CaMKII's activation rate, the slow LTD branch (PP1 release,
    DAPK1 dephosphorylation), the GluN2B occupancies at which insertion and removal are
    half-driven, the expression's trafficking and remodelling rates, how much insertion needs
    actin and the activity-driven receptor cycling (latrunculin-A), the reach, threshold and
    steepness of the messenger that couples neighbouring spines and of the depression veto,
    and the temperature dependence of the cascade's rates and calcium sensitivity (the 32 degC
    rows: `SpineModel.plasticity_q10`, `SpineModel.calcium_sensitivity_q10`). The rule's own
    ``k_insert``/``k_remove`` are left out: they move only its ``weight``, which the
    expression does not read; so are the calcium store's parameters (the paper's calcium
    data are ratios, not concentrations). Every default value of `tazerart_model` lies inside
    its bounds."""
    rates = dict(log=True, unit="1/ms")
    return [
        Parameter("rule.cam_half", 0.5, 40.0, log=True, unit="uM"),
        Parameter("rule.camkii_half", 0.01, 0.9, log=True),
        Parameter("rule.can_half", 1e-9, 0.1, log=True),
        Parameter("rule.pka_half", 1e-4, 0.5, log=True),
        Parameter("rule.k_pp1_act", 1e-6, 1e-3, **rates),
        Parameter("rule.k_dapk1_dephos", 1e-6, 1e-2, **rates),
        Parameter("rule.insert_half", 0.01, 0.99, log=True),
        Parameter("rule.remove_half", 0.01, 0.99, log=True),
        Parameter("rule.k_camkii_act", 1e-4, 0.1, **rates),
        Parameter("expression.k_insert", 1e-7, 1e-3, **rates),
        Parameter("expression.k_remove", 1e-7, 1e-3, **rates),
        Parameter("expression.k_neck", 1e-8, 1e-3, **rates),
        Parameter("expression.neck_min", 0.2, 0.99),
        Parameter("expression.k_head", 1e-9, 1e-4, **rates),
        Parameter("expression.actin_dependence", 0.0, 1.0),
        Parameter("expression.k_cycle", 1e-7, 1e-3, **rates),
        Parameter("coupling.length_constant", 0.5, 50.0, log=True, unit="um"),
        Parameter("coupling.half_activation", 1e-3, 3.0, log=True),
        Parameter("coupling.hill", 1.0, 20.0),
        Parameter("coupling.veto_length_constant", 2.0, 200.0, log=True, unit="um"),
        Parameter("coupling.veto_half_activation", 1e-5, 1.0, log=True),
        Parameter("coupling.veto_hill", 1.0, 12.0),
        Parameter("plasticity_q10", 0.5, 6.0, log=True),
        Parameter("calcium_sensitivity_q10", 0.5, 4.0, log=True),
    ]


REPLAY_FITTABLE = (
    "calcium_store.",
    "rule.",
    "expression.",
    "coupling.",
    "plasticity_q10",
    "calcium_sensitivity_q10",
)
"""Path prefixes of the parameters a `ReplayPredictor` fit may move (the biophysics is fixed by
its recording)."""


def check_replay_parameters(paths) -> None:
    """Raise a ValueError naming any path a replay fit cannot move (see `REPLAY_FITTABLE`)."""
    bad = [path for path in paths if not path.startswith(REPLAY_FITTABLE)]
    if bad:
        fittable = ", ".join(p + "*" if p.endswith(".") else p for p in REPLAY_FITTABLE)
        raise ValueError(
            f"a replay fit moves only {fittable} (the biophysics is recorded "
            f"once); got {bad}: use --mode coupled to fit them"
        )


def predict(model: SpineModel, data: Measurements, **kwargs) -> Float[Array, " n_rows"]:
    """One prediction per row of ``data`` (see `TazerartPredictor`); ``data`` concrete."""
    return TazerartPredictor.from_data(data, **kwargs)(model)
