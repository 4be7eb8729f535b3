"""The coordinate reference systems the OGC API offers, and their axis order.

Storage is CGCS2000 lon/lat (EPSG:4490), which the service treats as WGS84, so both CRSs
below are the stored coordinates; they differ only in axis order. CRS84 is lon/lat; EPSG
defines 4490 as latitude first, so coordinates in it are written (and read, in `bbox`)
lat/lon.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis_service.errors import DomainError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"


class BadParameterError(DomainError):
    """A query parameter the API does not define, or a value it cannot use (OGC: 400)."""

    status, title = 400, "Bad request"


@dataclass(frozen=True)
class Crs:
    """A CRS by its URI, and whether its first axis is latitude."""

    uri: str
    lat_first: bool

    def header(self) -> str:
        """The value of the Content-Crs response header."""
        return f"<{self.uri}>"


SUPPORTED = {CRS84: Crs(CRS84, lat_first=False), CGCS2000: Crs(CGCS2000, lat_first=True)}
STORAGE = SUPPORTED[CGCS2000]
DEFAULT = SUPPORTED[CRS84]


def parse_crs(value: str | None, parameter: str) -> Crs:
    """The CRS a `crs` or `bbox-crs` value names; CRS84 when absent."""
    if value is None:
        return DEFAULT
    crs = SUPPORTED.get(value.strip().strip("<>"))
    if crs is None:
        raise BadParameterError(f"{parameter} {value!r} is not supported; use one of "
                                f"{', '.join(SUPPORTED)}", supported=list(SUPPORTED))
    return crs
