"""Smoke test of ``experiments/rule_windows.py`` on its small grids (``--quick``).

It must write both figures and the summary, print finite key numbers for every rule, and wire the
rules to the protocol correctly: two windows are checked against independent values (the authors'
published Graupner-Brunel table and the pair rule's closed form).
"""

import importlib.util
import json
import math
import pathlib
import re

import numpy as np

SCRIPT = pathlib.Path(__file__).parents[1] / "experiments" / "rule_windows.py"
NUMBER = r"(none|[-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?)"
LINE = re.compile(
    rf"^\s+(.+?)\s+peak LTP {NUMBER}.*peak LTD {NUMBER}.*zero crossings \(ms\): (.*)\["
)


def _load_script():
    spec = importlib.util.spec_from_file_location("rule_windows", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_figures_and_finite_key_numbers(tmp_path, capsys):
    _load_script().main(["--quick", "--out", str(tmp_path)])
    printed = capsys.readouterr().out

    for name in ("stdp_windows.png", "kinase_plateau_map.png"):
        png = (tmp_path / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000, name

    rows = [match.groups() for match in map(LINE.match, printed.splitlines()) if match]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(rows) == len(summary["rules"]) >= 10
    for label, ltp, ltd, crossings in rows:
        assert label in summary["rules"], label
        for value in (ltp, ltd):
            assert value == "none" or math.isfinite(float(value)), (label, value)
        assert ltp != "none" or ltd != "none", label
        for crossing in filter(None, (c.strip() for c in crossings.split(","))):
            assert crossing == "none" or -100.0 <= float(crossing) <= 100.0, (label, crossing)
    assert np.all(np.isfinite(summary["kinase_plateau_map"]["changes"]))

    delta_ts = np.asarray(summary["delta_t_ms"])
    # The authors' analytic code, 60 pairs at 1 Hz, set DP (reference/models.md).
    published = {-20.0: 0.7643, -10.0: 0.8818, 10.0: 1.2214, 20.0: 1.1722}
    gb = dict(zip(delta_ts, summary["rules"]["GB DP"]["changes"], strict=True))
    for delta_t, ratio in published.items():
        assert abs(gb[delta_t] - (ratio - 1.0)) < 1e-4, delta_t  # the table has 4 decimals
    # Song-Miller-Abbott, A+ = 0.005, A- = 1.05 A+, tau = 20 ms: 60 pairs 1 s apart interact only
    # within a pair (e^{-1000/20} ~ 1e-22), so the window is 60 A+- e^{-|dt|/20}.
    pair = np.asarray(summary["rules"]["pair, Song-Miller-Abbott"]["changes"])
    expected = np.where(
        delta_ts > 0, 60 * 0.005 * np.exp(-delta_ts / 20), -60 * 0.00525 * np.exp(delta_ts / 20)
    )
    np.testing.assert_allclose(pair, expected, rtol=1e-9)
