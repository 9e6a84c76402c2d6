"""Spine-head calcium of single events and of one pairing: what calcium imaging of a spine
measures, for comparison with the physiology (`SpineCalciumExperiment`).

One condition runs the seed's pairing protocol (`plastic.protocols.pairing_protocol`, one
pairing, through `SpinePairingExperiment`'s condition fields) three times from rest: the
back-propagating AP alone (the uncaging removed), the uncaging alone (the somatic current set
to 0 pA) and the pairing itself. Each event thus sits at the same time in all three, so a
pairing is compared with its own two parts from the same baseline. The ``stimulus`` field says
which of them (or rest) a readout reads; the supralinearity ratio reads all three.

Readouts (all at the first uncaged spine's head, free [Ca2+]):
- ``peak_head_calcium`` (uM): the maximum of the trace.
- ``head_calcium_amplitude`` (uM): the maximum minus the resting calcium.
- ``resting_head_calcium`` (uM): the calcium at the start of the pairing, before any event.
- ``head_calcium_decay_time`` (ms): a log-linear least-squares fit of the falling phase.
- ``supralinearity`` (1): the pairing's peak excess over rest divided by the sum of the peak
  excesses of the AP alone and the uncaging alone.
- ``vgcc_calcium_entry``, ``nmda_calcium_entry`` (uM): calcium that entered the head through
  its VGCCs / NMDA receptors over the whole trace, as total (free + buffered) calcium in the
  head volume; divided by 1 + kappa it is the free calcium it would make without extrusion.
"""

import abc
import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from plastic._validation import check_range
from plastic.experiment.experiment import AbstractExperiment, AbstractReadout, ConditionField
from plastic.experiment.spine_pairing import SPINE_PAIRING_FIELDS, SpinePairingExperiment
from plastic.model import SpineModel
from plastic.protocols import NEVER, Protocol
from plastic.simulate import SolverSettings, simulate
from plastic.units import CALCIUM_FLUX_PER_PA_PER_FL

STIMULI = ("rest", "bAP", "uncaging", "pairing")
"""The ``stimulus`` labels: no input; the back-propagating AP alone; the uncaging alone; both,
``delta_t`` apart."""

_SINGLE_EVENT_DEFAULTS = {"first_pairing": 20.0, "period": 300.0, "quiet": 0.0}
"""ms: the calcium is read 20 ms after rest into a 300 ms window (the NMDA transient of an
uncaging at room temperature lasts ~200 ms); no quiet minutes."""


def _field(field: ConditionField) -> ConditionField:
    if field.name in _SINGLE_EVENT_DEFAULTS:
        return dataclasses.replace(field, default=_SINGLE_EVENT_DEFAULTS[field.name])
    if field.name == "delta_t":
        # Single events need no delta_t; 0 puts the AP current and the uncaging together.
        return dataclasses.replace(field, default=0.0)
    return field


SPINE_CALCIUM_FIELDS = (
    ConditionField(
        "stimulus",
        choices=STIMULI,
        description="what the readout reads: rest, the AP alone, the uncaging alone, or the "
        "pairing",
    ),
    *(_field(field) for field in SPINE_PAIRING_FIELDS),
)
"""``stimulus`` and `SPINE_PAIRING_FIELDS` (``delta_t`` defaults to 0 ms; one pairing 20 ms
after rest in a 300 ms period, no quiet time)."""


