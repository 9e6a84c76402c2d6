"""The numbers behind the model-vs-data figures of Tazerart et al. 2020
(``experiments/tazerart_figures.py``): the conditions of every panel as rows that one
`plastic.experiment.Predictor` of `TazerartExperiment` predicts, and what the panels read from
its solves (`Panels.read`).

Conditions and distances are those of `tazerart2020_data`: a data row's distance class is
represented by its middle (``distance_min + UNBOUNDED_DISTANCE_MARGIN`` for an open class);
single-spine conditions keep the unstimulated neighbour at `NEIGHBOUR_DISTANCE`. The tables and
statistics made of the predictions are in `plastic.studies.tazerart2020.comparison`.
"""

import dataclasses
import math

import numpy as np

from plastic.experiment import DataSet, Predictor, dataset_from_records
from plastic.studies.tazerart2020.comparison import ROOM_TEMPERATURE, accumulation_index
from plastic.studies.tazerart2020.data import tazerart2020_data
from plastic.studies.tazerart2020.experiment import CALCIUM_READOUTS
from plastic.studies.tazerart2020.model import NEIGHBOUR_DISTANCE

SINGLE_SPINE_DELTA_TS = (13.0, 7.0, -15.0, -23.0)
"""ms, Figs. 1-2."""
DISTANCE_DELTA_TS = (7.0, -15.0)
"""ms, Figs. 3e and 5e."""
PLASTICITY_READOUTS = ("uepsp", "neck_length", "head_volume")
CALCIUM_PROTOCOLS = (
    ("single +7 ms", 7.0, None),
    ("clustered +7 ms", 7.0, "clustered +7 ms"),
    ("single +13 ms", 13.0, None),
    ("single -15 ms", -15.0, None),
    ("clustered -15 ms", -15.0, "clustered -15 ms"),
)
"""The five imaged protocols of Figs. 6-8: label, delta_t (ms), the data condition whose
distance class the clustered pair takes (None: one spine)."""
DRUG_CONDITIONS = ("clustered +7 ms", "clustered +7 ms PEP1-TGL", "clustered +7 ms Lat-A")
"""The data conditions of the drug panel (uEPSP, neck, head)."""
PANEL_SOURCE = "no data: a condition of a figure panel"
"""The ``source`` of the rows that only carry a panel's condition; their ``mean`` of 100 %
(no change) is a placeholder, not a measurement."""


def panel_label(delta_t: float, n_spines_uncaged: int, distance: float, drug: str) -> str:
    """The ``condition`` label of a panel's row (delta_t ms, distance um); exact, so that two
    conditions have one label only when they are one condition."""
    delta_t, distance = float(delta_t), float(distance)
    return f"panel: {delta_t!r} ms, {int(n_spines_uncaged)} spine(s), {distance!r} um, {drug}"


def _record(data: DataSet, row: int) -> dict:
    """Row ``row`` of ``data`` as a record for `dataset_from_records`."""
    return {
        **{name: values[row] for name, values in data.label_columns().items()},
        "mean": float(data.mean[row]),
        "sem": float(data.sem[row]),
        "n": float(data.n[row]),
        "source": data.source[row],
        "note": data.note[row],
    }


