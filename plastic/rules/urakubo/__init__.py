"""Urakubo, Honda, Froemke & Kuroda (2008): a biochemical model of a dendritic spine (allosteric
NMDAR, VGCC, CaM, CaMKII, CaN, AC1/cAMP/PKA, PP1/I-1, PP2A, AMPAR trafficking) as a rule.

- `plastic.rules.urakubo.reactions`: a generic reaction network as data (`ReactionNetwork`).
- `plastic.rules.urakubo.network`: the model's species and reactions (`urakubo_network`).
- `plastic.rules.urakubo.model`: `Urakubo2008` (an `AbstractRule`).
- `plastic.rules.urakubo.drive`: `UrakuboDrive` (voltage and release times), `resting_drive`.
- `plastic.rules.urakubo.interpolation`: reading sampled voltages and influxes between samples,
  linearly or as relaxations.
- `plastic.rules.urakubo.solve`: the Rodas5 and forward-Euler solves, `equilibrate`.
- `plastic.rules.urakubo.waveforms`: bAP, VGCC influx and EPSP waveforms (`SpikeWaveforms`,
  `genesis_waveforms`) that turn spike trains into a drive.
- `plastic.rules.urakubo.synapse`: `UrakuboSynapse`, the model as a spike-driven synapse.
"""

from plastic.rules.urakubo.drive import UrakuboDrive as UrakuboDrive
from plastic.rules.urakubo.drive import resting_drive as resting_drive
from plastic.rules.urakubo.model import Urakubo2008 as Urakubo2008
from plastic.rules.urakubo.network import urakubo_network as urakubo_network
from plastic.rules.urakubo.reactions import NetworkBuilder as NetworkBuilder
from plastic.rules.urakubo.reactions import Reaction as Reaction
from plastic.rules.urakubo.reactions import ReactionNetwork as ReactionNetwork
from plastic.rules.urakubo.solve import equilibrate as equilibrate
from plastic.rules.urakubo.solve import euler_solve as euler_solve
from plastic.rules.urakubo.solve import solve_urakubo as solve_urakubo
from plastic.rules.urakubo.synapse import UrakuboSynapse as UrakuboSynapse
from plastic.rules.urakubo.waveforms import SpikeWaveforms as SpikeWaveforms
from plastic.rules.urakubo.waveforms import genesis_waveforms as genesis_waveforms
