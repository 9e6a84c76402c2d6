"""The plastic synapse layer and the spiking network, against independent references.

- The layer's weight trajectories against a diffrax (Tsit5, tight tolerances, every spike and
  pulse edge declared) solution of the same rule, driven by the same signals written as direct
  sums over the spike times (not the layer's recursive traces): within a stated tolerance at the
  default step, with fourth-order convergence for smooth rules.
- The leaky integrate-and-fire neuron against scipy's float64 solution of its ODE and the closed
  form of the PSP peak.
- `jax.grad` through a 10-s learning episode of a 100 x 10 network against central finite
  differences; the kinase-competition rule's rate constants likewise on a smaller network.
- `jax.vmap` over networks against a Python loop; the checkpointed scan against `jax.lax.scan`;
  the backward pass's memory against its length.
"""

import functools

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate

import plastic  # noqa: F401  (float64)
from plastic.network import (
    FeedforwardNetwork,
    LIFNeurons,
    PlasticSynapses,
    SpikeSignals,
    checkpointed_scan,
    default_segment_steps,
)
from plastic.rules import (
    GraupnerBrunel,
    KinaseCascade,
    KinaseCompetition,
    TripletSTDP,
)
from plastic.rules.base import SynapseSignals

DEFAULT_DT = PlasticSynapses.__dataclass_fields__["dt"].default
VOLTAGE = -65.0  # mV, the postsynaptic voltage outside spikes in the reference comparison


def fast_kinase_competition(**overrides) -> KinaseCompetition:
    """The default rule with GluN2B binding and AMPAR trafficking 100 times faster, so that
    weights move by several percent within seconds; the calcium sensors are unchanged."""
    fields = dict(k_insert=1 / 9e3, k_remove=1 / 6e2, k_camkii_n2b_on=5e-3, k_dapk1_n2b_on=2e-3)
    return KinaseCompetition(**{**fields, **overrides})


def poisson(rng, n_steps, n, rate, dt):
    """Spike counts (0/1) of ``n`` Poisson trains at ``rate`` (per ms), one row per step."""
    return (rng.random((n_steps, n)) < rate * dt).astype(float)


# --- the layer against diffrax ---------------------------------------------------------------

REFERENCE_DURATION = 2000.0  # ms
REFERENCE_SAVE = 100.0  # ms between compared weights


def spike_time_table(spikes, dt):
    """``(n_steps, n)`` counts -> ``(n, max_count)`` spike times (ms), padded with ``+inf``."""
    lists = [np.flatnonzero(spikes[:, i]) * dt for i in range(spikes.shape[1])]
    table = np.full((len(lists), max(1, max(len(x) for x in lists))), np.inf)
    for i, times in enumerate(lists):
        table[i, : len(times)] = times
    return table


