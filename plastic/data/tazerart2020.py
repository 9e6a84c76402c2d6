"""The data of Tazerart, Mitchell, Miranda-Rottmann & Araya 2020, Nat Commun 11:4276.

STDP at single, clustered and distributed spines of L5 pyramidal neurons (basal dendrites,
juvenile mouse visual cortex), transcribed from the article's text and figure legends. Every row
names its source; numbers the paper does not give (an SEM, an n, the alpha and beta of eq. 2) are
NaN with a note, never filled in. The comment lines at the top of each CSV file state the
conventions, in particular the sign of delta_t: the onset of the somatic current (post) minus the
onset of the uncaging (pre), so +13 ms (pre before post) gives t-LTP and -15 ms gives t-LTD.

Three tables:
- `load_tazerart2020`: every mean +- SEM (uEPSP, neck length and head volume 15-25 min after
  induction, initial uEPSP amplitudes, the two length constants) as `Measurements`.
- `load_tazerart2020_findings`: the calcium accumulation results of Figs. 6-8 and the drug and
  control experiments reported without numbers, as `Finding` records.
- `load_tazerart2020_properties`: the protocol and the preparation (head volumes, distances from
  the soma, resting potential, AP and uEPSP kinetics), as `Property` records.
"""

import functools
from importlib import resources

from plastic.data.findings import Finding, read_findings
from plastic.data.measurements import Measurements, load_csv
from plastic.data.properties import Property, read_properties


def _shipped(name: str):
    return resources.files("plastic.data").joinpath(name)


@functools.cache
def load_tazerart2020() -> Measurements:
    """Every mean +- SEM result of Tazerart et al. 2020; see `Measurements` for the columns."""
    with resources.as_file(_shipped("tazerart2020.csv")) as path:
        return load_csv(path)


@functools.cache
def load_tazerart2020_findings() -> tuple[Finding, ...]:
    """The qualitative results of Tazerart et al. 2020: calcium accumulation, drugs, controls."""
    with resources.as_file(_shipped("tazerart2020_findings.csv")) as path:
        return read_findings(path)


@functools.cache
def load_tazerart2020_properties() -> tuple[Property, ...]:
    """The protocol and preparation of Tazerart et al. 2020, as stated in its Methods."""
    with resources.as_file(_shipped("tazerart2020_properties.csv")) as path:
        return read_properties(path)
