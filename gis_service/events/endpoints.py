"""Where deliveries may go: only to a host the operator allowed (`GIS_WEBHOOK_ALLOWED_HOSTS`),
checked when a subscription is made and again before every request, so changing the setting
stops deliveries to a host no longer allowed. Names are compared as written, never resolved:
an allowed name is the operator's choice, and no request follows a redirect elsewhere."""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class EndpointRefused(ValueError):
    """The URL is not one deliveries may go to; the message says why."""


def allowed_hosts(setting: str) -> frozenset[str]:
    """The setting's entries, lower-cased: `host` (any port) or `host:port`."""
    return frozenset(entry.strip().lower() for entry in setting.split(",") if entry.strip())


def check_url(url: str, allowed: frozenset[str]) -> str:
    """`url` if deliveries may go there, else EndpointRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError as exc:
        raise EndpointRefused(f"{url!r} is not a URL: {exc}") from exc
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise EndpointRefused(f"{url!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise EndpointRefused("a subscription URL carries no user or password: the "
                              "signature authenticates each delivery")
    host = parts.hostname.lower()
    if host not in allowed and f"{host}:{port}" not in allowed:
        listed = ", ".join(sorted(allowed)) or "none"
        raise EndpointRefused(f"host {host}:{port} is not allowed "
                              f"(GIS_WEBHOOK_ALLOWED_HOSTS: {listed})")
    return url
