"""GPS ingest: raw payloads to validated positions, with a reason for every record turned away.

Three ways in, one validator:

* a JSON batch (:func:`parse_records`): ``[{"device_id", "ts_utc" or
  "timestamp", "lat", "lon", ...}, ...]``;
* the OsmAnd HTTP protocol as GPS trackers and phone apps send it
  (:func:`parse_osmand`): query or form parameters ``id``, ``lat``, ``lon``,
  ``timestamp``, ``speed``, ``bearing``, ``altitude``, ``accuracy``, ... (or
  ``location=lat,lon``), and the JSON body of Traccar Client 9
  (:func:`parse_osmand_json`);
* bulk CSV or Parquet files read with pyarrow (:func:`parse_file`), with the
  JSON batch's column names.

Every record either becomes a :class:`core.domain.Position` or a
:class:`Rejection` naming its index, field and reason; one bad record never
fails the batch. Rejected: missing or malformed device id, an unknown device
(when the caller passes the known ones), coordinates missing, not numbers, NaN
or out of range, timestamps missing, unreadable, more than ``max_future_s``
ahead of the clock or more than ``max_age_s`` old, fixes the device itself
marks invalid. A bad *optional* value (negative speed, a heading that is not a
number, ...) does not cost the position: the value is dropped and a
:class:`Rejection` with ``kept=True`` says so. Repeats of a ``(device_id,
ts_utc)`` already in the batch are counted as duplicates, not stored twice.
Out-of-order records are fine. GPS jumps are not judged here: the checker marks
them (:func:`telematics.kernels.jump_step`) after the raw fix is stored.

Field names (JSON and files; aliases in brackets): ``device_id`` [``id``,
``deviceid``, ``device``], ``ts_utc`` (UNIX seconds) or ``timestamp`` (UNIX
seconds or milliseconds, or ISO 8601) [``timestamp_utc``, ``time``], ``lat`` [``latitude``],
``lon`` [``lng``, ``longitude``], ``speed_mps``, ``heading_deg`` [``heading``,
``bearing``, ``course``], ``accuracy_m`` [``accuracy``], ``altitude_m``
[``altitude``], ``ignition``, ``load_kg``, ``body_tipping``, ``bin_lifts``,
``brooms_down``, ``cover_closed``. Unknown fields are ignored (trackers send
many attributes). In the OsmAnd protocol ``speed`` is in knots by default, as
Traccar and its clients use it (the OsmAnd app itself sends m/s: set
``osmand_speed_unit``).
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from core.domain import Position
from core.errors import ValidationError

SpeedUnit = Literal["mps", "kn", "kph"]

_SPEED_FACTOR: dict[str, float] = {"mps": 1.0, "kn": 1852.0 / 3600.0, "kph": 1.0 / 3.6}

_ALIASES: dict[str, tuple[str, ...]] = {
    "device_id": ("device_id", "id", "deviceid", "device"),
    "ts_utc": ("ts_utc",),
    "timestamp": ("timestamp", "timestamp_utc", "time"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "longitude"),
    "speed_mps": ("speed_mps",),
    "heading_deg": ("heading_deg", "heading", "bearing", "course"),
    "accuracy_m": ("accuracy_m", "accuracy"),
    "altitude_m": ("altitude_m", "altitude"),
    "ignition": ("ignition",),
    "load_kg": ("load_kg",),
    "body_tipping": ("body_tipping",),
    "bin_lifts": ("bin_lifts",),
    "brooms_down": ("brooms_down",),
    "cover_closed": ("cover_closed",),
    "valid": ("valid",),
}
_BOOL_FIELDS = ("ignition", "body_tipping", "brooms_down", "cover_closed")
_TRUE = {"1", "true", "yes", "on", "t"}
_FALSE = {"0", "false", "no", "off", "f"}


@dataclass(frozen=True, slots=True)
class IngestRules:
    """Limits of the ingest checks.

    ``max_future_s``: a fix more than this ahead of the server clock is rejected
    (s). ``max_age_s``: a fix older than this is rejected (s; ``math.inf``
    accepts any age, e.g. for a historical import). ``osmand_speed_unit``: unit
    of the OsmAnd ``speed`` parameter.
    """

    max_future_s: float = 300.0
    max_age_s: float = 30 * 86_400.0
    osmand_speed_unit: SpeedUnit = "kn"

    def __post_init__(self) -> None:
        for name in ("max_future_s", "max_age_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value >= 0:
                raise ValidationError("IngestRules", name, f"must be a number >= 0, got {value!r}")
        if self.osmand_speed_unit not in _SPEED_FACTOR:
            allowed = ", ".join(_SPEED_FACTOR)
            raise ValidationError("IngestRules", "osmand_speed_unit", f"must be one of {allowed}")


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why record ``index`` of a batch (or one of its values) was turned away.

    ``kept`` is True when only an optional value was dropped and the position
    itself was accepted.
    """

    index: int
    field: str
    reason: str
    device_id: str | None = None
    kept: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "index": self.index,
            "field": self.field,
            "reason": self.reason,
            "device_id": self.device_id,
            "kept": self.kept,
        }


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    """The outcome of parsing one batch.

    ``positions`` are the accepted fixes (first of each ``(device_id, ts_utc)``),
    ``rejected`` the records turned away (``kept=False``) and the optional values
    dropped (``kept=True``), ``duplicates`` the repeats within the batch,
    ``received`` the number of records read.
    """

    positions: list[Position]
    rejected: list[Rejection] = field(default_factory=list)
    duplicates: int = 0
    received: int = 0

    @property
    def refused(self) -> list[Rejection]:
        """Only the records turned away (not the dropped optional values)."""
        return [r for r in self.rejected if not r.kept]


