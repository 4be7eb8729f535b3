"""The closed loop as a table: which action moves an incident from which states to which, and
which roles may take it (GB/T 30428: report → register → dispatch → handle → verify → close →
evaluate)."""

from __future__ import annotations

from dataclasses import dataclass

from gis_service.auth.permissions import CENTER, HANDLERS

# `needs_confirmation`: a camera's detection waiting for a person (incidents/core/detections.py)
OPEN_STATES = frozenset({"reported", "needs_location", "needs_confirmation", "registered",
                         "dispatched", "accepted", "in_progress", "returned", "resolved",
                         "verified"})
ALL_STATES = OPEN_STATES | {"closed", "rejected"}
RESOLUTIONS = ("service", "management", "enforcement")  # the 721 ratio


@dataclass(frozen=True)
class Transition:
    """An action: the states it starts from, the state it leads to (None = unchanged), and
    the roles that may take it."""

    sources: frozenset[str]
    target: str | None
    roles: frozenset[str]


TRANSITIONS: dict[str, Transition] = {
    "register": Transition(frozenset({"reported"}), "registered", CENTER),
    "reject": Transition(frozenset({"reported", "needs_location", "needs_confirmation",
                                    "registered", "returned"}), "rejected", CENTER),
    # a person confirms a camera's detection: it is routed as a new report is
    "confirm": Transition(frozenset({"needs_confirmation"}), "dispatched", CENTER),
    # from a handler's hands too: the center re-assigns (改派), the county sends a ticket down
    "dispatch": Transition(frozenset({"registered", "returned", "needs_location", "dispatched",
                                      "accepted", "in_progress"}), "dispatched", CENTER),
    "accept": Transition(frozenset({"dispatched"}), "accepted", HANDLERS | CENTER),
    "return": Transition(frozenset({"dispatched", "accepted", "in_progress"}), "returned",
                         HANDLERS | CENTER),
    "start": Transition(frozenset({"accepted"}), "in_progress", HANDLERS | CENTER),
    "resolve": Transition(frozenset({"accepted", "in_progress"}), "resolved", HANDLERS | CENTER),
    "verify": Transition(frozenset({"resolved"}), "verified", CENTER),
    "reopen": Transition(frozenset({"resolved", "verified", "closed"}), "dispatched", CENTER),
    "close": Transition(frozenset({"verified"}), "closed", CENTER),
    "escalate": Transition(OPEN_STATES - {"resolved", "verified"}, None,
                           HANDLERS | CENTER),
    "whistle": Transition(frozenset({"dispatched", "accepted", "in_progress"}), None,
                          HANDLERS | CENTER),
    "evaluate": Transition(frozenset({"closed"}), None, CENTER),
    # a duplicate ends here; its report lives on in the incident it was merged into
    "merge": Transition(OPEN_STATES - {"resolved", "verified"}, "rejected", CENTER),
    # the center sets or corrects what kind of matter it is, and where it is
    "categorize": Transition(OPEN_STATES, None, CENTER),
    "place": Transition(OPEN_STATES - {"needs_location", "resolved", "verified"}, None, CENTER),
}
ACTIONS = tuple(TRANSITIONS)
# the words a person reads for states and actions (refusals here; the pages' static/labels.js
# says the same, a browser test holds the two equal)
STATE_NAMES = {
    "reported": "待登记", "needs_location": "待定位", "needs_confirmation": "待确认",
    "registered": "已登记", "dispatched": "已派遣", "accepted": "已接单",
    "in_progress": "处置中", "returned": "已退回", "resolved": "已办结待核查",
    "verified": "已核查待结案", "closed": "已结案", "rejected": "不予受理",
}
ACTION_NAMES = {
    "register": "登记", "reject": "不予受理", "dispatch": "派遣", "accept": "接单",
    "return": "退回", "start": "开始处置", "resolve": "办结", "verify": "核查通过",
    "reopen": "重新派遣", "close": "结案", "escalate": "上报升级", "whistle": "吹哨",
    "evaluate": "评价", "merge": "合并", "categorize": "设定类别", "place": "重新定位",
    "confirm": "确认",
}

# Handlers act only on what is assigned to them, but for the whistle: the grid calls the
# departments to a matter in its area whoever handles it (网格吹哨、机构报到).
BY_AREA = frozenset({"whistle"})


def next_state(action: str, state: str) -> str | None:
    """The state after `action` from `state`, or None when the move is not allowed."""
    transition = TRANSITIONS[action]
    if state not in transition.sources:
        return None
    return transition.target or state
