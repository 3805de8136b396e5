"""Fleet routing: district + road matrices -> OR-Tools -> a day's :class:`core.domain.Plan`.

Model -> data -> solve -> result, one module each (PyVRP's split):

- :mod:`routing.model` -- :func:`~routing.model.locations` order, the immutable,
  all-integer :class:`~routing.model.RoutingProblem` (the one place that scales
  to integers; the unload rule, facility sites, breaks and day limits),
  :class:`~routing.model.ObjectiveWeights`, :class:`~routing.model.WarmStart`
  and the pre-solve :func:`~routing.model.diagnose`.
- :mod:`routing.construct` -- constructive starts with unload trips (sweep and
  grow, split an order into trips), pure Python/NumPy.
- :mod:`routing.solve` -- :class:`~routing.solve.SolveParams` and
  :func:`~routing.solve.solve` (facility copies, bays, tonnage, breaks,
  parallel workers, warm start); the only module that imports OR-Tools.
- :mod:`routing.plan` -- :func:`~routing.plan.to_plan` (unload stops, breaks),
  :func:`~routing.plan.plan_kpis` (with facility tonnage and peak bay use) and
  :func:`~routing.plan.warm_start_from_plan`.
- :mod:`routing.verify` -- an independent checker sharing no code with the above.

Nothing is imported here, so ``import routing.model`` does not load OR-Tools.
"""
