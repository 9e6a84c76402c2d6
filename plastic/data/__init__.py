"""Experimental data sets (mean, SEM and n per condition) and their loaders."""

from plastic.data.findings import Finding as Finding
from plastic.data.measurements import Measurements as Measurements
from plastic.data.measurements import load_csv as load_csv
from plastic.data.properties import Property as Property
from plastic.data.tazerart2020 import load_tazerart2020 as load_tazerart2020
from plastic.data.tazerart2020 import load_tazerart2020_findings as load_tazerart2020_findings
from plastic.data.tazerart2020 import (
    load_tazerart2020_properties as load_tazerart2020_properties,
)
