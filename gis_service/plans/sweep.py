"""After a publication: reports taken in while it was being written, or before a service
process noticed it, were located against the boundaries before it, and the publication's
re-attribution could not see them (they were not yet committed). The sweep re-locates every
report taken in around the publication against the boundaries valid now and corrects the ones
that landed in the wrong grid, settling open ones by the publication's policy like the
publication itself did — at most a minute or two of reports, so in memory.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gis_service.incidents.core.lifecycle import OPEN_STATES
from gis_service.incidents.core.placing import boundary_codes, place
from gis_service.incidents.models import Incident
from gis_service.locate.service import load_layers
from gis_service.locate.snapshot import LocatorSnapshot
from gis_service.plans.models import Plan, PlanPublication
from gis_service.plans.publish import RegridCause, settle_open

logger = logging.getLogger(__name__)
# reports whose intake began this long before the publication are swept too: an intake
# locates first and commits a moment later (a group-commit batch at most a few seconds)
LEAD = timedelta(seconds=60)


def sweep_publication(session: Session, *, publication_id: int, started_at: datetime,
                      now: datetime) -> int:
    """Correct the codes of reports taken in since `started_at` − LEAD (reported from the
    publication's `effective_from` on) that the boundaries valid now place elsewhere; the
    number corrected. The caller commits."""
    publication = session.get(PlanPublication, publication_id)
    if publication is None or publication.effective_from > now:
        return 0  # a later moment: the locator switches itself when it comes
    plan = session.get(Plan, publication.plan_id)
    assert plan is not None
    snapshot: LocatorSnapshot[None] = LocatorSnapshot(load_layers(session, now))
    recent = session.scalars(
        select(Incident).where(Incident.created_at >= started_at - LEAD,
                               Incident.reported_at >= publication.effective_from,
                               Incident.lon.is_not(None), Incident.lat.is_not(None))
        .order_by(Incident.id).with_for_update().execution_options(populate_existing=True))
    corrected, open_before = 0, []
    for incident in recent:
        lon, lat = incident.lon or 0.0, incident.lat or 0.0
        located = snapshot.where(lon, lat)
        now_codes = boundary_codes(located)
        before = {"id": incident.id, "town": incident.town_code,
                  "grid2": incident.grid2_code, "grid3": incident.grid3_code,
                  "special": sorted(incident.special_codes)}
        if {k: before[k] for k in now_codes} == now_codes:
            continue
        place(incident, lon, lat, located)
        corrected += 1
        if incident.status in OPEN_STATES:
            open_before.append(before)
    session.flush()
    settle_open(session, open_before, policy=publication.policy,
                actor=publication.published_by, now=now,
                cause=RegridCause.publication(plan.id, publication.effective_from))
    return corrected


def sweep_later(factory: sessionmaker[Session], *, publication_id: int, started_at: datetime,
                delay_seconds: float) -> None:
    """The sweep, once every service process has had time to notice the publication (run
    after the publishing request has been answered)."""
    time.sleep(delay_seconds)
    try:
        with factory() as session:
            corrected = sweep_publication(session, publication_id=publication_id,
                                          started_at=started_at, now=datetime.now(UTC))
            session.commit()
    except SQLAlchemyError as exc:  # the publication stands; say so, and go on serving
        logger.warning("sweep after publication %d failed: %s", publication_id,
                       str(exc).splitlines()[0])
        return
    if corrected:
        logger.info("sweep after publication %d: %d reports re-located", publication_id,
                    corrected)
