"""Which leaves of a model a fit moves, within which bounds, and where its random starts lie.

A `Parameter` names one floating-point leaf of any `eqx.Module` by its attribute path, e.g.
``"nmda.conductance"`` or ``"rule.tau_camkii"`` (a number in the path indexes a tuple or list:
``"layers.0.weight"``), with open bounds and the `AbstractTransform` they imply. `FitParameters`
binds a tuple of them to a template model: it reads their values, maps them to and from the
unconstrained arrays the optimiser moves, writes them back into the model, and draws random starts.

The unconstrained point of a fit is a tuple with one array per parameter, each of the shape of its
leaf (a scalar, or e.g. one value per spine); a batch of starts adds a leading axis.
"""

import math
from collections.abc import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray, PyTree

from plastic._validation import check_range
from plastic.fit.transforms import AbstractTransform, transform_for_bounds
from plastic.paths import ModelPath

_START_MARGIN = 0.01
"""Random starts avoid this fraction of the bounded box at each end: a start on a bound sits where
the transform is flat and its gradient vanishes."""

Unconstrained = tuple[Array, ...]


class Parameter(eqx.Module):
    """One fitted leaf of a model: its path, open bounds, scale and start box.

    Attributes:
        path: the leaf, a `plastic.paths.ModelPath` (as a sweep axis names it), e.g.
            ``"rule.tau_camkii"`` or ``"spines.neck_length[0]"`` (one element).
        lower, upper: open bounds in the leaf's unit; ``None`` for none.
        log: the parameter is a positive scale (a rate, a time constant, a conductance): it is
            transformed, and its random starts drawn, on a log scale. ``lower`` must then be
            ``>= 0`` (``0`` and ``None`` both mean "positive").
        unit: the leaf's unit, for the written results (e.g. ``"ms"``).
        start: ``(low, high)``, the box random starts are drawn from (uniformly, on a log scale
            with ``log``); ``None`` uses the bounds less 1% of their span at each end. A
            parameter without two finite bounds (on the log scale: a positive lower one) needs a
            ``start`` for random starts.
        transform: the map between the leaf's value and the real line, from the bounds
            (`transform_for_bounds`).

    The constructor takes the attributes but ``transform``, and ``scale``: for an unbounded
    parameter without ``log`` only, its change per unconstrained unit, in the leaf's unit
    (default 1), so that an optimiser step of order ``learning_rate`` changes the leaf by order
    ``learning_rate * scale``; the bounds or the log scale set that for every other parameter.
    """

    path: str = eqx.field(static=True)
    lower: float | None = eqx.field(static=True)
    upper: float | None = eqx.field(static=True)
    log: bool = eqx.field(static=True)
    unit: str = eqx.field(static=True)
    start: tuple[float, float] | None = eqx.field(static=True)
    transform: AbstractTransform

    def __init__(
        self,
        path: str,
        lower: float | None = None,
        upper: float | None = None,
        *,
        log: bool = False,
        unit: str = "",
        start: tuple[float, float] | None = None,
        scale: float | None = None,
    ):
        ModelPath(path)  # the syntax, before anything else
        self.path = path
        self.transform = transform_for_bounds(
            f"Parameter {path!r}", lower, upper, log=log, scale=scale
        )
        self.lower = None if lower is None or math.isinf(lower) else float(lower)
        self.upper = None if upper is None or math.isinf(upper) else float(upper)
        self.log = bool(log)
        self.unit = unit
        if start is not None:
            low, high = (float(x) for x in start)
            self.check_inside(f"Parameter {path!r}: start low", low)
            self.check_inside(f"Parameter {path!r}: start high", high)
            check_range(f"Parameter {path!r}: start high (must exceed start low)", high, lower=low)
            start = (low, high)
        self.start = start

    @classmethod
    def from_spec(cls, spec: str) -> "Parameter":
        """A parameter from ``"PATH"``, ``"PATH:LOWER:UPPER"`` or ``"PATH:LOWER:UPPER:log"``.

        An empty bound means none, e.g. ``"rule.tau:0::log"`` (the command line's form).

        Raises:
            ValueError: naming ``spec`` if it has another form or a bound is not a number.
        """
        fields = spec.split(":")
        if len(fields) not in (1, 3, 4) or (len(fields) == 4 and fields[3] != "log"):
            raise ValueError(
                "parameter spec must be PATH, PATH:LOWER:UPPER or PATH:LOWER:UPPER:log; "
                f"got {spec!r}"
            )
        bounds = []
        for text in fields[1:3]:
            try:
                bounds.append(float(text) if text.strip() else None)
            except ValueError:
                raise ValueError(
                    f"parameter spec {spec!r}: bound {text!r} is not a number"
                ) from None
        return cls(fields[0], *bounds, log=len(fields) == 4)

    def check_inside(self, name: str, value) -> None:
        """Raise ``ValueError`` naming ``name`` unless every element is finite and inside the
        open bounds (and positive with ``log``)."""
        lower = 0.0 if self.log and self.lower is None else self.lower
        check_range(name, value, lower=lower, upper=self.upper, upper_inclusive=False)
        if not np.all(np.isfinite(np.asarray(value, dtype=float))):
            raise ValueError(f"{name} must be finite; got {np.asarray(value).tolist()}")

    def start_box(self) -> tuple[float, float]:
        """``(low, high)`` of random starts, on the log scale with ``log``.

        Raises:
            ValueError: if the parameter has no ``start`` and not two finite bounds.
        """
        if self.start is not None:
            low, high = self.start
        elif self.lower is not None and self.upper is not None and (self.lower > 0 or not self.log):
            low, high = self.lower, self.upper
        else:
            raise ValueError(
                f"Parameter {self.path!r}: random starts need a start box; give two finite "
                f"bounds{' (a positive lower one with log=True)' if self.log else ''} or "
                "start=(low, high)"
            )
        if self.log:
            low, high = math.log(low), math.log(high)
        if self.start is None:
            margin = _START_MARGIN * (high - low)
            low, high = low + margin, high - margin
        return low, high


