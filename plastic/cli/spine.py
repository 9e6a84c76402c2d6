"""The spine model ``plastic simulate`` and ``plastic sweep`` run (without ``--study``), and the
words that say which model it is."""

import dataclasses


def spine_model(args, distance: float | None = None):
    """The model of the command's options and a description of it.

    The Tazerart study's fitted model (`plastic.studies.tazerart2020.tazerart_model`), or the
    ``model.eqx`` of ``--model`` (a ``plastic fit`` of it); ``--rule none`` keeps its
    biophysics alone (no rule, expression or coupling). Spine 0 sits at ``--position``, spine 1
    ``distance`` um further (`plastic.experiment.DEFAULT_DISTANCE` when None), on
    ``--compartments`` dendrite compartments.

    Raises:
        ValueError: naming the option, for an unknown rule or a file that is not a model.eqx of
            the Tazerart model.
    """
    import equinox as eqx
    import jax.numpy as jnp

    from plastic.cli.studies import load_start
    from plastic.experiment import DEFAULT_DISTANCE
    from plastic.studies.tazerart2020 import tazerart_model

    if args.rule not in (None, "none", "kinase_competition"):
        raise ValueError(
            f"--rule {args.rule!r}: the spine model takes none (biophysics alone) or "
            "kinase_competition (the default)"
        )
    model = tazerart_model()
    description = "the Tazerart 2020 study's fitted model (tazerart_model())"
    if args.model is not None:
        model = load_start(args.model, model, "--model")
        description = f"the model of {args.model}"
    if args.rule == "none":
        model = model.without_plasticity()
        description += " without plasticity"
    geometry = model.geometry
    if getattr(args, "compartments", None) is not None:
        geometry = dataclasses.replace(geometry, n_compartments=args.compartments)
    offset = DEFAULT_DISTANCE if distance is None else distance
    position = jnp.asarray([args.position, args.position + offset])
    geometry = eqx.tree_at(lambda g: g.spines.position, geometry, position)
    return eqx.tree_at(lambda m: m.geometry, model, geometry), description
