"""A camera's catalog fields beside its code (GB/T 28181 catalog, as wvp-GB28181-pro's
`CommonGBChannel` carries them): the PTZ type and the lens direction.

- `ptz`: PTZType 1 dome (球机), 2 half dome (半球), 3 fixed bullet (固定枪机), 4 remote bullet
  (遥控枪机), 5 remote half dome (遥控半球), 6 multi-lens panorama (多目设备全景/拼接通道),
  7 multi-lens split (多目设备分割通道); a file may give the number, the English key or the
  Chinese name.
- `direction`: where the lens looks, in degrees clockwise from north (0–360; 360 is north
  again). A catalog that gives only the 2016 edition's DirectionType (1 east, 2 west, 3 south,
  4 north, 5 south-east, 6 north-east, 7 south-west, 8 north-west) may give it as
  `direction_type` instead.
"""

from __future__ import annotations

from typing import Any

PTZ_TYPES: dict[int, tuple[str, str]] = {
    1: ("dome", "球机"), 2: ("half_dome", "半球"), 3: ("fixed", "固定枪机"),
    4: ("remote_bullet", "遥控枪机"), 5: ("remote_half_dome", "遥控半球"),
    6: ("panorama", "多目设备全景/拼接通道"), 7: ("multi_split", "多目设备分割通道")}
_PTZ_BY_WORD = {word: number for number, words in PTZ_TYPES.items() for word in words}
DIRECTION_TYPES = {1: 90.0, 2: 270.0, 3: 180.0, 4: 0.0, 5: 135.0, 6: 45.0, 7: 225.0, 8: 315.0}


def _blank(value: Any) -> bool:
    return value is None or str(value).strip() == ""


def ptz_type(value: Any) -> int | None:
    """The PTZType number a file's `ptz` names (None when empty); ValueError otherwise."""
    if _blank(value):
        return None
    text = str(value).strip()
    number = _PTZ_BY_WORD.get(text.lower()) or _PTZ_BY_WORD.get(text)
    if number is None and text.removesuffix(".0").isdigit():
        number = int(text.removesuffix(".0"))
    if number not in PTZ_TYPES:
        keys = ", ".join(f"{n} {key}" for n, (key, _) in PTZ_TYPES.items())
        raise ValueError(f"ptz {text!r} is no PTZ type ({keys})")
    return number


def ptz_key(number: int | None) -> str | None:
    """The English key of a PTZType number, as the API gives it."""
    return PTZ_TYPES[number][0] if number in PTZ_TYPES else None


def direction(value: Any, direction_type: Any = None) -> float | None:
    """The lens direction in degrees [0, 360) from `direction`, else from a GB/T 28181
    DirectionType (1–8); None when neither is given; ValueError for anything else."""
    if _blank(value):
        if _blank(direction_type):
            return None
        text = str(direction_type).strip().removesuffix(".0")
        if not text.isdigit() or int(text) not in DIRECTION_TYPES:
            raise ValueError(f"direction_type {direction_type!r} is not 1–8 "
                             "(east, west, south, north, SE, NE, SW, NW)")
        return DIRECTION_TYPES[int(text)]
    try:
        degrees = float(str(value).strip())
    except ValueError:
        raise ValueError(f"direction {value!r} is not a number of degrees") from None
    if not 0.0 <= degrees <= 360.0:
        raise ValueError(f"direction {degrees:g} is not within 0–360 degrees")
    return degrees % 360.0
