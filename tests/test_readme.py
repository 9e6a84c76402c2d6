"""The README's examples stay true: its commands run and write what it promises, its files exist.

Every command line in a fenced block of ``README.md`` that starts with ``plastic `` (and the
``plastic ...`` part of a ``... && plastic ...`` line) is run through `plastic.cli.main` in a
temporary folder, with its own options but small values: 1 pairing, no quiet, each sweep range cut
to its two ends. The outputs the README promises are then checked: ``pairing.png`` in the
``--out`` folder of ``plastic simulate``; the NetCDF file of ``plastic sweep`` (its axes and
readout) and the PNG beside it.

``plastic fit`` of a study other than Tazerart 2020 runs with 1 start and 2 steps and must
write its parameters, predictions and loss plot. ``plastic fit`` of the Tazerart study is not run
here: even one step compiles a gradient through the spine model's uEPSP test recording
(minutes on the 2 test cores; `tests/studies/test_tazerart2020.py` runs a short fit).
Instead its command line goes through the real argparse parser of `plastic.cli.main` (the fit
itself replaced by a recorder), every ``--parameter`` path (or the default set) is bound to
`plastic.studies.tazerart2020.tazerart_model()` as the command does (the leaf exists, is a
float and lies inside the given bounds, and a replay fit may move it), and every ``--select``
value picks rows of the Tazerart 2020 data.

The ``python experiments/X.py`` examples are checked by their ``--help``: the script exists and
accepts every option the README gives it. Every ``notebooks/``, ``experiments/``, ``plastic/`` or
``tests/`` path the README names exists.
"""

