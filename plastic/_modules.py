"""Walks over equinox modules that reach their static fields too, where `jax.tree.map` and
`eqx.tree_at` do not: a solver is a static field of `plastic.simulate.SolverSettings`."""

import dataclasses

import equinox as eqx


def map_modules(function, tree):
    """``tree`` with every equinox module ``m`` in it (inside lists, tuples, dicts and fields,
    static or not) replaced by ``function(m)``, innermost first."""
    if isinstance(tree, (list, tuple)) and not hasattr(tree, "_fields"):
        return type(tree)(map_modules(function, item) for item in tree)
    if isinstance(tree, dict):
        return {key: map_modules(function, value) for key, value in tree.items()}
    if isinstance(tree, eqx.Module):
        copy = object.__new__(type(tree))
        for field in dataclasses.fields(tree):
            # Equinox modules are frozen dataclasses: fill the copy as their own init does.
            object.__setattr__(copy, field.name, map_modules(function, getattr(tree, field.name)))
        return function(copy)
    return tree


def find_modules(tree, kind: type) -> list:
    """Every module of type ``kind`` in ``tree`` (static fields included)."""
    found = []

    def collect(module):
        if isinstance(module, kind):
            found.append(module)
        return module

    map_modules(collect, tree)
    return found