class _Bad(Exception):
    """A record is rejected: ``field`` and ``reason``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _pick(record: Mapping[str, Any], name: str) -> Any:
    for key in _ALIASES[name]:
        if key in record and record[key] is not None and record[key] != "":
            return record[key]
    return None


def _number(name: str, value: Any) -> float:
    """A finite float from a number or numeric string, else _Bad."""
    if isinstance(value, bool):
        raise _Bad(name, f"must be a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise _Bad(name, f"must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise _Bad(name, f"must be a finite number, got {value!r}")
    return out


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Bad(name, f"must be true or false, got {value!r}")


def parse_time(value: Any) -> float:
    """UNIX seconds from UNIX seconds or milliseconds (values above 1e11), or an ISO 8601 string.

    ISO strings without a zone are taken as UTC. Raises ``ValueError`` when unreadable.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out = float(value)
        if not math.isfinite(out):
            raise ValueError(f"not a finite time: {value!r}")
        return out / 1000.0 if abs(out) > 1e11 else out
    else:
        text = str(value).strip()
        try:
            return parse_time(float(text))
        except ValueError:
            pass
        moment = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _position(
    record: Mapping[str, Any],
    index: int,
    *,
    known_devices: Collection[str] | None,
    now_utc: float,
    rules: IngestRules,
    speed_key: str,
    speed_factor: float,
    notes: list[Rejection],
) -> Position:
    """One validated position, or _Bad; dropped optional values are appended to ``notes``."""
    if not isinstance(record, Mapping):
        raise _Bad("record", f"must be an object, got {type(record).__name__}")
    device = _pick(record, "device_id")
    if device is None:
        raise _Bad("device_id", "is missing")
    device = str(device).strip() if isinstance(device, str | int) and not isinstance(device, bool) else None
    if not device or len(device) > 100:
        raise _Bad("device_id", "must be a non-empty string of at most 100 characters")
    if known_devices is not None and device not in known_devices:
        raise _Bad("device_id", f"unknown device {device!r}")
    valid = _pick(record, "valid")
    if valid is not None and not _boolean("valid", valid):
        raise _Bad("valid", "the device marked this fix as invalid")
    raw_t = _pick(record, "ts_utc")
    name_t = "ts_utc"
    if raw_t is None:
        raw_t, name_t = _pick(record, "timestamp"), "timestamp"
    if raw_t is None:
        raise _Bad("ts_utc", "is missing (give ts_utc in UNIX seconds or timestamp)")
    try:
        ts = parse_time(raw_t)
    except (ValueError, TypeError, OverflowError):
        raise _Bad(name_t, f"is not a time: {raw_t!r}") from None
    if ts > now_utc + rules.max_future_s:
        raise _Bad(
            name_t, f"is {ts - now_utc:.0f} s in the future (more than {rules.max_future_s:g} s ahead)"
        )
    if ts < now_utc - rules.max_age_s:
        raise _Bad(name_t, f"is {now_utc - ts:.0f} s old (older than the {rules.max_age_s:g} s accepted)")
    coords: dict[str, float] = {}
    for name, bound in (("lat", 90.0), ("lon", 180.0)):
        value = _pick(record, name)
        if value is None:
            raise _Bad(name, "is missing")
        number = _number(name, value)
        if abs(number) > bound:
            raise _Bad(name, f"must lie within [-{bound:g}, {bound:g}], got {number!r}")
        coords[name] = number

    optional: dict[str, Any] = {}

    def note(name: str, reason: str) -> None:
        notes.append(Rejection(index, name, f"{reason}; value dropped", device, kept=True))

    raw_speed = record.get(speed_key) if speed_key != "speed_mps" else _pick(record, "speed_mps")
    if raw_speed is not None and raw_speed != "":
        try:
            speed = _number(speed_key, raw_speed) * speed_factor
            if speed < 0:
                note(speed_key, f"must be >= 0, got {raw_speed!r}")
            else:
                optional["speed_mps"] = speed
        except _Bad as bad:
            note(bad.field, bad.reason)
    for name, minimum in (
        ("accuracy_m", 0.0),
        ("heading_deg", None),
        ("altitude_m", None),
        ("load_kg", None),
    ):
        value = _pick(record, name)
        if value is None:
            continue
        try:
            number = _number(name, value)
        except _Bad as bad:
            note(bad.field, bad.reason)
            continue
        if minimum is not None and number < minimum:
            note(name, f"must be >= {minimum:g}, got {value!r}")
            continue
        optional[name] = number % 360.0 if name == "heading_deg" else number
    lifts = _pick(record, "bin_lifts")
    if lifts is not None:
        try:
            number = _number("bin_lifts", lifts)
            if number < 0 or number != int(number):
                note("bin_lifts", f"must be a whole number >= 0, got {lifts!r}")
            else:
                optional["bin_lifts"] = int(number)
        except _Bad as bad:
            note(bad.field, bad.reason)
    for name in _BOOL_FIELDS:
        value = _pick(record, name)
        if value is None:
            continue
        try:
            optional[name] = _boolean(name, value)
        except _Bad as bad:
            note(bad.field, bad.reason)
    return Position(device, ts, coords["lat"], coords["lon"], **optional)


