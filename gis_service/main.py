"""create_app(settings): the HTTP service. The engine lives in the lifespan, never at import."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gis_service.assessment.router import router as assessment_router
from gis_service.attachments.router import router as attachments_router
from gis_service.auth.accounts_router import router as accounts_router
from gis_service.auth.attempts import SignInGuard
from gis_service.auth.rate import RateLimiter
from gis_service.auth.router import router as auth_router
from gis_service.auth.service import TokenCache
from gis_service.cameras.router import router as cameras_router
from gis_service.config import Settings
from gis_service.context import AppContext, install
from gis_service.dashboard.router import router as dashboard_router
from gis_service.database import WriteMark, make_engine, make_read_engine, make_session_factory
from gis_service.errors import COMMON_RESPONSES, install_handlers
from gis_service.events.delivery import delivery_loop
from gis_service.events.peers_router import router as peers_router
from gis_service.events.router import router as subscriptions_router
from gis_service.exports.router import router as exports_router
from gis_service.geocode.router import router as geocode_router
from gis_service.grids.router import router as grids_router
from gis_service.health import router as health_router
from gis_service.hotspots.router import router as hotspots_router
from gis_service.incidents.escalation import escalation_loop
from gis_service.incidents.group_commit import IntakeWriter
from gis_service.incidents.ids import IdBlocks
from gis_service.incidents.router import router as incidents_router
from gis_service.incidents.routing_book import load_routing_book
from gis_service.incidents.service import intake_policy
from gis_service.limits import BodyLimit
from gis_service.locate.router import router as locate_router
from gis_service.locate.service import LocatorCache
from gis_service.ogc.router import router as ogc_router
from gis_service.open311.router import router as open311_router
from gis_service.patrols.router import router as patrols_router
from gis_service.people.router import router as people_router
from gis_service.places.router import router as places_router
from gis_service.plans.analysis_router import router as plan_analysis_router
from gis_service.plans.rebalance_router import router as plan_rebalance_router
from gis_service.plans.router import router as plans_router
from gis_service.reports.router import router as reports_router
from gis_service.tiles.cache import tile_state
from gis_service.tiles.router import router as tiles_router
from map_ui.assessment_pages import router as assessment_pages_router
from map_ui.assets import mount_assets
from map_ui.dispatch_router import router as dispatch_page_router
from map_ui.plan_editor_router import router as plan_editor_router
from map_ui.report_pages import router as report_pages_router
from map_ui.router import router as pages_router
from map_ui.worker_router import router as worker_page_router

logger = logging.getLogger(__name__)


def _warm_up(locator: LocatorCache) -> None:
    """Build the first locator snapshot before serving, so no request waits for it."""
    try:
        locator.current()
    except SQLAlchemyError as exc:  # not migrated yet, or the database is down: build later
        logger.warning("locator not warmed up: %s", str(exc).splitlines()[0])


def _intake_writer(settings: Settings, factory: sessionmaker[Session], locator: LocatorCache,
                   ids: IdBlocks) -> IntakeWriter | None:
    """The group-commit writer of the HTTP intake (none when switched off)."""
    if settings.intake_batch_max <= 0:
        return None
    writer = IntakeWriter(factory, locator, intake_policy(settings, ids),
                          settings.intake_batch_max)
    writer.start()
    return writer


def create_app(settings: Settings | None = None,
               session_factory: sessionmaker[Session] | None = None) -> FastAPI:
    """The service; pass `session_factory` to run on a given connection (tests do)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        factory = session_factory
        if factory is None:
            engine = make_engine(settings)
            factory = make_session_factory(engine)
        # the read role (GIS_READ_DATABASE_URL): its own pool, else the primary's factory
        read_engine = make_read_engine(settings)
        read_factory = make_session_factory(read_engine) if read_engine else factory
        ids = IdBlocks()
        locator = LocatorCache(factory, settings.locator_refresh_seconds,
                               extra=load_routing_book)
        _warm_up(locator)
        writer = _intake_writer(settings, factory, locator, ids)
        install(app, AppContext(
            settings=settings, session_factory=factory, read_session_factory=read_factory,
            token_cache=TokenCache(settings.token_cache_seconds),
            sign_in_guard=SignInGuard(settings.sign_in_max_failures,
                                      settings.sign_in_window_seconds),
            rate_limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
            incident_ids=ids, locator=locator, intake_writer=writer,
            tiles=tile_state(factory, settings.tile_check_seconds, settings.tile_cache_mib)))
        # Everything made so far lives as long as the process: moved out of the collector's
        # sight, a full collection no longer walks ~200,000 objects (measured: 87 ms, the
        # intake's p99 under load was made of such pauses)
        if settings.gc_freeze:
            gc.collect()
            gc.freeze()
        escalation = None
        if settings.escalation_interval_seconds > 0:
            escalation = asyncio.create_task(
                escalation_loop(factory, settings.escalation_interval_seconds, locator))
        delivery = None
        if settings.webhook_poll_seconds > 0:
            delivery = asyncio.create_task(delivery_loop(factory, settings))
        yield
        if delivery is not None:
            delivery.cancel()
        if escalation is not None:
            escalation.cancel()
        if settings.gc_freeze:
            gc.unfreeze()
        if writer is not None:
            writer.close()
        if engine is not None:
            engine.dispose()
        if read_engine is not None:
            read_engine.dispose()

    app = FastAPIOffline(title="Grid management and dispatch GIS service", version="0.1.0",
                         lifespan=lifespan, static_url="/static/docs")
    install_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(WriteMark)  # a write's WAL position, for reads from replicas
    for router in (health_router, auth_router, accounts_router, grids_router, places_router,
                   people_router, locate_router, geocode_router, incidents_router,
                   open311_router, pages_router, ogc_router, exports_router, tiles_router,
                   dashboard_router, patrols_router, attachments_router, dispatch_page_router,
                   worker_page_router, plans_router, plan_analysis_router,
                   plan_rebalance_router, plan_editor_router, reports_router,
                   assessment_router, hotspots_router, report_pages_router,
                   assessment_pages_router, subscriptions_router, peers_router,
                   cameras_router):
        app.include_router(router, responses=COMMON_RESPONSES)
    mount_assets(app)  # the pages' scripts, styles and fonts: served here, never from a CDN
    return app
