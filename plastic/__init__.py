"""plastic: differentiable mechanistic models of synaptic plasticity at dendritic spines.

Units everywhere: ms, um, mV, nS, pA, pF, uM, fL (see `plastic.units`).
"""

import importlib.metadata

import jax

try:
    __version__ = importlib.metadata.version("plastic")
except importlib.metadata.PackageNotFoundError:  # run from a source tree that is not installed
    __version__ = "unknown"

# float64 is the default everywhere: the solves are stiff and gradients are checked against
# finite differences. Float32 is opt-in where a test shows it holds its tolerance.
jax.config.update("jax_enable_x64", True)

from plastic import biophysics as biophysics  # noqa: E402
from plastic import data as data  # noqa: E402
from plastic import experiment as experiment  # noqa: E402
from plastic import fit as fit  # noqa: E402
from plastic import network as network  # noqa: E402
from plastic import readouts as readouts  # noqa: E402
from plastic import replay as replay  # noqa: E402
from plastic import rules as rules  # noqa: E402
from plastic import studies as studies  # noqa: E402
from plastic import sweep as sweep  # noqa: E402
from plastic.compile_times import disable_compile_cache as disable_compile_cache  # noqa: E402
from plastic.compile_times import enable_compile_cache as enable_compile_cache  # noqa: E402
from plastic.coupling import AbstractSpineCoupling as AbstractSpineCoupling  # noqa: E402
from plastic.coupling import DiffusibleMessenger as DiffusibleMessenger  # noqa: E402
from plastic.coupling import (  # noqa: E402
    MessengerWithDepressionVeto as MessengerWithDepressionVeto,
)
from plastic.expression import AbstractExpression as AbstractExpression  # noqa: E402
from plastic.expression import ExpressionState as ExpressionState  # noqa: E402
from plastic.expression import (  # noqa: E402
    TraffickingAndRemodelling as TraffickingAndRemodelling,
)
from plastic.geometry import Dendrite as Dendrite  # noqa: E402
from plastic.geometry import Geometry as Geometry  # noqa: E402
from plastic.geometry import Soma as Soma  # noqa: E402
from plastic.geometry import Spines as Spines  # noqa: E402
from plastic.model import SpineModel as SpineModel  # noqa: E402
from plastic.model import SpineState as SpineState  # noqa: E402
from plastic.protocols import Protocol as Protocol  # noqa: E402
from plastic.protocols import event_protocol as event_protocol  # noqa: E402
from plastic.protocols import pairing_protocol as pairing_protocol  # noqa: E402
from plastic.rosenbrock import Rodas5 as Rodas5  # noqa: E402
from plastic.simulate import Simulation as Simulation  # noqa: E402
from plastic.simulate import SolverSettings as SolverSettings  # noqa: E402
from plastic.simulate import simulate as simulate  # noqa: E402
from plastic.simulate import simulate_each as simulate_each  # noqa: E402
from plastic.solver_status import SolveFailedError as SolveFailedError  # noqa: E402
from plastic.solver_status import raise_if_failed as raise_if_failed  # noqa: E402