@eqx.filter_jit
def diffrax_efficacies(rules: tuple, signals: tuple, pre_times, post_times, save_ts):
    """Efficacy ``(n_save, n_post, n_pre)`` of each rule, driven by its continuous-time signals.

    All rules are solved as one ODE (one compilation); the spike trains are shared, so every
    spike and pulse edge is declared once.
    """

    def transients(t, times, tau):
        past = times <= t
        ages = jnp.where(past, t - times, 0.0)
        return jnp.sum(jnp.where(past, jnp.exp(-ages / tau), 0.0), axis=-1)

    def pulse(t, times, duration):
        return jnp.any((times <= t) & (t < times + duration), axis=-1)

    def bound_at_post_spikes(tau_nmda):
        # n_j(t_k) for every postsynaptic spike k of neuron i: (n_post, max_post, n_pre).
        lag = post_times[:, :, None, None] - pre_times[None, None, :, :]
        valid = jnp.isfinite(post_times)[:, :, None, None] & jnp.isfinite(pre_times) & (lag >= 0)
        decay = jnp.exp(-jnp.where(valid, lag, 0.0) / tau_nmda)
        return jnp.sum(jnp.where(valid, decay, 0.0), axis=-1)

    def synapse_signals(t, signals: SpikeSignals):
        tau = signals.tau_calcium
        past = post_times <= t
        post_decay = jnp.where(past, jnp.exp(-jnp.where(past, t - post_times, 0.0) / tau), 0.0)
        pair = jnp.einsum("ik,ikj->ij", post_decay, bound_at_post_spikes(signals.tau_nmda))
        calcium = (
            signals.calcium_rest
            + signals.calcium_post * transients(t, post_times, tau)[:, None]
            + signals.calcium_pre * transients(t, pre_times, tau)[None, :]
            + signals.calcium_pair * pair
        )
        glutamate = pulse(t, pre_times, signals.glutamate_duration).astype(float)
        spiking = pulse(t, post_times, signals.spike_duration)
        voltage = jnp.where(spiking, signals.spike_voltage, VOLTAGE)[:, None]
        shape = calcium.shape
        voltage = jnp.broadcast_to(voltage, shape)
        return SynapseSignals(calcium, voltage, jnp.broadcast_to(glutamate, shape), voltage)

    def vector_field(t, ys, args):
        derivatives = []
        for rule, signal, y in zip(rules, signals, ys):
            per_synapse = jax.vmap(rule.vector_field, in_axes=(None, 0, 0))
            field = jax.vmap(per_synapse, in_axes=(None, 0, 0))
            derivatives.append(field(t, y, synapse_signals(t, signal)))
        return tuple(derivatives)

    shape = (post_times.shape[0], pre_times.shape[0])
    y0 = tuple(
        jax.tree.map(lambda x: jnp.broadcast_to(x, shape), rule.initial_state()) for rule in rules
    )
    # The pulse edges of the first signals serve all: `reference_efficacies` checks they agree.
    glutamate_duration, spike_duration = signals[0].glutamate_duration, signals[0].spike_duration
    edges = jnp.concatenate(
        [
            pre_times.ravel(),
            post_times.ravel(),
            pre_times.ravel() + glutamate_duration,
            post_times.ravel() + spike_duration,
        ]
    )
    edges = jnp.where(jnp.isfinite(edges), edges, 1e12)
    controller = diffrax.PIDController(rtol=1e-10, atol=1e-12, dtmax=5.0)
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(vector_field),
        diffrax.Tsit5(),
        0.0,
        save_ts[-1],
        0.01,
        y0,
        saveat=diffrax.SaveAt(ts=save_ts),
        stepsize_controller=diffrax.ClipStepSizeController(controller, jump_ts=edges),
        max_steps=200_000,
    )
    return tuple(
        jax.vmap(jax.vmap(jax.vmap(rule.efficacy)))(y) for rule, y in zip(rules, solution.ys)
    )


@eqx.filter_jit
def layer_weights(synapses: PlasticSynapses, pre, post, segment_steps: int):
    return synapses.run(pre, post, segment_steps=segment_steps).weights


def spikes_on_millisecond_grid(dt, n_pre=3, n_post=2):
    """The same spike trains (20 Hz, on whole ms) on the grid of step ``dt``."""
    n_ms = int(REFERENCE_DURATION)
    every = int(round(1.0 / dt))
    pre = np.zeros((n_ms * every, n_pre))
    post = np.zeros((n_ms * every, n_post))
    pre[::every] = poisson(np.random.default_rng(1), n_ms, n_pre, 0.02, 1.0)
    post[::every] = poisson(np.random.default_rng(2), n_ms, n_post, 0.02, 1.0)
    return pre, post


def reference_grid():
    """Spike trains on the default grid, their spike-time tables, and the compared times."""
    pre, post = spikes_on_millisecond_grid(DEFAULT_DT)
    save_ts = jnp.arange(1, int(REFERENCE_DURATION / REFERENCE_SAVE) + 1) * REFERENCE_SAVE
    times = [jnp.asarray(spike_time_table(x, DEFAULT_DT)) for x in (pre, post)]
    return times, save_ts


