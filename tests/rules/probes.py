"""Test-only rules that expose what a rule sees: shared by the standalone and in-model tests."""

import jax.numpy as jnp

from plastic.rules.base import AbstractRule, SynapseSignals


class SignalIntegrals(AbstractRule):
    """State: the running time integral of every signal (uM ms, mV ms, ms, mV ms).

    Integrating the signals makes the state a direct, smooth record of what the rule read: the
    glutamate integral is the total pulse time, the others have closed forms for prescribed traces.
    """

    def initial_state(self) -> SynapseSignals:
        zero = jnp.zeros(())
        return SynapseSignals(zero, zero, zero, zero)

    def vector_field(self, t, state, signals: SynapseSignals) -> SynapseSignals:
        return signals

    def efficacy(self, state):
        return jnp.ones(())


class SideBySide(AbstractRule):
    """Several rules run side by side on the same signals; the state is the tuple of their states.

    Its efficacy is the stacked efficacies of the rules, shape ``(n_rules,)``.
    """

    rules: tuple[AbstractRule, ...]

    def initial_state(self):
        return tuple(rule.initial_state() for rule in self.rules)

    def vector_field(self, t, state, signals):
        return tuple(
            rule.vector_field(t, s, signals) for rule, s in zip(self.rules, state, strict=True)
        )

    def efficacy(self, state):
        return jnp.stack([rule.efficacy(s) for rule, s in zip(self.rules, state, strict=True)])
