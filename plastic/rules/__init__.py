"""Plasticity rules, all behind `AbstractRule`."""

from plastic.rules import graupner_brunel_analytic as graupner_brunel_analytic
from plastic.rules import graupner_brunel_simulate as graupner_brunel_simulate
from plastic.rules.base import AbstractRule as AbstractRule
from plastic.rules.base import SynapseSignals as SynapseSignals
from plastic.rules.graupner_brunel import (
    GRAUPNER_BRUNEL_PARAMETER_SETS as GRAUPNER_BRUNEL_PARAMETER_SETS,
)
from plastic.rules.graupner_brunel import GraupnerBrunel as GraupnerBrunel
from plastic.rules.graupner_brunel import GraupnerBrunelCalcium as GraupnerBrunelCalcium
from plastic.rules.graupner_brunel import GraupnerBrunelState as GraupnerBrunelState
from plastic.rules.kinase_cascade import KinaseCascade as KinaseCascade
from plastic.rules.kinase_cascade import KinaseCascadeState as KinaseCascadeState
from plastic.rules.kinase_cascade import NeuronalSpikeState as NeuronalSpikeState
from plastic.rules.kinase_cascade import SpikeCalcium as SpikeCalcium
from plastic.rules.kinase_cascade import SynapticSpikeState as SynapticSpikeState
from plastic.rules.kinase_cascade import spike_driven_states as spike_driven_states
from plastic.rules.kinase_cascade import spike_weight_changes as spike_weight_changes
from plastic.rules.kinase_competition import KinaseCompetition as KinaseCompetition
from plastic.rules.kinase_competition import KinaseCompetitionState as KinaseCompetitionState
from plastic.rules.kinase_cycles import KinaseCycleSynapse as KinaseCycleSynapse
from plastic.rules.nmda_calcium import NMDACalcium as NMDACalcium
from plastic.rules.nmda_calcium import NMDACalciumSynapse as NMDACalciumSynapse
from plastic.rules.shouval import SHOUVAL_PARAMETER_SETS as SHOUVAL_PARAMETER_SETS
from plastic.rules.shouval import ShouvalBearCooper as ShouvalBearCooper
from plastic.rules.spike_driven import AbstractSpikeDrivenSynapse as AbstractSpikeDrivenSynapse
from plastic.rules.spike_driven import GraupnerBrunelSynapse as GraupnerBrunelSynapse
from plastic.rules.spike_driven import KinaseCascadeSynapse as KinaseCascadeSynapse
from plastic.rules.spike_driven import STDPSynapse as STDPSynapse
from plastic.rules.standalone import CalciumPlateau as CalciumPlateau
from plastic.rules.standalone import HermiteSignals as HermiteSignals
from plastic.rules.standalone import InterpolatedCalcium as InterpolatedCalcium
from plastic.rules.standalone import RuleSolution as RuleSolution
from plastic.rules.standalone import plateau_efficacy as plateau_efficacy
from plastic.rules.standalone import solve_rule as solve_rule
from plastic.rules.stdp import TRIPLET_STDP_PARAMETER_SETS as TRIPLET_STDP_PARAMETER_SETS
from plastic.rules.stdp import PairSTDP as PairSTDP
from plastic.rules.stdp import SpikeDetector as SpikeDetector
from plastic.rules.stdp import STDPState as STDPState
from plastic.rules.stdp import TripletSTDP as TripletSTDP
from plastic.rules.urakubo import NetworkBuilder as NetworkBuilder
from plastic.rules.urakubo import Reaction as Reaction
from plastic.rules.urakubo import ReactionNetwork as ReactionNetwork
from plastic.rules.urakubo import SpikeWaveforms as SpikeWaveforms
from plastic.rules.urakubo import Urakubo2008 as Urakubo2008
from plastic.rules.urakubo import UrakuboDrive as UrakuboDrive
from plastic.rules.urakubo import UrakuboSynapse as UrakuboSynapse
from plastic.rules.urakubo import equilibrate as equilibrate
from plastic.rules.urakubo import euler_solve as euler_solve
from plastic.rules.urakubo import genesis_waveforms as genesis_waveforms
from plastic.rules.urakubo import resting_drive as resting_drive
from plastic.rules.urakubo import solve_urakubo as solve_urakubo
from plastic.rules.urakubo import urakubo_network as urakubo_network
from plastic.rules.xcal import Xcal as Xcal
from plastic.rules.xcal import xcal as xcal