class FitParameters(eqx.Module):
    """The parameters of a fit, bound to the model they are leaves of.

    Attributes:
        model: the template model: every leaf that is not fitted keeps its value from here, and
            the fitted leaves' values here are the first start of a fit.
        parameters: the fitted leaves, distinct paths.
    """

    model: PyTree
    parameters: tuple[Parameter, ...]

    def __init__(self, model: PyTree, parameters: Sequence[Parameter]):
        parameters = tuple(parameters)
        if not parameters or not all(isinstance(p, Parameter) for p in parameters):
            raise ValueError(
                f"parameters must be a non-empty sequence of Parameter; got {parameters}"
            )
        paths = [p.path for p in parameters]
        repeated = sorted({path for path in paths if paths.count(path) > 1})
        if repeated:
            raise ValueError(f"parameters: each path may appear once; repeated: {repeated}")
        for parameter in parameters:
            where = ModelPath(parameter.path)
            where.check(model)
            value = where.get(model)
            parameter.check_inside(
                f"initial value of {parameter.path!r} (the model's value)", np.asarray(value)
            )
        self.model = model
        self.parameters = parameters

    @property
    def names(self) -> tuple[str, ...]:
        """The parameters' paths, in order."""
        return tuple(p.path for p in self.parameters)

    def units(self) -> tuple[str, ...]:
        """Each parameter's unit: its own, else the one its model field's range check states
        (a parameter named on the command line has none of its own); ``""`` if neither."""
        from plastic.provenance import model_parameters

        leaves = model_parameters(self.model)
        return tuple(
            p.unit or leaves.get(".".join(ModelPath(p.path).parts(self.model)), {}).get("unit", "")
            for p in self.parameters
        )

    def to_unconstrained(self, model: PyTree) -> Unconstrained:
        """The unconstrained point of ``model``'s parameter values."""
        return tuple(
            p.transform.to_unconstrained(jnp.asarray(ModelPath(p.path).get(model), float))
            for p in self.parameters
        )

    def to_values(self, unconstrained: Unconstrained) -> dict[str, Array]:
        """The parameter values at an unconstrained point (any leading batch axes)."""
        return {
            p.path: p.transform.to_constrained(u)
            for p, u in zip(self.parameters, unconstrained, strict=True)
        }

    def to_model(self, unconstrained: Unconstrained) -> PyTree:
        """The template model with the parameters set from an unconstrained point (no batch
        axis), each cast to its leaf's dtype. Pure and differentiable: the fit's model."""
        return self.with_values(self.to_values(unconstrained))

    def with_values(self, values: Mapping[str, Array]) -> PyTree:
        """The template model with the parameters set to ``values`` (path -> array of the
        shape the path names); unchecked, so that it works under `jax.jit`."""
        model = self.model
        for name in self.names:
            where = ModelPath(name)
            shape = jnp.shape(where.get(self.model))
            model = where.set(model, jnp.reshape(jnp.asarray(values[name]), shape))
        return model

    def check_values(self, values: Mapping[str, object], where: str, batch: int | None = None):
        """The unconstrained point of ``values`` (path -> value), after checking it.

        Args:
            values: one entry per parameter.
            where: names the values in errors, e.g. ``"starts"``.
            batch: the length of a leading batch axis every value must have, or None.

        Raises:
            ValueError: for a missing or unknown name, a wrong shape, or a value outside the
                bounds.
        """
        if set(values) != set(self.names):
            raise ValueError(
                f"{where} must give exactly the parameters {list(self.names)}; got {list(values)}"
            )
        unconstrained = []
        for p in self.parameters:
            shape = jnp.shape(ModelPath(p.path).get(self.model))
            expected = shape if batch is None else (batch, *shape)
            value = np.asarray(values[p.path], dtype=float)
            if value.shape != expected:
                raise ValueError(
                    f"{where}[{p.path!r}] must have shape {expected}; got {value.shape}"
                )
            p.check_inside(f"{where}[{p.path!r}]", value)
            unconstrained.append(p.transform.to_unconstrained(jnp.asarray(value)))
        return tuple(unconstrained)

    def sample_starts(self, key: PRNGKeyArray, n_starts: int) -> Unconstrained:
        """``n_starts`` unconstrained starting points, stacked on a leading axis.

        Start 0 is the template model's values; the others are drawn independently and
        uniformly in each parameter's `Parameter.start_box` (on a log scale for ``log``).

        Raises:
            ValueError: if ``n_starts < 1``, or ``n_starts > 1`` and a parameter has no start box.
        """
        check_range("n_starts", n_starts, lower=1.0, lower_inclusive=True)
        first = self.to_unconstrained(self.model)
        if n_starts == 1:
            return tuple(u[None] for u in first)
        boxes = [p.start_box() for p in self.parameters]
        keys = jax.random.split(key, len(self.parameters))
        starts = []
        for p, (low, high), k, u0 in zip(self.parameters, boxes, keys, first, strict=True):
            drawn = jax.random.uniform(k, (n_starts - 1, *u0.shape), minval=low, maxval=high)
            value = jnp.exp(drawn) if p.log else drawn
            starts.append(jnp.concatenate([u0[None], p.transform.to_unconstrained(value)]))
        return tuple(starts)
