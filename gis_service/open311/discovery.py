"""The Open311 service discovery document (wiki.open311.org/Service_Discovery) of this
endpoint: one GeoReport v2 production endpoint, XML and JSON, no key needed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gis_service.open311.mapping import w3c

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]
KEY_SERVICE = "No key is needed: reading and reporting are open to everyone."


def document(*, url: str, changeset: datetime | None, contact: str) -> dict[str, Any]:
    """The discovery document; `changeset` is when the services last changed."""
    stamp = w3c(changeset)
    return {"changeset": stamp, "contact": contact, "key_service": KEY_SERVICE,
            "endpoints": [{"specification": SPECIFICATION, "url": url, "changeset": stamp,
                           "type": "production", "formats": FORMATS}]}
