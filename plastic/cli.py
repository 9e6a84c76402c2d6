"""The `plastic` command."""

import argparse
import os
import time


def _simulate(args) -> None:
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np

    from plastic.geometry import Geometry, Spines
    from plastic.model import SpineModel
    from plastic.plot import plot_pairing
    from plastic.protocols import MINUTE, pairing_protocol
    from plastic.simulate import simulate

    spines = Spines(position=(args.position, args.position + args.distance))
    model = SpineModel(geometry=Geometry(spines=spines))
    uncaged = (0, 1) if args.two_spines else (0,)
    protocol = pairing_protocol(
        args.delta_t,
        n_pairings=args.n_pairings,
        uncaged_spines=uncaged,
        current_amplitude=args.current,
        quiet=args.quiet_min * MINUTE,
    )
    start = float(protocol.pairing_start[0])
    window = jnp.arange(start - 20.0, start + 300.0, 0.1)
    print(
        f"simulating {args.n_pairings} pairings at delta_t = {args.delta_t:+g} ms, "
        f"{args.quiet_min:g} min quiet; compiling ...",
        flush=True,
    )
    began = time.perf_counter()
    sim = jax.block_until_ready(eqx.filter_jit(simulate)(model, protocol, window))
    print(f"done in {time.perf_counter() - began:.1f} s ({int(sim.num_steps)} solver steps)")
    np.set_printoptions(precision=3, suppress=True)
    print("spine-head calcium before each pairing (uM):\n", np.asarray(sim.head_calcium_before))
    print("spine-head calcium 4 ms after each pairing (uM):\n", np.asarray(sim.head_calcium_after))
    print(
        "dendrite calcium 4 ms after each pairing (uM):\n", np.asarray(sim.dendrite_calcium_after)
    )
    states = sim.states
    print(
        f"peak soma voltage {float(states.soma_voltage.max()):.1f} mV, peak head voltage "
        f"{np.asarray(states.head_voltage.max(0))} mV in the first pairing"
    )
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "pairing.png")
    plot_pairing(sim, model, path)
    print(f"wrote {path}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="plastic", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="run the Tazerart 2020 pairing protocol")
    sim.add_argument(
        "--delta-t",
        type=float,
        default=13.0,
        help="current onset minus uncaging onset, ms (default 13)",
    )
    sim.add_argument("--n-pairings", type=int, default=40)
    sim.add_argument("--quiet-min", type=float, default=25.0, help="quiet after pairing, min")
    sim.add_argument("--current", type=float, default=500.0, help="somatic current, pA")
    sim.add_argument("--position", type=float, default=40.0, help="spine 0 from soma, um")
    sim.add_argument("--distance", type=float, default=2.0, help="inter-spine distance, um")
    sim.add_argument("--two-spines", action="store_true", help="uncage both spines")
    sim.add_argument("--out", default="out", help="output folder for the plot")
    sim.set_defaults(run=_simulate)
    args = parser.parse_args(argv)
    import plastic  # noqa: F401  (float64)

    args.run(args)


if __name__ == "__main__":
    main()