class SpineCalciumTraces(eqx.Module):
    """What `SpineCalciumExperiment.run` returns for one condition.

    Attributes:
        time: ``(n_time,)`` ms from the protocol's start.
        head_calcium: ``(4, n_time)`` free calcium (uM) in the first uncaged spine's head for
            each of `STIMULI` (rest: the resting calcium throughout).
        vgcc_entry, nmda_entry: ``(4,)`` calcium that entered that head through VGCCs / NMDA
            receptors over the trace, uM of total calcium in the head volume (0 at rest).
        rest_time: ms, when the pairing starts (the resting calcium is read there).
        solver_result: ``(3,)`` diffrax result codes of the AP, uncaging and pairing solves.
    """

    time: Float[Array, " n_time"]
    head_calcium: Float[Array, "4 n_time"]
    vgcc_entry: Float[Array, " 4"]
    nmda_entry: Float[Array, " 4"]
    rest_time: Float[Array, ""]
    solver_result: Int[Array, " 3"]

    def trace(self, stimulus) -> Float[Array, " n_time"]:
        """The head calcium of ``stimulus`` (its index in `STIMULI`; traceable)."""
        return jnp.take(self.head_calcium, jnp.asarray(stimulus, int), axis=0)

    def resting(self) -> Float[Array, ""]:
        """The calcium at the start of the pairing: the same in every trace (all from rest)."""
        return jnp.interp(self.rest_time, self.time, self.head_calcium[0])


def peak_excess(calcium: Float[Array, "... n_time"], rest) -> Float[Array, "..."]:
    """The largest rise of ``calcium`` above ``rest`` (uM)."""
    return jnp.max(calcium, axis=-1) - rest


def supralinearity(pairing_peak, ap_peak, uncaging_peak, rest) -> Float[Array, "..."]:
    """``(pairing_peak - rest) / ((ap_peak - rest) + (uncaging_peak - rest))``: the peak of the
    pairing over the sum of the peaks of its parts, every amplitude from the same resting
    ``rest`` (all uM). 1: linear summation; above 1: supralinear. The sum of the two peaks
    bounds the peak of the summed traces from above (their peaks need not coincide), so a ratio
    above 1 is supralinear by any definition."""
    return (pairing_peak - rest) / ((ap_peak - rest) + (uncaging_peak - rest))


def decay_time_constant(
    time: Float[Array, " n_time"],
    calcium: Float[Array, " n_time"],
    rest,
    upper: float = 0.8,
    lower: float = 0.2,
) -> Float[Array, ""]:
    """The time constant (ms) of an exponential fitted to the falling phase of ``calcium``
    (uM, sampled at ``time`` ms) above ``rest`` (uM): a least-squares line through
    log(calcium - rest) over the samples after the peak from where the excess has fallen to
    ``upper`` of its peak until it first falls below ``lower`` of it (the rise and the slow
    tail, where the head equilibrates with the shaft, left out). Exact for a pure exponential;
    NaN where fewer than two samples qualify."""
    excess = calcium - rest
    peak = jnp.max(excess)
    after = jnp.arange(time.shape[0]) >= jnp.argmax(excess)
    # Only the first descent: a later rise (e.g. an uncaging after the AP) ends the fit.
    below = after & (excess < lower * peak)
    before_lower = jnp.cumsum(below) == 0
    use = after & before_lower & (excess <= upper * peak) & (excess > 0)
    log_excess = jnp.log(jnp.where(use, excess, 1.0))
    n = jnp.sum(use)
    t_mean = jnp.sum(jnp.where(use, time, 0.0)) / n
    y_mean = jnp.sum(jnp.where(use, log_excess, 0.0)) / n
    dt = jnp.where(use, time - t_mean, 0.0)
    slope = jnp.sum(dt * (log_excess - y_mean)) / jnp.sum(dt**2)
    return jnp.where(n >= 2, -1.0 / slope, jnp.nan)


class AbstractSpineCalciumReadout(AbstractReadout):
    """A scalar readout of `SpineCalciumTraces` (one site: the uncaged spine's head)."""

    dims: tuple[str, ...] = eqx.field(static=True, default=())
    sites: tuple[str, ...] = eqx.field(static=True, default=())

    def __call__(self, model, condition, result: SpineCalciumTraces) -> Array:
        del model
        return self.read(condition["stimulus"], result)

    @abc.abstractmethod
    def read(self, stimulus, result: SpineCalciumTraces) -> Array:
        """The readout for ``stimulus`` (its index in `STIMULI`)."""


