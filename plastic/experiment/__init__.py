"""The experiment layer that fit, sweep and the command line share.

data = load_dataset("my_bursts.csv")                  # tidy rows: conditions, readout, mean, SEM
experiment = SpikePairingExperiment()                 # condition fields, readouts, how to run
predictor = Predictor.from_data(experiment, data)     # distinct conditions, batched
objective = plastic.fit.Objective(predictor, data)    # chi-square, for plastic.fit.fit

Experiments here: `SpikePairingExperiment`, `RateTrainExperiment` (Poisson or regular trains at
given rates) and `VoltageClampExperiment` (spike-driven rules, and the spine model through
`SpineSynapse`), `SpinePairingExperiment` (the uncaging pairing protocol
on a `plastic.model.SpineModel`, read out by `AbstractSpineReadout`s), `SpineCalciumExperiment`
(spine-head calcium of one AP, one uncaging and one pairing, for the physiology); each study in
`plastic.studies` defines its own.
"""

from plastic.experiment.dataset import DataSet as DataSet
from plastic.experiment.dataset import dataset_from_records as dataset_from_records
from plastic.experiment.dataset import load_dataset as load_dataset
from plastic.experiment.dataset import save_dataset as save_dataset
from plastic.experiment.experiment import AbstractAcrossConditions as AbstractAcrossConditions
from plastic.experiment.experiment import AbstractExperiment as AbstractExperiment
from plastic.experiment.experiment import AbstractReadout as AbstractReadout
from plastic.experiment.experiment import Cell as Cell
from plastic.experiment.experiment import Condition as Condition
from plastic.experiment.experiment import ConditionField as ConditionField
from plastic.experiment.indicator_readouts import INDICATOR_PER_PAIRING as INDICATOR_PER_PAIRING
from plastic.experiment.indicator_readouts import IndicatorIndex as IndicatorIndex
from plastic.experiment.indicator_readouts import IndicatorPerPairing as IndicatorPerPairing
from plastic.experiment.indicator_readouts import delta_g_over_r_index as delta_g_over_r_index
from plastic.experiment.population import PopulationPredictor as PopulationPredictor
from plastic.experiment.population import draw_members as draw_members
from plastic.experiment.predictor import Predictor as Predictor
from plastic.experiment.rate_trains import RATE_TRAIN_FIELDS as RATE_TRAIN_FIELDS
from plastic.experiment.rate_trains import RateTrainExperiment as RateTrainExperiment
from plastic.experiment.spike_pairing import SPIKE_PAIRING_FIELDS as SPIKE_PAIRING_FIELDS
from plastic.experiment.spike_pairing import Efficacy as Efficacy
from plastic.experiment.spike_pairing import SpikePairingExperiment as SpikePairingExperiment
from plastic.experiment.spine_calcium import SPINE_CALCIUM_FIELDS as SPINE_CALCIUM_FIELDS
from plastic.experiment.spine_calcium import SPINE_CALCIUM_READOUTS as SPINE_CALCIUM_READOUTS
from plastic.experiment.spine_calcium import SpineCalciumExperiment as SpineCalciumExperiment
from plastic.experiment.spine_calcium import SpineCalciumTraces as SpineCalciumTraces
from plastic.experiment.spine_pairing import DEFAULT_DISTANCE as DEFAULT_DISTANCE
from plastic.experiment.spine_pairing import SPINE_PAIRING_FIELDS as SPINE_PAIRING_FIELDS
from plastic.experiment.spine_pairing import SPINE_READOUTS as SPINE_READOUTS
from plastic.experiment.spine_pairing import SpinePairingExperiment as SpinePairingExperiment
from plastic.experiment.spine_readouts import AFTER_PAIRING_DELAY as AFTER_PAIRING_DELAY
from plastic.experiment.spine_readouts import CALCIUM_PER_PAIRING as CALCIUM_PER_PAIRING
from plastic.experiment.spine_readouts import (
    AbstractCalciumAfterLastPairing as AbstractCalciumAfterLastPairing,
)
from plastic.experiment.spine_readouts import AbstractSpineReadout as AbstractSpineReadout
from plastic.experiment.spine_readouts import CalciumPerPairing as CalciumPerPairing
from plastic.experiment.spine_readouts import DendriteCalciumAfter as DendriteCalciumAfter
from plastic.experiment.spine_readouts import FinalEfficacy as FinalEfficacy
from plastic.experiment.spine_readouts import HeadCalciumAfter as HeadCalciumAfter
from plastic.experiment.spine_readouts import PairingSimulation as PairingSimulation
from plastic.experiment.spine_readouts import PeakHeadCalcium as PeakHeadCalcium
from plastic.experiment.spine_readouts import (
    dendrite_calcium_at_spines as dendrite_calcium_at_spines,
)
from plastic.experiment.spine_synapse import SpineSynapse as SpineSynapse
from plastic.experiment.voltage_clamp import VOLTAGE_CLAMP_FIELDS as VOLTAGE_CLAMP_FIELDS
from plastic.experiment.voltage_clamp import VoltageClampExperiment as VoltageClampExperiment
