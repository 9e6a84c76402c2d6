"""The Urakubo 2008 spine model: the network's chemistry, conservation, the stiff solve against
forward Euler, and the authors' GENESIS traces (rest, and 20 pairings at +16 and -16 ms)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.rules import Urakubo2008, UrakuboDrive, equilibrate, euler_solve, solve_urakubo
from plastic.rules.urakubo.genesis import REST_DURATION, compare, load_trace, pairing_drive
from plastic.rules.urakubo.network import urakubo_network
from plastic.rules.urakubo.reactions import NetworkBuilder


@eqx.filter_jit
def _solve(rule, spikes, t0, t1, save_ts):
    """One compiled solve for the short windows below, batched over release trains: the +16 ms
    GENESIS drive with release times ``spikes`` (ms, shape ``(batch, 20)``, inf-padded). Tight
    tolerances: it is the Euler test's reference."""
    base = pairing_drive(load_trace(16), 16)

    def one(spikes):
        drive = eqx.tree_at(lambda d: d.spikes, base, spikes)
        return solve_urakubo(rule, drive, t0, t1, save_ts=save_ts, rtol=1e-9, atol=1e-12).states

    return jax.vmap(one)(spikes)


PAIRINGS = REST_DURATION + 1006.0 + 1000.0 * np.arange(20) - np.array([[16.0], [-16.0]])
"""Release times of the +16 and -16 ms pairings, ms, shape (2, 20)."""


@pytest.fixture(scope="module")
def rest_rule():
    """The model after the 500 s rest of the GENESIS runs."""
    return equilibrate(Urakubo2008())


def test_every_reaction_conserves_every_moiety():
    network = urakubo_network()
    assert network.n_species == 133
    assert set(network.moieties) >= {"CaM", "CaMKII", "PKA_R", "PKA_C", "PP1", "AMPAR", "Scaffold"}
    assert all(d == 0.0 for d in network.conservation_defects().values())
    # The check sees a reaction that loses a moiety: CaM3 + CaN0 -> CaN0 (CaM destroyed).
    b = NetworkBuilder()
    b.add_species("CaM3", 1.0, {"CaM": 1})
    b.add_species("CaN0", 1.0, {"CaN": 1})
    b.reaction("leak", ("CaM3", "CaN0"), ("CaN0",), 1.0, 1.0)
    assert b.build().conservation_defects() == {"CaM": 1.0, "CaN": 0.0}


def test_network_rejects_bad_reactions_by_name():
    b = NetworkBuilder()
    b.add_species("A", 1.0)
    with pytest.raises(ValueError, match="'B' is not a state species"):
        b.reaction("r", ("A",), ("B",), 1.0, 1.0)
    with pytest.raises(ValueError, match="unknown modifier 'glu'"):
        b.reaction("r", ("A",), ("A",), 1.0, 1.0, modifier="glu")
    with pytest.raises(ValueError, match="species 'A' declared twice"):
        b.add_species("A", 1.0)
    network = urakubo_network()
    with pytest.raises(ValueError, match="modifiers must have shape"):
        network.rates(jnp.zeros(network.n_species), jnp.zeros(2))


def test_bad_model_inputs_are_refused_by_name():
    with pytest.raises(ValueError, match="rest_state must have shape"):
        Urakubo2008(rest_state=jnp.zeros(3))
    with pytest.raises(ValueError, match="release_duration"):
        UrakuboDrive([0.0, 1.0], [-65.0, -65.0], [0.5], release_duration=0.0)
    with pytest.raises(ValueError, match="UrakuboDrive.ts and .voltage"):
        UrakuboDrive([0.0, 1.0], [-65.0], [0.5])
    with pytest.raises(ValueError, match="vgcc_tau_m"):
        Urakubo2008(vgcc_tau_m=0.0)
    with pytest.raises(ValueError, match="delta_t must be one of"):
        load_trace(10)


def test_rest_matches_the_genesis_baseline(rest_rule):
    genesis = load_trace(16)
    model = rest_rule.readouts(rest_rule.initial_state())
    names = [
        "PSD_Ca3CaM",
        "Cyt_CaMKIIact",
        "PSD_CaMKIIact",
        "PSD_CaNact",
        "PSD_AC1act",
        "PSD_cAMP",
        "PSD_PKAact",
        "Cyt_PP1act",
        "PSD_PP1act",
        "PSD_I1P",
        "NMDA_Nt0",
        "NMDA_Nt1",
        "NMDA_Nt2",
        "Int_AMPAR",
        "Mbr_AMPAR",
        "PSD_AMPAR",
        "Trp_AMPAR",
    ]
    errors = {n: float(model[n] / genesis[n][0] - 1.0) for n in names}
    assert max(abs(e) for e in errors.values()) < 0.005, errors
    assert float(rest_rule.efficacy(rest_rule.initial_state())) == pytest.approx(1.0)


