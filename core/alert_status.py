"""The alert lifecycle: statuses, the allowed changes, the audit record, false-positive figures.

An alert is raised ``new``. An officer may acknowledge it (``acknowledged``: someone
is looking at it) and then decide it: ``confirmed`` (a real offence) or
``dismissed`` (a false alarm). A clear case may be decided straight from ``new``.
Decisions are final: a confirmed or dismissed alert changes no more (a wrong
decision is corrected by a note on a new alert, never by rewriting history).
Alerts are never deleted; every change is kept as an :class:`AlertEvent`.

The false-positive rate of an alert type is dismissed / (confirmed + dismissed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.errors import ValidationError


class AlertStatus(StrEnum):
    """Where an alert is in its lifecycle."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


ALLOWED: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.NEW: frozenset({AlertStatus.ACKNOWLEDGED, AlertStatus.CONFIRMED, AlertStatus.DISMISSED}),
    AlertStatus.ACKNOWLEDGED: frozenset({AlertStatus.CONFIRMED, AlertStatus.DISMISSED}),
    AlertStatus.CONFIRMED: frozenset(),
    AlertStatus.DISMISSED: frozenset(),
}
"""Status -> the statuses it may change to."""


def check_transition(key: str, current: str, target: str) -> AlertStatus:
    """``target`` as a status when ``current -> target`` is allowed.

    Raises
    ------
    ValidationError
        Naming the alert and ``status``: an unknown status or a change not in :data:`ALLOWED`.
    """
    record = f"Alert '{key}'"
    try:
        to = AlertStatus(target)
    except ValueError:
        allowed = ", ".join(s.value for s in AlertStatus)
        raise ValidationError(record, "status", f"must be one of {allowed}; got {target!r}") from None
    frm = AlertStatus(current)
    if to not in ALLOWED[frm]:
        nexts = ", ".join(sorted(s.value for s in ALLOWED[frm])) or "nothing (the decision is final)"
        raise ValidationError(record, "status", f"cannot go from {frm.value} to {to.value}; allowed: {nexts}")
    return to


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One status change of an alert: who, why and when (aware UTC datetime)."""

    alert_key: str
    from_status: AlertStatus
    to_status: AlertStatus
    officer: str
    note: str
    at: datetime

    def __post_init__(self) -> None:
        record = f"AlertEvent of '{self.alert_key}'"
        if not isinstance(self.officer, str) or not self.officer.strip():
            raise ValidationError(record, "officer", "must name the officer (a non-empty string)")
        if not isinstance(self.note, str):
            raise ValidationError(record, "note", f"must be a string, got {self.note!r}")


@dataclass(frozen=True, slots=True)
class FalsePositives:
    """Decided alerts of one type: ``rate`` = dismissed / decided (``None`` when none decided)."""

    type: str
    confirmed: int
    dismissed: int

    @property
    def decided(self) -> int:
        """Confirmed plus dismissed."""
        return self.confirmed + self.dismissed

    @property
    def rate(self) -> float | None:
        """The share of decided alerts that were false alarms (0..1)."""
        return None if self.decided == 0 else self.dismissed / self.decided


def false_positives(rows: Iterable[tuple[str, str]]) -> list[FalsePositives]:
    """Per alert type, from ``(type, status)`` pairs; types with no decided alert are left out."""
    counts: dict[str, list[int]] = {}
    for type_, status in rows:
        if status == AlertStatus.CONFIRMED:
            counts.setdefault(type_, [0, 0])[0] += 1
        elif status == AlertStatus.DISMISSED:
            counts.setdefault(type_, [0, 0])[1] += 1
    return [FalsePositives(t, c, d) for t, (c, d) in sorted(counts.items())]
