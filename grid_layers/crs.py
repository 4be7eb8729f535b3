"""Coordinate reference systems: CGCS2000 storage and the Chinese web-map systems GCJ-02 / BD-09.

Everything is stored as CGCS2000 geographic lon/lat in degrees (EPSG:4490). WGS84 (EPSG:4326) and
CGCS2000 are treated as identical: they agree to a few centimetres, below the accuracy of any input
we receive, and PROJ itself only has a ballpark (no-op) transformation between them.

GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are obfuscations of WGS84. The forward transforms are those
of the ``coordtransform`` package. Its inverses are approximations (off by up to ~3.5 m), so we
invert by fixed-point iteration on the forward transform instead, to a residual below 1e-9 degrees.
As in the package, GCJ-02 leaves points outside its China bounding box unchanged, while BD-09 still
applies its own shift there. Close to the box edge GCJ-02 is discontinuous, so a point there may
have no preimage; the inverse then returns its last iterate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from math import atan2, cos, fabs, sin, sqrt

import coordTransform as _ct
import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

SUPPORTED_CRS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")
STORAGE_SRID: int = 4490

_ALIASES = {"epsg:4326": "wgs84", "epsg:4490": "cgcs2000", "gcj-02": "gcj02", "bd-09": "bd09"}
_CANONICAL: dict[str, str] = {**{name: name for name in SUPPORTED_CRS}, **_ALIASES}
_IDENTITY = frozenset({"wgs84", "cgcs2000"})
_TOL = 1e-9  # degrees; forward residual at which the inverse iteration stops
_MAX_ITER = 10  # converges in 3-5 steps; the cap only matters at the GCJ-02 box edge or for NaN

# Constants and operation order are copied from coordTransform so that the scalar path below is
# bitwise identical to the package's C batch functions used by the vector path.
_PI = 3.1415926535897932384626
_X_PI = 3.14159265358979324 * 3000.0 / 180.0
_A = 6378245.0  # Krasovsky semi-major axis, as GCJ-02 uses
_EE = 0.00669342162296594323
_A_1_EE = _A * (1 - _EE)

_GK_FIRST_EPSG = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E; consecutive codes up to CM 135E


class UnknownCRSError(ValueError):
    """A CRS name that is neither one of SUPPORTED_CRS nor a known alias."""

    def __init__(self, name: object) -> None:
        super().__init__(
            f"unknown CRS {name!r}; supported: {', '.join(SUPPORTED_CRS)} "
            f"(aliases: {', '.join(_ALIASES)})"
        )
        self.name = name


# Lon/lat box around China: coordinates outside it are swapped, projected or simply wrong.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)


# PostGIS's ST_DistanceSphere sphere, so that a distance worked out here agrees with the
# database's to the millimetre
_SPHERE = pyproj.Geod(a=6370986.0, f=0.0)


def sphere_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two lon/lat points on ST_DistanceSphere's sphere."""
    return float(_SPHERE.inv(lon1, lat1, lon2, lat2)[2])


def inside_china(lon: float, lat: float) -> bool:
    """True when a lon/lat point (any of the supported CRSs) lies in the box around China."""
    west, south, east, north = CHINA_BOUNDS
    return west <= lon <= east and south <= lat <= north


def normalize_crs(name: str) -> str:
    """Return the canonical name of a CRS (case-insensitive, aliases accepted)."""
    key = _CANONICAL.get(name.strip().lower()) if isinstance(name, str) else None
    if key is None:
        raise UnknownCRSError(name)
    return key


