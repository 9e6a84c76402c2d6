"""The record of Tazerart, Mitchell, Miranda-Rottmann & Araya 2020, Nat Commun 11:4276.

STDP at single, clustered and distributed spines of L5 pyramidal neurons (basal dendrites,
juvenile mouse visual cortex), transcribed from the article's text and figure legends into the
CSV files shipped in ``plastic/data``. Every row names its source; numbers the paper does not
give (an SEM, an n, the alpha and beta of eq. 2) are NaN with a note, never filled in. The
comment lines at the top of each CSV file state the conventions, in particular the sign of
delta_t: the onset of the somatic current (post) minus the onset of the uncaging (pre), so
+13 ms (pre before post) gives t-LTP and -15 ms gives t-LTD.

Three tables:
- `paper_results`: every mean +- SEM (uEPSP, neck length and head volume 15-25 min after
  induction, initial uEPSP amplitudes, the two length constants) as `PaperResult` records
  (`tazerart2020_data` is them as the study's `plastic.experiment.DataSet`).
- `paper_findings`: the calcium accumulation results of Figs. 6-8 and the drug and control
  experiments reported without numbers, as `Finding` records.
- `paper_properties`: the protocol and the preparation (head volumes, distances from the soma,
  resting potential, AP and uEPSP kinetics), as `Property` records.
"""

import functools
from importlib import resources

from plastic.studies.tazerart2020.findings import Finding, read_findings
from plastic.studies.tazerart2020.properties import Property, read_properties
from plastic.studies.tazerart2020.results import PaperResult, read_results


def _shipped(name: str):
    return resources.files("plastic.data").joinpath(name)


@functools.cache
def paper_results() -> tuple[PaperResult, ...]:
    """Every mean +- SEM result of the paper; see `PaperResult` for the columns."""
    with resources.as_file(_shipped("tazerart2020.csv")) as path:
        return read_results(path)


@functools.cache
def paper_findings() -> tuple[Finding, ...]:
    """The qualitative results of the paper: calcium accumulation, drugs, controls."""
    with resources.as_file(_shipped("tazerart2020_findings.csv")) as path:
        return read_findings(path)


@functools.cache
def paper_properties() -> tuple[Property, ...]:
    """The protocol and preparation of the paper, as stated in its Methods."""
    with resources.as_file(_shipped("tazerart2020_properties.csv")) as path:
        return read_properties(path)
