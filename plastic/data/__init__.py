"""The data files shipped with plastic (each study reads its own, e.g.
`plastic.studies.tazerart2020.record`) and the checked CSV table they and
`plastic.experiment.load_dataset` are read with: errors name the file, the line and the column.
"""

from plastic.data._table import Row as Row
from plastic.data._table import check_cell as check_cell
from plastic.data._table import read_table as read_table