class PeakCalcium(AbstractSpineCalciumReadout):
    """Peak free calcium in the head, uM (at rest: the resting calcium)."""

    name: str = eqx.field(static=True, default="peak_head_calcium")
    unit: str = eqx.field(static=True, default="uM")

    def read(self, stimulus, result):
        return jnp.max(result.trace(stimulus))


class CalciumAmplitude(AbstractSpineCalciumReadout):
    """Peak rise of the head's free calcium above rest, uM (what imaging papers report as
    Delta[Ca2+]; 0 at rest)."""

    name: str = eqx.field(static=True, default="head_calcium_amplitude")
    unit: str = eqx.field(static=True, default="uM")

    def read(self, stimulus, result):
        return peak_excess(result.trace(stimulus), result.resting())


class RestingCalcium(AbstractSpineCalciumReadout):
    """Free calcium in the head before any event, uM (the same for every stimulus)."""

    name: str = eqx.field(static=True, default="resting_head_calcium")
    unit: str = eqx.field(static=True, default="uM")

    def read(self, stimulus, result):
        del stimulus
        return result.resting()


class DecayTime(AbstractSpineCalciumReadout):
    """Decay time constant of the head calcium transient, ms (`decay_time_constant`; NaN at
    rest)."""

    name: str = eqx.field(static=True, default="head_calcium_decay_time")
    unit: str = eqx.field(static=True, default="ms")

    def read(self, stimulus, result):
        return decay_time_constant(result.time, result.trace(stimulus), result.resting())


class Supralinearity(AbstractSpineCalciumReadout):
    """The pairing's peak over the sum of its parts' peaks (`supralinearity`); NaN for a
    stimulus other than ``pairing``, which has no parts."""

    name: str = eqx.field(static=True, default="supralinearity")
    unit: str = eqx.field(static=True, default="1")

    def read(self, stimulus, result):
        peaks = jnp.max(result.head_calcium, axis=-1)
        ratio = supralinearity(
            peaks[STIMULI.index("pairing")],
            peaks[STIMULI.index("bAP")],
            peaks[STIMULI.index("uncaging")],
            result.resting(),
        )
        return jnp.where(stimulus == STIMULI.index("pairing"), ratio, jnp.nan)


class CalciumEntry(AbstractSpineCalciumReadout):
    """Calcium that entered the head through ``source`` ("vgcc" or "nmda") during the
    stimulus, uM of total calcium in the head volume. Named ``{source}_calcium_entry``."""

    source: str = eqx.field(static=True, default="vgcc")
    unit: str = eqx.field(static=True, default="uM")

    def __check_init__(self):
        if self.source not in ("vgcc", "nmda"):
            raise ValueError(f"CalciumEntry.source must be 'vgcc' or 'nmda'; got {self.source!r}")

    @property
    def name(self) -> str:
        return f"{self.source}_calcium_entry"

    def read(self, stimulus, result):
        entry = result.vgcc_entry if self.source == "vgcc" else result.nmda_entry
        return jnp.take(entry, jnp.asarray(stimulus, int))


SPINE_CALCIUM_READOUTS = (
    PeakCalcium(),
    CalciumAmplitude(),
    RestingCalcium(),
    DecayTime(),
    Supralinearity(),
    CalciumEntry(source="vgcc"),
    CalciumEntry(source="nmda"),
)
"""Every readout of `SpineCalciumExperiment`."""


