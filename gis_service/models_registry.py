"""Imports every domain's models so that Base.metadata knows all tables (for Alembic)."""

from __future__ import annotations

from sqlalchemy import MetaData


def metadata() -> MetaData:
    """The metadata of every table, after importing each domain's models."""
    from gis_service.addresses import models as _addresses  # noqa: F401
    from gis_service.assessment import models as _assessment  # noqa: F401
    from gis_service.attachments import models as _attachments  # noqa: F401
    from gis_service.auth import models as _auth  # noqa: F401
    from gis_service.cameras import models as _cameras  # noqa: F401
    from gis_service.database import Base
    from gis_service.events import models as _events  # noqa: F401
    from gis_service.grids import models as _grids  # noqa: F401
    from gis_service.incidents import models as _incidents  # noqa: F401
    from gis_service.patrols import models as _patrols  # noqa: F401
    from gis_service.people import models as _people  # noqa: F401
    from gis_service.places import models as _places  # noqa: F401
    from gis_service.plans import models as _plans  # noqa: F401
    from gis_service.responsibilities import models as _responsibilities  # noqa: F401
    from gis_service.tiles import models as _tiles  # noqa: F401

    return Base.metadata
