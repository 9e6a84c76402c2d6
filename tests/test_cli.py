"""`plastic fit --init`: a fit starts from an earlier fit's model, or refuses the file by name."""

import equinox as eqx
import pytest

import plastic  # noqa: F401  (float64)
from plastic import cli
from plastic.tazerart import tazerart_model


def test_fit_starts_from_a_saved_model(tmp_path):
    saved = eqx.tree_at(lambda m: m.coupling.half_activation, tazerart_model(), 0.123)
    path = tmp_path / "model.eqx"
    eqx.tree_serialise_leaves(path, saved)
    loaded = cli._load_start(str(path), tazerart_model())
    assert float(loaded.coupling.half_activation) == 0.123
    assert float(loaded.rule.cam_half) == float(saved.rule.cam_half)


def test_fit_refuses_a_missing_or_foreign_start(tmp_path):
    with pytest.raises(SystemExit, match="--init .* is not a file"):
        cli._load_start(str(tmp_path / "absent.eqx"), tazerart_model())
    foreign = tmp_path / "other.eqx"
    eqx.tree_serialise_leaves(foreign, tazerart_model().without_plasticity())
    with pytest.raises(SystemExit, match="--init .* is not a model.eqx of the Tazerart model"):
        cli._load_start(str(foreign), tazerart_model())