def _wgs_to_gcj(lng: float, lat: float) -> tuple[float, float]:
    if not (73.66 < lng < 135.05 and 3.86 < lat < 53.55):
        return lng, lat
    x = lng - 105.0
    y = lat - 35.0
    sq = sqrt(fabs(x))
    common = (20.0 * sin(6.0 * x * _PI) + 20.0 * sin(2.0 * x * _PI)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq + common
    dlat += (20.0 * sin(y * _PI) + 40.0 * sin(y / 3.0 * _PI)) * 2.0 / 3.0
    dlat += (160.0 * sin(y / 12.0 * _PI) + 320 * sin(y * _PI / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq + common
    dlng += (20.0 * sin(x * _PI) + 40.0 * sin(x / 3.0 * _PI)) * 2.0 / 3.0
    dlng += (150.0 * sin(x / 12.0 * _PI) + 300.0 * sin(x / 30.0 * _PI)) * 2.0 / 3.0
    radlat = lat / 180.0 * _PI
    magic = sin(radlat)
    magic = 1 - _EE * magic * magic
    sqrtmagic = sqrt(magic)
    dlat = (dlat * 180.0) / (_A_1_EE / (magic * sqrtmagic) * _PI)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * cos(radlat) * _PI)
    return lng + dlng, lat + dlat


def _wgs_to_bd(lng: float, lat: float) -> tuple[float, float]:
    lng, lat = _wgs_to_gcj(lng, lat)
    z = sqrt(lng * lng + lat * lat) + 0.00002 * sin(lat * _X_PI)
    theta = atan2(lat, lng) + 0.000003 * cos(lng * _X_PI)
    return z * cos(theta) + 0.0065, z * sin(theta) + 0.006


_POINT_FORWARD: dict[str, Callable[[float, float], tuple[float, float]]] = {
    "gcj02": _wgs_to_gcj,
    "bd09": _wgs_to_bd,
}


def _invert_point(
    fwd: Callable[[float, float], tuple[float, float]], tx: float, ty: float
) -> tuple[float, float]:
    # Fixed point of w -> w - (fwd(w) - t); the obfuscation's Jacobian is within ~2% of identity,
    # so each step shrinks the error 50-500x. Mirrors _invert step for step (same results).
    x, y = tx, ty
    for _ in range(_MAX_ITER):
        fx, fy = fwd(x, y)
        rx = fx - tx
        ry = fy - ty
        x -= rx
        y -= ry
        if abs(rx) < _TOL and abs(ry) < _TOL:
            break
    return x, y


_VEC_FORWARD: dict[str, Callable[..., tuple[list[float], list[float]]]] = {
    "gcj02": _ct.wgs84_to_gcj02,
    "bd09": _ct.wgs84_to_bd09,
}


def _vec_forward(key: str, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    rx, ry = _VEC_FORWARD[key](x, y)  # the package's C batch path; it returns Python lists
    return np.asarray(rx, dtype=np.float64), np.asarray(ry, dtype=np.float64)


def _invert(key: str, tx: FloatArray, ty: FloatArray) -> tuple[FloatArray, FloatArray]:
    x, y = tx.copy(), ty.copy()
    todo = np.arange(tx.size)  # only unconverged points are re-transformed
    for _ in range(_MAX_ITER):
        if todo.size == 0:
            break
        fx, fy = _vec_forward(key, x[todo], y[todo])
        rx = fx - tx[todo]
        ry = fy - ty[todo]
        x[todo] -= rx
        y[todo] -= ry
        todo = todo[~((np.abs(rx) < _TOL) & (np.abs(ry) < _TOL))]
    return x, y


def _vec_apply(
    lon: ArrayLike, lat: ArrayLike, crs: str, inverse: bool
) -> tuple[FloatArray, FloatArray]:
    key = normalize_crs(crs)
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"lon and lat shapes differ: {x.shape} != {y.shape}")
    if key in _IDENTITY:
        return x, y
    fx, fy = np.ascontiguousarray(x).ravel(), np.ascontiguousarray(y).ravel()
    rx, ry = _invert(key, fx, fy) if inverse else _vec_forward(key, fx, fy)
    return rx.reshape(x.shape), ry.reshape(y.shape)


def to_storage(lon: FloatArray, lat: FloatArray, crs: str) -> tuple[FloatArray, FloatArray]:
    """Convert lon/lat arrays from ``crs`` to storage CGCS2000; wgs84/cgcs2000 return the inputs."""
    return _vec_apply(lon, lat, crs, inverse=True)


def from_storage(lon: FloatArray, lat: FloatArray, crs: str) -> tuple[FloatArray, FloatArray]:
    """Convert storage CGCS2000 lon/lat arrays to ``crs``; wgs84/cgcs2000 return the inputs."""
    return _vec_apply(lon, lat, crs, inverse=False)


def point_to_storage(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """Convert one lon/lat point from ``crs`` to storage CGCS2000."""
    key = _CANONICAL.get(crs) or normalize_crs(crs)
    # float() also turns numpy scalars into Python floats, whose math is several times faster.
    lon, lat = float(lon), float(lat)
    fwd = _POINT_FORWARD.get(key)
    return (lon, lat) if fwd is None else _invert_point(fwd, lon, lat)


def point_from_storage(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """Convert one storage CGCS2000 lon/lat point to ``crs``."""
    key = _CANONICAL.get(crs) or normalize_crs(crs)
    lon, lat = float(lon), float(lat)
    fwd = _POINT_FORWARD.get(key)
    return (lon, lat) if fwd is None else fwd(lon, lat)


def _zone_epsg(lon: float) -> int:
    if not math.isfinite(lon):
        raise ValueError(f"longitude must be finite, got {lon!r}")
    cm = min(max(3 * math.floor(lon / 3.0 + 0.5), 75), 135)  # nearest CM, half-way rounds east
    return _GK_FIRST_EPSG + (cm - 75) // 3


@lru_cache(maxsize=32)
def _gk_crs(epsg: int) -> pyproj.CRS:
    return pyproj.CRS.from_epsg(epsg)


@lru_cache(maxsize=64)
def _gk_transformer(epsg: int, to_metric: bool) -> pyproj.Transformer:
    # Same datum both ways, so this is a pure projection (no ballpark step). Transformers are
    # thread-safe since pyproj 3.1, so sharing cached instances is fine.
    src, dst = (STORAGE_SRID, epsg) if to_metric else (epsg, STORAGE_SRID)
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def metric_crs_for(lon: float) -> pyproj.CRS:
    """Return the CGCS2000 3-degree Gauss-Kruger CRS whose central meridian is nearest ``lon``."""
    return _gk_crs(_zone_epsg(lon))


def to_metric_transformer(lon: float) -> pyproj.Transformer:
    """Return a cached storage -> Gauss-Kruger (x=easting metres) transformer for lon's zone."""
    return _gk_transformer(_zone_epsg(lon), True)


def from_metric_transformer(lon: float) -> pyproj.Transformer:
    """Return a cached Gauss-Kruger -> storage transformer for ``lon``'s zone."""
    return _gk_transformer(_zone_epsg(lon), False)