# Solved together, one compilation per group; Graupner-Brunel alone, because its thresholds
# force the controller to small steps at every crossing.
REFERENCE_GROUPS = (("kinase_competition", "triplet_stdp"), ("graupner_brunel",))


@functools.cache
def reference_efficacies() -> dict:
    """The diffrax efficacy of every case of `REFERENCE_CASES`, by name."""
    (pre_times, post_times), save_ts = reference_grid()
    efficacies = {}
    for group in REFERENCE_GROUPS:
        rules = tuple(REFERENCE_CASES[name][0] for name in group)
        signals = tuple(REFERENCE_CASES[name][1] for name in group)
        assert len({(float(s.glutamate_duration), float(s.spike_duration)) for s in signals}) == 1
        solved = diffrax_efficacies(rules, signals, pre_times, post_times, save_ts)
        efficacies.update(zip(group, (np.asarray(e) for e in solved)))
    return efficacies


def layer_error(name, dt):
    """Max |efficacy difference| between the layer at step ``dt`` and diffrax, every 100 ms."""
    rule, signals, _ = REFERENCE_CASES[name]
    pre, post = spikes_on_millisecond_grid(dt)
    save_every = int(round(REFERENCE_SAVE / dt))
    synapses = PlasticSynapses(rule, jnp.ones((post.shape[1], pre.shape[1])), signals, dt=dt)
    layer = layer_weights(synapses, jnp.asarray(pre), jnp.asarray(post), save_every)
    return float(np.max(np.abs(np.asarray(layer) - reference_efficacies()[name])))


NMDA_LIKE = SpikeSignals(calcium_pre=0.45, calcium_post=0.45, calcium_pair=2.0)
# Published set "P" has no presynaptic delay; its calcium is dimensionless with rest 0.
GRAUPNER_BRUNEL_SIGNALS = SpikeSignals(calcium_rest=0.0, calcium_pre=2.0, calcium_post=2.0)

# (rule, signals, tolerance on the efficacy at the default step; measured error in brackets)
REFERENCE_CASES = {
    # Smooth in calcium: fourth order. Measured 2.7e-10.
    "kinase_competition": (fast_kinase_competition(), NMDA_LIKE, 1e-8),
    # Glutamate pulses and the spike waveform, read through the spike detector. Measured 1.8e-8.
    "triplet_stdp": (
        TripletSTDP.from_published("visual_cortex_all_to_all_full"),
        NMDA_LIKE,
        1e-7,
    ),
    # Heaviside thresholds in calcium: first order in dt. Measured 4.7e-4.
    "graupner_brunel": (GraupnerBrunel.from_published("P"), GRAUPNER_BRUNEL_SIGNALS, 2e-3),
}


@pytest.mark.parametrize("name", list(REFERENCE_CASES))
def test_layer_matches_diffrax_at_default_step(name):
    tolerance = REFERENCE_CASES[name][2]
    error = layer_error(name, DEFAULT_DT)
    # The comparison is not vacuous: the efficacy moves by much more than the tolerance.
    assert np.ptp(reference_efficacies()[name]) > 20 * tolerance
    assert error < tolerance, f"{name}: max efficacy error {error:.2e} at dt = {DEFAULT_DT} ms"


def test_layer_converges_at_fourth_order():
    coarse = layer_error("triplet_stdp", 2 * DEFAULT_DT)
    fine = layer_error("triplet_stdp", DEFAULT_DT)
    # Halving the step divides the error by 2^4 = 16 (measured 16.4).
    assert 12.0 < coarse / fine < 20.0


# --- the neuron against scipy -------------------------------------------------------------


