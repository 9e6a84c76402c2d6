"""How sure is a fit: the Laplace approximation, profile likelihoods and prediction bands.

laplace_ = laplace(result.objective, result.parameters, result.model)
low, high = laplace_.interval(0.95)                  # per fitted scalar, in its unit
laplace_.unconstrained_parameters()                  # what the data do not pin down
profile(result.objective, laplace_, "rule.tau")      # likelihood-ratio interval, re-optimised
prediction_band(laplace_, predict, jax.random.key(0))
nuts(result.objective, laplace_, jax.random.key(0))  # posterior draws (BlackJAX)
polish(result.objective, result.parameters, result.model)  # Levenberg-Marquardt to the optimum
load_draws("out/fit/draws.npz").models(model)       # the bands' draws, for predictions of one's own
"""

from plastic.uncertainty.bands import PredictionBand as PredictionBand
from plastic.uncertainty.bands import prediction_band as prediction_band
from plastic.uncertainty.curves import ConditionCurve as ConditionCurve
from plastic.uncertainty.curves import condition_curves as condition_curves
from plastic.uncertainty.curves import curve_bands as curve_bands
from plastic.uncertainty.draws import ParameterDraws as ParameterDraws
from plastic.uncertainty.draws import load_draws as load_draws
from plastic.uncertainty.flat import FlatParameters as FlatParameters
from plastic.uncertainty.laplace import Laplace as Laplace
from plastic.uncertainty.laplace import laplace as laplace
from plastic.uncertainty.nuts import Posterior as Posterior
from plastic.uncertainty.nuts import nuts as nuts
from plastic.uncertainty.plot import plot_curve_bands as plot_curve_bands
from plastic.uncertainty.plot import plot_intervals as plot_intervals
from plastic.uncertainty.plot import plot_pairs as plot_pairs
from plastic.uncertainty.plot import plot_prediction_bands as plot_prediction_bands
from plastic.uncertainty.plot import plot_profiles as plot_profiles
from plastic.uncertainty.polish import Polished as Polished
from plastic.uncertainty.polish import polish as polish
from plastic.uncertainty.profile import Profile as Profile
from plastic.uncertainty.profile import profile as profile
from plastic.uncertainty.write import uncertainty_record as uncertainty_record
from plastic.uncertainty.write import write_uncertainty as write_uncertainty
