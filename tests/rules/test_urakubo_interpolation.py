"""Reading sampled transients between their samples (`plastic.rules.urakubo.interpolation`)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastic  # noqa: F401  (float64)
from plastic.protocols import spike_lists
from plastic.rules import Urakubo2008, UrakuboDrive, UrakuboSynapse
from plastic.rules.urakubo.interpolation import interpolate
from plastic.rules.urakubo.model import REST_VOLTAGE

read = jax.jit(
    jax.vmap(interpolate, in_axes=(0, None, None, None)), static_argnames=("interpolation",)
)


def test_linear_is_numpy_interp():
    rng = np.random.default_rng(0)
    ts = np.sort(rng.uniform(0.0, 10.0, 12))
    values = rng.normal(size=12)
    t = rng.uniform(-1.0, 11.0, 200)
    np.testing.assert_allclose(read(t, ts, values, "linear"), np.interp(t, ts, values), rtol=1e-14)


def test_a_relaxation_is_exact_and_linear_overshoots_it():
    """Samples every 3 ms of ``5 + 80 exp(-t / 1.3 ms)``: exponential interpolation gives the
    decay between them to rounding, linear interpolation up to 1.86 times as far above the
    baseline."""
    tau, baseline = 1.3, 5.0
    ts = np.arange(0.0, 16.0, 3.0)
    t = np.linspace(0.0, 15.0, 301)
    exact = baseline + 80.0 * np.exp(-t / tau)
    samples = baseline + 80.0 * np.exp(-ts / tau)
    relaxed = jax.vmap(lambda s: interpolate(s, ts, samples, "exponential", baseline=baseline))(t)
    np.testing.assert_allclose(relaxed, exact, rtol=1e-12)
    excess = (np.interp(t, ts, samples) - baseline) / (exact - baseline)
    assert np.max(excess) > 1.5  # mid-interval: 1.86 times the excess over the baseline


def test_rises_are_geometric_only_when_asked():
    """A rising exponential (a regenerative upstroke) is exact with ``geometric_rise``; without
    it a rise is linear."""
    ts = np.array([0.0, 1.0, 2.0])
    samples = np.exp(ts / 0.4)
    t = np.linspace(0.0, 2.0, 41)

    def rising(geometric_rise):
        return jax.vmap(
            lambda s: interpolate(s, ts, samples, "exponential", geometric_rise=geometric_rise)
        )(t)

    np.testing.assert_allclose(rising(True), np.exp(t / 0.4), rtol=1e-12)
    np.testing.assert_allclose(rising(False), np.interp(t, ts, samples), rtol=1e-14)


def test_samples_at_or_below_the_baseline_and_outside_the_range_are_linear():
    ts = np.array([0.0, 1.0, 2.0, 3.0])
    samples = np.array([-1.0, 4.0, 0.0, 2.0])  # no interval positive at both ends and falling
    t = np.linspace(-1.0, 4.0, 51)
    np.testing.assert_allclose(
        read(t, ts, samples, "exponential"), np.interp(t, ts, samples), rtol=1e-14
    )


def test_gradients_are_finite_where_a_sample_is_zero():
    ts = jnp.array([0.0, 1.0, 2.0])

    def at(values):
        return sum(interpolate(t, ts, values, "exponential") for t in (0.5, 1.5))

    gradient = jax.grad(at)(jnp.array([2.0, 0.0, 0.0]))
    assert np.all(np.isfinite(gradient))
    np.testing.assert_allclose(gradient, [0.5, 1.0, 0.5], rtol=1e-14)


def test_the_drive_and_the_rule_use_it():
    """`UrakuboDrive` reads its voltage's depolarisation above rest geometrically, rising and
    falling; `Urakubo2008` its prescribed VGCC influx geometrically when it falls."""
    ts = np.array([0.0, 1.0, 3.0, 6.0])
    voltage = REST_VOLTAGE + np.array([2.0, 60.0, 20.0, 1.0])
    drive = UrakuboDrive(ts, voltage, np.array([np.inf]), interpolation="exponential")
    for t in (0.4, 2.0, 4.5):
        i = np.searchsorted(ts, t) - 1
        w = (t - ts[i]) / (ts[i + 1] - ts[i])
        a, b = voltage[i] - REST_VOLTAGE, voltage[i + 1] - REST_VOLTAGE
        expected = REST_VOLTAGE + a * (b / a) ** w
        assert float(drive(jnp.asarray(t)).voltage) == pytest.approx(expected, rel=1e-12)

    influx = (ts, np.array([0.0, 9.0, 3.0, 1.0]), np.array([0.0, 4.0, 2.0, 1.0]))
    rule = Urakubo2008(prescribed_vgcc=influx, prescribed_vgcc_interpolation="exponential")
    _, psd, cyt = rule.fluxes_in(rule.rest_state, REST_VOLTAGE, jnp.asarray(2.0))
    assert float(psd) == pytest.approx(9.0 * (3.0 / 9.0) ** 0.5, rel=1e-12)
    assert float(cyt) == pytest.approx(4.0 * (2.0 / 4.0) ** 0.5, rel=1e-12)
    _, psd, _ = rule.fluxes_in(rule.rest_state, REST_VOLTAGE, jnp.asarray(0.5))
    assert float(psd) == pytest.approx(4.5, rel=1e-12)  # rising: linear


def test_unknown_interpolations_are_refused_by_name():
    with pytest.raises(ValueError, match="UrakuboDrive.interpolation must be one of"):
        UrakuboDrive([0.0, 1.0], [-65.0, -65.0], [0.5], interpolation="cubic")
    with pytest.raises(ValueError, match="prescribed_vgcc_interpolation must be one of"):
        Urakubo2008(prescribed_vgcc_interpolation="spline")


def test_the_synapse_passes_its_interpolation_to_rule_and_drive():
    """`UrakuboSynapse.driven` reads both the voltage and the prescribed influx of its
    waveforms the way its ``interpolation`` says; ``"linear"`` stays `jax.numpy.interp`."""
    trains = spike_lists(np.array([100.0]), np.array([110.0]), duration=400.0)
    rest = Urakubo2008()
    for how in ("linear", "exponential"):
        rule, drive = UrakuboSynapse(rest, interpolation=how).driven(trains)
        assert rule.prescribed_vgcc_interpolation == how and drive.interpolation == how
        ts, psd, _ = (np.asarray(a) for a in rule.prescribed_vgcc)
        falling = np.flatnonzero((psd[1:] < psd[:-1]) & (psd[1:] > 0) & (np.diff(ts) > 0))[0]
        t = 0.5 * (ts[falling] + ts[falling + 1])
        _, influx, _ = rule.fluxes_in(rule.rest_state, REST_VOLTAGE, jnp.asarray(t))
        linear = np.interp(t, ts, psd)
        geometric = np.sqrt(psd[falling] * psd[falling + 1])
        expected = linear if how == "linear" else geometric
        assert float(influx) == pytest.approx(expected, rel=1e-12)
        assert not np.isclose(linear, geometric, rtol=1e-3)