def test_lif_psp_peak_and_subthreshold_trajectory_match_scipy():
    dt = DEFAULT_DT
    neurons = LIFNeurons(threshold=100.0)  # never spikes: the linear system alone
    weight = 0.7  # mV
    # A single input: the PSP peaks at the weight (closed form of kappa, on a fine grid).
    kicks = jnp.zeros((3000, 1)).at[0, 0].set(weight)

    def fine_step(state, x):
        state = neurons.step(state, x, 0.01)
        return state, state.voltage[0]

    _, fine = jax.lax.scan(fine_step, neurons.initial_state(1), kicks)
    peak = float(jnp.max(fine)) - float(neurons.resting_potential)
    np.testing.assert_allclose(peak, weight, rtol=1e-6)

    # Random input spikes: the exact propagator against scipy's DOP853 solution with jumps.
    rng = np.random.default_rng(0)
    n_steps = 100
    inputs = rng.normal(1.0, 0.5, n_steps) * (rng.random(n_steps) < 0.2)

    def step(state, x):
        state = neurons.step(state, x[None], dt)
        return state, state.voltage[0]

    _, voltage = jax.lax.scan(step, neurons.initial_state(1), jnp.asarray(inputs))
    tau_m, tau_s = 20.0, 5.0
    rest, kappa = -70.0, float(neurons.psp_peak())

    def rhs(t, y):
        return [(-(y[0] - rest) + y[1]) / tau_m, -y[1] / tau_s]

    y, expected = np.array([rest, 0.0]), []
    for x in inputs:
        y = y + np.array([0.0, x / kappa])
        y = scipy.integrate.solve_ivp(rhs, (0, dt), y, method="DOP853", rtol=1e-12, atol=1e-12)
        y = y.y[:, -1]
        expected.append(y[0])
    np.testing.assert_allclose(np.asarray(voltage), expected, atol=1e-9)


def test_lif_spike_reset_and_refractory_period():
    dt = DEFAULT_DT
    neurons = LIFNeurons(refractory_period=2.0)
    state = neurons.initial_state(1)
    spikes, voltages = [], []
    for n in range(40):
        state = neurons.step(state, jnp.array([40.0 if n == 0 else 5.0]), dt)
        spikes.append(float(state.spikes[0]))
        voltages.append(float(state.voltage[0]))
    first = spikes.index(1.0)
    assert voltages[first] == -70.0  # reset
    # Held at reset for 2 ms = 4 steps after the spike, then free to integrate again.
    assert voltages[first + 1 : first + 5] == [-70.0] * 4
    assert voltages[first + 5] > -70.0


# --- checkpointing ---------------------------------------------------------------------------


def test_checkpointed_scan_matches_scan_values_and_gradients():
    xs = jnp.linspace(0.0, 1.0, 24)

    def step(carry, x):
        carry = jnp.sin(carry) + x * carry
        return carry, carry**2

    def loss(c0, scan):
        final, ys = scan(c0)
        return final + jnp.sum(ys)

    plain = jax.value_and_grad(lambda c: loss(c, lambda c0: jax.lax.scan(step, c0, xs)))(0.3)

    def segmented(c0):
        final, (ys, carries) = checkpointed_scan(step, c0, xs, 6)
        return final, ys

    chunked = jax.value_and_grad(lambda c: loss(c, segmented))(0.3)
    np.testing.assert_allclose(chunked, plain, rtol=1e-13)
    _, (_, carries) = checkpointed_scan(step, 0.3, xs, 6)
    assert carries.shape == (4,)
    with pytest.raises(ValueError, match="segment_steps must be a divisor"):
        checkpointed_scan(step, 0.3, xs, 5)
    assert default_segment_steps(20_000) == 125
    assert default_segment_steps(13) == 1


