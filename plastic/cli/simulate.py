"""``plastic simulate`` without ``--study``: the seed's pairing protocol on the spine model, its
traces and calcium per pairing printed, plotted and (``--save-traces``) saved."""

import json
import os

import numpy as np

from plastic.cli.arguments import fail


def simulate_pairing(args) -> None:
    """Run the pairing of the command's options on `plastic.cli.spine.spine_model`."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from plastic.cli.spine import spine_model
    from plastic.compile_times import CompileClock, computation_key
    from plastic.experiment import AFTER_PAIRING_DELAY, CalciumPerPairing, SpinePairingExperiment
    from plastic.experiment.traces import pairing_traces
    from plastic.plot import plot_pairing
    from plastic.protocols import MINUTE
    from plastic.simulate import SolverSettings, simulate_each

    delta_t = 13.0 if args.delta_t is None else args.delta_t
    n_pairings = 40 if args.n_pairings is None else args.n_pairings
    quiet_min = 25.0 if args.quiet_min is None else args.quiet_min
    readouts = (
        CalciumPerPairing("head", "before"),
        CalciumPerPairing("head", "after"),
        CalciumPerPairing("dendrite", "after"),
    )
    try:
        model, description = spine_model(args)
        if os.path.exists(args.out) and not os.path.isdir(args.out):
            raise NotADirectoryError(
                f"--out {args.out!r} is a file; give a folder for the plot and traces"
            )
        settings = (
            SolverSettings() if args.max_steps is None else SolverSettings(max_steps=args.max_steps)
        )
        experiment = SpinePairingExperiment(
            readouts=readouts,
            n_pairings=n_pairings,
            uncaged_spines=(0, 1) if args.two_spines else (0,),
            settings=settings,
        )
        values = dict(
            delta_t=delta_t,
            current_amplitude=args.current,
            quiet=quiet_min * MINUTE,
            distance=args.distance,
        )
        condition = experiment.encode_condition(values, "plastic simulate")
        model, protocol = experiment.configure(model, condition)
    except (ValueError, NotADirectoryError) as error:
        fail("simulate", error)
    start = float(protocol.pairing_start[0])
    window = jnp.arange(start - 20.0, start + 300.0, 0.1)
    print(f"model: {description}")
    # One solve, saved over the plotted window and where each calcium readout reads it.
    requested = [window, *(readout.save_times(protocol) for readout in readouts)]
    arguments = (model, protocol, requested, experiment.settings)
    clock = CompileClock(computation_key("simulate", *arguments))
    print(
        f"simulating {n_pairings} pairings at delta_t = {delta_t:+g} ms, "
        f"{quiet_min:g} min quiet; {clock.message('the solve')}",
        flush=True,
    )
    sim, *at_readouts = jax.block_until_ready(eqx.filter_jit(simulate_each)(*arguments))
    print(f"done in {clock.stop():.1f} s ({int(sim.num_steps)} solver steps)")
    sim.raise_if_failed("the pairing's solve")
    head_before, head_after, dendrite_after = (
        np.asarray(readout.read(model, protocol, simulation))
        for readout, simulation in zip(readouts, at_readouts)
    )
    np.set_printoptions(precision=3, suppress=True)
    after = f"{AFTER_PAIRING_DELAY:g} ms after each pairing (uM)"
    print("spine-head calcium before each pairing (uM):\n", head_before)
    print(f"spine-head calcium {after}:\n", head_after)
    print(f"dendrite calcium {after}:\n", dendrite_after)
    states = sim.states
    print(
        f"peak soma voltage {float(states.soma_voltage.max()):.1f} mV, peak head voltage "
        f"{np.asarray(states.head_voltage.max(0))} mV in the first pairing"
    )
    final = sim.final_state
    if model.rule is not None:
        weight = jax.vmap(model.rule.efficacy)(final.rule)
        print(f"rule efficacy at the end, per spine: {np.asarray(weight)}")
    if model.expression is not None:
        expression = final.expression
        for name in ("psd", "neck", "head"):
            percent = 100.0 * np.asarray(getattr(expression, name))
            print(f"{name} at the end, % of baseline per spine: {percent}")
    # One dataset feeds both the plot and the saved traces, so the two cannot disagree.
    traces = pairing_traces(
        model,
        protocol,
        sim,
        list(zip(readouts, (head_before, head_after, dendrite_after))),
        attrs={
            "model": description,
            **experiment.attributes(),
            "experiment": type(experiment).__name__,
            "conditions": json.dumps(values),
            "condition_units": json.dumps({name: experiment.field(name).unit for name in values}),
        },
    )
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "pairing.png")
    plot_pairing(traces, path)
    print(f"wrote {path}")
    if args.save_traces:
        path = os.path.join(args.out, "traces.nc")
        traces.to_netcdf(path, engine="scipy")
        print(f"wrote {path} (the plotted window's traces and the calcium per pairing)")
