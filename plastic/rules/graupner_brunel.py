"""Graupner & Brunel 2012 (PNAS 109:3991; correction 109:21551): the calcium-based bistable synapse.

The efficacy variable rho obeys (time in ms, calcium ``c`` dimensionless)::

    tau drho/dt = -rho (1 - rho) (rho_star - rho) + gamma_p (1 - rho) Theta[c - theta_p]
                  - gamma_d rho Theta[c - theta_d] + sigma sqrt(tau) sqrt(Theta[c - theta_d]
                  + Theta[c - theta_p]) eta(t)

with Theta(0) = 1 and the noise term in its corrected (2012 erratum) form. `GraupnerBrunel` is the
deterministic rule used inside the spine model; the noise, the analytic reduction and the
standalone spike-driven calcium live in `graupner_brunel_analytic` and `graupner_brunel_simulate`.

Parameter sets are those of the authors' code (`mgraupe/CalciumBasedPlasticityModel`,
``synapticChange.py``), converted to ms.
"""

import types

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from plastic.rules._validation import check_range
from plastic.rules.base import AbstractRule, SynapseSignals

_Scalar = Float[Array, ""]
_RULE_FIELDS = ("theta_d", "theta_p", "gamma_d", "gamma_p", "tau", "rho_star", "sigma", "beta", "b")
_CALCIUM_FIELDS = ("tau_ca", "c_pre", "c_post", "delay")


def _published(tau_ca, c_pre, c_post, theta_p, gamma_d, gamma_p, sigma, tau_s, delay, beta, b):
    # theta_d = 1 and rho_star = 0.5 in every published set; tau is published in seconds.
    return types.MappingProxyType(
        dict(
            tau_ca=tau_ca,
            c_pre=c_pre,
            c_post=c_post,
            delay=delay,
            theta_d=1.0,
            theta_p=theta_p,
            gamma_d=gamma_d,
            gamma_p=gamma_p,
            tau=1000.0 * tau_s,
            rho_star=0.5,
            sigma=sigma,
            beta=beta,
            b=b,
        )
    )


GRAUPNER_BRUNEL_PARAMETER_SETS = types.MappingProxyType(
    {
        # Table S1 (Fig. 2): the six qualitative STDP curve families.
        "DP": _published(20.0, 1.0, 2.0, 1.3, 200.0, 321.808, 2.8284, 150.0, 13.7, 0.5, 5.0),
        "DPD": _published(20.0, 0.9, 0.9, 1.3, 250.0, 550.0, 2.8284, 150.0, 4.6, 0.5, 5.0),
        "DPD'": _published(20.0, 1.0, 2.0, 2.5, 50.0, 600.0, 2.8284, 150.0, 2.2, 0.5, 5.0),
        "P": _published(20.0, 2.0, 2.0, 1.3, 160.0, 257.447, 2.8284, 150.0, 0.0, 0.5, 5.0),
        "D": _published(20.0, 0.6, 0.6, 1.3, 500.0, 550.0, 5.6568, 150.0, 0.0, 0.5, 5.0),
        "D'": _published(20.0, 1.0, 2.0, 3.5, 60.0, 600.0, 2.8284, 150.0, 0.0, 0.5, 5.0),
        # Table S2: fits to data.
        "hippocampal_slices": _published(
            48.8373, 1.0, 0.275865, 1.3, 313.0965, 1645.59, 9.1844, 688.355, 18.8008, 0.7, 5.28145
        ),
        "hippocampal_cultures": _published(
            11.9536, 0.58156, 1.76444, 1.3, 61.141, 113.6545, 2.5654, 33.7596, 10.0, 0.5, 36.0263
        ),
        "cortical_slices": _published(
            22.6936,
            0.5617539,
            1.23964,
            1.3,
            331.909,
            725.085,
            3.3501,
            346.3615,
            4.6098,
            0.5,
            5.40988,
        ),
        # Table S3 (Fig. S1), as quoted by a re-implementation checked against the authors' code.
        "fig_s1_DPD'": _published(20.0, 1.0, 1.3, 1.3, 150.0, 310.0, 2.8284, 150.0, 4.3, 0.5, 5.0),
        "fig_s1_DP": _published(20.0, 1.0, 2.0, 1.3, 150.0, 241.356, 2.8284, 150.0, 13.8, 0.5, 5.0),
    }
)
"""Published Graupner-Brunel parameter sets by name, in `plastic` units.

Each entry holds the rule's parameters (``theta_d, theta_p, gamma_d, gamma_p, tau`` (ms),
``rho_star, sigma, beta, b``) and the spike-driven calcium's (``tau_ca`` (ms), ``c_pre, c_post``,
``delay`` (ms)). Build the modules with `GraupnerBrunel.from_published` and
`GraupnerBrunelCalcium.from_published`.
"""


