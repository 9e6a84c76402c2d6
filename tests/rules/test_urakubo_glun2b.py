"""The DAPK1 variant of the Urakubo model (`plastic.rules.urakubo.glun2b`): off by default, its
chemistry conserves every moiety (GluN2B and DAPK1 included), its kinase activities follow the
emer/axon formulas, and calcineurin is what frees DAPK1 onto GluN2B."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.protocols import PATTERNS, rate_trains
from plastic.rules import UrakuboSynapse, solve_urakubo
from plastic.rules.urakubo.model import Urakubo2008
from plastic.rules.urakubo.network import urakubo_network


def test_the_variant_is_off_by_default_and_adds_only_its_own_species():
    default, variant = urakubo_network(), urakubo_network(dapk1=True)
    assert "psd.N2B" not in default.species and not Urakubo2008(default).has_dapk1
    assert set(default.species) < set(variant.species)
    added = set(variant.species) - set(default.species)
    assert all(".N2B" in s or s.split(".")[1].startswith("D") for s in added), sorted(added)
    # With GluN2B explicit, the rates that stood for it are the free ones (reaction 6, exit).
    for network, kb, out in ((default, 0.02, 0.6), (variant, 400.0, 6.0)):
        rates = np.asarray(network.rate_constants)
        assert rates[network.reaction_position("psd.KB2+Ca<")] == kb
        exit_rate = rates[network.reaction_position("KP3:psd>cyt")]
        np.testing.assert_allclose(
            exit_rate / rates[network.reaction_position("KP3:cyt>psd")], out / 6.0
        )


def test_every_reaction_of_the_variant_conserves_every_moiety():
    network = urakubo_network(dapk1=True)
    defects = network.conservation_defects()
    assert {"DAPK1", "GluN2B", "CaMKII", "CaM", "CaN"} <= set(defects)
    assert all(d == 0.0 for d in defects.values()), defects


def _random_state(rule, seed=0):
    n = rule.network.n_species
    return jnp.asarray(np.random.default_rng(seed).uniform(0.01, 2.0, n + 2))


def test_kinase_activities_follow_the_go_formulas():
    """``dapk1.go`` ActiveK and ``ampar.go`` StepP, transcribed, at a random state."""
    rule = Urakubo2008(urakubo_network(dapk1=True), dapk1_autophosphorylation=0.7)
    state = _random_state(rule)

    def c(name):
        return float(rule.concentration(state, name))

    for comp in ("cyt", "psd"):
        sites = ["", "N2B_"] if comp == "psd" else [""]
        wi = sum(c(f"{comp}.{p}D") for p in sites)
        wa = sum(c(f"{comp}.{p}DP") for p in sites)
        wb = sum(c(f"{comp}.{p}DB{n}") for p in sites for n in range(4))
        wt = sum(c(f"{comp}.{p}DP{n}") for p in sites for n in range(4))
        t = wa / (wi + wb + wt + wa)
        expected_rate = 0.7 * max(0.0, t * t * (-0.22 + 1.826 * t - 0.8 * t * t))
        active, rate = rule.dapk1_fractions(state, comp)
        np.testing.assert_allclose(float(active), wb + 0.75 * wi, rtol=1e-12)
        np.testing.assert_allclose(float(rate), expected_rate, rtol=1e-12)
        camkii = float(rule.camkii_fractions(state, comp)[0])
        modifiers = dict(zip(rule.network.modifier_names, np.asarray(rule.modifiers(state, 0.0))))
        np.testing.assert_allclose(
            modifiers[f"{comp}.CaMKIIact"], max(0.0, camkii - 2.0 * float(active)), rtol=1e-12
        )
        np.testing.assert_allclose(modifiers[f"{comp}.Dauto"], expected_rate, rtol=1e-12)
    # The PSD's CaMKII activity counts its GluN2B-bound forms.
    bare = Urakubo2008(urakubo_network(dapk1=True))
    on_glun2b = [i for i, s in enumerate(rule.network.species) if s.startswith("psd.N2B_K")]
    unbound = state.at[jnp.asarray(on_glun2b)].set(0.0)
    assert float(bare.camkii_fractions(state, "psd")[0]) > float(
        bare.camkii_fractions(unbound, "psd")[0]
    )


@pytest.fixture(scope="module")
def stimulated():
    """The variant at rest, and 2 s of 50 Hz pre and post trains, with and without calcineurin's
    Ser308 dephosphorylation."""
    synapse = UrakuboSynapse.at_rest("go", dapk1=True, rest=100_000.0)
    trains, fits = rate_trains(
        jax.random.PRNGKey(0),
        pattern=PATTERNS.index("out_of_phase"),
        pre_rate=50.0,
        post_rate=50.0,
        duration=1000.0,
        n_repeats=1,
        repeat_period=1000.0,
        post_delay=5.0,
        tail=1000.0,
        max_repeats=1,
        max_pre=60,
        max_post=60,
    )
    assert bool(fits)
    network = synapse.rule.network
    calcineurin = [
        j for j, name in enumerate(network.reaction_names) if "DP" in name and "-CaN" in name
    ]
    rates = network.rate_constants.at[jnp.asarray(calcineurin)].set(0.0)
    without = eqx.tree_at(lambda r: r.network.rate_constants, synapse.rule, rates)
    out = {}
    for label, rule in (("with", synapse.rule), ("without", without)):
        driven, drive = UrakuboSynapse(rule).driven(trains)
        solution = solve_urakubo(
            driven, drive, 0.0, 2000.0, save_ts=jnp.asarray([0.0, 2000.0]), max_steps=200_000
        )
        out[label] = (driven, np.asarray(solution.states))
    return out


def test_a_stimulated_run_conserves_every_moiety(stimulated):
    rule, states = stimulated["with"]
    before, after = rule.totals(states[0]), rule.totals(states[-1])
    for moiety in before:
        np.testing.assert_allclose(after[moiety], before[moiety], rtol=1e-10, err_msg=moiety)


def test_calcineurin_frees_dapk1_onto_glun2b(stimulated):
    """Activity dephosphorylates DAPK1 (Ser308) through calcineurin and moves it onto GluN2B;
    without calcineurin's Ser308 reaction, DAPK1 stays where its rest put it."""
    changes = {}
    for label, (rule, states) in stimulated.items():
        readouts = [rule.readouts(s) for s in states]
        changes[label] = (
            float(readouts[1]["PSD_DAPK1act"] - readouts[0]["PSD_DAPK1act"]),
            float(readouts[1]["PSD_DAPK1n2b"] - readouts[0]["PSD_DAPK1n2b"]),
        )
    assert changes["with"][0] > 0.1 and changes["with"][1] > 0.05, changes
    assert changes["without"][0] < 0.1 * changes["with"][0], changes
