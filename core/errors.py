"""The wastefleet error family.

Every error subclasses :class:`FleetError` and a built-in, so callers can catch
either (osmnx style). Messages name the record and the field that is wrong.
"""

from __future__ import annotations


class FleetError(Exception):
    """Base class of every error wastefleet raises on purpose."""


class ValidationError(FleetError, ValueError):
    """Raised when input data is malformed: names the record, the field and why."""

    def __init__(self, record: str, field: str, reason: str) -> None:
        self.record = record
        self.field = field
        self.reason = reason
        super().__init__(f"{record}: field '{field}' {reason}")


class NotFoundError(FleetError, LookupError):
    """Raised when a referenced object (plan, vehicle, depot, ...) does not exist."""


class InfeasiblePlanError(FleetError):
    """Raised when no plan at all can be built; lists the reasons."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("no feasible plan: " + "; ".join(self.reasons))


class RoadNetworkError(FleetError):
    """Raised when a road network file cannot be loaded or a route cannot be found."""
