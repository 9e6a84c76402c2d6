"""A Rosenbrock (linearly implicit) solver for diffrax: Rodas5.

Why not diffrax's ESDIRK methods (Kvaerno5)? Each of their stages solves a nonlinear system by
Newton iterations inside a while loop; under `jax.vmap` every condition then pays for the
slowest one's iterations, and the nested loops make compilation slow. A Rosenbrock method
replaces the Newton iterations by one linear solve per stage with a fixed matrix: per step one
Jacobian (forward-mode, together with the time derivative), one LU factorisation and ``s``
triangular solves, with no inner loop. With the exact Jacobian, Rodas5 is L-stable and of order
5, with an embedded order-4 solution for the error estimate and a dense output of order 4.

- `plastic.rosenbrock.tableau`: the method and its coefficients (`Rodas5Tableau`).
- `plastic.rosenbrock.linear_algebra`: ``J`` and ``W``'s factors, dense or structurally sparse.
- `plastic.rosenbrock.stages`: the stages of one step and their written-out reverse mode.
- `plastic.rosenbrock.solver`: `Rodas5` and its dense output, `RosenbrockInterpolation`;
  `with_sequential_lu` for several CPU devices at once.
"""

from plastic.rosenbrock.solver import Rodas5 as Rodas5
from plastic.rosenbrock.solver import RosenbrockInterpolation as RosenbrockInterpolation
from plastic.rosenbrock.solver import with_sequential_lu as with_sequential_lu
