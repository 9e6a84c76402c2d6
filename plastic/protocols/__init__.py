"""Stimulation protocols as fixed-shape, padded arrays (pytrees), so that protocols with
different event counts batch under `jax.vmap`.

- `Protocol`: uncaging pulses at spine heads, current pulses at the soma and an optional
  `VoltageClamp` of the soma or a dendritic site, for the spine model (`pairing_protocol`, the
  seed's; `event_protocol`, any event lists; `spike_train_protocol`, any `SpikeTrains` as
  synaptic glutamate and somatic spikes; `current_steps`).
- `SpikeTrains`: pre- and postsynaptic spike times, for rules driven by spikes (`spike_pairs`,
  `burst_pairs`, `spike_triplets`, `spike_quadruplets`, `presynaptic_train`, `poisson_trains`,
  `spike_lists`; `rate_trains`: repeated Poisson or regular trains at given rates).
"""

from plastic.protocols.rate_trains import PATTERNS as PATTERNS
from plastic.protocols.rate_trains import rate_trains as rate_trains
from plastic.protocols.rate_trains import spike_capacity as spike_capacity
from plastic.protocols.spike_trains import SpikeTrains as SpikeTrains
from plastic.protocols.spike_trains import burst_pairs as burst_pairs
from plastic.protocols.spike_trains import poisson_trains as poisson_trains
from plastic.protocols.spike_trains import presynaptic_train as presynaptic_train
from plastic.protocols.spike_trains import spike_lists as spike_lists
from plastic.protocols.spike_trains import spike_pairs as spike_pairs
from plastic.protocols.spike_trains import spike_quadruplets as spike_quadruplets
from plastic.protocols.spike_trains import spike_triplets as spike_triplets
from plastic.protocols.spine_stimuli import current_steps as current_steps
from plastic.protocols.spine_stimuli import spike_train_protocol as spike_train_protocol
from plastic.protocols.uncaging import MINUTE as MINUTE
from plastic.protocols.uncaging import NEVER as NEVER
from plastic.protocols.uncaging import Drive as Drive
from plastic.protocols.uncaging import Protocol as Protocol
from plastic.protocols.uncaging import event_protocol as event_protocol
from plastic.protocols.uncaging import pairing_protocol as pairing_protocol
from plastic.protocols.voltage_clamp import VoltageClamp as VoltageClamp
