"""Pieces shared by the record file readers: the file's text or JSON, field errors, rejections, ISO times.

The readers of enforcement records (:mod:`core.enforcement_io`) and of
interchange plans (:mod:`core.plan_reader`) keep every good record and report
each bad one as a :class:`Rejection` naming where it is, its id, the field and
why; a file that cannot be read or parsed at all is a ValidationError naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import ValidationError

__all__ = ["FieldError", "Rejection", "iso_utc_seconds", "parse_json", "read_text"]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record turned away: ``where`` (``line 7``, ``features[3]``), its id when known, field, reason."""

    where: str
    field: str
    reason: str
    record_id: str | None = None

    def __str__(self) -> str:
        who = f" (id {self.record_id!r})" if self.record_id else ""
        return f"{self.where}{who}: field '{self.field}' {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {"where": self.where, "id": self.record_id, "field": self.field, "reason": self.reason}


class FieldError(Exception):
    """One field of a record is bad: ``field`` and ``reason`` (becomes a :class:`Rejection`)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def iso_utc_seconds(name: str, text: str) -> float:
    """UNIX seconds of the ISO 8601 time ``text`` (``Z`` or an offset; none: UTC), else a FieldError."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(
            name, f"must be an ISO 8601 UTC time like 2026-03-05T22:15:00Z, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def read_text(path: str | Path) -> str:
    """The text of file ``path`` (UTF-8, a leading BOM dropped).

    Raises
    ------
    ValidationError
        The file cannot be read (names the file).
    """
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValidationError(str(path), "file", f"cannot be read: {exc.strerror or exc}") from None


def parse_json(source: str | Path, text: str) -> Any:
    """``text`` parsed as JSON; a ValidationError naming ``source`` and the line when it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(str(source), "file", f"is not JSON: {exc.msg} at line {exc.lineno}") from None
