"""GB/T 28181 codes read into their parts, and the catalog's PTZ type and lens direction."""

from __future__ import annotations

import re

import pytest

from gis_service.cameras import catalog
from gis_service.cameras.gbcode import InvalidGbCode, decode, decode_camera, describe


def test_a_code_is_read_into_its_five_parts() -> None:
    parts = decode_camera("32050900081320000001")
    assert (parts.division, parts.industry, parts.device_type, parts.network, parts.serial) == (
        "32050900", "08", "132", "0", "000001")
    assert parts.code == "32050900081320000001" and parts.county == "320509"
    named = describe(parts)
    assert named["device_type_name"] == "网络摄像机"
    assert named["industry_name"] == "城市管理接入"
    assert named["network_name"] == "监控报警专网"


def test_a_plain_camera_and_the_networks_are_named() -> None:
    parts = decode_camera(" 32028200001315000007 ")  # 131 camera on the public-security net
    assert describe(parts)["device_type_name"] == "摄像机"
    assert describe(parts)["network_name"] == "公安信息网"


@pytest.mark.parametrize(("code", "why"), [
    ("3205090008132000001", "19 digits, a GB/T 28181 code has 20"),
    ("320509000813200000012", "21 digits"),
    ("3205090008132000000A", "is not made of digits only"),
    ("３２０５０９０００８１３２００００００１", "is not made of digits only"),  # full-width
    ("", "is not made of digits only"),
    ("99050900081320000001", "division 99050900 names no province"),
])
def test_malformed_codes_are_refused_saying_why(code: str, why: str) -> None:
    with pytest.raises(InvalidGbCode, match=why):
        decode(code)


@pytest.mark.parametrize(("code", "why"), [
    ("32050900001180000001", "device type 118 (NVR) is not a camera"),
    ("32050900002000000001", "device type 200 (中心信令控制服务器) is not a camera"),
    ("32050900001400000001", "device type 140 (unassigned) is not a camera"),
])
def test_codes_of_other_devices_are_no_cameras(code: str, why: str) -> None:
    decode(code)  # a real code …
    with pytest.raises(InvalidGbCode, match=re.escape(why)):
        decode_camera(code)  # … of something else


@pytest.mark.parametrize(("given", "number"), [
    ("1", 1), ("dome", 1), ("球机", 1), ("FIXED", 3), ("4.0", 4), ("7", 7), ("", None),
    (None, None)])
def test_ptz_type_by_number_key_or_name(given: str | None, number: int | None) -> None:
    assert catalog.ptz_type(given) == number


@pytest.mark.parametrize("given", ["0", "8", "turret", "-1"])
def test_unknown_ptz_types_are_refused(given: str) -> None:
    with pytest.raises(ValueError, match="is no PTZ type"):
        catalog.ptz_type(given)


def test_lens_direction_in_degrees_or_by_the_catalogs_direction_type() -> None:
    assert catalog.direction("45") == 45.0
    assert catalog.direction("360") == 0.0
    assert catalog.direction(None) is None
    assert catalog.direction("", "1") == 90.0  # east
    assert catalog.direction(None, "8") == 315.0  # north-west
    assert catalog.direction("10", "1") == 10.0  # degrees win
    for bad in ("-1", "361", "north", "nan"):
        with pytest.raises(ValueError, match="direction"):
            catalog.direction(bad)
    with pytest.raises(ValueError, match="direction_type"):
        catalog.direction(None, "9")