class GraupnerBrunelState(eqx.Module):
    """State of one Graupner-Brunel synapse, two copies of rho (dimensionless, shape ``()``).

    The published weight readout averages over synapses that start DOWN (a fraction ``beta``) and
    synapses that start UP. One deterministic synapse model carries both: ``rho_down`` starts at 0
    and ``rho_up`` at 1, driven by the same calcium.
    """

    rho_down: _Scalar
    rho_up: _Scalar


class GraupnerBrunel(AbstractRule):
    """The Graupner-Brunel bistable synapse, read by spine calcium (deterministic: noise-free).

    Attributes:
        theta_d: depression threshold, in units of ``calcium_scale``.
        theta_p: potentiation threshold, in units of ``calcium_scale``.
        gamma_d: depression rate, dimensionless (divided by ``tau``).
        gamma_p: potentiation rate, dimensionless.
        tau: time constant of rho, ms.
        rho_star: unstable fixed point separating DOWN from UP, dimensionless.
        sigma: noise amplitude, dimensionless (used by the stochastic solvers and the analytic
            reduction, not by `vector_field`).
        beta: fraction of synapses initially DOWN.
        b: ratio of UP to DOWN weight.
        calcium_scale: uM of spine calcium per unit of the model's dimensionless calcium: the rule
            compares ``signals.calcium / calcium_scale`` with the thresholds.
        threshold_width: width of the thresholds, in units of ``calcium_scale``. 0 (the default,
            the published rule) gives the Heaviside Theta; a positive width replaces it by the
            logistic ``sigmoid((c - theta) / threshold_width)`` in `vector_field`, which makes the
            vector field smooth: then stiff solvers resolve the crossings to their tolerance and
            gradients with respect to ``theta_d``, ``theta_p`` and ``calcium_scale`` exist (with
            the Heaviside they are zero almost everywhere). The spike-driven solvers and the
            analytic reduction, which locate crossings exactly, always use sharp thresholds.

    Efficacy: with ``w(rho) = (1 - rho) + b rho`` (DOWN = 1, UP = b, linear in between),

        efficacy = [beta w(rho_down) + (1 - beta) w(rho_up)] / [beta + (1 - beta) b],

    which is 1 before any activity and equals the paper's relative change
    ``[beta(1-U) + (1-beta)D + b(beta U + (1-beta)(1-D))] / [beta + (1-beta) b]`` when ``rho_down``
    and ``rho_up`` have settled at 0 or 1 (``U = rho_down``, ``D = 1 - rho_up``).
    """

    theta_d: _Scalar = eqx.field(converter=jnp.asarray)
    theta_p: _Scalar = eqx.field(converter=jnp.asarray)
    gamma_d: _Scalar = eqx.field(converter=jnp.asarray)
    gamma_p: _Scalar = eqx.field(converter=jnp.asarray)
    tau: _Scalar = eqx.field(converter=jnp.asarray)
    rho_star: _Scalar = eqx.field(converter=jnp.asarray)
    sigma: _Scalar = eqx.field(converter=jnp.asarray)
    beta: _Scalar = eqx.field(converter=jnp.asarray)
    b: _Scalar = eqx.field(converter=jnp.asarray)
    calcium_scale: _Scalar = eqx.field(converter=jnp.asarray, default=1.0)
    threshold_width: _Scalar = eqx.field(converter=jnp.asarray, default=0.0)

    def __check_init__(self):
        name = type(self).__name__
        check_range(name, "theta_d", self.theta_d, lower=0.0)
        check_range(name, "theta_p", self.theta_p, lower=0.0)
        check_range(name, "gamma_d", self.gamma_d, lower=0.0)
        check_range(name, "gamma_p", self.gamma_p, lower=0.0)
        check_range(name, "tau", self.tau, lower=0.0, lower_open=True, units="ms")
        check_range(name, "rho_star", self.rho_star, lower=0.0, upper=1.0)
        check_range(name, "sigma", self.sigma, lower=0.0)
        check_range(name, "beta", self.beta, lower=0.0, upper=1.0)
        check_range(name, "b", self.b, lower=0.0, lower_open=True)
        check_range(
            name, "calcium_scale", self.calcium_scale, lower=0.0, lower_open=True, units="uM"
        )
        check_range(name, "threshold_width", self.threshold_width, lower=0.0)

    @classmethod
    def from_published(
        cls, name: str, calcium_scale: float = 1.0, threshold_width: float = 0.0
    ) -> "GraupnerBrunel":
        """The rule of the published set ``name`` (a key of `GRAUPNER_BRUNEL_PARAMETER_SETS`)."""
        p = GRAUPNER_BRUNEL_PARAMETER_SETS[name]
        return cls(
            **{f: p[f] for f in _RULE_FIELDS},
            calcium_scale=calcium_scale,
            threshold_width=threshold_width,
        )

    def initial_state(self) -> GraupnerBrunelState:
        zero = jnp.zeros_like(self.tau)
        return GraupnerBrunelState(rho_down=zero, rho_up=zero + 1.0)

    def rho_drift(self, rho, above_d, above_p):
        """d rho/dt (per ms) given the threshold indicators ``above_d``, ``above_p`` (0 or 1)."""
        bistable = -rho * (1.0 - rho) * (self.rho_star - rho)
        plasticity = self.gamma_p * (1.0 - rho) * above_p - self.gamma_d * rho * above_d
        return (bistable + plasticity) / self.tau

    def rho_diffusion(self, above_d, above_p):
        """Noise amplitude of d rho, per sqrt(ms): ``sigma sqrt(Theta_d + Theta_p) / sqrt(tau)``."""
        # sqrt of a 0/1/2 count: guard 0 so that gradients through the noise stay finite.
        count = above_d + above_p
        safe = jnp.where(count > 0, count, 1.0)
        return jnp.where(count > 0, self.sigma * jnp.sqrt(safe / self.tau), 0.0)

    def thresholds_crossed(self, calcium_uM):
        """Indicators of spine calcium (uM) above theta_d and theta_p: Heaviside (Theta(0) = 1)
        for ``threshold_width = 0``, logistic of that width otherwise."""
        c = calcium_uM / self.calcium_scale
        smooth = self.threshold_width > 0
        # Double where: the logistic's gradient stays finite when the width is 0.
        width = jnp.where(smooth, self.threshold_width, 1.0)

        def indicator(theta):
            sharp = (c >= theta).astype(c.dtype)
            return jnp.where(smooth, jax.nn.sigmoid((c - theta) / width), sharp)

        return indicator(self.theta_d), indicator(self.theta_p)

    def vector_field(self, t, state: GraupnerBrunelState, signals: SynapseSignals):
        above_d, above_p = self.thresholds_crossed(signals.calcium)
        return GraupnerBrunelState(
            rho_down=self.rho_drift(state.rho_down, above_d, above_p),
            rho_up=self.rho_drift(state.rho_up, above_d, above_p),
        )

    def efficacy(self, state: GraupnerBrunelState):
        def weight(rho):
            return (1.0 - rho) + self.b * rho

        mean = self.beta * weight(state.rho_down) + (1.0 - self.beta) * weight(state.rho_up)
        return mean / (self.beta + (1.0 - self.beta) * self.b)


