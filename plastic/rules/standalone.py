"""Drive any `AbstractRule` on its own with prescribed signals, outside the spine model.

The drive is a callable of the time ``t`` (ms) that returns either
- calcium (uM), e.g. `CalciumPlateau` or `InterpolatedCalcium`: the rule reads `SynapseSignals`
  with that calcium, both voltages held at a constant resting value and glutamate at 0, so rules
  that read only calcium see exactly the trace; or
- a full `SynapseSignals`, e.g. `HermiteSignals` (calcium, spine-head voltage, glutamate and soma
  voltage, such as a recording from the spine model): then any rule, including those that read
  voltage, glutamate or spikes, sees the same signals as inside the model.

The solve is a plain diffrax solve: pure, jittable, vmappable and differentiable with respect to
the rule and the trace.
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PyTree

from plastic._validation import is_concrete
from plastic.rules._validation import check_range
from plastic.rules.base import AbstractRule, SynapseSignals
from plastic.solver_status import diffeqsolve, nan_where_failed, raise_if_concrete

_Scalar = Float[Array, ""]

MINUTE = 60_000.0
"""One minute in ms."""


class InterpolatedCalcium(eqx.Module):
    """Calcium (uM) sampled at increasing times ``ts`` (ms), linearly interpolated, held constant
    outside ``[ts[0], ts[-1]]``.

    Attributes:
        ts: sample times, ms, shape ``(n,)``, increasing.
        values: calcium at ``ts``, uM, shape ``(n,)``.
    """

    ts: Float[Array, " n"] = eqx.field(converter=jnp.asarray)
    values: Float[Array, " n"] = eqx.field(converter=jnp.asarray)

    def __call__(self, t):
        return jnp.interp(t, self.ts, self.values)


class HermiteSignals(eqx.Module):
    """`SynapseSignals` (or any pytree of signals) on ``[ts[0], ts[-1]]`` (ms), piecewise cubic
    Hermite in time.

    On interval ``i``, ``[ts[i], ts[i + 1]]``, each signal is the cubic with the given values and
    time derivatives at the two ends. The ends are given per interval, so a signal may jump or
    kink at a node (a glutamate pulse, the onset of a current): put every such edge on a node and
    give the one-sided limits there. With exact derivatives the error is O(h^4) on each smooth
    interval of length h, against O(h^2) for linear interpolation. Outside ``[ts[0], ts[-1]]`` the
    end values are held. An interval of zero length (a repeated time) is never used inside the
    range, so traces of different lengths can be padded to one shape (`pad_to`) and batched with
    `jax.vmap`.

    Pass the jumps and kinks to `solve_rule` as ``jump_ts``. The pieces join with a jump in the
    second derivative at every node; for gradients with respect to the trace's values, pass all
    of ``ts`` as ``jump_ts``: a step that straddles a node would not resolve the perturbation.

    Attributes:
        ts: node times, ms, shape ``(n,)``, non-decreasing.
        start, end: the signals (for `SynapseSignals`: calcium uM, voltage mV, glutamate
            dimensionless, soma voltage mV) at the start of each interval (the limit from the
            right at ``ts[i]``) and at its end (the limit from the left at ``ts[i + 1]``); every
            leaf has shape ``(n - 1,)``.
        start_slope, end_slope: their time derivatives (units per ms) at the same points, every
            leaf of shape ``(n - 1,)``.
    """

    ts: Float[Array, " n"] = eqx.field(converter=jnp.asarray)
    start: PyTree[Float[Array, " n_minus_1"]]
    end: PyTree[Float[Array, " n_minus_1"]]
    start_slope: PyTree[Float[Array, " n_minus_1"]]
    end_slope: PyTree[Float[Array, " n_minus_1"]]

    def __check_init__(self):
        n = jnp.shape(self.ts)[-1]
        if n < 2:
            raise ValueError(f"HermiteSignals.ts needs at least 2 times; got {n}")
        for name in ("start", "end", "start_slope", "end_slope"):
            leaves, _ = jax.tree_util.tree_flatten_with_path(getattr(self, name))
            for path, leaf in leaves:
                shape = jnp.shape(leaf)
                if shape[-1:] != (n - 1,):
                    field = jax.tree_util.keystr(path).lstrip(".")
                    raise ValueError(
                        f"HermiteSignals.{name}.{field} must have shape (n - 1,) = ({n - 1},) "
                        f"for n = {n} times; got {shape}"
                    )
        if is_concrete(self.ts) and bool(jnp.any(jnp.diff(self.ts) < 0)):
            raise ValueError("HermiteSignals.ts must be non-decreasing")

    def __call__(self, t) -> PyTree:
        n_intervals = self.ts.shape[-1] - 1
        i = jnp.clip(jnp.searchsorted(self.ts, t, side="right") - 1, 0, n_intervals - 1)
        width = self.ts[i + 1] - self.ts[i]
        # A zero-length (padding) interval is only reached at the last time: hold the value there.
        s = jnp.clip((t - self.ts[i]) / jnp.where(width > 0, width, 1.0), 0.0, 1.0)
        weights = (
            (1.0 + 2.0 * s) * (1.0 - s) ** 2,
            width * s * (1.0 - s) ** 2,
            s**2 * (3.0 - 2.0 * s),
            width * s**2 * (s - 1.0),
        )

        def cubic(y0, m0, y1, m1):
            return sum(w * x[i] for w, x in zip(weights, (y0, m0, y1, m1), strict=True))

        return jax.tree.map(cubic, self.start, self.start_slope, self.end, self.end_slope)

    def pad_to(self, n: int) -> "HermiteSignals":
        """The same trace over ``n`` times: the last time repeated, the last value held."""
        extra = n - self.ts.shape[-1]
        if extra < 0:
            raise ValueError(f"pad_to: n must be >= {self.ts.shape[-1]} (the length); got {n}")

        def hold_last(x):
            return jnp.concatenate([x, jnp.repeat(x[-1:], extra)])

        def flat(m):
            return jnp.concatenate([m, jnp.zeros(extra, m.dtype)])

        last = jax.tree.map(lambda y: y[-1:], self.end)
        return HermiteSignals(
            ts=hold_last(self.ts),
            start=jax.tree.map(
                lambda y, y_last: jnp.concatenate([y, jnp.repeat(y_last, extra)]), self.start, last
            ),
            end=jax.tree.map(hold_last, self.end),
            start_slope=jax.tree.map(flat, self.start_slope),
            end_slope=jax.tree.map(flat, self.end_slope),
        )


class CalciumPlateau(eqx.Module):
    """A rectangular calcium plateau: ``rest + amplitude`` for ``onset <= t < onset + duration``,
    ``rest`` otherwise (uM, t in ms).

    Attributes:
        amplitude: plateau height above rest, uM.
        duration: ms.
        rest: resting calcium, uM.
        onset: start of the plateau, ms.
    """

    amplitude: _Scalar = eqx.field(converter=jnp.asarray)
    duration: _Scalar = eqx.field(converter=jnp.asarray)
    rest: _Scalar = eqx.field(converter=jnp.asarray, default=0.05)
    onset: _Scalar = eqx.field(converter=jnp.asarray, default=0.0)

    def __check_init__(self):
        check_range("CalciumPlateau", "duration", self.duration, lower=0.0, units="ms")
        check_range("CalciumPlateau", "rest", self.rest, lower=0.0, units="uM")
        check_range("CalciumPlateau", "amplitude", self.amplitude, lower=-self.rest, units="uM")

    def __call__(self, t):
        inside = (t >= self.onset) & (t < self.onset + self.duration)
        return self.rest + jnp.where(inside, self.amplitude, 0.0)

    @property
    def edges(self) -> Float[Array, " 2"]:
        """The two discontinuities (ms): pass them as ``jump_ts`` to `solve_rule`."""
        return jnp.stack([self.onset, self.onset + self.duration])


class RuleSolution(eqx.Module):
    """What `solve_rule` returns.

    Attributes:
        efficacy: the rule's efficacy at ``t1`` (shape ``()``).
        final_state: the rule's state at ``t1``.
        ts: the save times (ms), or None when none were asked for.
        states: the rule's state at ``ts`` (each leaf with a leading axis), or None.
        solver_result: diffrax's result code, 0 on success (`plastic.solver_status`); after a
            failure the efficacy and states are NaN.
    """

    efficacy: _Scalar
    final_state: PyTree
    ts: Float[Array, " n"] | None
    states: PyTree | None
    solver_result: Int[Array, ""]


def solve_rule(
    rule: AbstractRule,
    signals,
    t0,
    t1,
    *,
    initial_state: PyTree | None = None,
    jump_ts: Float[Array, " jumps"] | None = None,
    save_ts: Float[Array, " n"] | None = None,
    solver: diffrax.AbstractSolver | None = None,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    dt0: float | None = None,
    max_steps: int = 16_384,
    voltage: float = -65.0,
) -> RuleSolution:
    """Integrate ``rule`` from ``t0`` to ``t1`` (ms) driven by ``signals(t)``.

    Args:
        rule: any `AbstractRule`.
        signals: a callable of ``t`` (ms) returning either calcium (uM), e.g. `CalciumPlateau` or
            `InterpolatedCalcium`, or a `SynapseSignals`, e.g. `HermiteSignals`; make it an
            `eqx.Module` to pass it through `jax.jit` or `jax.vmap` as an argument.
        t0, t1: start and end times, ms.
        initial_state: the rule's state at ``t0``; default ``rule.initial_state()``.
        jump_ts: times (ms) where the trace jumps (plateau edges, pulse edges): the step-size
            controller steps exactly to them, so that no step straddles a discontinuity.
        save_ts: times (ms) at which to return the state; None saves only the end.
        solver: a diffrax solver; default `diffrax.Tsit5`. Use an implicit one
            (`diffrax.Kvaerno5`) for stiff rules.
        rtol, atol: tolerances of the PID step-size controller.
        dt0: first step, ms; default chosen by the controller.
        max_steps: cap on the number of steps.
        voltage: the constant spine and soma voltage handed to the rule when ``signals``
            returns calcium only, mV.

    Returns:
        A `RuleSolution`.

    Raises:
        plastic.solver_status.SolveFailedError: called eagerly, if the solve fails (under
            `jax.jit` or `jax.vmap` the solution is NaN and ``solver_result`` says why).
    """
    solver = diffrax.Tsit5() if solver is None else solver
    state0 = rule.initial_state() if initial_state is None else initial_state
    dtype = jnp.result_type(*[jnp.asarray(x) for x in (t0, t1)], float)
    voltage = jnp.asarray(voltage, dtype)
    zero = jnp.zeros((), dtype)

    def vector_field(t, state, args):
        value = signals(t)
        if isinstance(value, SynapseSignals):
            local = jax.tree.map(lambda x: jnp.asarray(x, dtype), value)
        else:
            local = SynapseSignals(
                calcium=jnp.asarray(value, dtype),
                voltage=voltage,
                glutamate=zero,
                soma_voltage=voltage,
            )
        return rule.vector_field(t, state, local)

    controller = diffrax.PIDController(rtol=rtol, atol=atol)
    if jump_ts is not None:
        controller = diffrax.ClipStepSizeController(controller, jump_ts=jnp.asarray(jump_ts, dtype))
    if save_ts is None:
        saveat = diffrax.SaveAt(t1=True)
    else:
        saveat = diffrax.SaveAt(ts=save_ts, t1=True)
    solution, result = diffeqsolve(
        diffrax.ODETerm(vector_field),
        solver,
        t0=t0,
        t1=t1,
        dt0=dt0,
        y0=state0,
        saveat=saveat,
        stepsize_controller=controller,
        max_steps=max_steps,
    )
    raise_if_concrete(result, "solve_rule")
    ys = nan_where_failed(solution.ys, result)
    final_state = jax.tree.map(lambda x: x[-1], ys)
    efficacy = rule.efficacy(final_state)
    if save_ts is None:
        return RuleSolution(efficacy, final_state, None, None, result)
    # The last saved entry is t1, appended to the requested times.
    states = jax.tree.map(lambda x: x[:-1], ys)
    return RuleSolution(efficacy, final_state, solution.ts[:-1], states, result)


def plateau_efficacy(
    rule: AbstractRule,
    amplitude,
    duration,
    *,
    rest=0.05,
    consolidation=25 * MINUTE,
    **solve_kwargs,
) -> _Scalar:
    """Efficacy after a calcium plateau and a quiet consolidation period.

    The plateau (``rest + amplitude`` uM for ``duration`` ms) starts at t = 0 from the rule's
    initial state; the efficacy is read ``consolidation`` ms after it ends (default 25 min, the
    end of the 15-25 min readout window of seed 000).

    Args:
        rule: any `AbstractRule`.
        amplitude: plateau height above rest, uM.
        duration: plateau length, ms.
        rest: resting calcium before and after, uM.
        consolidation: quiet time after the plateau, ms.
        **solve_kwargs: passed to `solve_rule` (solver, tolerances, max_steps).
    """
    plateau = CalciumPlateau(amplitude, duration, rest=rest)
    solution = solve_rule(
        rule,
        plateau,
        0.0,
        plateau.duration + consolidation,
        jump_ts=plateau.edges,
        **solve_kwargs,
    )
    return solution.efficacy
