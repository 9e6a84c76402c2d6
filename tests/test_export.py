"""Every main entry point lowers for CUDA without host callbacks or CPU kernels.

`jax.export` lowers for a platform this machine does not have (``platforms=("cuda",)``); nothing
is compiled or run, so small problems keep it fast. Each test records the custom calls its
program lowers to (``custom_calls`` in the JUnit properties; printed with ``pytest -s``).
"""

import dataclasses

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import Mesh

import plastic  # noqa: F401  (float64)
from plastic.experiment import Predictor, SpinePairingExperiment
from plastic.export import check_custom_calls, custom_call_targets, export_for
from plastic.fit import FitParameters, Objective
from plastic.fit.step import _initial_state, step_all_starts
from plastic.model import SpineModel
from plastic.network import FeedforwardNetwork, LIFNeurons, PlasticSynapses, SpikeSignals
from plastic.protocols import pairing_protocol
from plastic.rosenbrock import Rodas5
from plastic.rules import GraupnerBrunel, GraupnerBrunelCalcium, KinaseCompetition, TripletSTDP
from plastic.rules.graupner_brunel_simulate import (
    calcium_segments,
    pair_spike_times,
    solve_rho,
)
from plastic.rules.standalone import plateau_efficacy
from plastic.simulate import SolverSettings, simulate
from plastic.solver_status import diffeqsolve
from plastic.studies.tazerart2020 import (
    TazerartExperiment,
    default_fit_parameters,
    tazerart2020_data,
    tazerart_model,
)
from plastic.sweep import ExperimentSweep
from plastic.sweep.run import evaluate_chunk

SETTINGS = SolverSettings(max_steps=4096)
PROTOCOL = pairing_protocol(10.0, n_pairings=1, first_pairing=5.0, quiet=0.0, period=40.0)


def exported_targets(record_property, function, *arguments) -> tuple[str, ...]:
    """``function`` of ``arguments`` (pytrees: array leaves are the exported program's inputs,
    the rest is fixed) exported for CUDA; its custom calls, recorded and checked."""
    dynamic, static = eqx.partition(arguments, eqx.is_array)

    def on_arrays(dynamic):
        return function(*eqx.combine(dynamic, static))

    targets = custom_call_targets(export_for(on_arrays, dynamic))
    record_property("custom_calls", ", ".join(targets) or "none")
    print(f"\n{function.__name__}: custom calls {list(targets)}")
    check_custom_calls(targets)
    return targets


def test_the_check_refuses_callbacks_and_cpu_kernels():
    check_custom_calls(["cusolver_getrf_ffi", "cu_lu_pivots_to_permutation", "cublas_gemm"])
    for bad in ("xla_ffi_python_cpu_callback", "lapack_dgetrf_ffi", "some_unknown_kernel"):
        with pytest.raises(ValueError, match=bad):
            check_custom_calls(["cusolver_getrf_ffi", bad])


def test_a_throwing_diffrax_solve_does_not_export_but_plastics_solve_does():
    """What makes the entry points exportable: diffrax's default ``throw=True`` and its checks
    of traced arguments are host callbacks; `plastic.solver_status.diffeqsolve` has none."""
    term = diffrax.ODETerm(lambda t, y, args: -y)

    def throwing(t1):
        return diffrax.diffeqsolve(term, diffrax.Tsit5(), 0.0, t1, 0.1, 1.0).ys

    def ours(t1):
        return diffeqsolve(term, diffrax.Tsit5(), 0.0, t1, 0.1, 1.0)

    with pytest.raises(Exception, match="callback|platform"):
        export_for(throwing, jnp.ones(()))
    assert custom_call_targets(export_for(ours, jnp.ones(()))) == ()


def spine_simulation(model, protocol):
    simulation = simulate(model, protocol, jnp.array([5.0, 20.0]), SETTINGS)
    return simulation.states.head_calcium, simulation.final_state, simulation.solver_result


def test_simulate_exports(record_property):
    targets = exported_targets(record_property, spine_simulation, SpineModel(), PROTOCOL)
    # Rodas5's dense LU: cuSOLVER on CUDA.
    assert any(t.startswith("cusolver") for t in targets)


