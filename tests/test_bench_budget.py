"""The time budget of ``experiments/bench_gpu.py`` (``experiments/_bench_budget.py``): how the
next item's time is estimated, and when an item is skipped. The benchmark itself is not run here
(it needs minutes even at its smoke sizes)."""

import importlib.util
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).parents[1] / "experiments" / "_bench_budget.py"


@pytest.fixture(scope="module")
def budget_module():
    spec = importlib.util.spec_from_file_location("_bench_budget", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_estimate_scales_the_run_of_the_same_kind_and_keeps_its_compile(budget_module):
    previous = dict(work=1024, compile_s=60.0, run_s=10.0)
    assert budget_module.estimate_seconds(previous, 8192, last_total_s=5.0) == pytest.approx(140.0)


def test_estimate_of_a_new_kind_is_the_last_item_and_the_first_item_runs(budget_module):
    assert budget_module.estimate_seconds(None, 16, last_total_s=75.0) == 75.0
    assert budget_module.estimate_seconds(None, 16, last_total_s=None) == 0.0


def test_budget_allows_what_fits_in_what_is_left(budget_module):
    budget = budget_module.Budget(420.0, started=100.0)
    assert budget.left(now=400.0) == pytest.approx(120.0)
    assert budget.allows(120.0, now=400.0)
    assert not budget.allows(121.0, now=400.0)


def test_similar_items_share_the_program_then_the_family_on_the_device(budget_module):
    keys = budget_module.similarity_keys("spine-sparse-cpu", "cpu")
    assert keys == ("spine-sparse-cpu", "spine-sparse", "spine on cpu")
    # A sparse CPU item is estimated from the sparse GPU one before the dense CPU one.
    assert budget_module.similarity_keys("spine-sparse-gpu", "gpu")[1] == keys[1]
    assert budget_module.similarity_keys("spine-dense-cpu", "cpu")[2] == keys[2]
