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
``uepsp_initial``, ``neck_length``, ``head_volume``; sites ``activated`` = the first uncaged
spine, ``neighbour`` = the other spine) to one prediction per row, simulating each distinct
condition once, batched with `jax.vmap`: the function `plastic.fit.Objective` wants.

Distances: the paper gives classes, not values. A row's distance is the middle of its
``[distance_min, distance_max]`` range, ``distance_min + UNBOUNDED_DISTANCE_MARGIN`` for an
open range, and `NEIGHBOUR_DISTANCE` for single-spine conditions (where the second spine is an
unstimulated neighbour).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from plastic.data.measurements import Measurements
from plastic.expression import Drugs, TraffickingAndRemodelling
from plastic.geometry import Geometry, Spines
from plastic.model import SpineModel, SpineState
from plastic.protocols import MINUTE, NEVER, pairing_protocol
from plastic.readouts import percent_change
from plastic.rules import KinaseCompetition
from plastic.simulate import SolverSettings, simulate

FIRST_SPINE_POSITION = 40.0
"""um from the soma: the middle of the 10-80 um range of the seed's basal spines."""
NEIGHBOUR_DISTANCE = 3.0
"""um between the uncaged spine and its unstimulated neighbour in single-spine conditions."""
UNBOUNDED_DISTANCE_MARGIN = 15.0
"""um added to ``distance_min`` for an open-ended distance class ("> 5 um")."""
READOUT_DELAY = 20.0 * MINUTE
"""Quiet time after the last pairing before the readouts (the paper: 15-25 min)."""
TEST_UNCAGING_WINDOW = 60.0
"""ms of somatic recording after a test uncaging, in which the uEPSP peak is found."""

_DRUG_COLUMN = {"none": None, "PEP1-TGL": "pep1_tgl", "latrunculin-A": "latrunculin", "AP5": "ap5"}
_READOUTS = ("uepsp", "uepsp_initial", "neck_length", "head_volume")


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


def tazerart_model() -> SpineModel:
    """The default spine model of the seed experiments: two spines, kinase competition rule,
    AMPAR trafficking and actin remodelling."""
    positions = (FIRST_SPINE_POSITION, FIRST_SPINE_POSITION + NEIGHBOUR_DISTANCE)
    return SpineModel(
        geometry=Geometry(spines=Spines(position=positions)),
        rule=KinaseCompetition(),
        expression=TraffickingAndRemodelling(),
    )


def _in_condition(model: SpineModel, condition: Condition) -> SpineModel:
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
        final_state: the model state at the readout time.
    """

    uepsp_initial: Float[Array, ""]
    uepsp: Float[Array, ""]
    neck_length: Float[Array, " n_spines"]
    head_volume: Float[Array, " n_spines"]
    final_state: SpineState


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
    model = _in_condition(model, condition)
    protocol = pairing_protocol(
        condition.delta_t,
        n_pairings=n_pairings,
        uncaged_spines=(0, 1),
        n_spines=model.n_spines,
        quiet=readout_delay,
    )
    protocol = _mask_second_spine(protocol, condition.two_spines)
    final = simulate(model, protocol, settings=settings).final_state
    baseline_model = model.expressed(model.resting_state())
    after_model = model.expressed(final)
    # expressed() already applied the drugs; the test recordings must not apply them twice.
    baseline_model, after_model = (
        eqx.tree_at(lambda m: m.drugs, m, Drugs()) for m in (baseline_model, after_model)
    )
    before = uepsp_amplitude(baseline_model, condition.two_spines, settings)
    after = uepsp_amplitude(after_model, condition.two_spines, settings)
    return ConditionReadouts(
        uepsp_initial=before,
        uepsp=percent_change(after, before),
        neck_length=100.0 * final.expression.neck,
        head_volume=100.0 * final.expression.head,
        final_state=final,
    )


def _row_distance(row_min, row_max, two_spines):
    if not two_spines:
        return NEIGHBOUR_DISTANCE
    if np.isfinite(row_max):
        return 0.5 * (row_min + row_max)
    return row_min + UNBOUNDED_DISTANCE_MARGIN


def _drugs_for(drug: str) -> Drugs:
    blocked = _DRUG_COLUMN[drug]
    return Drugs(**({blocked: 1.0} if blocked else {}))


def conditions_of(data: Measurements) -> tuple[Condition, np.ndarray]:
    """The distinct conditions of ``data``'s rows, batched along a leading axis, and for each
    row the index of its condition. ``data`` must be concrete (not traced).

    Raises:
        ValueError: for a row whose readout or drug the predictor does not model.
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
    keys, index = {}, []
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
        key = (
            float(delta_t[i]),
            two_spines,
            _row_distance(distance_min[i], distance_max[i], two_spines),
            data.drug[i],
            float(temperature[i]),
        )
        index.append(keys.setdefault(key, len(keys)))
    columns = list(zip(*keys))
    conditions = Condition(
        delta_t=jnp.asarray(columns[0], dtype=float),
        two_spines=jnp.asarray(columns[1], dtype=float),
        distance=jnp.asarray(columns[2], dtype=float),
        drugs=jax.tree.map(lambda *x: jnp.stack(x), *[_drugs_for(d) for d in columns[3]]),
        temperature=jnp.asarray(columns[4], dtype=float),
    )
    return conditions, np.asarray(index)


class TazerartPredictor(eqx.Module):
    """``predictor(model, data) -> (n_rows,)`` predictions for the rows it was built from, in
    each row's unit (% of baseline, or mV for ``uepsp_initial``): the ``predict`` of
    `plastic.fit.Objective`. Each distinct condition is simulated once (vmapped).

    Build it with `TazerartPredictor.from_data` on concrete data, outside `jax.jit`.

    Attributes:
        conditions: the distinct conditions, batched.
        row_condition: per row, the index of its condition (static).
        row_spine: per row, 0 for the first uncaged spine, 1 for its neighbour (static).
        row_readout: per row, the readout name (static).
        n_pairings: pairings of the induction protocol (40 in the paper).
        readout_delay: ms of quiet before the readouts.
        settings: the solver settings.
    """

    conditions: Condition
    row_condition: tuple[int, ...] = eqx.field(static=True)
    row_spine: tuple[int, ...] = eqx.field(static=True)
    row_readout: tuple[str, ...] = eqx.field(static=True)
    n_pairings: int = eqx.field(static=True, default=40)
    readout_delay: Float[Array, ""] = READOUT_DELAY
    settings: SolverSettings | None = None

    @classmethod
    def from_data(cls, data: Measurements, **kwargs) -> "TazerartPredictor":
        conditions, index = conditions_of(data)
        spine = tuple(1 if site == "neighbour" else 0 for site in data.site)
        readout = tuple(str(name) for name in data.readout)
        return cls(conditions, tuple(int(i) for i in index), spine, readout, **kwargs)

    def readouts(self, model: SpineModel) -> ConditionReadouts:
        """The readouts of every distinct condition (leading axis: condition)."""
        return jax.vmap(
            lambda condition: run_condition(
                model,
                condition,
                n_pairings=self.n_pairings,
                readout_delay=self.readout_delay,
                settings=self.settings,
            )
        )(self.conditions)

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
        return prediction


def predict(model: SpineModel, data: Measurements, **kwargs) -> Float[Array, " n_rows"]:
    """One prediction per row of ``data`` (see `TazerartPredictor`); ``data`` concrete."""
    return TazerartPredictor.from_data(data, **kwargs)(model)
