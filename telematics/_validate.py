"""Input checks shared by the public telematics functions.

The kernels in :mod:`telematics.kernels` trust their inputs; every public
wrapper calls these first. Each check raises :class:`core.errors.ValidationError`
naming the calling function (``record``) and the offending argument (``field``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from core.errors import ValidationError

FloatArray = npt.NDArray[np.float64]


def as_float_array(record: str, name: str, value: Any) -> FloatArray:
    """``value`` as a 1-D, finite, C-contiguous float64 array.

    Integer and float dtypes are accepted (and copied to float64 if needed);
    booleans, complex numbers, strings and objects are not.
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        msg = f"must be an array of real numbers, got dtype {arr.dtype}"
        raise ValidationError(record, name, msg)
    if arr.ndim != 1:
        msg = f"must be one-dimensional, got shape {arr.shape}"
        raise ValidationError(record, name, msg)
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        msg = f"must hold finite numbers only (no NaN or inf); first bad value {arr[first]} at index {first}"
        raise ValidationError(record, name, msg)
    return arr


def check_track(
    record: str, ts_utc: Any, lat: Any, lon: Any, accuracy_m: Any = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None]:
    """Validate one device's fixes given as columns; return them as float64 arrays.

    Checks: each column is a finite 1-D real array; all have the same length;
    ``ts_utc`` is non-decreasing (equal timestamps are allowed); ``lat`` lies in
    [-90, 90] and ``lon`` in [-180, 180]; ``accuracy_m`` (optional) is >= 0.
    """
    t = as_float_array(record, "ts_utc", ts_utc)
    la = as_float_array(record, "lat", lat)
    lo = as_float_array(record, "lon", lon)
    acc = None if accuracy_m is None else as_float_array(record, "accuracy_m", accuracy_m)
    for name, arr in (("lat", la), ("lon", lo), ("accuracy_m", acc)):
        if arr is not None and arr.shape[0] != t.shape[0]:
            msg = f"must have the same length as ts_utc ({t.shape[0]}), got {arr.shape[0]}"
            raise ValidationError(record, name, msg)
    if t.shape[0] > 1:
        back = np.flatnonzero(np.diff(t) < 0)
        if back.size:
            i = int(back[0]) + 1
            msg = f"must be sorted (non-decreasing); ts_utc[{i}] = {t[i]} < ts_utc[{i - 1}] = {t[i - 1]}"
            raise ValidationError(record, "ts_utc", msg)
    for name, arr, bound in (("lat", la, 90.0), ("lon", lo, 180.0)):
        out = np.flatnonzero(np.abs(arr) > bound)
        if out.size:
            i = int(out[0])
            msg = f"must lie within [-{bound:g}, {bound:g}]; got {arr[i]} at index {i}"
            raise ValidationError(record, name, msg)
    if acc is not None:
        neg = np.flatnonzero(acc < 0)
        if neg.size:
            i = int(neg[0])
            raise ValidationError(record, "accuracy_m", f"must be >= 0; got {acc[i]} at index {i}")
    return t, la, lo, acc


def check_number(
    record: str,
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    exclusive: bool = False,
    integer: bool = False,
) -> float:
    """A finite real scalar, optionally an integer, optionally bounded below.

    ``exclusive`` makes the bound strict (``value > minimum``).
    """
    is_int = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    is_real = is_int or isinstance(value, float | np.floating)
    if integer and not is_int:
        raise ValidationError(record, name, f"must be an integer, got {value!r}")
    if not is_real or not math.isfinite(float(value)):
        raise ValidationError(record, name, f"must be a finite number, got {value!r}")
    v = float(value)
    if minimum is not None and (v <= minimum if exclusive else v < minimum):
        op = ">" if exclusive else ">="
        raise ValidationError(record, name, f"must be {op} {minimum:g}, got {value!r}")
    return v


def check_lat_lon_pairs(record: str, name: str, coords: Any, *, min_points: int = 1) -> FloatArray:
    """``coords`` as an ``(n, 2)`` float64 array of ``(lat, lon)`` pairs in degrees."""
    try:
        arr = np.asarray(coords, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(record, name, "must be a sequence of (lat, lon) pairs") from None
    if arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        msg = f"must be a sequence of (lat, lon) pairs, got shape {arr.shape}"
        raise ValidationError(record, name, msg)
    if arr.shape[0] < min_points:
        raise ValidationError(record, name, f"must hold at least {min_points} points, got {arr.shape[0]}")
    if not np.isfinite(arr).all():
        raise ValidationError(record, name, "must hold finite numbers only (no NaN or inf)")
    if (np.abs(arr[:, 0]) > 90).any() or (np.abs(arr[:, 1]) > 180).any():
        msg = "must hold latitudes within [-90, 90] and longitudes within [-180, 180] (lat first)"
        raise ValidationError(record, name, msg)
    return arr
