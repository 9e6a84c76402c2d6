"""The roofline on paper of ``experiments/bench_gpu.py --roofline``
(``experiments/_bench_roofline.py``): which ceiling binds, and the bytes counted per Rodas5 step."""

import importlib.util
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).parents[1] / "experiments" / "_bench_roofline.py"


@pytest.fixture(scope="module")
def roofline():
    spec = importlib.util.spec_from_file_location("_bench_roofline", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_slower_ceiling_binds(roofline):
    device = roofline.DeviceSpec("test", flops=10.0, bandwidth=1.0, source="-")
    memory = roofline.predict(flop=10.0, moved_bytes=4.0, device=device)  # 1 s vs 4 s
    assert memory["bound"] == "memory"
    assert memory["conditions_per_s"] == pytest.approx(0.25)
    compute = roofline.predict(flop=100.0, moved_bytes=4.0, device=device)  # 10 s vs 4 s
    assert compute["bound"] == "compute"
    assert compute["conditions_per_s"] == pytest.approx(0.1)


def test_bytes_per_step_count_the_factor_passes_and_the_kernels(roofline):
    operations = dict(factor_entries=100, rhs_bytes=10.0, rodas5_jacobian_bytes=50.0)
    # W from J (2 passes), the LU (2), 8 stage solves (8), 8 bytes an entry.
    assert roofline.factor_bytes(operations) == 12 * 8 * 100
    assert roofline.kernel_bytes(operations) == 7 * 10.0 + 50.0