def test_backward_memory_grows_as_square_root_of_length():
    synapses = PlasticSynapses(KinaseCascade(), jnp.ones((10, 20)))

    def temp_bytes(n_steps, segment_steps):
        pre, post = jnp.zeros((n_steps, 20)), jnp.zeros((n_steps, 10))

        def loss(rule):
            layer = eqx.tree_at(lambda s: s.rule, synapses, rule)
            run = layer.run(pre, post, segment_steps=segment_steps)
            return run.final_state.rule.cap.sum()

        compiled = jax.jit(jax.grad(loss)).lower(synapses.rule).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    short, long = temp_bytes(4096, 64), temp_bytes(16384, 128)
    unsegmented = temp_bytes(4096, 4096)
    assert long < 2.5 * short  # 4x the steps, 2x the memory (measured 0.48 MB -> 0.93 MB)
    assert short < unsegmented / 10  # measured 15 MB without segments


# --- networks: vmap and grad ---------------------------------------------------------------


@eqx.filter_jit
def episode_outputs(network: FeedforwardNetwork, pre):
    episode = network.run(pre)
    return episode.spikes, episode.weights


def test_vmap_over_networks_matches_loop():
    rng = np.random.default_rng(3)
    n_steps, n_pre, n_post = 1000, 12, 3
    pre = jnp.asarray(poisson(rng, n_steps, n_pre, 0.05, DEFAULT_DT))
    stdp = TripletSTDP.from_published("visual_cortex_all_to_all_full")
    networks = [
        FeedforwardNetwork(
            PlasticSynapses(
                eqx.tree_at(lambda r: r.a3_plus, stdp, a3_plus),
                rng.uniform(2.0, 4.0, (n_post, n_pre)),
                NMDA_LIKE,
            ),
            LIFNeurons(threshold=threshold),
        )
        for a3_plus, threshold in ((6e-3, -54.0), (2e-2, -56.0), (5e-2, -52.0))
    ]
    batch = jax.tree.map(lambda *xs: jnp.stack(xs), *networks)
    spikes, weights = jax.vmap(episode_outputs, in_axes=(0, None))(batch, pre)
    for i, network in enumerate(networks):
        loop_spikes, loop_weights = episode_outputs(network, pre)
        np.testing.assert_array_equal(spikes[i], loop_spikes)
        np.testing.assert_allclose(weights[i], loop_weights, rtol=1e-12)
    assert float(jnp.sum(spikes)) > 0  # the networks are active
    assert not np.allclose(weights[0], weights[2])  # and differ


def _directional_check(loss, network, direction, epsilon, *, compile_forward: bool):
    """jax.grad . direction against a central difference, and the spike counts.

    ``loss(network)`` returns ``(value, spike counts)``. The perturbed runs must spike exactly as
    the unperturbed one: the loss is smooth only between spike-time changes. The perturbed runs
    use a compiled forward pass if ``compile_forward``, else the compiled ``value_and_grad``
    (cheaper when compiling costs more than running).
    """
    params, static = eqx.partition(network, eqx.is_inexact_array)

    def flat_loss(p):
        return loss(eqx.combine(p, static))

    value_and_grad = eqx.filter_jit(jax.value_and_grad(flat_loss, has_aux=True))
    (_, spikes), gradient = value_and_grad(params)
    analytic = sum(
        float(jnp.sum(g * d)) for g, d in zip(jax.tree.leaves(gradient), jax.tree.leaves(direction))
    )
    evaluate = eqx.filter_jit(flat_loss) if compile_forward else lambda p: value_and_grad(p)[0]
    shifted = [
        evaluate(jax.tree.map(lambda p, d, step=step: p + step * d, params, direction))
        for step in (epsilon, -epsilon)
    ]
    numeric = (float(shifted[0][0]) - float(shifted[1][0])) / (2 * epsilon)
    for _, other in shifted:
        np.testing.assert_array_equal(other, spikes)
    return analytic, numeric, spikes


