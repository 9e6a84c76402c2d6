"""Studies: one folder per paper, with its data, experiment and models.

`STUDIES` maps each name to its `Study`; ``plastic studies`` lists them. The Tazerart et al.
2020 spine experiments (`plastic.studies.tazerart2020`) are the default of ``plastic fit``.
"""

from types import MappingProxyType

from plastic.studies.markram1997 import STUDY as _markram1997
from plastic.studies.ngezahayo2000 import STUDY as _ngezahayo2000
from plastic.studies.study import RuleChoice as RuleChoice
from plastic.studies.study import Study as Study
from plastic.studies.tazerart2020 import STUDY as _tazerart2020
from plastic.studies.urakubo2008 import STUDY as _urakubo2008

_SHIPPED = (_tazerart2020, _markram1997, _ngezahayo2000, _urakubo2008)
STUDIES = MappingProxyType({study.name: study for study in _SHIPPED})
"""Every shipped study by name."""


def get_study(name: str) -> Study:
    """The study ``name``; a ValueError lists the known ones."""
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; the studies are {sorted(STUDIES)}")
    return STUDIES[name]
