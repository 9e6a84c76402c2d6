"""What a result file records of how it was made: versions, command, date, settings, and the
model leaf by leaf with the units its range checks state."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import plastic
from plastic._validation import check_range
from plastic.fit import FitParameters, Objective, Parameter, default_optimiser, fit, write_fit
from plastic.provenance import field_units, model_parameters, provenance
from plastic.studies.tazerart2020 import tazerart_model
from tests.test_fit import DISTANCES, decay, measurements


def test_every_leaf_of_the_spine_model_is_recorded_with_its_unit():
    model = tazerart_model()
    record = model_parameters(model)
    assert len(record) == len([x for x in jax.tree.leaves(model) if eqx.is_array(x)])
    assert record["rule.cam_half"] == {"value": float(model.rule.cam_half), "unit": "uM"}
    assert record["geometry.spines.neck_length"]["unit"] == "um"
    assert record["nmda.conductance"]["unit"] == "nS"
    assert record["temperature"]["unit"] == "degC"
    json.dumps(record)  # readable as it is written
    # Recording stops with its context: later checks leave the table alone.
    units = field_units(model)
    check_range("Later.value", 1.0, unit="ms")
    assert "Later.value" not in units


class Exponential(eqx.Module):
    """A toy model whose range checks state its units."""

    amplitude: jax.Array = eqx.field(converter=jnp.asarray)
    length_constant: jax.Array = eqx.field(converter=jnp.asarray)
    offset: jax.Array = eqx.field(converter=jnp.asarray)

    def __check_init__(self):
        check_range("Exponential.length_constant", self.length_constant, lower=0.0, unit="um")


def test_parameters_json_records_provenance_settings_and_units(tmp_path):
    data = measurements(decay(DISTANCES, 30.0, 6.0, 100.0))

    def predict(model, data):
        distance = jnp.asarray(data.column("distance"))
        return model.amplitude * jnp.exp(-distance / model.length_constant) + model.offset

    # No unit given for the length constant: the fit reads it from the model's checks.
    parameters = FitParameters(
        Exponential(10.0, 20.0, 90.0),
        [Parameter("amplitude", 0.0, 100.0), Parameter("length_constant", 0.5, 100.0, log=True)],
    )
    optimiser = default_optimiser(5, learning_rate=0.07)
    result = fit(Objective(predict, data), parameters, optimiser=optimiser, n_steps=5, seed=3)
    paths = write_fit(result, tmp_path, settings={"selection": "all"})
    record = json.loads(paths["parameters"].read_text())
    assert record["parameters"]["length_constant"]["unit"] == "um"
    # The fit's own settings need no caller to pass them on.
    settings = record["settings"]
    assert settings["selection"] == "all" and settings["seed"] == 3
    assert (settings["n_steps"], settings["n_starts"], settings["checkpoint"]) == (5, 1, None)
    assert settings["optimiser"].startswith("default_optimiser(n_steps=5, learning_rate=0.07,")
    # An optimiser of the user's own is recorded as such, not as a default.
    result = fit(Objective(predict, data), parameters, optimiser=optax.sgd(0.01), n_steps=5)
    record = json.loads(write_fit(result, tmp_path)["parameters"].read_text())
    assert "its settings are not recorded" in record["settings"]["optimiser"]
    assert record["provenance"]["plastic_version"] == plastic.__version__
    assert set(provenance()) <= set(record["provenance"])
    assert record["model_parameters"]["offset"]["value"] == 90.0
    np.testing.assert_allclose(
        record["model_parameters"]["length_constant"]["value"],
        float(result.best_values["length_constant"]),
    )


def test_result_files_record_the_solver_as_readable_settings():
    from plastic.experiment import SpinePairingExperiment
    from plastic.rosenbrock import Rodas5
    from plastic.simulate import SolverSettings
    from plastic.studies.tazerart2020 import TazerartExperiment

    settings = SolverSettings(rtol=1e-7, max_steps=5000, solver=Rodas5(sparse=True))
    recorded = json.loads(SpinePairingExperiment(settings=settings).attributes()["solver"])
    assert recorded["rtol"] == 1e-7 and recorded["max_steps"] == 5000
    assert recorded["solver"] == "Rodas5" and recorded["sparse_jacobian"] is True
    tazerart = TazerartExperiment(mode="replay", settings=settings).attributes()
    assert tazerart["runner"] == "replay" and json.loads(tazerart["solver"]) == recorded
