"""The emer/axon re-implementation's rate tables of the Urakubo 2008 model as a `DataSet`."""

import importlib.resources

import numpy as np

from plastic.experiment import DataSet, dataset_from_records

READOUT_DELAY = 100_000.0
"""ms after the last repeat's period (the Go runs' ``FinalSecs`` = 100)."""
ISI = 1000.0
"""ms without spikes after every repeat (the Go runs' ``ISISec`` = 1)."""
POST_DELAY = 5.0
"""ms from a postsynaptic stimulus to its spike in the Go runs ("5 is lag", ``stims.go``)."""
SOURCE = "emer/axon 94fab30c examples/urakubo/results/"


def _table(name: str) -> np.ndarray:
    text = importlib.resources.files("plastic.rules.urakubo").joinpath("reference", name)
    return np.loadtxt(text.open(), skiprows=1, ndmin=2)


def load_go_tables() -> DataSet:
    """Every row of the Poisson table and of both out-of-phase tables: readout ``weight``
    (ratio, 1 + the table's DWt), no SEM (a model's output), ``n`` 1."""
    records = []
    poisson = "fig_urakubo22_poisson_200msec_isi1_final100_10rep.tsv"
    for post_rate, pre_rate, change in _table(poisson):
        records.append(
            dict(
                condition=f"poisson pre {pre_rate:g} Hz post {post_rate:g} Hz",
                pattern="axon_poisson",
                pre_rate=pre_rate,
                post_rate=post_rate,
                duration=200.0,
                n_repeats=10,
                repeat_period=200.0 + ISI,
                post_delay=POST_DELAY,
                mean=1.0 + change,
                source=SOURCE + poisson,
            )
        )
    for send in (50, 100):
        table = f"fig_urakubo22_opphasedur_{send}shz_final100_1rep.tsv"
        for post_rate, duration, change in _table(table):
            records.append(
                dict(
                    condition=f"out of phase send {send} Hz receive {post_rate:g} Hz "
                    f"{duration:g} ms",
                    pattern="out_of_phase",
                    pre_rate=float(send),
                    post_rate=post_rate,
                    duration=duration,
                    n_repeats=1,
                    repeat_period=duration + ISI,
                    post_delay=POST_DELAY,
                    mean=1.0 + change,
                    source=SOURCE + table,
                )
            )
    common = dict(readout="weight", sem=float("nan"), n=1, unit="ratio")
    return dataset_from_records([{**common, **r} for r in records], where="urakubo2008")
