"""Fleet routing: district + road matrices -> OR-Tools -> a day's :class:`core.domain.Plan`.

Model -> data -> solve -> result, one module each (PyVRP's split):

- :mod:`routing.model` -- :func:`~routing.model.locations` order, the immutable,
  all-integer :class:`~routing.model.RoutingProblem` (the one place that scales
  to integers) and the pre-solve :func:`~routing.model.diagnose`.
- :mod:`routing.solve` -- :class:`~routing.solve.SolveParams` and
  :func:`~routing.solve.solve`; the only module that imports OR-Tools.
- :mod:`routing.plan` -- :func:`~routing.plan.to_plan` and
  :func:`~routing.plan.plan_kpis`.
- :mod:`routing.verify` -- an independent checker sharing no code with the above.

Nothing is imported here, so ``import routing.model`` does not load OR-Tools.
"""
