"""In-model and standalone use of the rules give the same result for the same signals.

Inside the spine model a rule's state is integrated per spine in the model's vector field, reading
the `SynapseSignals` of its spine head. Standalone, `solve_rule` drives the same rule with a
prescribed trace. Here the model is run once on a short pairing protocol, its full state saved
every ``H`` ms; the signals of the uncaged spine are rebuilt from that record as a piecewise cubic
Hermite trace (`HermiteSignals`: the saved values, and the model's own time derivatives at them)
and replayed through `solve_rule`. Both must end in the same rule state.

Which rules. The spine model compiles slowly (tens of seconds per distinct model, and each rule
is a different model), so every rule of the library runs side by side in one model (`SideBySide`:
each rule's vector field is called, unchanged, on the model's signals; rules do not feed back on
the biophysics). That covers every signal: calcium (kinase competition, the default rule;
Graupner-Brunel, with its published Heaviside thresholds and with smooth ones; Shouval-Bear-
Cooper; the kinase cascade), glutamate and soma voltage (triplet STDP's spike detector), and
spine-head voltage, which no published rule reads, through `SignalIntegrals` (the running
integral of each signal). Pair STDP is the triplet rule with zero triplet amplitudes (tested in
``test_stdp.py``); XCAL only changes the cascade's readout, not its state.

Tolerance. The replay differs from the model by the interpolation error of the trace plus the
two solvers' errors. The Hermite interpolant is fourth order: halving ``H`` must divide the error
of the spike-reading rule (the soma's action potential is the fastest signal) by about 16 (we
require 8). At ``H = 1/32`` ms every leaf of every rule agrees to 1e-5 of its change during the
protocol (1e-12 absolute for leaves that barely move); the largest measured errors are 3e-6 of
the change, for the triplet rule, whose error at ``2 H`` (5e-5) would fail. One exception: the
published Graupner-Brunel rule, whose vector field jumps where calcium crosses a threshold. The
replay (a non-stiff solve of the rule alone) matches a reference that locates the crossings
exactly to 1e-9, but the model's stiff solve, whose error control sees the jump in 2 of ~60
states, misplaces the crossings by up to ~20 us (rho's slope jumps by ~1e-3 per ms there): 4e-5
to 9e-4 of the change, measured. We allow 5e-3 there; with smooth thresholds
(``threshold_width > 0``) the same rule meets 1e-5 (measured: 3e-7).
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.optimize

import plastic  # noqa: F401  (float64)
from plastic.geometry import Geometry, Spines
from plastic.model import SpineModel
from plastic.protocols import pairing_protocol
from plastic.replay import record_signals
from plastic.rules import (
    GraupnerBrunel,
    HermiteSignals,
    KinaseCascade,
    KinaseCompetition,
    ShouvalBearCooper,
    TripletSTDP,
    solve_rule,
)
from plastic.simulate import SolverSettings
from tests.rules.gb_reference import rho_between_crossings
from tests.rules.probes import SideBySide, SignalIntegrals

H = 1.0 / 32.0  # ms; a binary fraction, so the protocol's pulse edges (whole ms) are nodes
COARSENING = (1, 2, 4)  # grids H, 2 H, 4 H
RULE_NAMES = (
    "kinase competition",
    "Graupner-Brunel",
    "Graupner-Brunel, smooth thresholds",
    "Shouval-Bear-Cooper",
    "kinase cascade",
    "triplet STDP",
    "signal integrals",
)
RESTING_CALCIUM = 0.07  # uM, the spine model's default
MODEL = SpineModel(
    # One spine on a short cable: the rule sees the same kind of signals as in the full geometry.
    geometry=Geometry(
        n_compartments=4,
        spines=Spines(
            position=(40.0,), neck_length=(1.0,), neck_diameter=(0.1,), head_volume=(0.07,)
        ),
    ),
    rule=SideBySide(
        (
            KinaseCompetition(),
            # Thresholds at 4 and 5.2 uM: the head calcium (peaks ~10-18 uM) crosses both.
            GraupnerBrunel.from_published("DP", calcium_scale=4.0),
            GraupnerBrunel.from_published("DP", calcium_scale=4.0, threshold_width=0.02),
            ShouvalBearCooper.from_published("2002", calcium_rest=RESTING_CALCIUM),
            KinaseCascade(calcium_rest=RESTING_CALCIUM),
            TripletSTDP.from_published("hippocampal_all_to_all_full"),
            SignalIntegrals(),
        )
    ),
)
SETTINGS = SolverSettings(rtol=1e-10, atol=1e-10)
PULSE = 2.0  # ms of glutamate per uncaging (the protocol's default)


def short_protocol(delta_t):
    return pairing_protocol(
        delta_t, n_pairings=1, n_spines=1, first_pairing=20.0, period=100.0, quiet=100.0
    )


@eqx.filter_jit
def record(model, protocol, save_times):
    """Run the model; return its rule state at the end and the uncaged spine's signals as a
    `HermiteSignals` over ``save_times``, whose intervals must not straddle a pulse edge."""
    signals, simulation = record_signals(model, protocol, save_times, SETTINGS)
    first_spine = functools.partial(jax.tree.map, lambda x: x[0])
    return first_spine(simulation.final_state.rule), first_spine(signals)


def coarsen(signals: HermiteSignals, k: int) -> HermiteSignals:
    """The trace on every ``k``-th node: interval i spans the fine intervals ik ... ik + k - 1."""
    return HermiteSignals(
        signals.ts[::k],
        start=jax.tree.map(lambda y: y[::k], signals.start),
        end=jax.tree.map(lambda y: y[k - 1 :: k], signals.end),
        start_slope=jax.tree.map(lambda y: y[::k], signals.start_slope),
        end_slope=jax.tree.map(lambda y: y[k - 1 :: k], signals.end_slope),
    )


@eqx.filter_jit
def replay(rule, traces, jump_ts, t1):
    """The rule's final state standalone, for a batch of (padded) traces."""

    def final_state(signals):
        solution = solve_rule(
            rule, signals, 0.0, t1, jump_ts=jump_ts, rtol=1e-10, atol=1e-12, max_steps=100_000
        )
        return solution.final_state

    return jax.vmap(final_state)(traces)


