"""Urakubo, Honda, Froemke & Kuroda 2008 (J Neurosci 28:3310) as data for cheaper rules: the
weight changes of its spine model under rate protocols, as tabled by the emer/axon
re-implementation (`plastic.rules.urakubo.reference`), with the protocols of
`plastic.experiment.RateTrainExperiment`:

- ``axon_poisson`` trains (that code's nearly regular generator), 200 ms, 10 repeats 1 s apart,
  pre x post 10-100 Hz, read 100 s after;
- regular out-of-phase trains, send 50 or 100 Hz, receive 10-100 Hz, 200-1000 ms, one repeat,
  read 1 s + 100 s after.

Postsynaptic spikes follow their stimulus by 5 ms there (``post_delay``). The rows are a model's
output: they have no SEM, so fit them with ``--sem-floor`` (e.g. 0.02), which sets the
chi-square's scale, not the optimum. The same rows from this package's own `Urakubo2008`
(``experiments/urakubo_rates.py --csv``) load with `plastic.experiment.load_dataset`.

Rules: ``xcal`` (the kinase algorithm's cascade on spike calcium, ``dW = XCAL(CaP, CaD)``
committed every 200 ms trial, as in Axon 2022) and ``cascade`` (``dW = CaP - CaD``): the
kinase algorithm that seed 003 derives from this model, both updated once per 1 ms cycle as
Axon runs them (`plastic.rules.KinaseCycleSynapse`; the adaptive `KinaseCascadeSynapse` is about
20x slower over these 100 s protocols).
"""

from plastic.experiment import RateTrainExperiment
from plastic.fit.parameters import Parameter
from plastic.rules import KinaseCascade, KinaseCycleSynapse
from plastic.rules.xcal import Xcal
from plastic.studies.study import RuleChoice, Study
from plastic.studies.urakubo2008.data import READOUT_DELAY, load_go_tables


def cascade_parameters() -> list[Parameter]:
    """The three time constants and the learning rate (a spike-calcium gain would only rescale
    it: dW is homogeneous of degree 1 in calcium)."""
    return [
        Parameter("rule.tau_m", 1.5, 200.0, log=True, unit="ms"),
        Parameter("rule.tau_p", 1.5, 2000.0, log=True, unit="ms"),
        Parameter("rule.tau_d", 1.5, 5000.0, log=True, unit="ms"),
        Parameter("rule.learning_rate", 1e-6, 10.0, log=True),
    ]


def xcal_parameters() -> list[Parameter]:
    """The cascade's, and XCAL's reversal point (its threshold ``d_thr`` stays at 1e-4)."""
    return [*cascade_parameters(), Parameter("rule.xcal.d_rev", 0.01, 0.9)]


STUDY = Study(
    name="urakubo2008",
    citation="Urakubo H, Honda M, Froemke RC, Kuroda S (2008) J Neurosci 28:3310-3323; rate "
    "protocols of the emer/axon re-implementation (commit 94fab30c, examples/urakubo)",
    experiment=RateTrainExperiment(tail=READOUT_DELAY),
    data_file="load_go_tables",
    load=load_go_tables,
    rules={
        "xcal": RuleChoice(
            model=lambda: KinaseCycleSynapse(KinaseCascade(learning_rate=1e-3, xcal=Xcal())),
            parameters=xcal_parameters,
            description="the kinase cascade with XCAL on spike calcium, committed every 200 ms "
            "(Axon 2022 time constants 5/40/40 ms)",
        ),
        "cascade": RuleChoice(
            model=lambda: KinaseCycleSynapse(KinaseCascade(learning_rate=1e-3)),
            parameters=cascade_parameters,
            description="the kinase cascade, dW = CaP - CaD, on spike calcium, committed every "
            "200 ms (Axon 2022 time constants 5/40/40 ms)",
        ),
    },
)