@dataclasses.dataclass(frozen=True)
class Panels:
    """The conditions of the figures.

    Attributes:
        distances: um between two spines, for the distance curves at `DISTANCE_DELTA_TS`.
        delta_ts: ms, the heatmap's columns. heatmap_distances: um, its rows.
        data: the paper's rows as conditions (`tazerart2020_data`).
    """

    distances: tuple[float, ...]
    delta_ts: tuple[float, ...]
    heatmap_distances: tuple[float, ...]
    data: DataSet = dataclasses.field(default_factory=tazerart2020_data)

    def calcium_conditions(self) -> dict[str, tuple]:
        """The imaged protocols as (delta_t, n_spines_uncaged, distance, drug); a clustered
        pair sits at the distance of its data condition's uEPSP row."""
        out = {}
        for label, delta_t, distance_from in CALCIUM_PROTOCOLS:
            if distance_from is None:
                out[label] = (delta_t, 1, NEIGHBOUR_DISTANCE, "none")
            else:
                row = self.data.select(condition=distance_from, readout="uepsp")
                out[label] = (delta_t, 2, float(row.column("distance")[0]), "none")
        return out

    def conditions(self, *, heatmap: bool = True, imaging: bool = True) -> list[tuple]:
        """Every condition of a panel, (delta_t, n_spines_uncaged, distance, drug), in order:
        the distance curves, the one-spine references, the heatmap (by distance, then delta_t;
        left out without ``heatmap``), AP5 at -15 ms, the imaged protocols (left out without
        ``imaging``)."""
        curves = [(d, 2, x, "none") for d in DISTANCE_DELTA_TS for x in self.distances]
        singles = [(d, 1, NEIGHBOUR_DISTANCE, "none") for d in DISTANCE_DELTA_TS]
        grid = [(d, 2, x, "none") for x in self.heatmap_distances for d in self.delta_ts]
        ap5 = [(-15.0, 1, NEIGHBOUR_DISTANCE, "AP5")]
        imaged = list(self.calcium_conditions().values())
        return curves + singles + grid * heatmap + ap5 + imaged * imaging

    def rows(self, *, heatmap: bool = True, imaging: bool = True) -> DataSet:
        """What one predictor predicts for all panels: every data row but the length
        constants (eq. 2 is fitted to the model's distance curves instead), then one uEPSP row
        per distinct panel condition (`PANEL_SOURCE`; `conditions` says what the flags leave
        out: the bands leave out the heatmap and the imaged protocols)."""
        data = self.data
        records = [
            _record(data, i) for i in range(data.n_rows) if data.readout[i] != "length_constant"
        ]
        panel = {}
        for delta_t, n_spines, distance, drug in self.conditions(heatmap=heatmap, imaging=imaging):
            label = panel_label(delta_t, n_spines, distance, drug)
            panel[label] = dict(
                condition=label,
                readout="uepsp",
                delta_t=float(delta_t),
                n_spines_uncaged=n_spines,
                distance=float(distance),
                drug=drug,
                temperature=ROOM_TEMPERATURE,
                mean=100.0,
                sem=math.nan,
                n=math.nan,
                unit="%",
                source=PANEL_SOURCE,
            )
        return dataset_from_records([*records, *panel.values()], where="the figures' rows")

    def read(self, rows: DataSet, predictor: Predictor, values: dict) -> dict:
        """What the panels show, from ``values`` (`Predictor.condition_values` of the
        ``predictor`` of `rows`, with its rows' readouts and `CALCIUM_READOUTS`): ``records``
        (one per data row: labels, mean, SEM (NaN if not given), prediction), ``curves``
        (delta_t -> uEPSP % at each of `distances`), ``single`` (delta_t -> one-spine uEPSP
        %), ``heatmap`` (``(n_heatmap_distances, n_delta_ts)`` uEPSP %), ``ap5`` (uEPSP %)
        and ``traces`` (label -> the activated spine's calcium, uM, and its accumulation
        indices)."""
        predictions = np.asarray(predictor.predictions_from(values))
        row_of = {
            label: i for i, label in enumerate(rows.condition) if rows.source[i] == PANEL_SOURCE
        }

        def uepsp(delta_t, n_spines, distance, drug="none"):
            return float(predictions[row_of[panel_label(delta_t, n_spines, distance, drug)]])

        records = [
            dict(
                condition=rows.condition[i],
                readout=rows.readout[i],
                site=rows.site[i],
                unit=rows.unit[i],
                mean=float(rows.mean[i]),
                sem=float(rows.sem[i]),
                prediction=float(predictions[i]),
            )
            for i in range(rows.n_rows)
            if rows.source[i] != PANEL_SOURCE
        ]
        traces = {}
        for label, condition in self.calcium_conditions().items():
            index = predictor.row_condition[row_of[panel_label(*condition)]]
            trace = {
                readout.name.replace("_calcium", ""): np.asarray(values[readout.name])[index, :, 0]
                for readout in sorted(CALCIUM_READOUTS, key=lambda r: r.name)
            }
            trace["accumulation_index"] = accumulation_index(trace["head_before"])
            trace["dendrite_accumulation_index"] = accumulation_index(trace["dendrite_before"])
            traces[label] = trace
        return dict(
            records=records,
            curves={
                d: np.array([uepsp(d, 2, x) for x in self.distances]) for d in DISTANCE_DELTA_TS
            },
            single={d: uepsp(d, 1, NEIGHBOUR_DISTANCE) for d in DISTANCE_DELTA_TS},
            heatmap=np.array(
                [[uepsp(d, 2, x) for d in self.delta_ts] for x in self.heatmap_distances]
            ),
            ap5=uepsp(-15.0, 1, NEIGHBOUR_DISTANCE, "AP5"),
            traces=traces,
        )

    def read_bands(self, rows: DataSet, predictions, level: float = 0.95) -> dict:
        """Bands of what the plasticity panels show, over draws of the fitted parameters.

        Args:
            rows: `rows` (without the heatmap and the imaged protocols, for speed).
            predictions: ``(n_draws, n_rows)``, the predictions of ``rows`` at each draw
                (NaN where a draw's solve failed: left out of the quantiles).
            level: the central interval's probability.

        Returns:
            ``records``: ``(low, high)`` per data row, in the order of `read`'s records;
            ``curves``: delta_t -> ``(low, high)`` at each of `distances`; ``curve_draws``:
            delta_t -> ``(n_draws, n_distances)``, each draw's curve (for eq. 2 per draw);
            ``single``: delta_t -> ``(low, high)`` of the one-spine reference.
        """
        predictions = np.asarray(predictions, float)
        if predictions.ndim != 2 or predictions.shape[1] != rows.n_rows:
            raise ValueError(
                f"predictions must be (n_draws, {rows.n_rows}) for these rows; got "
                f"{predictions.shape}"
            )
        tail = 50.0 * (1.0 - level)

        def band(columns):
            low, high = np.nanpercentile(predictions[:, columns], [tail, 100.0 - tail], axis=0)
            return low, high

        row_of = {
            label: i for i, label in enumerate(rows.condition) if rows.source[i] == PANEL_SOURCE
        }
        data_rows = [i for i in range(rows.n_rows) if rows.source[i] != PANEL_SOURCE]
        low, high = band(data_rows)
        curve_rows = {
            d: [row_of[panel_label(d, 2, x, "none")] for x in self.distances]
            for d in DISTANCE_DELTA_TS
        }
        single_rows = {
            d: row_of[panel_label(d, 1, NEIGHBOUR_DISTANCE, "none")] for d in DISTANCE_DELTA_TS
        }
        return dict(
            records=list(zip(low.tolist(), high.tolist())),
            curves={d: band(curve_rows[d]) for d in DISTANCE_DELTA_TS},
            curve_draws={d: predictions[:, curve_rows[d]] for d in DISTANCE_DELTA_TS},
            single={d: tuple(float(x) for x in band(single_rows[d])) for d in DISTANCE_DELTA_TS},
        )