import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from plastic import cli
from plastic.cli import fit as cli_fit
from plastic.fit import FitParameters, Parameter
from plastic.replay import check_replay_parameters
from plastic.studies.tazerart2020 import default_fit_parameters, tazerart2020_data, tazerart_model

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```[^\n]*\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)

# Small values for the options that set the cost; an option the README line lacks is added.
SMALL = {
    "simulate": {"--n-pairings": "1", "--quiet-min": "0"},
    "sweep": {"--n-pairings": "1", "--quiet-min": "0"},
    "fit": {"--n-steps": "2", "--n-starts": "1"},
    "studies": {},
}
SWEEP_AXES = {"--dt": "delta_t", "--delta-t": "delta_t", "--distance": "distance"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def commands(program: str) -> list[list[str]]:
    """The argument lists of every ``program ...`` command in the README's fenced blocks."""
    found = []
    for block in BLOCKS:
        for line in block.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part)
                if words[:1] == [program]:
                    found.append(words[1:])
    return found


PLASTIC = commands("plastic")


def _study(argv):
    return argv[argv.index("--study") + 1] if "--study" in argv else "tazerart2020"


# Fits of the spine study are parsed only (see the module doc); fits of other studies run.
RUN = [argv for argv in PLASTIC if argv[0] != "fit" or _study(argv) != "tazerart2020"]
FIT = [argv for argv in PLASTIC if argv[0] == "fit" and _study(argv) == "tazerart2020"]
EXPERIMENTS = [argv for argv in commands("python") if argv[0].startswith("experiments/")]
# The examples list in prose: `python experiments/X.py --out ...`, one a bullet.
EXPERIMENTS += [
    shlex.split(example)[1:] for example in re.findall(r"`(python3? experiments/[^`]+)`", README)
]


def _split_equals(argv: list[str]) -> list[str]:
    """``--name=value`` as two words, so that options are found in one form."""
    words = []
    for word in argv:
        name, equals, value = word.partition("=")
        words += [name, value] if word.startswith("--") and equals else [word]
    return words


def option(argv: list[str], name: str, default: str) -> str:
    return argv[argv.index(name) + 1] if name in argv else default


def with_option(argv: list[str], name: str, value: str) -> list[str]:
    if name in argv:
        i = argv.index(name)
        return argv[: i + 1] + [value] + argv[i + 2 :]
    return argv + [name, value]


def coarse(values: str) -> str:
    """A range or list cut to its two ends: the grid keeps its extent and both axes, 2 points."""
    if ":" in values:
        start, stop, _ = (float(v) for v in values.split(":"))
        return f"{start:g}:{stop:g}:{stop - start:g}"
    parts = values.split(",")
    return ",".join(dict.fromkeys([parts[0], parts[-1]]))


def small(argv: list[str]) -> list[str]:
    argv = _split_equals(argv)
    # Studies other than the spine model's set their protocol by condition fields only.
    timed = argv[0] not in ("sweep", "simulate") or _study(argv) == "tazerart2020"
    for name, value in SMALL[argv[0]].items() if timed else ():
        argv = with_option(argv, name, value)
    if argv[0] == "sweep":
        for i, word in enumerate(argv[:-1]):
            if word in SWEEP_AXES:
                argv[i + 1] = coarse(argv[i + 1])
            elif word == "--axis":
                name, _, values = argv[i + 1].partition("=")
                argv[i + 1] = f"{name}={coarse(values)}"
    return argv


def assert_png(path: pathlib.Path) -> None:
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG"


def test_readme_has_the_commands():
    """The parsing finds the examples, so that the tests below do not pass on nothing."""
    assert {argv[0] for argv in PLASTIC} == {"simulate", "sweep", "fit", "studies"}
    assert any(argv[0] == "fit" for argv in RUN) and FIT
    assert ["simulate", "--n-pairings", "3", "--quiet-min", "1", "--out", "out"] in PLASTIC
    assert len(EXPERIMENTS) >= 3


def test_small_settings():
    argv = small(["sweep", "--dt=-50:50:5", "--distance", "1,2,3", "--axis", "rule.tau=1:9:2"])
    assert argv[:7] == [
        "sweep",
        "--dt",
        "-50:50:100",
        "--distance",
        "1,3",
        "--axis",
        "rule.tau=1:9:8",
    ]
    assert option(argv, "--n-pairings", "") == "1" and option(argv, "--quiet-min", "") == "0"


def check_traces(path: pathlib.Path, n_pairings: int) -> None:
    """``plastic simulate --save-traces``'s file: the plotted window (20 ms before the first
    pairing to 300 ms after, every 0.1 ms) and the calcium per pairing, each with its units."""
    traces = xr.load_dataset(path, engine="scipy")
    assert traces["time"].attrs["units"] == "ms"
    start = float(traces["pairing_start"][0])
    np.testing.assert_allclose(traces["time"].values, np.arange(start - 20.0, start + 300.0, 0.1))
    for name, variable in traces.data_vars.items():
        assert variable.attrs.get("units"), f"{name} has no units"
    for name in ("soma_voltage", "head_voltage", "dendrite_voltage"):
        assert traces[name].attrs["units"] == "mV" and traces[name].dims[0] == "time"
    for name in ("head_calcium", "dendrite_calcium", "head_calcium_after_per_pairing"):
        assert traces[name].attrs["units"] == "uM"
    assert traces["head_calcium_before_per_pairing"].sizes["pairing"] == n_pairings
    # The pulses of the first pairing lie in the window.
    assert start <= float(traces["current_onset"][0]) <= start + 300.0
    assert np.isfinite(float(traces["delta_t"]))


@pytest.mark.parametrize("argv", RUN, ids=[f"{a[0]}-{i}" for i, a in enumerate(RUN)])
def test_command_writes_its_outputs(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = small(argv)
    cli.main(argv)
    printed = capsys.readouterr().out
    if argv[0] == "simulate" and "--study" in argv:
        assert "model: study" in printed and "(ratio): " in printed
    elif argv[0] == "simulate":
        # The README's set-up line promises `out/pairing.png` for `--out out`.
        path = pathlib.Path(option(argv, "--out", "out"), "pairing.png")
        assert_png(path)
        assert f"wrote {path}" in printed
        if "--save-traces" in argv:
            check_traces(
                path.with_name("traces.nc"), n_pairings=int(option(argv, "--n-pairings", ""))
            )
    elif argv[0] == "sweep":
        result = pathlib.Path(option(argv, "--out", "sweep.nc"))
        assert_png(pathlib.Path(option(argv, "--plot", os.path.splitext(result)[0] + ".png")))
        dataset = xr.load_dataset(result, engine="scipy")
        default = "weight" if "--study" in argv else "head_calcium_after"
        readout = option(argv, "--readout", default)
        assert readout in dataset.data_vars
        for name, dim in SWEEP_AXES.items():
            if name in argv:
                expected = cli.parse_values(option(argv, name, ""))
                np.testing.assert_allclose(dataset[dim].values, expected)
        values = dataset[readout].values
        assert np.all(np.isfinite(values)) and np.all(values > 0), values
    elif argv[0] == "fit":
        out = pathlib.Path(option(argv, "--out", "out/fit"))
        assert_png(out / "loss.png")
        record = json.loads((out / "parameters.json").read_text())
        assert np.isfinite(record["loss"]) and (out / "predictions.csv").is_file()
    elif argv[0] == "studies":
        assert "markram1997" in printed and "tazerart2020" in printed
    else:
        pytest.fail(f"no output check for `plastic {argv[0]}`: add one here")


@pytest.mark.parametrize("argv", FIT, ids=[f"fit-{i}" for i in range(len(FIT))])
def test_fit_command_parses(argv, monkeypatch):
    """Parsed by the real parser, not run (minutes even at the smallest settings;
    `tests/studies/test_tazerart2020.py` runs a short fit): the parameter paths exist on
    `tazerart_model()` and a replay fit may move them, the selection picks rows."""
    parsed = []
    # `main` binds the subcommand to `run_fit_command` when it builds the parser: record instead.
    monkeypatch.setattr(cli_fit, "run_fit_command", parsed.append)
    cli.main(argv)
    (args,) = parsed
    fitted = [Parameter.from_spec(spec) for spec in args.parameter] or default_fit_parameters()
    FitParameters(tazerart_model(), fitted)
    if args.mode == "replay":
        check_replay_parameters([p.path for p in fitted])
    data = tazerart2020_data()
    for column, values in cli_fit.selection(args.select).items():
        for value in values:
            n_rows = data.select(**{column: value}).n_rows
            assert n_rows > 0, f"--select {column}={value!r} picks no row of the data"


@pytest.mark.parametrize("argv", EXPERIMENTS, ids=[a[0] for a in EXPERIMENTS])
def test_experiment_accepts_its_options(argv):
    script = ROOT / argv[0]
    assert script.is_file(), f"{argv[0]} does not exist"
    help_text = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for word in _split_equals(argv[1:]):
        if word.startswith("--"):
            pattern = rf"(?<![\w-]){re.escape(word)}(?![\w-])"
            assert re.search(pattern, help_text), f"{argv[0]} has no option {word}"


def test_named_files_exist():
    named = set(re.findall(r"\b((?:notebooks|experiments|plastic|tests)/[\w./-]*\w)", README))
    assert {"notebooks/01_simulate_pairing.ipynb", "experiments/rule_windows.py"} <= named
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, f"the README names files that do not exist: {missing}"
