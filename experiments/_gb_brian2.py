"""The Brian2 peers of `bench_gb.py`: the Graupner-Brunel synapse in runtime and standalone mode.

The same equations, one neuron-group element per delta-t: calcium ``c`` decays with ``tau_ca``;
a spike generator drives it through two synapse groups (``c`` jumps by ``c_pre`` after the
delay, and by ``c_post`` at once); rho_down and rho_up follow the Graupner-Brunel drift with the
Heaviside terms written ``int(c >= theta)`` (Theta(0) = 1). Brian2 is clock-driven: spikes, the
delay and the threshold crossings all fall on its time grid ``dt``, which limits its accuracy.

Brian2 is an optional dependency (``pip install -e .[bench]``); it is imported when used.
"""

import tempfile
import time

import numpy as np

# Vector-field evaluations per time step of Brian2's explicit state updaters.
STAGES = {"euler": 1, "rk2": 2, "heun": 2, "rk4": 4}

_DRIFT = (
    "(-{r} * (1 - {r}) * (rho_star - {r}) + gamma_p * (1 - {r}) * int(c >= theta_p)"
    " - gamma_d * {r} * int(c >= theta_d)) / tau"
)


def _network(b2, p, pre_times, post_times, t_end, method):
    n = pre_times.shape[0]
    equations = f"""
    dc/dt = -c / tau_ca : 1
    drho_down/dt = {_DRIFT.format(r="rho_down")} : 1
    drho_up/dt = {_DRIFT.format(r="rho_up")} : 1
    """
    namespace = {
        "tau_ca": p["tau_ca"] * b2.ms,
        "tau": p["tau"] * b2.ms,
        **{k: p[k] for k in ("rho_star", "gamma_p", "gamma_d", "theta_p", "theta_d")},
        # Not c_pre / c_post: in a synapse group those name the pre/postsynaptic ``c``.
        "jump_pre": p["c_pre"],
        "jump_post": p["c_post"],
    }
    synapse = b2.NeuronGroup(n, equations, method=method, namespace=namespace)
    synapse.rho_up = 1.0
    # Generator neuron i fires condition i's presynaptic train, neuron n + i its postsynaptic one.
    index = np.concatenate(
        [
            np.repeat(np.arange(n), pre_times.shape[1]),
            np.repeat(np.arange(n, 2 * n), post_times.shape[1]),
        ]
    )
    times = np.concatenate([pre_times.ravel(), post_times.ravel()])
    keep = times < t_end
    spikes = b2.SpikeGeneratorGroup(2 * n, index[keep], times[keep] * b2.ms)
    pre = b2.Synapses(
        spikes, synapse, on_pre="c += jump_pre", delay=p["delay"] * b2.ms, namespace=namespace
    )
    pre.connect(i=np.arange(n), j=np.arange(n))
    post = b2.Synapses(spikes, synapse, on_pre="c += jump_post", namespace=namespace)
    post.connect(i=np.arange(n, 2 * n), j=np.arange(n))
    return b2.Network(synapse, spikes, pre, post), synapse


def brian2_runtime(p, pre_times, post_times, t_end, dt, method, target):
    """Brian2 runtime mode: ``(rho, compile_s, run_s)``.

    Args:
        p: Graupner-Brunel parameters (a `GRAUPNER_BRUNEL_PARAMETER_SETS` entry; times in ms).
        pre_times, post_times: spike times, ms, shape ``(n_conditions, n)``.
        t_end: end of the simulation, ms.
        dt: Brian2's time step, ms.
        method: Brian2 state updater (a key of `STAGES`).
        target: code generation target, ``"cython"`` or ``"numpy"``.

    ``run_s`` is Brian2's own timing of its simulation loop; ``compile_s`` is the rest of the
    call (code generation and, for Cython, compilation unless cached from an earlier run).
    """
    import brian2 as b2

    b2.set_device("runtime")
    b2.prefs.codegen.target = target
    b2.defaultclock.dt = dt * b2.ms
    network, synapse = _network(b2, p, pre_times, post_times, t_end, method)
    began = time.perf_counter()
    network.run(t_end * b2.ms, report="text", report_period=20 * b2.second)
    wall = time.perf_counter() - began
    run_s = b2.device._last_run_time
    rho = np.stack([synapse.rho_down[:], synapse.rho_up[:]], axis=1)
    return rho, wall - run_s, run_s


def brian2_standalone(p, pre_times, post_times, t_end, dt, method, repeats):
    """Brian2 C++ standalone mode: ``(rho, compile_s, run_s)``, run_s the best of ``repeats``.

    Arguments as for `brian2_runtime`. ``compile_s`` is code generation plus the C++ build;
    ``run_s`` is the wall time of the compiled binary (start, simulation, writing results), the
    best of ``repeats`` runs of it.
    """
    import brian2 as b2

    with tempfile.TemporaryDirectory(prefix="bench_gb_brian2_") as directory:
        b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
        b2.device.reinit()
        b2.device.activate(directory=directory, build_on_run=False)
        b2.defaultclock.dt = dt * b2.ms
        network, synapse = _network(b2, p, pre_times, post_times, t_end, method)
        network.run(t_end * b2.ms)
        began = time.perf_counter()
        b2.device.build(directory=directory, compile=True, run=False, with_output=False)
        compile_s = time.perf_counter() - began
        run_times = []
        for _ in range(repeats):
            b2.device.run(directory=directory, with_output=False)
            run_times.append(b2.device.timers["run_binary"])
        rho = np.stack([synapse.rho_down[:], synapse.rho_up[:]], axis=1)
        b2.device.reinit()
        b2.set_device("runtime")
    return rho, compile_s, min(run_times)