class GraupnerBrunelCalcium(eqx.Module):
    """The linear, spike-driven calcium of Graupner & Brunel (dimensionless, rest at 0).

    ``dc/dt = -c/tau_ca + c_pre sum_i delta(t - t_i - delay) + c_post sum_j delta(t - t_j)``:
    a presynaptic spike adds ``c_pre`` after ``delay``, a postsynaptic spike adds ``c_post`` at
    once, and transients sum linearly.

    Attributes:
        tau_ca: calcium decay time constant, ms.
        c_pre: jump per presynaptic spike, dimensionless.
        c_post: jump per postsynaptic spike, dimensionless.
        delay: delay of the presynaptic jump (a proxy for the NMDA rise), ms.
    """

    tau_ca: _Scalar = eqx.field(converter=jnp.asarray)
    c_pre: _Scalar = eqx.field(converter=jnp.asarray)
    c_post: _Scalar = eqx.field(converter=jnp.asarray)
    delay: _Scalar = eqx.field(converter=jnp.asarray)

    def __check_init__(self):
        name = type(self).__name__
        check_range(name, "tau_ca", self.tau_ca, lower=0.0, lower_open=True, units="ms")
        check_range(name, "c_pre", self.c_pre, lower=0.0)
        check_range(name, "c_post", self.c_post, lower=0.0)
        check_range(name, "delay", self.delay, lower=0.0, units="ms")

    @classmethod
    def from_published(cls, name: str) -> "GraupnerBrunelCalcium":
        """The calcium model of the published set ``name``."""
        p = GRAUPNER_BRUNEL_PARAMETER_SETS[name]
        return cls(**{f: p[f] for f in _CALCIUM_FIELDS})

    def jumps(self, pre_times, post_times):
        """Calcium jump times (ms) and sizes for spike times (ms), unsorted.

        Returns two arrays of shape ``(n_pre + n_post,)``. Padding spikes at ``+inf`` give jumps at
        ``+inf``.
        """
        times = jnp.concatenate([pre_times + self.delay, post_times])
        sizes = jnp.concatenate(
            [
                jnp.broadcast_to(self.c_pre, pre_times.shape),
                jnp.broadcast_to(self.c_post, post_times.shape),
            ]
        )
        return times, sizes
