"""Do the Laplace intervals cover the truth as often as they claim? Synthetic data from eq. 2 of
Tazerart 2020 (``alpha exp(-d / lambda) + beta``) at known parameters, noise at the data's SEMs,
each replicate polished to its optimum and its 95 % intervals computed.

(`experiments/uncertainty_coverage.py` does the same for the Graupner-Brunel rule on the Markram
1997 protocol, too slow for the tests.)
"""

import numpy as np

import plastic  # noqa: F401  (enables float64)
from plastic.fit import Objective
from plastic.uncertainty import laplace, polish
from tests.test_fit import DISTANCES, PARAMETERS, SEM, TRUTH, Decay, decay, measurements, predict

N_REPLICATES = 200


def test_95_percent_intervals_cover_the_truth_90_to_99_percent_of_the_time():
    truth = Decay(*TRUTH)
    template = PARAMETERS.__class__(truth, PARAMETERS.parameters)
    rng = np.random.default_rng(11)
    covered = np.zeros((N_REPLICATES, 3), bool)
    for replicate in range(N_REPLICATES):
        noisy = decay(DISTANCES, *TRUTH) + SEM * rng.normal(size=DISTANCES.size)
        objective = Objective(predict, measurements(noisy))
        fitted = polish(objective, template, max_steps=100)
        assert fitted.converged and fitted.chi_square <= fitted.chi_square_before
        approx = laplace(objective, template, fitted.model, prior="none")
        assert float(approx.distance_to_optimum().max()) < 1e-3
        low, high = (np.asarray(x) for x in approx.interval(0.95))
        covered[replicate] = (low < np.array(TRUTH)) & (np.array(TRUTH) < high)
    coverage = covered.mean(axis=0)
    print("coverage of alpha, length_constant, beta:", coverage)
    assert np.all((coverage >= 0.90) & (coverage <= 0.99)), coverage
