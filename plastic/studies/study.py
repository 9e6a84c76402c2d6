"""A study: one paper's data, the experiment it was measured in, and the models that can fit it.

Everything specific to a paper lives in its folder under `plastic.studies` (its data file with
sources, the experiment's settings, a model factory per rule with the parameters a fit moves);
the layers below (experiment, fit, sweep) never name a paper.
"""

import dataclasses
from collections.abc import Callable, Mapping
from importlib import resources

from jaxtyping import PyTree

from plastic.experiment import AbstractExperiment, DataSet, load_dataset
from plastic.fit.parameters import Parameter


@dataclasses.dataclass(frozen=True)
class RuleChoice:
    """One model a study can be fitted with.

    Attributes:
        model: builds the model a fit starts from (its values are the first start).
        parameters: builds the `Parameter`s a fit moves by default, with their bounds.
        description: the rule and where its start values come from.
        learning_rate: the Adam peak rate a fit of it uses unless told otherwise.
    """

    model: Callable[[], PyTree]
    parameters: Callable[[], list[Parameter]]
    description: str
    learning_rate: float = 0.1


@dataclasses.dataclass(frozen=True)
class Study:
    """A paper's experiment, data and models.

    Attributes:
        name: as given to ``plastic fit --study``.
        citation: the paper.
        experiment: what a data row's condition is simulated with.
        data_file: the shipped CSV (`plastic.experiment.load_dataset` format), inside the
            study's package; or the name of the function that builds the data set.
        rules: rule name -> `RuleChoice`; the first is the default.
        load: builds the shipped data set when it is derived from another record (e.g. a
            paper's distance classes mapped to distances); None: read ``data_file``.
        fitted_by_default: the ``select`` keywords of the rows ``plastic fit`` fits unless
            told otherwise (empty: every row).
    """

    name: str
    citation: str
    experiment: AbstractExperiment
    data_file: str
    rules: Mapping[str, RuleChoice]
    load: Callable[[], DataSet] | None = None
    fitted_by_default: Mapping[str, tuple] = dataclasses.field(default_factory=dict)

    @property
    def default_rule(self) -> str:
        return next(iter(self.rules))

    def data(self) -> DataSet:
        """The shipped data set."""
        if self.load is not None:
            return self.load()
        package = f"plastic.studies.{self.name}"
        return load_dataset(resources.files(package).joinpath(self.data_file))

    def rule(self, name: str | None = None) -> RuleChoice:
        """The `RuleChoice` ``name`` (default: the study's default rule)."""
        name = self.default_rule if name is None else name
        if name not in self.rules:
            raise ValueError(
                f"study {self.name!r} has no rule {name!r}; its rules are {list(self.rules)}"
            )
        return self.rules[name]
