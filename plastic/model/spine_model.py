"""`SpineModel`: soma, dendrite and spines with their receptors, channels and calcium handling,
an optional plasticity rule, expression and coupling, composed into one vector field
(`plastic.model.derivative`); its expressed biophysics, per-spine pieces of the vector field that
`plastic.replay` also integrates, and its resting state.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PyTree

from plastic import dense_lu
from plastic._validation import check_range
from plastic.biophysics import (
    AbstractCalciumIndicator,
    AbstractCalciumStore,
    AMPAReceptor,
    CalciumHandling,
    NMDAReceptor,
    SomaticSpike,
    VoltageGatedCalciumChannel,
)
from plastic.biophysics.kinetics import q10_factor
from plastic.coupling import AbstractSpineCoupling
from plastic.dense_lu import inverse_without_pivoting
from plastic.expression import AbstractExpression, ExpressionState
from plastic.geometry import Geometry
from plastic.model.derivative import _derivative
from plastic.model.state import SpineState
from plastic.protocols import Drive, Protocol
from plastic.rules.base import AbstractRule, SynapseSignals
from plastic.units import CALCIUM_FLUX_PER_PA_PER_FL


class SpineModel(eqx.Module):
    """Soma + dendrite + spines with glutamate receptors, calcium channels, calcium handling and
    an optional plasticity rule per spine.

    Attributes:
        geometry: morphology and discretisation.
        ampa, nmda: glutamate receptors at every spine head.
        vgcc: voltage-gated calcium channel in spine heads and shaft.
        spike: somatic Na/K spike currents.
        calcium: buffering, extrusion and diffusion of calcium.
        calcium_store: a slow, saturable calcium store in every spine head
            (`plastic.biophysics.SpineCalciumStore`), or None (default): calcium then returns
            to rest between pairings at 0.5 Hz.
        indicator: a calcium indicator dye filling heads and dendrite
            (`plastic.biophysics.CalciumIndicator`: what imaging experiments load and read), or
            None (default; the plasticity experiments did not load one). Its binding is part of
            the calcium balance, so it buffers and slows the transients it reports.
        rule: plasticity rule run at every spine, or None for biophysics only.
        expression: how the rule's drives change receptors and spine structure, or None (needs
            a rule).
        coupling: how the spines' drives reach each other before expression
            (`plastic.coupling`), or None: each spine expresses its own drives (needs an
            expression).
        temperature: degC (the seed experiments ran at 20-22 degC).
        plasticity_q10: one Q10 for every rate of the rule, the coupling and the expression (a
            biochemical cascade: enzymes have Q10 ~2-3). They run at their own rates at
            ``plasticity_reference_temperature`` and ``plasticity_q10 ** ((T - T_ref) / 10)``
            times faster at temperature T. 1 (default): temperature-independent plasticity.
        plasticity_reference_temperature: degC at which the plasticity rates hold (21: the
            room temperature at which the seed's data, and the fitted rates, were taken).
        calcium_sensitivity_q10: how much more sensitive to calcium the rule becomes per 10 degC
            above ``plasticity_reference_temperature``: the rule reads the head calcium times
            ``calcium_sensitivity_q10 ** ((T - T_ref) / 10)``, which lowers every calcium
            threshold of the rule by that factor (calmodulin's calcium binding and CaMKII's
            calmodulin binding depend on temperature). 1 (default): thresholds independent of
            temperature. Where the biophysics gives much smaller, faster transients at
            physiological temperature (the seed model: head calcium peaks of 9.5 against 16.6
            uM at 32 and 21 degC), thresholds placed between the room-temperature timings
            would otherwise never be crossed at 32 degC.
    """

    geometry: Geometry = eqx.field(default_factory=Geometry)
    ampa: AMPAReceptor = eqx.field(default_factory=AMPAReceptor)
    nmda: NMDAReceptor = eqx.field(default_factory=NMDAReceptor)
    vgcc: VoltageGatedCalciumChannel = eqx.field(default_factory=VoltageGatedCalciumChannel)
    spike: SomaticSpike = eqx.field(default_factory=SomaticSpike)
    calcium: CalciumHandling = eqx.field(default_factory=CalciumHandling)
    calcium_store: AbstractCalciumStore | None = None
    indicator: AbstractCalciumIndicator | None = None
    rule: AbstractRule | None = None
    expression: AbstractExpression | None = None
    coupling: AbstractSpineCoupling | None = None
    temperature: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=21.0)
    plasticity_q10: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    plasticity_reference_temperature: Float[Array, ""] = eqx.field(
        converter=jnp.asarray, default=21.0
    )
    calcium_sensitivity_q10: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)

    def __check_init__(self):
        check_range("SpineModel.temperature", self.temperature, lower=0.0, upper=45.0, unit="degC")
        check_range("SpineModel.plasticity_q10", self.plasticity_q10, lower=0.0)
        check_range("SpineModel.calcium_sensitivity_q10", self.calcium_sensitivity_q10, lower=0.0)
        check_range(
            "SpineModel.plasticity_reference_temperature",
            self.plasticity_reference_temperature,
            lower=0.0,
            upper=45.0,
            unit="degC",
        )
        if self.expression is not None and self.rule is None:
            raise ValueError("SpineModel.expression needs a rule to drive it; got rule=None")
        if self.coupling is not None and self.expression is None:
            raise ValueError(
                "SpineModel.coupling acts on the drives of an expression model; got expression=None"
            )

    def with_spine_distance(self, distance) -> "SpineModel":
        """The same model with spine 1 ``distance`` um from spine 0 (which stays where it is)
        along the dendrite; traceable."""
        position = self.geometry.spines.position
        moved = position.at[1].set(position[0] + distance)
        return eqx.tree_at(lambda m: m.geometry.spines.position, self, moved)

    def without_plasticity(self) -> "SpineModel":
        """The same biophysics with no rule, expression or coupling."""
        return eqx.tree_at(
            lambda m: (m.rule, m.expression, m.coupling),
            self,
            (None, None, None),
            is_leaf=lambda x: x is None,
        )

    def expressed(self, state: SpineState) -> "SpineModel":
        """The biophysics as ``state``'s expression leaves it (`with_expression`)."""
        return self.with_expression(state.expression)

    def with_expression(self, expression: ExpressionState | None) -> "SpineModel":
        """The biophysics with per-spine ``expression`` states (leaves ``(n_spines,)``): AMPA
        conductance scaled by the PSD content, neck length and head volume by the structural
        states. With ``None``: the model itself."""
        if expression is None:
            return self
        spines = self.geometry.spines
        return eqx.tree_at(
            lambda m: (
                m.ampa.conductance,
                m.geometry.spines.neck_length,
                m.geometry.spines.head_volume,
            ),
            self,
            (
                self.ampa.conductance * expression.psd,
                spines.neck_length * expression.neck,
                spines.head_volume * expression.head,
            ),
        )

    @property
    def n_spines(self) -> int:
        return self.geometry.n_spines

    def derivative(self, state: SpineState, drive: Drive) -> SpineState:
        """d(state)/dt per ms, given the protocol's inputs ``drive`` at this instant."""
        return _derivative(self.expressed(state), state, drive)

    def _head_influx(self, nmda_gating, head_voltage, head_vgcc):
        # Calcium entering each head through NMDA receptors and VGCCs, uM/ms of free + bound.
        nmda_calcium = self.nmda.calcium_current(nmda_gating, head_voltage, self.temperature)
        return (
            -CALCIUM_FLUX_PER_PA_PER_FL
            * (nmda_calcium + head_vgcc)
            / self.geometry.spines.head_volume
        )

    def head_calcium_influx(self, state: SpineState) -> Float[Array, "... n_spines"]:
        """Calcium entering each spine head through its NMDA receptors and VGCCs, uM/ms of
        total (free + fast-buffered) calcium in the head volume, for states with any leading
        axes. It depends on voltages and gates only, not on calcium."""
        model = self.expressed(state)
        area = model.geometry.spines.head_area
        vgcc = model.vgcc.head_current(state.vgcc, state.head_voltage, area)
        return model._head_influx(state.nmda, state.head_voltage, vgcc)

    def head_calcium_derivative(self, head_calcium, store, influx, parent_calcium):
        """The calcium balance of every spine head (leaves ``(n_spines,)``): d(free calcium)/dt
        in uM/ms, d(store fill)/dt per ms (None without a store) and the flux through each
        neck into the dendrite, uM fL/ms; given the free calcium (uM) and store fill of each
        head, the influx (uM/ms of total calcium, `head_calcium_influx`) and the free calcium
        in the dendrite at the base of each neck (uM). Fast buffers scale every flux by 1 / (1
        + kappa); extrusion is linear above rest; the store, if any, exchanges with the free
        calcium (`plastic.biophysics.calcium_store`). `plastic.replay` integrates the same
        balance on recorded influx."""
        geo, ca = self.geometry, self.calcium
        neck_flux = (  # uM fL / ms from head to parent
            ca.diffusion_coefficient
            * (jnp.pi * geo.spines.neck_diameter**2 / 4.0)
            / geo.spines.neck_length
            * (head_calcium - parent_calcium)
        )
        net = (
            influx
            - ca.head_extrusion_rate * (head_calcium - ca.resting_calcium)
            - neck_flux / geo.spines.head_volume
        )
        d_store = None
        if self.calcium_store is not None:
            net = net - self.calcium_store.uptake(head_calcium, store)
            d_store = self.calcium_store.fill_derivative(head_calcium, store, geo.spines.position)
        return net / (1.0 + ca.head_buffer_capacity), d_store, neck_flux

    def plasticity_derivative(
        self,
        rule_state: PyTree[Float[Array, " n_spines"]],
        expression: ExpressionState | None,
        signals: SynapseSignals,
    ) -> tuple[PyTree[Float[Array, " n_spines"]], ExpressionState | None]:
        """d/dt per ms of every spine's rule and expression state (leaves ``(n_spines,)``),
        given each spine's local ``signals`` (leaves ``(n_spines,)``): the rule at every spine,
        its drives coupled between spines (`coupling`) and expressed, every rate and the rule's
        calcium sensitivity scaled to the model's temperature (`plasticity_q10`,
        `calcium_sensitivity_q10`). The plasticity half of `derivative`, which
        `plastic.replay` also integrates on its own."""
        # A common factor on d/dt is the same as scaling every rate constant: the cascade's
        # steady states do not move, only how fast they are reached.
        speed = q10_factor(
            self.plasticity_q10, self.temperature, self.plasticity_reference_temperature
        )
        sensitivity = q10_factor(
            self.calcium_sensitivity_q10, self.temperature, self.plasticity_reference_temperature
        )
        signals = eqx.tree_at(lambda s: s.calcium, signals, sensitivity * signals.calcium)
        d_rule = jax.vmap(self.rule.vector_field, in_axes=(None, 0, 0))(
            jnp.zeros(()), rule_state, signals
        )
        d_rule = jax.tree.map(lambda d: speed * d, d_rule)
        if self.expression is None:
            return d_rule, None
        potentiation, depression = jax.vmap(self.rule.plasticity_drives)(rule_state)
        if self.coupling is not None:
            potentiation, depression = self.coupling(
                potentiation, depression, self.geometry.spines.position
            )
        d_expression = jax.vmap(self.expression.vector_field)(expression, potentiation, depression)
        return d_rule, jax.tree.map(lambda d: speed * d, d_expression)

    def neck_current(self, state: SpineState) -> Float[Array, " n_spines"]:
        """Current from the dendrite into each spine head through its neck, pA.

        The parent potential is corrected for the cable between the two bracketing nodes (see
        `Geometry.attachment_resistance`), which couples the spines: a small linear system,
        ``(I + diag(g_neck) R) i = drive``. Its matrix depends on the geometry only, so it is
        inverted once (a solve would run per state, and per vmapped condition: XLA's CPU
        triangular solve of a 2 x 2 system against a batch of right-hand sides took half of a
        1,000-condition batch, `experiments/bench_jaxley.py`) and applied by a product. It is
        well conditioned: ``diag(g_neck) R`` is similar to a positive semi-definite matrix, so
        every eigenvalue of the matrix is at least 1. It is ``diag(g_neck) (diag(g_neck)^-1 +
        R)``, a positive diagonal times a symmetric positive definite matrix, so Gauss-Jordan
        elimination needs no pivoting (`plastic.dense_lu.inverse_without_pivoting`: XLA
        operations, no LAPACK call in every right-hand side, which on several CPU devices at
        once could deadlock).
        """
        geo = self.geometry
        weights = geo.attachment_weights(geo.spines.position)
        node_voltage = jnp.concatenate([state.soma_voltage[..., None], state.dendrite_voltage], -1)
        neck_g = geo.neck_conductance
        coupling = jnp.eye(geo.n_spines) + neck_g[:, None] * geo.attachment_resistance(
            geo.spines.position
        )
        drive = neck_g * (node_voltage @ weights.T - state.head_voltage)
        return drive @ inverse_without_pivoting(coupling).T

    def parent_voltage(self, state: SpineState) -> Float[Array, "... n_spines"]:
        """Dendritic potential at the base of each spine neck, mV (any leading axes)."""
        geo = self.geometry
        return state.head_voltage + self.neck_current(state) / geo.neck_conductance

    def vector_field(self, t: Float[Array, ""], state: SpineState, protocol: Protocol):
        """The diffrax vector field: ``derivative`` with the protocol's drive at ``t`` (ms)."""
        return self.derivative(state, protocol.drive(t))

    def resting_state(self, newton_steps: int = 8) -> SpineState:
        """The steady state without input, found by Newton's method from the leak equilibrium.

        The rule starts from its own ``initial_state``; only the biophysics is solved for.
        Differentiated implicitly (`jax.lax.custom_root`): the derivative of the root is
        ``-(df/dy)^-1 df/dparameters`` at the state found, one linear solve, not the
        derivative of every Newton step (which cost ~8 s of the ~26 s that the gradient of a
        short simulation took to compile, `experiments/bench_jaxley.py`).
        """
        geo = self.geometry
        rest = geo.dendrite.resting_potential
        n_spines, n_compartments = geo.n_spines, geo.n_compartments
        ca_rest = self.calcium.resting_calcium
        guess = SpineState(
            soma_voltage=rest,
            soma_gates=self.spike.steady_state(rest),
            dendrite_voltage=jnp.full(n_compartments, rest),
            dendrite_calcium=jnp.full(n_compartments, ca_rest),
            head_voltage=jnp.full(n_spines, rest),
            head_calcium=jnp.full(n_spines, ca_rest),
            ampa=jnp.zeros((n_spines, 2)),
            nmda=jnp.zeros((n_spines, 2)),
            vgcc=jnp.broadcast_to(self.vgcc.steady_state(rest), (n_spines, 2)),
            rule=None,
            store=self.resting_store_fill(),
            head_indicator=self._resting_indicator(n_spines),
            dendrite_indicator=self._resting_indicator(n_compartments),
        )
        flat, unravel = ravel_pytree(guess)
        no_input = Drive(glutamate=jnp.zeros(n_spines), soma_current=jnp.zeros(()))
        # At baseline the rule and expression do not act on the biophysics.
        biophysics = self.without_plasticity()

        def residual(y):
            return ravel_pytree(biophysics.derivative(unravel(y), no_input))[0]

        # Solves in XLA operations (`plastic.dense_lu`), not LAPACK: batched LAPACK calls
        # could deadlock a sweep over several CPU devices.
        def newton(function, y):
            def step(y, _):
                return y - dense_lu.solve(jax.jacfwd(function)(y), function(y)), None

            return jax.lax.scan(step, y, None, length=newton_steps)[0]

        def linear_solve(linear, right):
            return dense_lu.solve(jax.jacfwd(linear)(right), right)

        flat = jax.lax.custom_root(residual, flat, newton, linear_solve)
        rule_state, expression = self.initial_plasticity_state()
        return eqx.tree_at(
            lambda s: (s.rule, s.expression),
            unravel(flat),
            (rule_state, expression),
            is_leaf=lambda x: x is None,
        )

    def _resting_indicator(self, size: int) -> Float[Array, " size"] | None:
        if self.indicator is None:
            return None
        return jnp.full(size, self.indicator.resting_bound(self.calcium.resting_calcium))

    def resting_store_fill(self) -> Float[Array, " n_spines"] | None:
        """Every head's store fill in equilibrium with resting calcium (None without a store)."""
        if self.calcium_store is None:
            return None
        fill = self.calcium_store.resting_fill(self.calcium.resting_calcium)
        return jnp.full(self.n_spines, fill)

    def initial_plasticity_state(
        self,
    ) -> tuple[PyTree[Float[Array, " n_spines"]] | None, ExpressionState | None]:
        """Every spine's rule and expression state before any activity (leaves
        ``(n_spines,)``; None where the model has no rule or no expression)."""
        per_spine = jnp.arange(self.n_spines)

        def at_every_spine(part):
            if part is None:
                return None
            return jax.vmap(lambda _: part.initial_state())(per_spine)

        return at_every_spine(self.rule), at_every_spine(self.expression)