class SpineCalciumExperiment(AbstractExperiment):
    """The AP alone, the uncaging alone and one pairing on a `SpineModel`, read at the first
    uncaged spine's head (see the module doc).

    Attributes:
        fields: `SPINE_CALCIUM_FIELDS`.
        readouts: `SPINE_CALCIUM_READOUTS`.
        uncaged_spines: indices of the spines uncaged, in order of onset; the first is read.
        window: ms from the protocol's start over which the traces are sampled (clipped to
            the protocol's duration: the default protocol lasts 320 ms).
        resolution: ms between the samples of the traces (the peak of a ~1 ms AP transient
            needs <= 0.1 ms).
        settings: how the model is solved.
    """

    fields: tuple[ConditionField, ...] = eqx.field(static=True, default=SPINE_CALCIUM_FIELDS)
    readouts: tuple[AbstractSpineCalciumReadout, ...] = SPINE_CALCIUM_READOUTS
    uncaged_spines: tuple[int, ...] = eqx.field(static=True, default=(0,))
    window: float = eqx.field(static=True, default=320.0)
    resolution: float = eqx.field(static=True, default=0.05)
    settings: SolverSettings = eqx.field(default_factory=SolverSettings)

    def __check_init__(self):
        check_range("SpineCalciumExperiment.resolution", self.resolution, lower=0.0, unit="ms")
        check_range("SpineCalciumExperiment.window", self.window, lower=0.0, unit="ms")

    @property
    def pairing(self) -> SpinePairingExperiment:
        """The one-pairing `SpinePairingExperiment` whose protocol every condition runs."""
        return SpinePairingExperiment(
            n_pairings=1, uncaged_spines=self.uncaged_spines, settings=self.settings
        )

    def check_model(self, model):
        self.pairing.check_model(model)

    def model_in_condition(self, model, condition):
        return self.pairing.model_in_condition(model, condition)

    def sized_for(self, conditions):
        self.pairing.sized_for(conditions)
        return self

    def protocols(self, condition, n_spines: int) -> Protocol:
        """The AP-alone, uncaging-alone and pairing protocols of ``condition``, stacked along a
        leading axis of 3 (in that order)."""
        pairing = self.pairing.protocol(condition, n_spines)
        ap_alone = eqx.tree_at(
            lambda p: p.uncaging_onset, pairing, jnp.full_like(pairing.uncaging_onset, NEVER)
        )
        uncaging_alone = eqx.tree_at(
            lambda p: p.current_amplitude, pairing, jnp.zeros_like(pairing.current_amplitude)
        )
        return jax.tree.map(lambda *x: jnp.stack(x), ap_alone, uncaging_alone, pairing)

    def run(self, model: SpineModel, condition) -> SpineCalciumTraces:
        model = self.model_in_condition(model, condition)
        protocols = self.protocols(condition, model.n_spines)
        # A static number of samples over `window`, clipped to the (traceable) duration.
        n_time = int(round(self.window / self.resolution)) + 1
        time = jnp.minimum(self.resolution * jnp.arange(n_time), protocols.duration[0])
        spine = self.uncaged_spines[0]

        def one(protocol):
            simulation = simulate(model, protocol, time, self.settings)
            states = simulation.states
            area = model.geometry.spines.head_area[spine]
            volume = model.geometry.spines.head_volume[spine]
            vgcc = model.vgcc.head_current(
                states.vgcc[:, spine], states.head_voltage[:, spine], area
            )
            nmda = model.nmda.calcium_current(
                states.nmda[:, spine], states.head_voltage[:, spine], model.temperature
            )
            to_uM = -CALCIUM_FLUX_PER_PA_PER_FL / volume
            return (
                states.head_calcium[:, spine],
                to_uM * jnp.trapezoid(vgcc, time),
                to_uM * jnp.trapezoid(nmda, time),
                simulation.solver_result,
            )

        calcium, vgcc, nmda, code = jax.vmap(one)(protocols)
        rest = jnp.full_like(calcium[:1], model.resting_state().head_calcium[spine])
        zero = jnp.zeros((1,))
        return SpineCalciumTraces(
            time=time,
            head_calcium=jnp.concatenate([rest, calcium]),
            vgcc_entry=jnp.concatenate([zero, vgcc]),
            nmda_entry=jnp.concatenate([zero, nmda]),
            rest_time=condition["first_pairing"],
            solver_result=code,
        )
