"""GPS ingest endpoints: JSON batches, the OsmAnd protocol, bulk CSV/Parquet files; tracks; closing a day.

Every accepted fix is stored raw before it is checked; every rejected record is
reported with its index, field and reason (never a silent drop, never a whole
batch failed for one record). See :mod:`telematics.ingest` for the fields.
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from api.deps import SettingsDep, StoreDep
from core.errors import ValidationError
from core.serialize import alert_to_dict
from telematics.ingest import (
    IngestRules,
    parse_osmand,
    parse_osmand_json,
    parse_records,
    parse_table,
    read_table,
)
from telematics.service import TelemetryService

router = APIRouter(tags=["telemetry"])


def get_service(request: Request) -> TelemetryService:
    """The app's telemetry service (one per app: it holds the live checkers)."""
    service: TelemetryService | None = getattr(request.app.state, "telemetry", None)
    if service is None:
        service = TelemetryService(request.app.state.store)
        request.app.state.telemetry = service
    return service


ServiceDep = Annotated[TelemetryService, Depends(get_service)]


def _rules(settings: Any, *, historical: bool = False) -> IngestRules:
    return IngestRules(
        max_future_s=float(getattr(settings, "ingest_max_future_s", 300.0)),
        max_age_s=math.inf if historical else float(getattr(settings, "ingest_max_age_s", 30 * 86_400.0)),
        osmand_speed_unit=getattr(settings, "osmand_speed_unit", "kn"),
    )


@router.post("/positions")
async def post_positions(request: Request, service: ServiceDep, settings: SettingsDep) -> dict[str, Any]:
    """Ingest a JSON batch: a list of positions, or ``{"positions": [...]}``.

    Returns counts (``received``, ``accepted``, ``stored``, ``duplicates``), every
    ``rejected`` record with its reason, and the keys of new ``alerts``. Only a
    body that is not a JSON list of records at all is refused as a whole (422).
    """
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise ValidationError("POST /positions", "body", f"is not JSON: {exc}") from None
    records = body.get("positions") if isinstance(body, dict) else body
    if not isinstance(records, list):
        raise ValidationError(
            "POST /positions", "body", 'must be a list of positions or {"positions": [...]}'
        )
    batch = parse_records(records, known_devices=service.known_devices(), rules=_rules(settings))
    return service.ingest(batch, source="api").as_dict()


@router.api_route("/osmand", methods=["GET", "POST"], response_class=PlainTextResponse)
async def osmand(request: Request, service: ServiceDep, settings: SettingsDep) -> PlainTextResponse:
    """The OsmAnd protocol: query (or form) parameters ``id``, ``lat``, ``lon``, ``timestamp``, ...

    A POST may instead carry the JSON body of Traccar Client 9. Answers ``200
    OK``, or ``400`` with the reason when the fix is rejected.
    """
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    rules = _rules(settings)
    known = service.known_devices()
    content_type = request.headers.get("content-type", "")
    if body and "json" in content_type:
        try:
            batch = parse_osmand_json(json.loads(body), known_devices=known, rules=rules)
        except ValueError:
            return PlainTextResponse("body: is not JSON", status_code=400)
    else:
        if body:
            params |= dict(parse_qsl(body.decode("utf-8", errors="replace")))
        batch = parse_osmand(params, known_devices=known, rules=rules)
    report = service.ingest(batch, source="osmand")
    refused = [r for r in report.rejected if not r["kept"]]
    if refused and not report.accepted:
        return PlainTextResponse("; ".join(f"{r['field']}: {r['reason']}" for r in refused), status_code=400)
    return PlainTextResponse("OK")


@router.post("/positions/file")
async def post_file(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    format: Annotated[str, Query(pattern="^(csv|parquet)$")] = "csv",
    historical: bool = False,
) -> dict[str, Any]:
    """Ingest a CSV or Parquet file sent as the request body (columns named as the JSON fields).

    ``historical=true`` accepts fixes of any age (an archive import).
    """
    table = read_table(await request.body(), format="parquet" if format == "parquet" else "csv")
    batch = parse_table(
        table, known_devices=service.known_devices(), rules=_rules(settings, historical=historical)
    )
    return service.ingest(batch, source="file").as_dict()


@router.get("/positions/{device_id}")
def get_positions(
    device_id: str, store: StoreDep, start_utc: float | None = None, end_utc: float | None = None
) -> dict[str, Any]:
    """A device's stored fixes by time, each with its sensors and ``outlier`` flag (a GPS jump)."""
    rows = [
        {
            "device_id": p.device_id,
            "ts_utc": p.ts_utc,
            "lat": p.lat,
            "lon": p.lon,
            "speed_mps": p.speed_mps,
            "heading_deg": p.heading_deg,
            "accuracy_m": p.accuracy_m,
            "altitude_m": p.altitude_m,
            "ignition": p.ignition,
            "load_kg": p.load_kg,
            "body_tipping": p.body_tipping,
            "bin_lifts": p.bin_lifts,
            "brooms_down": p.brooms_down,
            "cover_closed": p.cover_closed,
            "outlier": outlier,
        }
        for p, outlier in store.positions_with_flags(device_id, start_utc, end_utc)
    ]
    return {"data": rows, "count": len(rows)}


@router.post("/days/{day}/close")
def close_day(day: date, district: str, service: ServiceDep) -> dict[str, Any]:
    """End a district's day: run every check on each planned vehicle's whole day, store the alerts.

    Missed stops and sweeping coverage are judged here; returns all the day's alerts.
    """
    alerts = service.close_day(district, day)
    return {"data": [alert_to_dict(a) for a in alerts], "count": len(alerts)}
