"""GB/T 28181 device codes: 20 digits, read left to right as

    division 8 | industry 2 | device type 3 | network 1 | serial 6
    32050900     00           132             0           000001

- division: where the monitoring center is, GB/T 2260 — province 2, city 2, county 2, and two
  digits for the grassroots unit (a police station's area);
- industry: who connects the device (00 public security, roads; 04 traffic; 08 city
  management; …), GB/T 28181-2016 Appendix D;
- device type: 111–130 front-end hosts (DVR, encoder, NVR …), 131–139 peripherals (131 camera,
  132 IP camera, 134 alarm input …), 200–216 platform servers and groups, 300 and 400 users;
- network: 0–4 the video private network, 5 the public-security network, 6 the government
  network, 7 the Internet, 8 the social-resources network, 9 reserved;
- serial: the device's number within the above.

The layout is the one wvp-GB28181-pro's `GbCode.decode` reads; the names are the standard's.
A camera is a device of type 131 or 132: a code of another type (an NVR, a server, a user) is
a real GB/T 28181 code but not a camera, and is refused as one.
"""

from __future__ import annotations

from dataclasses import dataclass

CODE_LENGTH = 20
CAMERA_TYPES = {"131": "摄像机", "132": "网络摄像机"}
DEVICE_TYPES = {
    "111": "DVR", "112": "视频服务器", "113": "编码器", "114": "解码器", "115": "视频切换矩阵",
    "116": "音频切换矩阵", "117": "报警控制器", "118": "NVR", "130": "混合硬盘录像机",
    **CAMERA_TYPES,
    "133": "显示器", "134": "报警输入设备", "135": "报警输出设备", "136": "语音输入设备",
    "137": "语音输出设备", "138": "移动传输设备", "139": "其他外围设备",
    "200": "中心信令控制服务器", "201": "Web应用服务器", "202": "媒体分发服务器",
    "203": "代理服务器", "204": "安全服务器", "205": "报警服务器", "206": "数据库服务器",
    "207": "GIS服务器", "208": "管理服务器", "209": "接入网关", "210": "媒体存储服务器",
    "211": "信令安全路由网关", "215": "业务分组", "216": "虚拟组织",
    "300": "中心用户", "400": "终端用户",
}
INDUSTRIES = {
    "00": "社会治安路面接入", "01": "社会治安社区接入", "02": "社会治安内部接入",
    "03": "社会治安其他接入", "04": "交通路面接入", "05": "交通卡口接入", "06": "交通内部接入",
    "07": "交通其他接入", "08": "城市管理接入", "09": "卫生环保接入", "10": "商检海关接入",
    "11": "教育部门接入",
}
NETWORKS = {"0": "监控报警专网", "1": "监控报警专网", "2": "监控报警专网", "3": "监控报警专网",
            "4": "监控报警专网", "5": "公安信息网", "6": "政务网", "7": "互联网",
            "8": "社会资源接入网", "9": "预留"}
# GB/T 2260 provinces (the first two digits of a division)
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82"})


class InvalidGbCode(ValueError):
    """A code that is no GB/T 28181 camera code; the message says why."""


@dataclass(frozen=True)
class GbCode:
    """A GB/T 28181 code read into its parts."""

    division: str  # 8 digits: province, city, county (GB/T 2260) and grassroots unit
    industry: str  # 2
    device_type: str  # 3
    network: str  # 1
    serial: str  # 6

    @property
    def code(self) -> str:
        """The 20 digits again."""
        return self.division + self.industry + self.device_type + self.network + self.serial

    @property
    def county(self) -> str:
        """The GB/T 2260 county code the division begins with (6 digits)."""
        return self.division[:6]


def decode(code: str) -> GbCode:
    """The parts of a 20-digit code; InvalidGbCode saying what is wrong otherwise."""
    text = code.strip()
    if not text.isascii() or not text.isdigit():
        raise InvalidGbCode(f"{text!r} is not made of digits only")
    if len(text) != CODE_LENGTH:
        raise InvalidGbCode(f"{len(text)} digits, a GB/T 28181 code has {CODE_LENGTH}")
    parts = GbCode(text[:8], text[8:10], text[10:13], text[13], text[14:])
    if parts.division[:2] not in PROVINCES:
        raise InvalidGbCode(f"division {parts.division} names no province "
                            f"(GB/T 2260: {parts.division[:2]} is none)")
    return parts


def decode_camera(code: str) -> GbCode:
    """The parts of a camera's code: a valid code of device type 131 or 132."""
    parts = decode(code)
    if parts.device_type not in CAMERA_TYPES:
        kind = DEVICE_TYPES.get(parts.device_type)
        what = f"{parts.device_type} ({kind})" if kind else f"{parts.device_type} (unassigned)"
        raise InvalidGbCode(f"device type {what} is not a camera: cameras are "
                            f"{' or '.join(CAMERA_TYPES)}")
    return parts


def describe(parts: GbCode) -> dict[str, str | None]:
    """The code's parts with the standard's names, as the API shows them."""
    return {"division": parts.division, "county": parts.county,
            "industry": parts.industry, "industry_name": INDUSTRIES.get(parts.industry),
            "device_type": parts.device_type,
            "device_type_name": DEVICE_TYPES.get(parts.device_type),
            "network": parts.network, "network_name": NETWORKS.get(parts.network),
            "serial": parts.serial}
