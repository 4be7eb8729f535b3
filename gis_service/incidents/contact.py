"""The reporter's contact details and who sees them: the command center in full (it calls the
citizen back), everyone else masked, as the 12345 rules protect hotline reporters. Events
carry them whole only to subscriptions allowed to (the 12345 platform itself)."""

from __future__ import annotations

from typing import Any


def _mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name


def _mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    keep = 3 if len(digits) >= 11 else 0  # a mobile keeps its carrier prefix: 138****5678
    return digits[:keep] + "*" * (len(digits) - keep - 4) + digits[-4:]


def masked(contact: dict[str, Any] | None) -> dict[str, Any] | None:
    """The reporter as people outside the center see them: 张** and 138****5678."""
    if not contact:
        return contact
    return {**contact, "name": _mask_name(contact.get("name") or ""),
            "phone": _mask_phone(contact.get("phone") or "")}