@pytest.fixture(scope="module", params=[13.0, -15.0], ids=["pre-post", "post-pre"])
def comparison(request):
    protocol = short_protocol(request.param)
    duration = float(protocol.duration)
    save_times = jnp.linspace(0.0, duration, round(duration / H) + 1)
    in_model, signals = record(MODEL, protocol, save_times)
    n = save_times.shape[0]
    traces = [coarsen(signals, k).pad_to(n) for k in COARSENING]
    batch = jax.tree.map(lambda *x: jnp.stack(x), *traces)
    standalone = replay(MODEL.rule, batch, protocol.pulse_edges(), duration)
    return dict(in_model=in_model, standalone=standalone, signals=signals, duration=duration)


def _leaves(tree):
    """(rule name + path, leaf) for a `SideBySide` state."""
    return [
        (RULE_NAMES[path[0].idx], jax.tree_util.keystr(path[1:]), np.asarray(leaf))
        for path, leaf in jax.tree_util.tree_leaves_with_path(tree)
    ]


def test_every_rule_in_model_matches_standalone(comparison):
    initial = MODEL.rule.initial_state()
    leaves = zip(
        _leaves(initial), _leaves(comparison["in_model"]), _leaves(comparison["standalone"])
    )
    for (rule, path, start), (_, _, model_end), (_, _, replayed) in leaves:
        error = np.abs(replayed[0] - model_end)
        change = abs(model_end - start)
        relative = 5e-3 if rule == "Graupner-Brunel" else 1e-5
        assert error <= relative * change + 1e-12, (rule + path, error, change)


def test_interpolation_error_converges_at_fourth_order(comparison):
    # The triplet rule reads the action potential through its spike detector: the trace's
    # interpolation error dominates there and must fall ~16-fold per halving of the grid.
    triplet = RULE_NAMES.index("triplet STDP")
    weight = float(comparison["in_model"][triplet].weight)
    errors = np.abs(np.asarray(comparison["standalone"][triplet].weight) - weight)
    assert errors[0] > 0
    assert np.all(errors[1:] >= 8 * errors[:-1]), errors


def test_the_rule_reads_the_glutamate_pulse(comparison):
    # Closed form: the glutamate integral is one 2 ms pulse, in the model and in the replay.
    probe = RULE_NAMES.index("signal integrals")
    assert float(comparison["in_model"][probe].glutamate) == pytest.approx(PULSE, abs=1e-8)
    np.testing.assert_allclose(comparison["standalone"][probe].glutamate, PULSE, atol=1e-10)


def _rho_with_exact_crossings(rule, signals, duration):
    """Independent reference: threshold crossings of the trace by brentq, then DOP853 on each
    piece, where the Heaviside terms are constant."""
    theta = [float(rule.calcium_scale * rule.theta_d), float(rule.calcium_scale * rule.theta_p)]
    ts = np.asarray(signals.ts)
    at_nodes = np.asarray(jax.vmap(signals)(signals.ts).calcium)

    def calcium(t):
        return float(signals(jnp.asarray(t)).calcium)

    breaks = [0.0, duration]
    for level in theta:
        above = at_nodes >= level
        for i in np.flatnonzero(above[:-1] != above[1:]):
            breaks.append(
                scipy.optimize.brentq(
                    lambda t, level=level: calcium(t) - level, ts[i], ts[i + 1], xtol=1e-13
                )
            )
    breaks = sorted(breaks)
    rho = rho_between_crossings(rule, calcium, breaks, theta)
    return rho, len(breaks) - 2


def test_graupner_brunel_replay_matches_exact_crossings(comparison):
    index = RULE_NAMES.index("Graupner-Brunel")
    rule = MODEL.rule.rules[index]
    expected, n_crossings = _rho_with_exact_crossings(
        rule, comparison["signals"], comparison["duration"]
    )
    assert n_crossings == 4  # up through theta_d and theta_p, and back down
    replayed = comparison["standalone"][index]
    np.testing.assert_allclose([replayed.rho_down[0], replayed.rho_up[0]], expected, atol=1e-9)
