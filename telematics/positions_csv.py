"""POSITIONS.csv of the ``police`` interchange format: one GPS fix per line with the truck's sensors.

The header is exactly ``device_id,timestamp,lat,lon,speed_mps,heading_deg,accuracy_m,load_kg,body_tipping``
(:data:`HEADER`). ``timestamp`` is ISO 8601 UTC (``2026-12-01T08:15:05Z``); ``speed_mps``
in m/s, ``heading_deg`` in degrees from north, ``accuracy_m`` in metres, ``load_kg`` the
on-board scale in kg, ``body_tipping`` ``true``/``false`` (or 1/0); an empty cell means
the device has no such sensor (or no value for that fix). Fixes of any age are read.

Records are validated by :func:`telematics.ingest.parse_records`; every record
turned away, and every optional value dropped, is reported with its line number
(line 1 is the header) and field, and the good lines are kept.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from core.domain import Position
from core.errors import ValidationError
from telematics.ingest import _FALSE, _TRUE, IngestRules, parse_records  # the line reader's true/false words

HEADER = (
    "device_id",
    "timestamp",
    "lat",
    "lon",
    "speed_mps",
    "heading_deg",
    "accuracy_m",
    "load_kg",
    "body_tipping",
)
"""The columns of POSITIONS.csv, in order."""

FloatArray = npt.NDArray[np.float64]

_ANY_AGE = IngestRules(max_future_s=math.inf, max_age_s=math.inf)


@dataclass(frozen=True, slots=True)
class LineIssue:
    """A line turned away (``kept`` False) or one of its values dropped (``kept`` True)."""

    line: int
    field: str
    reason: str
    device_id: str | None = None
    kept: bool = False

    def __str__(self) -> str:
        what = "value dropped" if self.kept else "line skipped"
        return f"line {self.line}: field '{self.field}' {self.reason} ({what})"


@dataclass(frozen=True, slots=True, eq=False)
class DeviceTrack:
    """One device's fixes as columns sorted by time (UNIX s, degrees, m/s, m, kg); NaN: no value.

    ``body_tipping`` is 1.0 raised, 0.0 down. Both :class:`telematics.checks.VehicleChecker`
    and :func:`telematics.enforcement.police_enforcement` take it as a track.
    """

    device_id: str
    ts_utc: FloatArray
    lat: FloatArray
    lon: FloatArray
    speed_mps: FloatArray
    heading_deg: FloatArray
    accuracy_m: FloatArray
    load_kg: FloatArray
    body_tipping: FloatArray

    def __len__(self) -> int:
        return int(self.ts_utc.shape[0])

    def positions(self) -> list[Position]:
        """The fixes as :class:`core.domain.Position` records."""

        def opt(a: FloatArray) -> list[float | None]:
            return [None if math.isnan(v) else v for v in a.tolist()]

        tip = [None if math.isnan(v) else v == 1.0 for v in self.body_tipping.tolist()]
        cols = zip(
            self.ts_utc.tolist(),
            self.lat.tolist(),
            self.lon.tolist(),
            opt(self.speed_mps),
            opt(self.heading_deg),
            opt(self.accuracy_m),
            opt(self.load_kg),
            tip,
            strict=True,
        )
        return [
            Position(
                self.device_id,
                t,
                la,
                lo,
                speed_mps=sp,
                heading_deg=hd,
                accuracy_m=ac,
                load_kg=kg,
                body_tipping=bt,
            )
            for t, la, lo, sp, hd, ac, kg, bt in cols
        ]


_COLS = ("ts_utc", "lat", "lon", "speed_mps", "heading_deg", "accuracy_m", "load_kg", "body_tipping")


def tracks_from_positions(positions: Iterable[Position]) -> dict[str, DeviceTrack]:
    """Positions grouped per device into time-sorted :class:`DeviceTrack` columns."""
    by: dict[str, list[Position]] = {}
    for p in positions:
        by.setdefault(p.device_id, []).append(p)
    out = {}
    for vid, ps in by.items():
        ps.sort(key=lambda p: p.ts_utc)
        cols = {
            name: np.array(
                [math.nan if (v := getattr(p, name)) is None else float(v) for p in ps], dtype=np.float64
            )
            for name in _COLS
        }
        out[vid] = DeviceTrack(vid, **cols)
    return out


@dataclass(frozen=True, slots=True)
class PositionsFile:
    """The fixes read from POSITIONS.csv (first of each ``(device_id, timestamp)``) and the issues.

    ``tracks`` holds each device's fixes as time-sorted columns; ``columnar`` says
    whether the fast column-wise read was used (a clean file).
    """

    tracks: dict[str, DeviceTrack]
    issues: list[LineIssue] = field(default_factory=list)
    duplicates: int = 0
    columnar: bool = False

    @property
    def skipped(self) -> list[LineIssue]:
        """Only the lines turned away."""
        return [i for i in self.issues if not i.kept]

    @property
    def positions(self) -> list[Position]:
        """Every fix as a :class:`core.domain.Position`, by device, then time."""
        return [p for vid in sorted(self.tracks) for p in self.tracks[vid].positions()]

    @property
    def n_fixes(self) -> int:
        """The number of fixes read."""
        return sum(len(t) for t in self.tracks.values())


def parse_positions_csv(
    text: str | bytes, *, source: str = "POSITIONS.csv", columnar: bool = True
) -> PositionsFile:
    """Read POSITIONS.csv text.

    A clean file is read column-wise (pyarrow and numpy); a file with any bad
    line or value is read line by line with :func:`telematics.ingest.parse_records`,
    which names every issue (``columnar=False`` always reads that way). Both give
    the same fixes.

    Raises
    ------
    ValidationError
        When the header is not exactly :data:`HEADER` (the whole file is unusable then).
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    first = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace")
    header = next(csv.reader([first]), [])
    if tuple(h.strip() for h in header) != HEADER:
        raise ValidationError(source, "header", f"line 1 must be exactly {','.join(HEADER)}; got {first!r}")
    fast = _columnar(data) if columnar else None
    if fast is not None:
        return fast
    return _line_by_line(data.decode("utf-8", errors="replace"))