def test_grad_through_10s_episode_of_100x10_network_matches_finite_differences():
    rng = np.random.default_rng(4)
    # A 1 ms step (the pulses still span whole steps) halves the cost of this test.
    duration, n_pre, n_post, dt = 10_000.0, 100, 10, 1.0
    n_steps = int(duration / dt)
    pre = jnp.asarray(poisson(rng, n_steps, n_pre, 0.01, dt))
    network = FeedforwardNetwork(
        PlasticSynapses(
            TripletSTDP.from_published("visual_cortex_all_to_all_full"),
            rng.uniform(0.2, 0.7, (n_post, n_pre)),
            NMDA_LIKE,
            dt=dt,
        )
    )
    readout = jnp.asarray(rng.normal(size=(n_post, n_pre)))

    def loss(network):
        episode = network.run(pre)
        depolarisation = jnp.mean((episode.voltage + 70.0) ** 2)
        return jnp.sum(readout * episode.weights[-1]) + depolarisation, episode.spikes.sum(0)

    # Relative perturbation of every parameter: rule amplitudes and time constants, baseline
    # weights and the neurons' time constants and voltages.
    params = eqx.filter(network, eqx.is_inexact_array)
    direction = jax.tree.map(lambda p: p * rng.normal(size=p.shape), params)
    analytic, numeric, spikes = _directional_check(
        loss, network, direction, 1e-7, compile_forward=True
    )
    print(f"output spikes per neuron in 10 s: {np.asarray(spikes)}; d loss = {analytic:.6e}")
    assert float(jnp.sum(spikes)) > 500  # the output neurons fire
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5)


def test_grad_of_kinase_competition_rates_matches_finite_differences():
    rng = np.random.default_rng(5)
    n_steps, n_pre, n_post = 2000, 10, 2
    pre = jnp.asarray(poisson(rng, n_steps, n_pre, 0.02, DEFAULT_DT))
    network = FeedforwardNetwork(
        PlasticSynapses(
            fast_kinase_competition(), rng.uniform(1.0, 3.0, (n_post, n_pre)), NMDA_LIKE
        )
    )

    def loss(network):
        episode = network.run(pre)
        return jnp.sum(episode.weights[-1] ** 2), episode.spikes.sum(0)

    params = eqx.filter(network, eqx.is_inexact_array)
    rates = [name for name in KinaseCompetition.__dataclass_fields__ if name.startswith("k_")]
    # Relative perturbations of the rule's rate constants only.
    direction = jax.tree.map(jnp.zeros_like, params)
    direction = eqx.tree_at(
        lambda n: [getattr(n.synapses.rule, r) for r in rates],
        direction,
        [getattr(network.synapses.rule, r) * rng.normal() for r in rates],
    )
    analytic, numeric, spikes = _directional_check(
        loss, network, direction, 1e-6, compile_forward=False
    )
    assert float(jnp.sum(spikes)) > 0
    assert abs(analytic) > 1e-3
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6)


# --- input checks ----------------------------------------------------------------------------


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match=r"baseline_weight must have shape \(n_post, n_pre\)"):
        PlasticSynapses(KinaseCascade(), jnp.ones(3))
    with pytest.raises(ValueError, match=r"PlasticSynapses.dt must be a number in \(0, inf\)"):
        PlasticSynapses(KinaseCascade(), jnp.ones((2, 3)), dt=0.0)
    with pytest.raises(ValueError, match=r"SpikeSignals.tau_calcium must be a number in"):
        SpikeSignals(tau_calcium=-1.0)
    with pytest.raises(ValueError, match=r"SpikeSignals.calcium_pre must be a number in \[0"):
        SpikeSignals(calcium_pre=-0.1)
    with pytest.raises(ValueError, match="synaptic_time_constant must differ"):
        LIFNeurons(membrane_time_constant=5.0, synaptic_time_constant=5.0)
    with pytest.raises(ValueError, match=r"LIFNeurons.reset_potential must be a number in"):
        LIFNeurons(reset_potential=-40.0)
