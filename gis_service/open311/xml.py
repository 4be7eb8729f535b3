"""Open311's XML: the JSON shapes turned back into elements (the spec's "Spark convention"),
UTF-8 with an XML declaration, built with ElementTree so text is always escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# a list under one of these tags holds elements named by the singular
ITEM_TAGS = {"services": "service", "service_requests": "request", "errors": "error",
             "attributes": "attribute", "values": "value", "endpoints": "endpoint",
             "formats": "format"}
# characters XML 1.0 cannot carry at all, not even escaped; a report may still contain them
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def document(root: str, value: Any) -> bytes:
    """A whole XML document whose root element `root` holds `value`."""
    element = ET.Element(root)
    _fill(element, value)
    return DECLARATION + ET.tostring(element, encoding="unicode").encode("utf-8")


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(element, ITEM_TAGS[element.tag]), item)
    else:
        element.text = _text(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None  # an empty element, as the spec's examples show absent values
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))
