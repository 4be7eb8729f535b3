"""Address points with their parsed parts, for the offline geocoder."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Computed, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import STORAGE_SRID, Base


class AddressPoint(Base):
    """One addressable point: a house number, a building or a named place."""

    __tablename__ = "address_point"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    address: Mapped[str] = mapped_column(String(400))
    village: Mapped[str | None] = mapped_column(String(200))
    road: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(60))
    poi: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=STORAGE_SRID, spatial_index=False))
    # what the geocoder matches trigrams against; SQL function from migration 0002
    search_key: Mapped[str] = mapped_column(
        Text, Computed("address_search_key(address, village, road, number, poi)", persisted=True))