def parse_records(
    records: Iterable[Any],
    *,
    known_devices: Collection[str] | None = None,
    now_utc: float | None = None,
    rules: IngestRules | None = None,
    speed_key: str = "speed_mps",
    speed_unit: SpeedUnit = "mps",
) -> ParsedBatch:
    """Validate a batch of records (mappings); never raises for a bad record.

    Parameters
    ----------
    records : the records, field names as in the module docstring.
    known_devices : device ids accepted; ``None`` accepts any.
    now_utc : the clock for the future/age checks (default: now).
    rules : limits (:class:`IngestRules`).
    speed_key, speed_unit : which field holds the speed, and its unit.

    Returns
    -------
    ParsedBatch
    """
    rules = rules or IngestRules()
    now = time.time() if now_utc is None else float(now_utc)
    factor = _SPEED_FACTOR[speed_unit]
    positions: list[Position] = []
    rejected: list[Rejection] = []
    seen: set[tuple[str, float]] = set()
    duplicates = 0
    received = 0
    for index, record in enumerate(records):
        received += 1
        notes: list[Rejection] = []
        try:
            p = _position(
                record,
                index,
                known_devices=known_devices,
                now_utc=now,
                rules=rules,
                speed_key=speed_key,
                speed_factor=factor,
                notes=notes,
            )
        except _Bad as bad:
            device = _pick(record, "device_id") if isinstance(record, Mapping) else None
            rejected.append(Rejection(index, bad.field, bad.reason, None if device is None else str(device)))
            continue
        except ValidationError as exc:  # the domain record's own checks
            rejected.append(Rejection(index, exc.field, exc.reason))
            continue
        rejected += notes
        key = (p.device_id, p.ts_utc)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        positions.append(p)
    return ParsedBatch(positions, rejected, duplicates, received)


def parse_osmand(
    params: Mapping[str, Any],
    *,
    known_devices: Collection[str] | None = None,
    now_utc: float | None = None,
    rules: IngestRules | None = None,
) -> ParsedBatch:
    """One OsmAnd-protocol fix from its query or form parameters.

    ``location=lat,lon`` stands in for ``lat`` and ``lon``; a missing
    ``timestamp`` means "now" (the protocol allows it); ``speed`` is in
    ``rules.osmand_speed_unit``; ``hdop`` is ignored.
    """
    rules = rules or IngestRules()
    record = dict(params)
    location = record.pop("location", None)
    if location is not None and "lat" not in record and "lon" not in record:
        parts = str(location).split(",")
        if len(parts) == 2:
            record["lat"], record["lon"] = parts[0].strip(), parts[1].strip()
    now = time.time() if now_utc is None else float(now_utc)
    if _pick(record, "timestamp") is None and _pick(record, "ts_utc") is None:
        record["ts_utc"] = now
    record.pop("speed_mps", None)
    return parse_records(
        [record],
        known_devices=known_devices,
        now_utc=now,
        rules=rules,
        speed_key="speed",
        speed_unit=rules.osmand_speed_unit,
    )


