"""Tazerart, Mitchell, Miranda-Rottmann & Araya 2020 (Nat Commun 11:4276; seed 000): STDP at
single, clustered and distributed spines of L5 basal dendrites by glutamate uncaging paired
with a somatic current, with drugs and at 32 degC; uEPSP, neck length and head volume 15-25 min
later, and the eq. 2 length constant of the uEPSP change over inter-spine distance.

The model (`tazerart_model`): two spines on a dendrite, kinase competition, AMPAR trafficking
and actin remodelling, a messenger and a depression veto coupling the spines. The experiment
(`TazerartExperiment`) runs a condition coupled or replayed. The data (`tazerart2020_data`) are
the paper's rows with its distance classes mapped to distances; the paper's record as
transcribed (`paper_results`, `paper_findings`, `paper_properties`) is what they are read from.
"""

from plastic.studies.study import RuleChoice, Study
from plastic.studies.tazerart2020.data import UNBOUNDED_DISTANCE_MARGIN as UNBOUNDED_DISTANCE_MARGIN
from plastic.studies.tazerart2020.data import row_distance as row_distance
from plastic.studies.tazerart2020.data import tazerart2020_data as tazerart2020_data
from plastic.studies.tazerart2020.experiment import CALCIUM_READOUTS as CALCIUM_READOUTS
from plastic.studies.tazerart2020.experiment import FIELDS as FIELDS
from plastic.studies.tazerart2020.experiment import (
    LENGTH_CONSTANT_DISTANCES as LENGTH_CONSTANT_DISTANCES,
)
from plastic.studies.tazerart2020.experiment import READOUTS as READOUTS
from plastic.studies.tazerart2020.experiment import SITES as SITES
from plastic.studies.tazerart2020.experiment import LengthConstant as LengthConstant
from plastic.studies.tazerart2020.experiment import Measured as Measured
from plastic.studies.tazerart2020.experiment import PairingCalcium as PairingCalcium
from plastic.studies.tazerart2020.experiment import TazerartExperiment as TazerartExperiment
from plastic.studies.tazerart2020.findings import Finding as Finding
from plastic.studies.tazerart2020.imaging import imaged_conditions as imaged_conditions
from plastic.studies.tazerart2020.imaging import imaged_signals as imaged_signals
from plastic.studies.tazerart2020.imaging import imaging_data as imaging_data
from plastic.studies.tazerart2020.imaging import imaging_index as imaging_index
from plastic.studies.tazerart2020.imaging import imaging_table as imaging_table
from plastic.studies.tazerart2020.imaging import index_verdict as index_verdict
from plastic.studies.tazerart2020.imaging import with_indicator as with_indicator
from plastic.studies.tazerart2020.model import FIRST_SPINE_POSITION as FIRST_SPINE_POSITION
from plastic.studies.tazerart2020.model import FITTED_PARAMETERS as FITTED_PARAMETERS
from plastic.studies.tazerart2020.model import NEIGHBOUR_DISTANCE as NEIGHBOUR_DISTANCE
from plastic.studies.tazerart2020.model import NMDA_TAU_RISE as NMDA_TAU_RISE
from plastic.studies.tazerart2020.model import default_fit_parameters as default_fit_parameters
from plastic.studies.tazerart2020.model import tazerart_model as tazerart_model
from plastic.studies.tazerart2020.physiological import MAX_HILL as MAX_HILL
from plastic.studies.tazerart2020.physiological import (
    PHYSIOLOGICAL_FITTED_PARAMETERS as PHYSIOLOGICAL_FITTED_PARAMETERS,
)
from plastic.studies.tazerart2020.physiological import (
    physiological_tazerart_model as physiological_tazerart_model,
)
from plastic.studies.tazerart2020.physiological import (
    robust_fit_parameters as robust_fit_parameters,
)
from plastic.studies.tazerart2020.properties import Property as Property
from plastic.studies.tazerart2020.protocol import DRUG_NAMES as DRUG_NAMES
from plastic.studies.tazerart2020.protocol import DRUGS as DRUGS
from plastic.studies.tazerart2020.protocol import FIRST_PAIRING as FIRST_PAIRING
from plastic.studies.tazerart2020.protocol import PERIOD as PERIOD
from plastic.studies.tazerart2020.protocol import READOUT_DELAY as READOUT_DELAY
from plastic.studies.tazerart2020.protocol import ConditionReadouts as ConditionReadouts
from plastic.studies.tazerart2020.protocol import ImagedCalcium as ImagedCalcium
from plastic.studies.tazerart2020.protocol import induction_protocol as induction_protocol
from plastic.studies.tazerart2020.protocol import model_in_condition as model_in_condition
from plastic.studies.tazerart2020.protocol import run_condition as run_condition
from plastic.studies.tazerart2020.protocol import uepsp_amplitude as uepsp_amplitude
from plastic.studies.tazerart2020.record import paper_findings as paper_findings
from plastic.studies.tazerart2020.record import paper_properties as paper_properties
from plastic.studies.tazerart2020.record import paper_results as paper_results
from plastic.studies.tazerart2020.results import RECORD_DRUGS as RECORD_DRUGS
from plastic.studies.tazerart2020.results import PaperResult as PaperResult

STUDY = Study(
    name="tazerart2020",
    citation="Tazerart S, Mitchell DE, Miranda-Rottmann S, Araya R (2020) Nat Commun 11:4276",
    experiment=TazerartExperiment(),
    data_file="tazerart2020_data",
    rules={
        "kinase-competition": RuleChoice(
            model=tazerart_model,
            parameters=default_fit_parameters,
            description="kinase competition with AMPAR trafficking, actin remodelling and "
            "coupling between spines, from the shipped fit (FITTED_PARAMETERS)",
        ),
        "kinase-competition-physiological": RuleChoice(
            model=physiological_tazerart_model,
            parameters=robust_fit_parameters,
            description="the same on physiological spine calcium (physiological_calcium), "
            "Hill coefficients at most 6 (PHYSIOLOGICAL_FITTED_PARAMETERS)",
        ),
    },
    load=tazerart2020_data,
    fitted_by_default={"readout": ("uepsp", "neck_length", "head_volume")},
)
"""The study: coupled by default (``plastic fit`` replays unless ``--mode coupled``)."""
