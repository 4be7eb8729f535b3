"""Small pages as pure functions returning HTML: the sign-in form."""

from __future__ import annotations

import html

from map_ui.assets import OWN_URL

LOGIN_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>登录 · 网格化指挥平台</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{own}/favicon.svg" type="image/svg+xml">
<style>
body {{ margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  background: #0b1622; color: #e3eaf2; font: 16px "Microsoft YaHei", "PingFang SC",
  "WenQuanYi Micro Hei", system-ui, sans-serif; }}
form {{ width: 320px; padding: 28px 32px; background: #12263a; border: 1px solid #23405c;
  border-radius: 8px; }}
h1 {{ margin: 0 0 20px; font-size: 22px; }}
label {{ display: block; margin: 12px 0 4px; color: #9fb3c8; font-size: 14px; }}
input {{ box-sizing: border-box; width: 100%; padding: 8px; font-size: 16px; color: #e3eaf2;
  background: #0b1622; border: 1px solid #2f5375; border-radius: 4px; }}
button {{ width: 100%; margin-top: 20px; padding: 10px; font-size: 16px; color: #0b1622;
  background: #4fc3f7; border: 0; border-radius: 4px; cursor: pointer; }}
#error {{ min-height: 1.4em; margin: 12px 0 0; color: #ff8a80; font-size: 14px; }}
</style></head>
<body><form id="login" method="post" action="/login" data-next="{next}">
<h1>网格化管理与指挥调度平台</h1>
<label for="username">用户名</label><input id="username" name="username" autocomplete="username">
<label for="password">密码</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<label for="token">或访问令牌</label><input id="token" name="token" autocomplete="off">
<button type="submit">登录</button><p id="error" role="alert"></p>
</form>
<script>
// sign in without leaving the page, then go where the user was headed
document.getElementById("login").addEventListener("submit", async (event) => {{
  event.preventDefault();
  const form = event.target;
  const body = new URLSearchParams();
  for (const [key, value] of new FormData(form)) {{ if (value) body.append(key, value); }}
  const response = await fetch("/login", {{method: "POST", body, credentials: "same-origin"}});
  if (response.ok) {{
    await response.text();  // read it all: leaving mid-response shows as an aborted request
    window.location.replace(form.dataset.next);
    return;
  }}
  const problem = await response.json().catch(() => ({{}}));
  document.getElementById("error").textContent =
    response.status === 401 ? "用户名或密码错误" : (problem.detail || "登录失败");
}});
</script></body></html>"""


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this service only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def login_page(next_url: str | None = None) -> str:
    """The sign-in form; it posts to /login and then opens `next_url`."""
    return LOGIN_PAGE.format(own=OWN_URL, next=html.escape(safe_next(next_url)))
