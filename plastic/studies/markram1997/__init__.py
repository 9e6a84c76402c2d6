"""Markram, Lubke, Frotscher & Sakmann 1997 (Science 275:213): the frequency dependence of
spike-timing plasticity at L5 pyramidal cell pairs. Bursts of 5 pairs at 2-40 Hz (+5 ms), and
+-10 ms at 10 Hz, 10 bursts every 4 s; EPSP after / before (`markram1997.csv`, with sources).

Rules: ``graupner-brunel`` (deterministic, on spike-driven calcium; starts from the published
``DP`` set of Graupner & Brunel 2012) and ``triplet`` (Pfister & Gerstner 2006, nearest-spike;
starts from their full visual-cortex set, fitted to Sjostrom et al. 2001).
"""

from plastic.experiment import SpikePairingExperiment
from plastic.fit.parameters import Parameter
from plastic.rules import GraupnerBrunelSynapse, STDPSynapse, TripletSTDP
from plastic.studies.study import RuleChoice, Study


def graupner_brunel_parameters() -> list[Parameter]:
    """The calcium transients and the rule's dynamics; theta_d = 1 sets the calcium scale and
    rho_star, beta, b keep their published values."""
    return [
        Parameter("calcium.c_pre", 0.05, 5.0, log=True),
        Parameter("calcium.c_post", 0.05, 5.0, log=True),
        Parameter("calcium.tau_ca", 2.0, 200.0, log=True, unit="ms"),
        Parameter("calcium.delay", 0.0, 30.0, unit="ms"),
        Parameter("rule.theta_p", 0.5, 5.0, log=True),
        Parameter("rule.gamma_p", 1.0, 5000.0, log=True),
        Parameter("rule.gamma_d", 1.0, 5000.0, log=True),
        Parameter("rule.tau", 100.0, 1e6, log=True, unit="ms"),
    ]


def triplet_parameters() -> list[Parameter]:
    """The four amplitudes and the two triplet time constants (the pair time constants, 16.8 and
    33.7 ms, are Bi & Poo's)."""
    amplitude = dict(log=True, start=(1e-4, 0.05))
    return [
        Parameter("rule.a2_plus", 1e-12, 0.2, **amplitude),
        Parameter("rule.a3_plus", 1e-12, 0.2, **amplitude),
        Parameter("rule.a2_minus", 1e-12, 0.2, **amplitude),
        Parameter("rule.a3_minus", 1e-12, 0.2, **amplitude),
        Parameter("rule.tau_x", 1.0, 1000.0, log=True, unit="ms"),
        Parameter("rule.tau_y", 1.0, 1000.0, log=True, unit="ms"),
    ]


STUDY = Study(
    name="markram1997",
    citation="Markram H, Lubke J, Frotscher M, Sakmann B (1997) Science 275:213-215",
    experiment=SpikePairingExperiment(),
    data_file="markram1997.csv",
    rules={
        "graupner-brunel": RuleChoice(
            model=lambda: GraupnerBrunelSynapse.from_published("DP"),
            parameters=graupner_brunel_parameters,
            description="Graupner & Brunel 2012, deterministic, from the published DP set",
        ),
        "triplet": RuleChoice(
            model=lambda: STDPSynapse(TripletSTDP.from_published("visual_cortex_nearest_full")),
            parameters=triplet_parameters,
            description="Pfister & Gerstner 2006 triplet rule, nearest-spike, from their full "
            "visual-cortex set",
        ),
    },
)
