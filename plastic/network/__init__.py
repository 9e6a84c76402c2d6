"""Plasticity rules inside spiking networks: a plastic synapse layer, neurons, learning episodes."""

from plastic.network.feedforward import Episode as Episode
from plastic.network.feedforward import FeedforwardNetwork as FeedforwardNetwork
from plastic.network.feedforward import NetworkState as NetworkState
from plastic.network.feedforward import Response as Response
from plastic.network.neurons import AbstractNeurons as AbstractNeurons
from plastic.network.neurons import LIFNeurons as LIFNeurons
from plastic.network.neurons import LIFState as LIFState
from plastic.network.scan import checkpointed_scan as checkpointed_scan
from plastic.network.signals import AbstractSpikeSignals as AbstractSpikeSignals
from plastic.network.signals import SpikeSignals as SpikeSignals
from plastic.network.signals import SpikeTraces as SpikeTraces
from plastic.network.synapses import RESTING_VOLTAGE as RESTING_VOLTAGE
from plastic.network.synapses import PlasticSynapses as PlasticSynapses
from plastic.network.synapses import PlasticSynapsesState as PlasticSynapsesState
from plastic.network.synapses import SynapsesRun as SynapsesRun
from plastic.network.synapses import default_segment_steps as default_segment_steps
