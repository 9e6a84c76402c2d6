"""The scipy peer of `bench_gb.py`: the Graupner-Brunel synapse, one `solve_ivp` loop per delta-t.

Independent of `plastic`'s closed forms: calcium is a state variable integrated with rho, the spike
jumps are applied between pieces (exactly), and the threshold crossings are found by
`solve_ivp`'s event location, which ends a piece so that the Heaviside terms, fixed within each
piece, switch exactly there. DOP853 in float64 at tight tolerances.
"""

import time

import numpy as np
import scipy.integrate

_THRESHOLDS = ("theta_d", "theta_p")


def _vector_field(t, y, p, above_d, above_p):
    # y = (calcium, rho_down, rho_up); the Heaviside terms are constants of the piece.
    calcium, rho = y[0], y[1:]
    bistable = -rho * (1.0 - rho) * (p["rho_star"] - rho)
    plasticity = p["gamma_p"] * (1.0 - rho) * above_p - p["gamma_d"] * rho * above_d
    return np.concatenate([[-calcium / p["tau_ca"]], (bistable + plasticity) / p["tau"]])


def _crossing(theta):
    def event(t, y, p, above_d, above_p):
        return y[0] - theta

    event.terminal = True
    event.direction = -1.0  # calcium only decays between jumps
    return event


def solve_pairs(p, pre_times, post_times, t_end, rtol, atol):
    """Final ``(rho_down, rho_up)`` and the number of vector-field evaluations for one train.

    Args:
        p: Graupner-Brunel parameters (a `GRAUPNER_BRUNEL_PARAMETER_SETS` entry; times in ms),
            with ``theta_d, theta_p > 0``.
        pre_times, post_times: spike times, ms, shape ``(n,)`` each.
        t_end: end of the simulation, ms.
        rtol, atol: `solve_ivp` tolerances.
    """
    jumps = sorted(
        [(t + p["delay"], p["c_pre"]) for t in pre_times] + [(t, p["c_post"]) for t in post_times]
    )
    jumps = [jump for jump in jumps if jump[0] < t_end]
    y = np.array([0.0, 0.0, 1.0])
    t, next_jump, evaluations = 0.0, 0, 0
    while t < t_end:
        while next_jump < len(jumps) and jumps[next_jump][0] <= t:
            y[0] += jumps[next_jump][1]
            next_jump += 1
        stop = jumps[next_jump][0] if next_jump < len(jumps) else t_end
        while t < stop:
            # Strictly above: calcium that lands exactly on a threshold leaves it at once.
            above = [name for name in _THRESHOLDS if y[0] > p[name]]
            solution = scipy.integrate.solve_ivp(
                _vector_field,
                (t, stop),
                y,
                method="DOP853",
                rtol=rtol,
                atol=atol,
                events=[_crossing(p[name]) for name in above] or None,
                args=(p, float("theta_d" in above), float("theta_p" in above)),
            )
            evaluations += solution.nfev
            y, t = solution.y[:, -1].copy(), float(solution.t[-1])
            if solution.status == 1:  # a crossing: pin calcium on the threshold it crossed
                crossed = [name for name, ts in zip(above, solution.t_events) if ts.size]
                y[0] = p[crossed[0]]
            else:
                t = stop
    return y[1:], evaluations


def _print_now(line):
    print(line, flush=True)


def scipy_window(p, pre_times, post_times, t_end, rtol, atol, progress=_print_now):
    """Final rho for every train: ``(rho, run_s, evaluations)``.

    Args:
        p: Graupner-Brunel parameters (see `solve_pairs`).
        pre_times, post_times: spike times, ms, shape ``(n_conditions, n)``.
        t_end, rtol, atol: as in `solve_pairs`.
        progress: called with a line of text about every tenth of the conditions.

    Returns rho of shape ``(n_conditions, 2)`` (``rho_down``, ``rho_up``), the wall time, s, and
    the total number of vector-field evaluations.
    """
    n = pre_times.shape[0]
    rho = np.empty((n, 2))
    evaluations = 0
    began = time.perf_counter()
    for i in range(n):
        rho[i], count = solve_pairs(p, pre_times[i], post_times[i], t_end, rtol, atol)
        evaluations += count
        if (i + 1) % max(n // 10, 1) == 0 or i + 1 == n:
            elapsed = time.perf_counter() - began
            progress(
                f"  scipy: {i + 1}/{n} conditions, {elapsed:.0f} s, "
                f"~{elapsed / (i + 1) * (n - i - 1):.0f} s left"
            )
    return rho, time.perf_counter() - began, evaluations
