import pytest

import plastic  # noqa: F401  (enables float64)
from plastic.experiment import Predictor
from plastic.fit import FitParameters, Objective
from plastic.studies import get_study
from plastic.uncertainty import laplace


@pytest.fixture(scope="module")
def triplet_fit():
    """The triplet rule of Markram 1997 at its start values, two amplitudes free: (objective,
    its Laplace approximation, the model). Cheap: standalone rule solves."""
    study = get_study("markram1997")
    choice = study.rule("triplet")
    data = study.data()
    model = choice.model()
    parameters = FitParameters(model, choice.parameters()[:2])
    objective = Objective(Predictor.from_data(study.experiment, data, model=model), data)
    return objective, laplace(objective, parameters, model), model
