"""An independent Graupner-Brunel reference for the tests: the rho dynamics integrated by scipy
piece by piece between the calcium trace's threshold crossings, where the Heaviside terms are
constant."""

import numpy as np
import scipy.integrate


def rho_between_crossings(rule, calcium, breaks, levels) -> np.ndarray:
    """rho at ``breaks[-1]`` from rho = 0 and rho = 1 at ``breaks[0]`` (shape ``(2,)``).

    ``calcium(t)`` is the trace (uM, t in ms), ``breaks`` the sorted piece boundaries (every
    crossing of ``levels`` = (depression, potentiation) thresholds in uM among them)."""
    tau, gamma_d, gamma_p = float(rule.tau), float(rule.gamma_d), float(rule.gamma_p)
    rho_star = float(rule.rho_star)

    def drift(t, rho, above_d, above_p):
        cubic = -rho * (1 - rho) * (rho_star - rho)
        return (cubic + gamma_p * (1 - rho) * above_p - gamma_d * rho * above_d) / tau

    rho = np.array([0.0, 1.0])
    for a, b in zip(breaks[:-1], breaks[1:]):
        middle = calcium(0.5 * (a + b))
        args = (float(middle >= levels[0]), float(middle >= levels[1]))
        rho = scipy.integrate.solve_ivp(
            drift, (a, b), rho, method="DOP853", args=args, rtol=1e-13, atol=1e-15
        ).y[:, -1]
    return rho
