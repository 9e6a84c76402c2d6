"""Fitting models to measurements: objective, parameter transforms and bounds, the optax loop.

objective = Objective(predict, data)                 # chi-square against mean +- SEM
parameters = FitParameters(model, [Parameter("rule.tau", 1.0, 1e4, log=True, unit="ms")])
result = fit(objective, parameters, n_starts=8, n_steps=2000, seed=0, checkpoint="fit.ckpt")
write_fit(result, "out/fit")                         # JSON, equinox, CSV table, loss plot
write_sensitivity(sensitivity(objective, result.model), "out/fit")  # d log pred / d log param
"""

from plastic.fit.checkpoint import load_checkpoint as load_checkpoint
from plastic.fit.checkpoint import save_checkpoint as save_checkpoint
from plastic.fit.objective import Objective as Objective
from plastic.fit.objective import weighting_sem as weighting_sem
from plastic.fit.optimise import default_optimiser as default_optimiser
from plastic.fit.optimise import fit as fit
from plastic.fit.parameters import FitParameters as FitParameters
from plastic.fit.parameters import Parameter as Parameter
from plastic.fit.result import FitProgress as FitProgress
from plastic.fit.result import FitResult as FitResult
from plastic.fit.sensitivity import Sensitivity as Sensitivity
from plastic.fit.sensitivity import model_scalars as model_scalars
from plastic.fit.sensitivity import sensitivity as sensitivity
from plastic.fit.step import FitState as FitState
from plastic.fit.transforms import AbstractTransform as AbstractTransform
from plastic.fit.transforms import Identity as Identity
from plastic.fit.transforms import InLogSpace as InLogSpace
from plastic.fit.transforms import Interval as Interval
from plastic.fit.transforms import LowerBound as LowerBound
from plastic.fit.transforms import UpperBound as UpperBound
from plastic.fit.transforms import transform_for_bounds as transform_for_bounds
from plastic.fit.write import PREDICTION_COLUMNS as PREDICTION_COLUMNS
from plastic.fit.write import load_model as load_model
from plastic.fit.write import read_parameters as read_parameters
from plastic.fit.write import write_fit as write_fit
from plastic.fit.write_sensitivity import plot_sensitivity as plot_sensitivity
from plastic.fit.write_sensitivity import write_sensitivity as write_sensitivity
