"""Spine-head calcium physiology (issue 21): the published numbers a spine model's calcium must
reproduce, and a calibrated set of the spine model's calcium biophysics.

- `spine_calcium_physiology`: `plastic/data/spine_calcium_physiology.csv` as `PhysiologyRow`s,
  each number with its condition, source and preparation; read by
  `plastic.experiment.SpineCalciumExperiment`'s readouts.
- `physiological_calcium`: a model with its calcium sources changed, each change with its
  source, so that single events and pairings come into the physiological ranges.

Not a `plastic.studies.Study` (nothing here is fitted): the defaults of `SpineModel` and
`tazerart_model` stay as they are; the seed's plasticity refitted on this calcium is
`plastic.studies.tazerart2020.physiological_tazerart_model`.
"""

from plastic.studies.spine_calcium.calibration import HEAD_VGCC_DENSITY as HEAD_VGCC_DENSITY
from plastic.studies.spine_calcium.calibration import (
    NMDA_TO_AMPA_CONDUCTANCE as NMDA_TO_AMPA_CONDUCTANCE,
)
from plastic.studies.spine_calcium.calibration import (
    physiological_calcium as physiological_calcium,
)
from plastic.studies.spine_calcium.data import PARAMETER_READOUTS as PARAMETER_READOUTS
from plastic.studies.spine_calcium.data import PhysiologyRow as PhysiologyRow
from plastic.studies.spine_calcium.data import read_physiology as read_physiology
from plastic.studies.spine_calcium.data import (
    spine_calcium_physiology as spine_calcium_physiology,
)