def parse_osmand_json(
    body: Any,
    *,
    known_devices: Collection[str] | None = None,
    now_utc: float | None = None,
    rules: IngestRules | None = None,
) -> ParsedBatch:
    """The JSON body of the OsmAnd protocol (Traccar Client 9): ``{"device_id", "location": {...}}``.

    ``location`` (or a list ``locations``) holds ``timestamp`` (ISO 8601) and
    ``coords`` with ``latitude``, ``longitude``, ``accuracy``, ``speed`` (m/s),
    ``heading`` and ``altitude``; ``extras`` may carry the truck sensors.
    """
    if not isinstance(body, Mapping):
        return ParsedBatch([], [Rejection(0, "body", "must be a JSON object")], 0, 1)
    locations = body.get("locations")
    if locations is None:
        locations = [body.get("location")]
    if not isinstance(locations, list):
        return ParsedBatch([], [Rejection(0, "locations", "must be a list")], 0, 1)
    records: list[Any] = []
    for loc in locations:
        if not isinstance(loc, Mapping):
            records.append(loc)
            continue
        coords: Mapping[str, Any] = loc["coords"] if isinstance(loc.get("coords"), Mapping) else {}
        extras: Mapping[str, Any] = loc["extras"] if isinstance(loc.get("extras"), Mapping) else {}
        records.append(
            {
                **dict(extras),
                "device_id": body.get("device_id"),
                "timestamp": loc.get("timestamp"),
                "lat": coords.get("latitude"),
                "lon": coords.get("longitude"),
                "accuracy_m": coords.get("accuracy"),
                "speed_mps": coords.get("speed"),
                "heading_deg": coords.get("heading"),
                "altitude_m": coords.get("altitude"),
            }
        )
    return parse_records(records, known_devices=known_devices, now_utc=now_utc, rules=rules)


def read_table(source: str | Path | bytes, *, format: Literal["csv", "parquet"] | None = None) -> Any:
    """A pyarrow Table from a CSV or Parquet file (path) or its bytes.

    The format comes from ``format`` or the file suffix. CSV cells stay text
    until validated, so one malformed cell rejects only its record.

    Raises
    ------
    ValidationError : unknown format, or a file pyarrow cannot read at all.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if format is None:
        if isinstance(source, bytes):
            raise ValidationError("read_table", "format", "must be given for bytes (csv or parquet)")
        suffix = Path(source).suffix.lower()
        format = "parquet" if suffix in (".parquet", ".pq") else "csv" if suffix in (".csv", ".txt") else None
        if format is None:
            raise ValidationError(
                "read_table", "source", f"has an unknown suffix {suffix!r} (csv or parquet)"
            )
    stream: Any = pa.BufferReader(source) if isinstance(source, bytes) else str(source)
    try:
        if format == "parquet":
            return pq.read_table(stream)
        if isinstance(source, bytes):
            stream = io.BytesIO(source)
        convert = pacsv.ConvertOptions(strings_can_be_null=True, column_types={})
        table = pacsv.read_csv(stream, convert_options=convert)
        return table
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValidationError("read_table", "source", f"cannot be read as {format}: {exc}") from exc


def parse_table(
    table: Any,
    *,
    known_devices: Collection[str] | None = None,
    now_utc: float | None = None,
    rules: IngestRules | None = None,
    device_id: str | None = None,
    batch_rows: int = 50_000,
) -> ParsedBatch:
    """Validate every row of a pyarrow Table (CSV or Parquet columns named as the JSON fields).

    ``device_id`` is used for rows without one (a file holding one device's log).
    Rows are converted in slices of ``batch_rows``; record indices are row numbers.
    """
    rules = rules or IngestRules()
    now = time.time() if now_utc is None else float(now_utc)
    positions: list[Position] = []
    rejected: list[Rejection] = []
    duplicates = 0
    seen: set[tuple[str, float]] = set()
    for start in range(0, table.num_rows, batch_rows):
        rows = table.slice(start, batch_rows).to_pylist()
        if device_id is not None:
            rows = [r if _pick(r, "device_id") is not None else {**r, "device_id": device_id} for r in rows]
        part = parse_records(rows, known_devices=known_devices, now_utc=now, rules=rules)
        for r in part.rejected:
            rejected.append(Rejection(r.index + start, r.field, r.reason, r.device_id, r.kept))
        duplicates += part.duplicates
        for p in part.positions:
            key = (p.device_id, p.ts_utc)
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            positions.append(p)
    return ParsedBatch(positions, rejected, duplicates, int(table.num_rows))


def parse_file(
    source: str | Path | bytes,
    *,
    format: Literal["csv", "parquet"] | None = None,
    known_devices: Collection[str] | None = None,
    now_utc: float | None = None,
    rules: IngestRules | None = None,
    device_id: str | None = None,
) -> ParsedBatch:
    """:func:`read_table` then :func:`parse_table` (``device_id`` for rows without one)."""
    table = read_table(source, format=format)
    return parse_table(table, known_devices=known_devices, now_utc=now_utc, rules=rules, device_id=device_id)
