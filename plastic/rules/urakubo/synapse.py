"""The Urakubo model as a spike-driven synapse: spike trains in, the trapped-AMPAR ratio out.

With it every spike-train protocol of the experiment layer runs the Urakubo model as it runs any
`AbstractSpikeDrivenSynapse` (the STDP curve is a `plastic.experiment.SpikePairingExperiment`,
the rate and Poisson protocols a `plastic.experiment.SpikeTrainExperiment`), and a cheaper rule
can be fitted to its weight changes with `plastic.fit`.
"""

import dataclasses

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.protocols.spike_trains import SpikeTrains
from plastic.rosenbrock import Rodas5
from plastic.rules._validation import check_range
from plastic.rules.spike_driven import AbstractSpikeDrivenSynapse
from plastic.rules.urakubo.drive import UrakuboDrive
from plastic.rules.urakubo.interpolation import check_interpolation
from plastic.rules.urakubo.model import Urakubo2008
from plastic.rules.urakubo.network import GO_CYTOSOLIC_PUMP, urakubo_network
from plastic.rules.urakubo.solve import equilibrate, solve_urakubo
from plastic.rules.urakubo.waveforms import SpikeWaveforms, genesis_waveforms

PUMPS = ("genesis", "go")
"""The cytosolic Ca pumps `UrakuboSynapse.at_rest` offers."""


class UrakuboSynapse(AbstractSpikeDrivenSynapse):
    """`Urakubo2008` driven by spike waveforms: at every postsynaptic spike a bAP and its VGCC
    Ca influx (prescribed, in place of the channel model), at every presynaptic spike a
    glutamate release and an EPSP (`SpikeWaveforms`), from the rule's rest state at time 0.

    Efficacy: trapped AMPAR at ``trains.duration`` over its value at rest (the rule's
    ``reference_trapped``); NaN if the solve failed (more than ``max_steps`` steps, or a step
    size collapse).

    Attributes:
        rule: the model; equilibrate it first (`plastic.rules.equilibrate`).
        waveforms: default `genesis_waveforms`.
        release_duration: ms of each glutamate pulse (0.4 uM s / the rule's
            ``glutamate_concentration``; 0.1 ms by default).
        solver: `Rodas5` (dense; `plastic.rosenbrock.with_sequential_lu` reaches it here, as
            a sweep over several CPU devices needs).
        rtol, atol: its tolerances (atol in uM).
        max_steps: its step budget.
        interpolation: how the drive's voltage and VGCC influx are read between the knots of
            the waveforms: ``"linear"``, or ``"exponential"`` (as relaxations; see
            `plastic.rules.urakubo.interpolation`, and `UrakuboDrive`). Static.
    """

    rule: Urakubo2008
    waveforms: SpikeWaveforms = eqx.field(default_factory=genesis_waveforms)
    release_duration: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.1)
    solver: Rodas5 = eqx.field(default_factory=Rodas5)
    rtol: float = eqx.field(static=True, default=1e-6)
    atol: float = eqx.field(static=True, default=1e-10)
    max_steps: int = eqx.field(static=True, default=400_000)
    interpolation: str = eqx.field(static=True, default="linear")

    def __check_init__(self):
        check_range(
            "UrakuboSynapse",
            "release_duration",
            self.release_duration,
            lower=0.0,
            lower_open=True,
            units="ms",
        )
        check_interpolation("UrakuboSynapse.interpolation", self.interpolation)
        if self.rule.prescribed_vgcc is not None:
            raise ValueError(
                "UrakuboSynapse.rule must not prescribe its VGCC influx: the synapse "
                "prescribes it from its waveforms at every postsynaptic spike"
            )

    @classmethod
    def at_rest(
        cls, pump: str = "genesis", dapk1: bool = False, rest: float = 500_000.0, **kwargs
    ) -> "UrakuboSynapse":
        """The synapse on the model after ``rest`` ms without activity (`equilibrate`; the
        GENESIS runs rest 500 s), with the cytosolic Ca pump of GENESIS (``"genesis"``, the
        model's default) or of the Go re-implementation (``"go"``, 4x faster:
        `GO_CYTOSOLIC_PUMP`), and with or without the DAPK1 variant
        (`plastic.rules.urakubo.glun2b`); ``kwargs`` set the other fields."""
        if pump not in PUMPS:
            raise ValueError(f"UrakuboSynapse.at_rest: pump must be one of {PUMPS}; got {pump!r}")
        pump_cyt = {"go": dict(pump_cyt=GO_CYTOSOLIC_PUMP), "genesis": {}}[pump]
        network = urakubo_network(dapk1=dapk1, **pump_cyt)
        return cls(equilibrate(Urakubo2008(network), duration=rest), **kwargs)

    def driven(self, trains: SpikeTrains) -> tuple[Urakubo2008, UrakuboDrive]:
        """The rule with the trains' VGCC influx prescribed, and the drive (voltage and
        releases) of ``trains``."""
        ts, voltage, vgcc_psd, vgcc_cyt = self.waveforms.drive(trains.pre, trains.post)
        rule = dataclasses.replace(
            self.rule,
            prescribed_vgcc=(ts, vgcc_psd, vgcc_cyt),
            prescribed_vgcc_interpolation=self.interpolation,
        )
        drive = UrakuboDrive(ts, voltage, trains.pre, self.release_duration, self.interpolation)
        return rule, drive

    def efficacy(self, trains: SpikeTrains) -> Float[Array, ""]:
        rule, drive = self.driven(trains)
        solution = solve_urakubo(
            rule,
            drive,
            0.0,
            trains.duration,
            rtol=self.rtol,
            atol=self.atol,
            max_steps=self.max_steps,
            solver=self.solver,
        )
        return solution.efficacy
