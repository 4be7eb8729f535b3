"""Service definition attributes: data in `attributes.json`, not code.

The file maps a category code to a list of attributes; those under `"*"` apply to every
service, and a category's own attribute with the same code replaces the default one. Each
attribute has the spec's fields (`code`, `datatype`, `required`, `description`,
`datatype_description`, `values` [{key, name}], `variable`; `order` is its position) and may
add `priority`: list key → incident priority (0 normal, 1 urgent, 2 very urgent).

What a submitted attribute does to the incident: every accepted value is written on its own
line under the report's description ("附近的标志物：七都大桥东侧"), so the dispatcher reads
all of them; `priority` raises the incident's priority (never lowers one a zone rule set).
The file is read once per process: restart the service after editing it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from gis_service.open311.mapping import BadRequestError

DEFAULT = "*"
LIST_TYPES = ("singlevaluelist", "multivaluelist")
MAX_LENGTH = {"string": 200, "text": 2000, "number": 40, "datetime": 40}
# `attribute[code]` in a form (spec), `attribute[code][]` for each value of a multivaluelist
ATTRIBUTE_KEY = re.compile(r"attribute\[([^\[\]]+)\](\[\])?")
Submitted = dict[str, str | list[str]]


class Value(BaseModel):
    """One choice of a list attribute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1)
    name: str


class Attribute(BaseModel):
    """One attribute as the data file states it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, pattern=r"^[^\[\]]+$")
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist",
                      "multivaluelist"]
    required: bool = False
    variable: bool = True
    description: str
    datatype_description: str = ""
    values: tuple[Value, ...] = ()
    priority: dict[str, Annotated[int, Field(ge=0, le=2)]] = Field(default_factory=dict)


BOOK = TypeAdapter(dict[str, list[Attribute]])


@dataclass(frozen=True)
class Accepted:
    """What checked attributes do to the report: description lines and a priority."""

    lines: tuple[str, ...]
    priority: int
    values: Submitted


@cache
def book() -> dict[str, list[Attribute]]:
    """The attribute file, checked once (a bad edit fails at the first use, loudly)."""
    text = resources.files("gis_service.open311").joinpath("attributes.json").read_text("utf-8")
    return BOOK.validate_json(text)


def attributes_of(service_code: str) -> list[Attribute]:
    """A service's attributes in order: the defaults, then (or replaced by) its own."""
    merged = {a.code: a for a in book().get(DEFAULT, [])}
    merged.update({a.code: a for a in book().get(service_code, [])})
    return list(merged.values())


def definition(service_code: str) -> dict[str, Any]:
    """The spec's service definition of a service."""
    return {"service_code": service_code, "attributes": [
        {"variable": a.variable, "code": a.code, "datatype": a.datatype,
         "required": a.required, "datatype_description": a.datatype_description,
         "order": order, "description": a.description,
         "values": [{"key": v.key, "name": v.name} for v in a.values]}
        for order, a in enumerate(attributes_of(service_code), start=1)]}


def gather(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Fields with every `attribute[code]` key (and a JSON `attribute` object) folded into
    one `attribute` mapping; later keys win, as in a form."""
    fields: dict[str, Any] = {}
    named: dict[str, Any] = {}
    for key, value in pairs:
        found = ATTRIBUTE_KEY.fullmatch(key)
        if found is None:
            fields[key] = value
        elif found.group(2):
            named[found.group(1)] = [*_as_list(named.get(found.group(1), [])), value]
        else:
            named[found.group(1)] = value
    if named:
        given = fields.get("attribute")
        fields["attribute"] = {**given, **named} if isinstance(given, Mapping) else named
    return fields


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def accept(service_code: str, submitted: Submitted) -> Accepted:
    """The submitted attributes checked against the definition; every problem at once (400)."""
    known = {a.code: a for a in attributes_of(service_code)}
    given = {code: value for code, value in map(_cleaned, submitted.items()) if value}
    problems = [f"attribute[{code}]: {service_code} has no such attribute"
                for code in given if code not in known]
    problems += [f"attribute[{a.code}]: required ({a.description})"
                 for a in known.values() if a.required and a.code not in given]
    lines, priority = [], 0
    for attribute in known.values():
        if attribute.code not in given:
            continue
        try:
            keys, shown = _check(attribute, given[attribute.code])
        except ValueError as exc:
            problems.append(f"attribute[{attribute.code}]: {exc}")
            continue
        lines.append(f"{attribute.description}：{shown}")
        priority = max([priority, *(attribute.priority.get(key, 0) for key in keys)])
    if problems:
        raise BadRequestError("; ".join(problems), problems=problems)
    return Accepted(tuple(lines), priority, {c: given[c] for c in known if c in given})


def _cleaned(item: tuple[str, str | list[str]]) -> tuple[str, str | list[str]]:
    """Blanks dropped (an empty argument is an absent one), repeats of a list key too."""
    code, value = item
    if isinstance(value, list):
        return code, list(dict.fromkeys(v.strip() for v in value if v.strip()))
    return code, value.strip()


def _check(attribute: Attribute, value: str | list[str]) -> tuple[list[str], str]:
    """The value's keys and how it reads; ValueError says what is wrong with it."""
    values = _as_list(value)
    if attribute.datatype in LIST_TYPES:
        if attribute.datatype == "singlevaluelist" and len(values) > 1:
            raise ValueError("takes one value")
        names = {v.key: v.name for v in attribute.values}
        unknown = [v for v in values if v not in names]
        if unknown:
            raise ValueError(f"{', '.join(unknown)} is not one of {', '.join(names)}")
        return values, "、".join(names[v] for v in values)
    if len(values) != 1:
        raise ValueError("takes one value")
    [text] = values
    if len(text) > MAX_LENGTH[attribute.datatype]:
        raise ValueError(f"at most {MAX_LENGTH[attribute.datatype]} characters")
    if attribute.datatype == "number" and not _is_number(text):
        raise ValueError("must be a number")
    if attribute.datatype == "datetime" and not _is_moment(text):
        raise ValueError("must be a W3C date-time such as 2026-05-01T08:00:00+08:00")
    return [text], text


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _is_moment(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace(" ", "+"))
    except ValueError:
        return False
    return True