def sweep_chunk(evaluation, conditions):
    mesh = Mesh(np.asarray(jax.devices()[:1]), ("condition",))
    return evaluate_chunk(evaluation, conditions, mesh, None)


@pytest.mark.parametrize("sparse", [False, True])
def test_a_sweep_chunk_exports(record_property, sparse):
    # Sparse: the LU level by level, its batch as the trailing axis (a custom vmap rule).
    settings = dataclasses.replace(SETTINGS, solver=Rodas5(sparse=sparse))
    experiment = SpinePairingExperiment(n_pairings=1, settings=settings)
    sweep = ExperimentSweep.build(experiment, SpineModel(), {"delta_t": np.array([-10.0, 10.0])})
    conditions = jnp.asarray(sweep.conditions(0, 2))
    exported_targets(record_property, sweep_chunk, sweep.evaluation, conditions)


def fit_step(state, objective, parameters):
    return step_all_starts(state, objective, parameters, optax.adam(1e-2))


def _fit_arguments(experiment, rows, model):
    """A fit step's arguments: a predictor of ``rows`` built without running anything (a
    replay's recording is only traced), two starts."""
    predictor = eqx.filter_eval_shape(lambda: Predictor.from_data(experiment, rows, model=model))
    # The shapes of the predictor's conditions stand for them: only shapes are exported.
    predictor = jax.tree.map(
        lambda x: jnp.zeros(x.shape, x.dtype) if isinstance(x, jax.ShapeDtypeStruct) else x,
        predictor,
    )
    objective = Objective(predictor, rows)
    chosen = ("rule.cam_half", "expression.k_head")
    parameters = FitParameters(model, [p for p in default_fit_parameters() if p.path in chosen])
    starts = parameters.sample_starts(jax.random.key(0), 2)
    return _initial_state(starts, optax.adam(1e-2), 3), objective, parameters


ROWS = tazerart2020_data().select(condition=("single +13 ms",), readout=("neck_length",))


@pytest.mark.parametrize("mode", ["coupled", "replay"])
def test_a_fit_step_exports(record_property, mode):
    """The loss and its gradient at every start, vmapped: the program `plastic fit` runs."""
    experiment = TazerartExperiment(mode=mode, n_pairings=1, readout_delay=1000.0)
    arguments = _fit_arguments(experiment, ROWS, tazerart_model())
    exported_targets(record_property, fit_step, *arguments)


def network_episode(network, pre):
    def loss(network):
        episode = network.run(pre)
        return jnp.sum(episode.weights[-1]) + jnp.mean(episode.voltage)

    return jax.value_and_grad(loss)(network)


def test_a_network_episode_exports(record_property):
    network = FeedforwardNetwork(
        PlasticSynapses(
            TripletSTDP.from_published("visual_cortex_all_to_all_full"),
            jnp.full((3, 8), 0.5),
            SpikeSignals(calcium_pre=0.45, calcium_post=0.45, calcium_pair=2.0),
        ),
        LIFNeurons(),
    )
    pre = (np.random.default_rng(0).random((200, 8)) < 0.05).astype(float)
    exported_targets(record_property, network_episode, network, jnp.asarray(pre))


def rule_windows(rule, durations, gb_rule, gb_calcium, delta_ts):
    plateau = jax.vmap(lambda d: plateau_efficacy(rule, 1.0, d, consolidation=1000.0))(durations)

    def change(delta_t):
        pre, post = pair_spike_times(delta_t, 1000.0, 3)
        return solve_rho(gb_rule, calcium_segments(gb_rule, gb_calcium, pre, post, 3000.0)).rho

    return plateau, jax.vmap(change)(delta_ts)


def test_standalone_rule_windows_export(record_property):
    exported_targets(
        record_property,
        rule_windows,
        KinaseCompetition(),
        jnp.array([10.0, 100.0]),
        GraupnerBrunel.from_published("DP"),
        GraupnerBrunelCalcium.from_published("DP"),
        jnp.array([-20.0, 20.0]),
    )
