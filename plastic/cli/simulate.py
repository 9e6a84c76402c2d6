"""``plastic simulate`` without ``--study``: the seed's pairing protocol on the spine model, its
traces and calcium per pairing printed, plotted and (``--save-traces``) saved."""

import argparse
import json
import os

import numpy as np

from plastic.cli.arguments import COUNT, FINITE, NON_NEGATIVE, fail


def simulate_pairing(args) -> None:
    """Run the pairing of the command's options on `plastic.cli.spine.spine_model`."""
    import jax
    import jax.numpy as jnp

    from plastic.cli.spine import spine_model
    from plastic.compile_times import CompileClock, computation_key
    from plastic.experiment import AFTER_PAIRING_DELAY, CalciumPerPairing, SpinePairingExperiment
    from plastic.experiment.traces import pairing_traces
    from plastic.plot import plot_pairing
    from plastic.program_cache import cached_call
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
    sim, *at_readouts = jax.block_until_ready(
        cached_call("plastic.simulate.simulate_each", simulate_each, *arguments)
    )
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


def add_simulate_command(commands, compiling: argparse.ArgumentParser) -> None:
    """The ``simulate`` command: the seed's pairing protocol, or one condition of a study."""
    from plastic.experiment import DEFAULT_DISTANCE

    sim = commands.add_parser(
        "simulate",
        parents=[compiling],
        help="run the Tazerart 2020 pairing protocol on the fitted spine model, or one condition "
        "of a study",
    )
    sim.add_argument(
        "--study",
        help="run one condition of this study's experiment (plastic studies lists them; set its "
        "fields with --condition) and print its readouts; default: the spine model's pairing "
        "protocol, traces and plot",
    )
    sim.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a condition field of the study (repeatable; the others at their defaults)",
    )
    sim.add_argument(
        "--model",
        help="a model.eqx of a fit (default: the Tazerart study's fitted model, or the study's "
        "rule's start values)",
    )
    sim.add_argument(
        "--rule",
        help="kinase_competition (default: the fitted model) or none (its biophysics alone); for "
        "a study, one of its rules",
    )
    sim.add_argument(
        "--delta-t",
        type=FINITE,
        help="current onset minus uncaging onset, ms (default 13)",
    )
    sim.add_argument(
        "--n-pairings", type=COUNT, help="default 40; for tazerart2020, its count of pairings"
    )
    sim.add_argument(
        "--quiet-min",
        type=NON_NEGATIVE,
        help="quiet after pairing, min (default 25; for tazerart2020, before its readouts: 20)",
    )
    sim.add_argument("--current", type=FINITE, default=500.0, help="somatic current, pA")
    sim.add_argument("--position", type=NON_NEGATIVE, default=40.0, help="spine 0 from soma, um")
    sim.add_argument(
        "--distance", type=FINITE, default=DEFAULT_DISTANCE, help="inter-spine distance, um"
    )
    sim.add_argument("--two-spines", action="store_true", help="uncage both spines")
    sim.add_argument(
        "--max-steps",
        type=COUNT,
        help="solver steps allowed (default: the engine's, 200000); raise it for long protocols",
    )
    sim.add_argument(
        "--save-traces",
        action="store_true",
        help="also write OUT/traces.nc (NetCDF): the plotted window's soma, head and dendrite "
        "voltages and calcium against time (ms), the pulses and the calcium per pairing",
    )
    sim.add_argument("--out", default="out", help="output folder for the plot (and traces)")
    sim.set_defaults(run=run_simulate)


def run_simulate(args) -> None:
    """``plastic simulate``: one condition of ``--study``, else the seed's pairing protocol."""
    if args.study is not None:
        if args.save_traces:
            fail("simulate", "--save-traces saves the spine model's pairing traces, not a study's")
        from plastic.cli.studies import simulate_study

        return simulate_study(args)
    simulate_pairing(args)