def test_totals_are_conserved_through_pairings_and_timing_matters(rest_rule):
    save = REST_DURATION + jnp.linspace(0.0, 1_300.0, 10)
    states = _solve(rest_rule, PAIRINGS, save[0], save[-1], save)
    # Not a quiet run: one pairing activates CaMKII, more when pre leads post.
    camkii = np.asarray(rest_rule.readouts(states)["PSD_CaMKIIact"]).max(axis=1)
    assert camkii[0] > 1.5 * camkii[1] > 2.0, camkii
    for name, amount in rest_rule.totals(states).items():
        amount = np.asarray(amount)
        drift = np.max(np.abs(amount - amount[:, :1]) / amount[:, :1])
        assert drift < 1e-10, (name, drift)


def test_a_release_between_voltage_samples_is_not_stepped_over(rest_rule):
    # The trace has no voltage knot between 0 and 500 550 ms: a 0.1 ms release at 250 000.3 ms.
    spikes = np.full((2, 20), np.inf)
    spikes[0, 0] = 250_000.3
    save = 250_000.3 + jnp.array([-0.1, 4.0] + [5.0] * 8)
    opened = np.asarray(
        rest_rule.open_fraction(_solve(rest_rule, spikes, save[0] - 1e3, save[-1], save))
    )
    assert opened[0, 0] == pytest.approx(0.0, abs=1e-12)
    assert opened[0, 1] > 0.2
    assert np.all(opened[1] < 1e-12)


def test_rodas5_agrees_with_forward_euler_at_5_us(rest_rule):
    """The stiff solve against the Go code's scheme over the first +16 ms pairing (release at
    500 990 ms, bAP at 501 001 ms): Euler at 5 us is within a few % of each species' range,
    its error halves with its step (first order), and its Richardson extrapolation agrees far
    better."""
    drive = eqx.tree_at(lambda d: d.spikes, pairing_drive(load_trace(16), 16), PAIRINGS[0])
    t0, n_saves = jnp.asarray(REST_DURATION + 985.0), 10
    save = t0 + 5.0 * jnp.arange(1, n_saves + 1)
    exact = _solve(rest_rule, PAIRINGS, t0, save[-1], save)[0]
    scale = jnp.maximum(jnp.abs(exact).max(axis=0), 1e-3)

    def euler(dt):
        every = int(round(5.0 / dt))
        ts, states = jax.jit(lambda r: euler_solve(r, drive, t0, n_saves, every, dt=dt))(rest_rule)
        np.testing.assert_allclose(np.asarray(ts), np.asarray(save), atol=1e-6)
        return states

    def error(states):
        return float(jnp.max(jnp.abs(states - exact) / scale))

    coarse, fine = euler(0.005), euler(0.0025)
    assert error(coarse) < 0.07, error(coarse)
    assert 1.8 < error(coarse) / error(fine) < 2.2, (error(coarse), error(fine))
    assert error(2.0 * fine - coarse) < 0.1 * error(fine), error(2.0 * fine - coarse)


# What the model reaches against GENESIS (experiments/urakubo_traces.py prints the same numbers).
# Targets of issue 23: peaks and final values within 5 %, normalised RMS < 10 %. Where a bound
# below is looser than the target, the gap is real and reported in the README of the experiment.
REACHED = {
    16: {
        "PSD_Ca": {"peak": 0.06, "final": 0.001, "nrms": 0.01},
        "PSD_CaMKIIact": {"peak": 0.11, "final": 0.15, "nrms": 0.11},
        "PSD_PP1act": {"peak": 0.03, "final": 0.06, "nrms": 0.07},
        "PSD_CaNact": {"peak": 0.04, "final": 0.02, "nrms": 0.03},
        "Trp_AMPAR": {"peak": 0.02, "final": 0.03, "nrms": 0.11},
    },
    -16: {
        "PSD_Ca": {"peak": 0.10, "final": 0.001, "nrms": 0.04},
        "PSD_CaMKIIact": {"peak": 0.05, "final": 0.005, "nrms": 0.10},
        "PSD_PP1act": {"peak": 0.08, "final": 0.005, "nrms": 0.07},
        "PSD_CaNact": {"peak": 0.11, "final": 0.08, "nrms": 0.06},
        "Trp_AMPAR": {"peak": 0.001, "final": 0.007, "nrms": 0.015},
    },
}


@pytest.mark.parametrize("delta_t", [16, -16])
def test_twenty_pairings_against_the_genesis_traces(rest_rule, delta_t):
    result = compare(rest_rule, delta_t)
    for name, bounds in REACHED[delta_t].items():
        for metric, bound in bounds.items():
            error = result["errors"][name][metric]
            assert abs(error) <= bound, (delta_t, name, metric, error)
    # The sign of the plasticity is GENESIS's: LTP after +16 ms, LTD after -16 ms.
    change = result["model"]["Trp_AMPAR"][-1] / result["model"]["Trp_AMPAR"][0] - 1.0
    assert (change > 0.1) if delta_t > 0 else (change < -0.1), change
