"""Settings: one object, built from the environment and passed in, never a module global."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings; environment variables use the prefix GIS_ (DATABASE_URL also works)."""

    model_config = SettingsConfigDict(env_prefix="GIS_", extra="ignore")

    # An external PostGIS; empty means the embedded cluster under `home`.
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    # GIS_READ_DATABASE_URL: reads that may lag a little (the wall, tiles, OGC API, exports,
    # reports, hotspots) go here, e.g. a replica or a load balancer's read port; empty = they
    # go to DATABASE_URL as everything else
    read_database_url: str = ""
    home: Path = Field(default=Path(".gis"), validation_alias="GIS_SERVICE_HOME")
    token_cache_seconds: float = 30.0
    locator_refresh_seconds: float = 1.0
    session_cookie: str = "gis_session"
    session_hours: float = 12.0
    # failed sign-ins per user name and client address before 429 (0 = no limit), and the
    # window they are counted in
    sign_in_max_failures: int = 5
    sign_in_window_seconds: float = 300.0
    # requests per second and account, sustained and at once, per service process (0 = off)
    rate_limit_per_second: float = 100.0
    rate_limit_burst: float = 300.0
    max_locate_points: int = 200_000
    # the largest request body accepted (POST /locate with 200,000 points is ~8 MB); 0 = none
    max_body_bytes: int = 32 * 1024 * 1024
    # an open incident turns yellow when this share of its time is used, red when overdue
    deadline_yellow_share: float = 0.8
    # how often overdue incidents are escalated (0 = never, e.g. in tests)
    escalation_interval_seconds: float = 60.0
    # `make demo` keeps a day going (gis_service/demo_live.py); 0 (false) leaves it still
    demo_live: bool = True
    demo_reports_per_hour: float = 120.0  # at the busiest hour, across the whole demo
    # a report of the same category this near and this recent is a possible duplicate
    # (0 switches the search off)
    duplicate_radius_m: float = 50.0
    duplicate_window_hours: float = 24.0
    # reports arriving while earlier ones are being written are written together, up to this
    # many in one transaction (group commit); 0 = one transaction per report
    intake_batch_max: int = 64
    # after start-up, move the heap made so far out of the garbage collector's sight (short
    # pauses under load; off where many services start in one process, as in tests)
    gc_freeze: bool = True
    # below this confidence an address is not placed: dispatchers pick from the candidates
    geocode_min_confidence: float = 0.5
    # GIS_SERVICE_AREA_NAMES: the province, city, county/district (and development zones)
    # this deployment serves, comma-separated; its towns are its level-1 grids. An address
    # naming another place is not placed (the default is the demo town's)
    service_area_names: str = "江苏省,苏州市,吴江区,吴江经济技术开发区,太湖新城"
    # map pages: an optional tile layer (e.g. the county's own tile server, `{z}/{x}/{y}`);
    # none by default, as the command center has no internet
    basemap_url: str | None = None
    basemap_attribution: str = "底图"
    # vector tiles: how often the incident aggregate folds in its delta (0 = never), how often
    # map layers are checked for changes, and the memory kept for made map-layer tiles
    tile_fold_seconds: float = 5.0
    tile_check_seconds: float = 1.0
    tile_cache_mib: float = 64.0
    # patrols: a grid counts as covered within this distance (metres) of a month's tracks,
    # and the most points one track may carry
    patrol_buffer_m: float = 30.0
    patrol_max_points: int = 20_000
    # grid-worker assessment: a JSON scheme of weights and targets (none = the packaged
    # gis_service/assessment/scheme.json)
    assessment_scheme: Path | None = None
    # events out (webhooks): the hosts deliveries may go to ("host" or "host:port", comma-
    # separated; none = no delivery anywhere: nothing leaves for an address not allowed), how
    # often the delivery worker looks for due deliveries (0 = no worker in this process), how
    # many it sends at once, its request timeout, the waits between tries (seconds, after the
    # 1st, 2nd… failure; when they run out the delivery has failed), and the days a failing
    # endpoint is tried before it is disabled
    webhook_allowed_hosts: str = ""
    webhook_poll_seconds: float = 0.5
    webhook_batch: int = Field(default=50, ge=1, le=1000)
    webhook_timeout_seconds: float = 10.0
    webhook_retry_seconds: str = "5,300,1800,7200,18000,36000,36000"
    webhook_disable_after_days: float = 5.0
    # county department staff stationed in a town: the town's share of the weight in assessing
    # them (towns hold at least half, after Baoying's county-town list); the department holds
    # the rest
    assessment_town_share: float = Field(default=0.5, ge=0.5, le=1.0)
    # the largest photo accepted from the field
    photo_max_bytes: int = 8 * 1024 * 1024
    # a camera's detection folds into the open incident of the same camera and scene when
    # that incident was last seen at most this many minutes before (incidents/core/detections.py)
    video_fold_minutes: float = Field(default=30.0, gt=0)
    # boundary plans: the households a level-3 grid should hold ("low,high"), and persons per
    # household when a grid's population must be estimated from its address points
    plan_band_households: str = "300,500"
    plan_persons_per_household: float = 2.8
    # Open311: another name clients may send as `jurisdiction_id` (besides the level-1 grid
    # codes of the towns served), e.g. "qidu.example.gov.cn"; the key that makes POST tokens
    # opaque (changing it voids the tokens already given out); the discovery document's contact
    open311_jurisdiction: str | None = None
    open311_token_key: str = "open311-tokens"
    open311_contact: str = "the town's comprehensive command center"
    # hotspots: a week's count per H3 cell (of `hotspot_resolution`), category or level-3 grid
    # is a warning when P(X >= count) under a Poisson with the mean of the `baseline_weeks`
    # before it is below `p_value` and the count is at least `min_count`; a cell with at least
    # `new_cluster_min` reports and none in the baseline is a new cluster; `repeat_address`
    # reports in a week at one address or within `repeat_radius_m` are a repeat address
    hotspot_baseline_weeks: int = 8
    hotspot_p_value: float = 0.01
    hotspot_min_count: int = 5
    hotspot_new_cluster_min: int = 5
    hotspot_repeat_address: int = 3
    hotspot_repeat_radius_m: float = 30.0
    hotspot_resolution: int = 8
    # responsibility health: a category is unclear when this share of its dispatches come back
    # (with at least `health_min_dispatches`); a grid's load is far from the others beyond
    # this z-score (against the other grids)
    health_return_share: float = 0.2
    health_min_dispatches: int = 5
    health_load_z: float = 2.0

    @field_validator("webhook_retry_seconds")
    @classmethod
    def _waits(cls, value: str) -> str:
        _retry_waits(value)
        return value

    @property
    def webhook_retries(self) -> tuple[float, ...]:
        """The waits between a delivery's tries, in seconds (checked when the settings load)."""
        return _retry_waits(self.webhook_retry_seconds)


def _retry_waits(value: str) -> tuple[float, ...]:
    """Comma-separated seconds, none negative (one or more)."""
    try:
        waits = tuple(float(part) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"webhook_retry_seconds {value!r}: seconds, comma-separated") from exc
    if not waits or min(waits) < 0:
        raise ValueError(f"webhook_retry_seconds {value!r}: one wait or more, none negative")
    return waits