def _line_by_line(text: str) -> PositionsFile:
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    issues: list[LineIssue] = []
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(HEADER):
            issues.append(
                LineIssue(
                    reader.line_num, "line", f"has {len(row)} cells, expected {len(HEADER)}", row[0] or None
                )
            )
            continue
        records.append({name: (cell.strip() or None) for name, cell in zip(HEADER, row, strict=True)})
        lines.append(reader.line_num)
    batch = parse_records(records, rules=_ANY_AGE)
    for r in batch.rejected:
        issues.append(LineIssue(lines[r.index], r.field, r.reason, r.device_id, r.kept))
    issues.sort(key=lambda i: (i.line, i.kept))
    return PositionsFile(tracks_from_positions(batch.positions), issues, batch.duplicates)


def _columnar(data: bytes) -> PositionsFile | None:
    """The fast read of a clean file; ``None`` as soon as anything needs a line-by-line verdict."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if b'"' in data or b"\n\n" in data or b"\n\r\n" in data:
        return None  # quoted cells or blank lines: line numbers need the line reader
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=list(HEADER), skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(HEADER, pa.string()), strings_can_be_null=True
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if table.num_rows == 0:
        return PositionsFile({}, columnar=True)
    try:
        col = {name: pc.utf8_trim_whitespace(table.column(name)) for name in HEADER}
        device = col["device_id"]
        if device.null_count or pc.any(pc.greater(pc.utf8_length(device), 100)).as_py():
            return None
        if pc.any(pc.equal(pc.utf8_length(device), 0)).as_py():
            return None
        stamp = pc.cast(col["timestamp"], pa.timestamp("us", tz="UTC"))
        nums = {
            name: pc.cast(col[name], pa.float64()).to_numpy(zero_copy_only=False)
            for name in ("lat", "lon", "speed_mps", "heading_deg", "accuracy_m", "load_kg")
        }
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if stamp.null_count:
        return None
    ts = stamp.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64) / 1e6
    lat, lon = nums["lat"], nums["lon"]
    if np.isnan(lat).any() or np.isnan(lon).any() or (np.abs(lat) > 90).any() or (np.abs(lon) > 180).any():
        return None
    for name in ("speed_mps", "heading_deg", "accuracy_m", "load_kg"):
        a = nums[name]
        if np.isinf(a).any() or (name in ("speed_mps", "accuracy_m") and (a < 0).any()):
            return None
    tip_text = pc.utf8_lower(col["body_tipping"])
    is_true = pc.is_in(tip_text, pa.array(sorted(_TRUE))).to_numpy(zero_copy_only=False)
    is_false = pc.is_in(tip_text, pa.array(sorted(_FALSE))).to_numpy(zero_copy_only=False)
    given = pc.is_valid(tip_text).to_numpy(zero_copy_only=False)
    if (given & ~(is_true | is_false)).any():
        return None
    tip = np.where(is_true, 1.0, np.where(is_false, 0.0, np.nan))
    heading = np.where(np.isnan(nums["heading_deg"]), np.nan, np.mod(nums["heading_deg"], 360.0))
    codes_arr = pc.dictionary_encode(device).combine_chunks()
    codes = codes_arr.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    names = codes_arr.dictionary.to_pylist()
    order = np.lexsort((ts, codes))  # stable: the first of equal (device, time) stays first
    c_s, t_s = codes[order], ts[order]
    repeat = np.zeros(order.shape[0], dtype=np.bool_)
    repeat[1:] = (c_s[1:] == c_s[:-1]) & (t_s[1:] == t_s[:-1])
    keep = order[~repeat]
    columns = {
        "ts_utc": ts,
        "lat": lat,
        "lon": lon,
        "speed_mps": nums["speed_mps"],
        "heading_deg": heading,
        "accuracy_m": nums["accuracy_m"],
        "load_kg": nums["load_kg"],
        "body_tipping": tip,
    }
    kept_codes = codes[keep]
    bounds = np.flatnonzero(np.diff(kept_codes)) + 1
    tracks = {}
    for part in np.split(keep, bounds):
        vid = str(names[int(codes[part[0]])])
        tracks[vid] = DeviceTrack(vid, **{k: np.ascontiguousarray(v[part]) for k, v in columns.items()})
    return PositionsFile(tracks, [], int(repeat.sum()), columnar=True)


def read_positions_csv(path: str | Path) -> PositionsFile:
    """:func:`parse_positions_csv` of a file.

    Raises
    ------
    ValidationError
        When the file cannot be read or its header is wrong.
    """
    p = Path(path)
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise ValidationError(str(p), "file", f"cannot be read: {exc.strerror or exc}") from None
    return parse_positions_csv(text, source=str(p))


def _cell(value: float | bool | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(float(value))


def _timestamp(ts: float) -> str:
    moment = datetime.fromtimestamp(ts, UTC)
    text = moment.isoformat(timespec="microseconds" if ts != int(ts) else "seconds")
    return text.replace("+00:00", "Z")


def format_positions_csv(positions: Iterable[Position]) -> str:
    """POSITIONS.csv text of ``positions`` (floats written exactly; no sensor: empty cell)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for p in positions:
        writer.writerow(
            [
                p.device_id,
                _timestamp(p.ts_utc),
                repr(float(p.lat)),
                repr(float(p.lon)),
                _cell(p.speed_mps),
                _cell(p.heading_deg),
                _cell(p.accuracy_m),
                _cell(p.load_kg),
                _cell(p.body_tipping),
            ]
        )
    return out.getvalue()


def write_positions_csv(positions: Iterable[Position], path: str | Path) -> Path:
    """Write POSITIONS.csv (see :func:`format_positions_csv`); returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(format_positions_csv(positions), encoding="utf-8")
    return p
