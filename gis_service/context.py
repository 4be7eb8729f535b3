"""The application's context: what the service makes once at start-up (settings, the session
factories of the two connection roles, caches, limiters, the locator, the intake writer, the
tile cache), as one frozen, typed value. Handlers reach it through `context_of` / `ContextDep`
/ `SettingsDep`; this is the one module that touches FastAPI's untyped `app.state`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, FastAPI, Request

from gis_service.config import Settings

if TYPE_CHECKING:  # annotations only: these modules' routers import this one
    from sqlalchemy.orm import Session, sessionmaker

    from gis_service.auth.attempts import SignInGuard
    from gis_service.auth.rate import RateLimiter
    from gis_service.auth.service import TokenCache
    from gis_service.incidents.core.routing import RoutingBook
    from gis_service.incidents.group_commit import IntakeWriter
    from gis_service.incidents.ids import IdBlocks
    from gis_service.locate.service import LocatorCache
    from gis_service.tiles.cache import TileState


@dataclass(frozen=True)
class AppContext:
    """Everything a request may need that lives as long as the process."""

    settings: Settings
    session_factory: sessionmaker[Session]  # the primary: writes, and reads that must see them
    # reads that may lag a little (GIS_READ_DATABASE_URL; `database.read_session`): the same
    # object as `session_factory` when there is no read database
    read_session_factory: sessionmaker[Session]
    token_cache: TokenCache
    sign_in_guard: SignInGuard
    rate_limiter: RateLimiter
    incident_ids: IdBlocks
    locator: LocatorCache[RoutingBook]  # each snapshot carries the routing book
    intake_writer: IntakeWriter | None  # None when group commit is switched off
    tiles: TileState


def install(app: FastAPI, context: AppContext) -> None:
    """Make `context` the app's (in the lifespan, before serving)."""
    app.state.context = context


def app_context(app: FastAPI) -> AppContext:
    """The app's context (lifespans of routers read it here)."""
    return cast(AppContext, app.state.context)


def context_of(request: Request) -> AppContext:
    """The context of the app serving `request`."""
    return app_context(request.app)


def settings_of(request: Request) -> Settings:
    """The settings the app was made with (never the process environment read again)."""
    return context_of(request).settings


ContextDep = Annotated[AppContext, Depends(context_of)]
SettingsDep = Annotated[Settings, Depends(settings_of)]
