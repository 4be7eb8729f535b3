"""Pages as pure functions returning HTML."""

from __future__ import annotations

START_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>网格化指挥平台</title>
<style>body{font:16px system-ui,sans-serif;margin:3em;background:#111;color:#eee}
a{color:#7cf}</style></head>
<body><h1>网格化管理与指挥调度平台</h1>
<p>The service is running. The one-map wall arrives with the demo town.</p>
<ul><li><a href="/docs">API documentation</a></li><li><a href="/health">Health</a></li></ul>
</body></html>"""


def start_page() -> str:
    """The start page shown at `/`."""
    return START_PAGE
