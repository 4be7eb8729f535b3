"""What a planner reads of a plan's state: status names for refusals and the editor's pages
(the status codes themselves are the API's)."""

from __future__ import annotations

STATUS_NAMES = {"draft": "草稿", "published": "已发布", "discarded": "已废弃"}


def status_name(status: str) -> str:
    """A plan status in words ("草稿")."""
    return STATUS_NAMES.get(status, status)


def stale_version(current: int, expected: int) -> str:
    """The refusal of an edit or publication sent against an older version of the plan."""
    return f"方案已是第 {current} 版，不是第 {expected} 版：请重新载入"


def out_of_scope(code: str, scope: str | None) -> str:
    """A scoped planner's refusal to change a grid beyond their town or county."""
    return (f"网格 {code} 不在您的规划范围（{scope}）内：镇级规划员只能修改本镇的网格，"
            "县级规划员可修改本县各镇的网格和镇界")
