"""Cleaning messy hotline addresses and parsing them into parts: pure functions, no database.

A hotline address arrives as typed or transcribed, e.g.
"江苏省苏州市吴江区七都镇 开弦弓村南环路十八号门口有垃圾". `parse` turns it into
AddressParts(village="开弦弓村", road="南环路", number="18") in steps, each driven by a table:
half-width forms, Arabic numerals, no punctuation, no leading filler or administrative prefixes
(also without their 省/市/区/镇: 江苏苏州吴江…), nothing after the first noise word, then
village → road (or 组) → lane → number → POI, each token starting where the previous one
ended, so that complaint text after the address is left.

The administrative names removed from the front are not forgotten: `read_address` returns
them (`AdminName`: 吴江区, 松陵镇, 江苏…), so that the geocoder can refuse an address of a
place this deployment does not serve (`gis_service/geocode/area.py`).

`search_key` builds the text the database matches trigrams against; the migration's SQL
function `address_search_key` builds the same text for stored rows (tests check they agree).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff"  # 〇, CJK extension A, CJK unified ideographs
KEY_CHARS = re.compile(f"[^0-9A-Za-z{HAN}]")  # the SQL function keeps the same characters

# Prefixes removed wherever they open an address (longest first); configurable per town.
DEFAULT_PREFIXES: tuple[str, ...] = (
    "江苏省", "苏州市", "吴江区", "吴江经济技术开发区", "太湖新城", "七都镇",
)

# Administrative levels that may open an address, outermost first; each is removed at most once.
# A name is Han characters that are no address words, so "开弦弓村水乡路" keeps its village.
# A bare 州 is left out: the prefectures named so have one-character names (苏州, 湖州), which
# the two characters asked for never take; 盟 and 旗 (Inner Mongolia) and the autonomous 州
# and 县 are taken. No level may be followed by an address word: 美丽乡村, 五星红旗路.
_NAME = r"(?:(?![村路街巷弄号组])[\u4e00-\u9fff])"
_NOT_ADDRESS = "(?![路街道巷弄桥村])"
ADMIN_PATTERNS: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    rf"{_NAME}{{2,3}}?省|{_NAME}{{2,5}}?自治区",
    rf"{_NAME}{{2,4}}?(?<![超菜门])市(?![场民])|{_NAME}{{2,8}}?自治州"
    rf"|{_NAME}{{2,4}}?盟{_NOT_ADDRESS}",
    rf"{_NAME}{{2,4}}?(?<![小社园景厂校营超菜门])(?:区|县|市)(?![场民])|{_NAME}{{2,8}}?自治县"
    rf"|{_NAME}{{2,6}}?旗{_NOT_ADDRESS}",
    rf"{_NAME}{{2,4}}?(?:镇|乡|街道){_NOT_ADDRESS}",
))
TOWN_LEVEL = len(ADMIN_PATTERNS) - 1  # the last pattern names towns (镇, 乡, 街道)
# Areas that end like a level but name no administrative unit: removed as before, but no
# evidence of another place (太湖保护区, 七都工业区, 太湖小镇).
NOT_ADMIN_ENDINGS = ("工业区", "开发区", "保护区", "生活区", "住宅区", "商业区", "度假区",
                     "旅游区", "示范区", "集中区", "服务区", "养殖区", "小镇")

# Provinces as callers name them without 省/自治区 (江苏苏州吴江…).
PROVINCE_NAMES: tuple[str, ...] = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南",
    "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
)
ADMIN_SUFFIXES = ("街道", "省", "市", "区", "县", "镇", "乡")
TOWN_SUFFIXES = ("街道", "镇", "乡")
# A bare name (苏州, 七都) may also open a name (七都大道, 七都社区, 苏州银行): it is removed
# only before another prefix, or before a village or road that does not begin with these.
NAME_CONTINUATIONS = ("村", "社区", "小区", "大道", "路", "街", "道", "巷", "弄")

# Filler that opens a caller's sentence (longest first).
LEADING_FILLER: tuple[str, ...] = (
    "市民来电反映", "来电反映", "市民反映", "群众反映", "我家住在", "我家在", "我住在", "我在",
    "家住", "住在", "地址是", "地址为", "地址", "住址", "位置在", "位于", "就在", "反映", "投诉",
    "举报", "在",
)

# Words after which nothing belongs to the address (found from the second character on).
NOISE_WORDS: tuple[str, ...] = (
    "附近", "门口", "旁边", "边上", "对面", "隔壁", "周边", "一带", "里面", "后面",
    "前面", "东侧", "西侧", "南侧", "北侧", "有人", "垃圾", "噪音", "噪声", "扰民",
    "占道", "经营", "乱", "违章", "违建", "积水", "漏水", "污水", "异味", "堆放",
    "焚烧", "施工", "投诉", "反映", "举报", "发生", "出现", "存在", "损坏", "破损",
)
# Noise words whose first character may belong: "南环路口" keeps "南环路", but "南环路路口"
# and "菜市场路边" keep no second 路. Before 路口 only a road word takes the 路 back: in
# "七都中心小学路口", "虹桥路口" or "江村路口" it may be a road's; the parser offers both.
NOISE_AFTER_FIRST: tuple[str, ...] = ("路口", "路边", "村口")

DIGITS = {"零": 0, "〇": 0, "幺": 1, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
          "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}
# Chinese numerals become Arabic only before these words (and after 之), so names keep theirs.
NUMBERED_WORDS = ("号", "组", "弄", "栋", "幢", "单元", "室", "楼", "层", "巷", "之")
_NUMERAL_CHAR = f"[{''.join(DIGITS)}{''.join(UNITS)}]"
_NUMERAL = f"{_NUMERAL_CHAR}+"
NUMERAL_RUN = re.compile(rf"第?({_NUMERAL})(?=(?:{'|'.join(NUMBERED_WORDS)}))|(?<=之)({_NUMERAL})")
DASHES = "-—–~_"
# 18-一号, 十八-一号, 十八-1号: a dash beside a Chinese numeral reads as 之 (18之1号), so that
# it is kept; the numeral after it must end the number (not 5-七都).
_ANY_DIGIT = f"[0-9{''.join(DIGITS)}{''.join(UNITS)}]"
NUMERAL_DASH = re.compile(
    rf"(?<={_ANY_DIGIT})\s*[{DASHES}]+\s*(?={_NUMERAL}(?:号|栋|幢|室|$|[^{HAN}]))"
    rf"|(?<={_NUMERAL_CHAR})\s*[{DASHES}]+\s*(?=\d)")

POI_SUFFIXES: tuple[str, ...] = (
    "学校", "小学", "中学", "幼儿园", "大学", "学院", "公司", "厂", "市场", "菜场", "广场", "商场",
    "超市", "加油站", "车站", "站", "医院", "卫生院", "卫生室", "诊所", "公园", "码头", "银行",
    "酒店", "宾馆", "饭店", "村委会", "居委会", "委员会", "派出所", "中心", "大厦", "寺", "庙",
    "工业园", "园区", "养老院", "敬老院", "体育馆", "图书馆", "礼堂", "祠堂", "农场", "渔场", "桥",
    "店", "政府", "工地", "场所", "产业园", "小区",  # a 小区 is a housing estate, not a village
)


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_HAN1 = "[\u4e00-\u9fff]"
VILLAGE = re.compile(rf"{_HAN1}{{1,10}}?(?:村|社区|花园|家园)(?![路街道巷弄桥民])")
GROUP = re.compile(r"\d+组")
ROAD = re.compile(rf"{_HAN1}{{1,8}}?(?:大道|路|街|道|巷|弄)(?![街道巷])")
LANE = re.compile(r"\d+(?:弄|巷)")
# 18号, 18-2号, 18之2号, 18号之2, 5栋, or bare digits that are not a 组/弄/单元/室… number
NUMBER = re.compile(r"(\d+)(?:[-之](\d+))?"
                    r"(?:(?:号楼|号|栋|幢)(?:之(\d+)号?)?|(?![\d组弄巷单元室层楼]))")
# Text ending in a place word: a 路 or 村 after it opens a noise word, not a name.
PLACE_END = re.compile(f"(?:路|街|道|巷|弄|村|区|号|组|{_alternation(POI_SUFFIXES)})$")
ROAD_END = re.compile("(?:路|街|道|巷|弄|区|号|组)$")  # not 村: 江村路口 may be 江村路's
POI_KINDS = tuple(sorted(POI_SUFFIXES, key=len, reverse=True))
# Three or more Han characters: a name left after the village or road (庙港社区庙港渔港).
NAME_ONLY = re.compile(f"{_HAN1}{{3,}}")
HAN_CHAR = re.compile(_HAN1)
# Greedy: "七都中心小学" is one POI, not "七都中心" + "小学".
POI = re.compile(rf"{_HAN1}{{1,12}}(?:{_alternation(POI_SUFFIXES)})(?![路街道巷弄村])")


@dataclass(frozen=True)
class AddressParts:
    """A parsed address: `text` is the cleaned address up to its last token."""

    text: str
    village: str | None = None
    road: str | None = None
    number: str | None = None  # canonical: "18" or "18-2"
    poi: str | None = None

    @property
    def empty(self) -> bool:
        """True when no part was found."""
        return not (self.village or self.road or self.number or self.poi)

    def key(self) -> str:
        """The search key of these parts (the form stored rows are matched in)."""
        return search_key(self.village, self.road, self.number, self.poi)


@dataclass(frozen=True)
class AdminName:
    """An administrative name an address opens with, as written (吴江区, 松陵镇, 江苏, 七都):
    a town's (镇/乡/街道) or one above the towns (province, city, county or district)."""

    name: str
    town: bool


@dataclass(frozen=True)
class ReadAddress:
    """A hotline address read: its parts, and the administrative names it opened with."""

    parts: AddressParts
    named: tuple[AdminName, ...] = ()


def chinese_to_int(numeral: str) -> int:
    """十八 → 18, 一百零三 → 103, 一百三 → 130; without 十/百/千 read digit by digit (一零三)."""
    if not any(c in UNITS for c in numeral):
        return int("".join(str(DIGITS[c]) for c in numeral))
    total, digit, last_unit, after_zero = 0, None, 1, False
    for char in numeral:
        if char in UNITS:
            total += (1 if digit is None else digit) * UNITS[char]
            digit, last_unit, after_zero = None, UNITS[char], False
        elif DIGITS[char] == 0:
            after_zero = True
        else:
            digit = DIGITS[char]
    if digit is not None:
        # a digit right after a unit counts one unit lower: 一百三 is 130, 一百零三 is 103
        total += digit * (1 if after_zero else max(last_unit // 10, 1))
    return total


def arabic_numerals(text: str) -> str:
    """Chinese numerals before 号/组/弄/栋/幢… (and after 之) as Arabic: 十八号 → 18号."""
    return NUMERAL_RUN.sub(lambda m: str(chinese_to_int(m.group(1) or m.group(2))), text)


def half_width(text: str) -> str:
    """Full-width letters, digits and punctuation as ASCII (NFKC); 號 as 号; upper case."""
    return unicodedata.normalize("NFKC", text).replace("號", "号").upper()


def strip_punctuation(text: str) -> str:
    """Only Han, letters and digits remain, "-" between digits (18-2号) and 之 for a dash
    beside a Chinese numeral (18-一号 → 18之一号)."""
    text = re.sub(r"(\d)\s*#", r"\1号", text)
    text = re.sub(rf"(\d)\s*[{DASHES}]+\s*(?=\d)", r"\1-", text)
    text = NUMERAL_DASH.sub("之", text)
    return re.sub(f"[^0-9A-Z{HAN}-]|(?<!\\d)-|-(?!\\d)", "", text)


def strip_prefixes(text: str, prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> str:
    """Remove leading filler, the configured prefixes and province…town levels, also when
    named without their 省/市/区/镇 (江苏苏州吴江七都开弦弓村 → 开弦弓村)."""
    return _strip_named(text, prefixes)[0]


def _strip_named(text: str, prefixes: tuple[str, ...]) -> tuple[str, tuple[AdminName, ...]]:
    """`strip_prefixes`, and the administrative names it removed, in order."""
    ordered = sorted(prefixes, key=len, reverse=True)
    named: list[AdminName] = []
    level, changed = 0, True
    while changed:
        changed = False
        for word in LEADING_FILLER:
            if text.startswith(word):
                text, changed = text[len(word):], True
        for word in ordered:
            if text.startswith(word):
                text, changed = text[len(word):], True
                named += _admin_name(word, word)
        for index in range(level, len(ADMIN_PATTERNS)):
            match = ADMIN_PATTERNS[index].match(text)
            if match:
                text, level, changed = text[match.end():], index + 1, True
                named += _split_named(match.group(), index == TOWN_LEVEL, prefixes)
                break
        bare = _bare_name(text, prefixes)
        if bare:
            text, changed = text[len(bare):], True
            named += _admin_name(bare, _bare_source(bare, prefixes))
    return text, tuple(named)


def _split_named(name: str, town: bool, prefixes: tuple[str, ...]) -> list[AdminName]:
    """A level's name as the names it is made of: "吴江七都镇" (after 江苏) is 吴江 + 七都镇,
    one bare name and the level's own; none for an area that is no administrative unit."""
    if name.endswith(NOT_ADMIN_ENDINGS):
        return []
    for bare in bare_names(prefixes):
        rest = name[len(bare):]
        if name.startswith(bare) and len(rest) >= 3:
            return _admin_name(bare, _bare_source(bare, prefixes)) + _split_named(
                rest, town, prefixes)
    return [AdminName(name, town)]


def _admin_name(name: str, source: str) -> list[AdminName]:
    """`name` as an administrative name, a town's when `source` (the prefix it stands for)
    ends in 镇/乡/街道; none when `source` is no administrative name (太湖新城)."""
    if name in PROVINCE_NAMES or source.endswith(ADMIN_SUFFIXES):
        return [AdminName(name, source.endswith(TOWN_SUFFIXES))]
    return []


def _bare_source(bare: str, prefixes: tuple[str, ...]) -> str:
    """The configured prefix a bare name is the stem of (七都 → 七都镇), or the name itself."""
    return next((p for p in prefixes if p != bare and p.startswith(bare)
                 and p[len(bare):] in ADMIN_SUFFIXES), bare)


@lru_cache(maxsize=64)
def bare_names(prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> tuple[str, ...]:
    """Province names and the prefixes without their 省/市/区/县/镇/乡, longest first."""
    stems = {p.removesuffix(s) for p in prefixes for s in ADMIN_SUFFIXES if p.endswith(s)}
    names = {n for n in (*PROVINCE_NAMES, *stems) if len(n) >= 2}
    return tuple(sorted(names, key=len, reverse=True))


def _bare_name(text: str, prefixes: tuple[str, ...]) -> str | None:
    """The bare region name opening `text`, when what follows it opens an address."""
    for name in bare_names(prefixes):
        if text.startswith(name) and _opens_address(text[len(name):], prefixes):
            return name
    return None


def _opens_address(text: str, prefixes: tuple[str, ...]) -> bool:
    """Whether `text` begins with a prefix, or a village or road of its own (3+ characters);
    not with an administrative suffix: 七都 + 镇庙港社区 is 七都镇 + 庙港社区."""
    if text.startswith((*NAME_CONTINUATIONS, *ADMIN_SUFFIXES)):
        return False
    if text.startswith((*prefixes, *bare_names(prefixes))):
        return True
    if any(pattern.match(text) for pattern in ADMIN_PATTERNS):
        return True
    text = cut_noise(text, road_mouths=False)  # 中心小学路口 is not taken for a road
    return any(len(match.group()) >= 3 for match in (VILLAGE.match(text), ROAD.match(text))
               if match)


def cut_noise(text: str, *, road_mouths: bool = True) -> str:
    """The text before the first noise word (附近, 门口, 有垃圾…), found from position 1 on.
    `road_mouths` False: a place word before 路口 keeps no 路 either (七都中心小学路口)."""
    end = len(text)
    for word in NOISE_WORDS + NOISE_AFTER_FIRST:
        found = text.find(word, 1)
        if found != -1:
            before = ROAD_END if word == "路口" and road_mouths else PLACE_END
            keep_first = word in NOISE_AFTER_FIRST and not before.search(text, 0, found)
            end = min(end, found + 1 if keep_first else found)
    return text[:end]


def clean(raw: str, *, prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> str:
    """The address of a hotline text: half-width, Arabic numbers, no prefixes, no noise."""
    return _clean_and_rest(raw, prefixes)[0]


def _clean_and_rest(raw: str, prefixes: tuple[str, ...]
                    ) -> tuple[str, str, tuple[AdminName, ...]]:
    """The cleaned address, the text cut off after it, and the names cut off before it."""
    text, named = _strip_named(arabic_numerals(strip_punctuation(half_width(raw))), prefixes)
    address = cut_noise(text)
    return address, text[len(address):], named


def parse(raw: str, *, prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> AddressParts:
    """Clean a hotline address and split it into village, road, number and POI."""
    return read_address(raw, prefixes=prefixes).parts


def read_address(raw: str, *, prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> ReadAddress:
    """`parse`, with the administrative names the address opened with (江苏省, 松陵镇…)."""
    address, rest, named = _clean_and_rest(raw, prefixes)
    parts = _parse_clean(address)
    return ReadAddress(_road_mouth(address, parts) if rest.startswith("口") else parts, named)


def _road_mouth(address: str, parts: AddressParts) -> AddressParts:
    """"庙港渔港路口" is the mouth of a road 庙港渔港路, or the junction by a place 庙港渔港
    (七都中心小学路口): a name of 3+ characters before 路口 is also offered as a POI, and
    the ranking decides; "太湖路口", "太湖村虹桥路口" stay roads. After a house number it is
    a place (…1号滨湖安置房工地路口)."""
    if parts.number:
        return _parse_clean(address.removesuffix("路"))
    if not parts.text.endswith("路"):
        return parts
    name = parts.text[:-1]
    if parts.poi == parts.text or (
            not parts.poi and len(name) - len(parts.village or "") >= 3):
        return replace(parts, poi=name)
    return parts


@lru_cache(maxsize=16_384)
def parse_cached(raw: str, prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> AddressParts:
    """`parse`, remembered: stored addresses are parsed again and again while ranking."""
    return parse(raw, prefixes=prefixes)


def _take(pattern: re.Pattern[str], text: str, position: int) -> tuple[str | None, int]:
    """The token `pattern` matches right at `position`, and where the text goes on."""
    match = pattern.match(text, position)
    return (match.group(), match.end()) if match else (None, position)


def _parse_clean(text: str) -> AddressParts:
    """Village → road (or 组) → lane → number, each where the previous ended; then a POI."""
    village, position = _take(VILLAGE, text, 0)
    group, position = _take(GROUP, text, position)
    road, position = _take(ROAD, text, position)
    road = road or group  # a named road wins over a 组 (村3组南环路18号)
    lane, after_lane = _take(LANE, text, position)
    if lane and road:
        road, position = road + lane, after_lane
    number = None
    match = NUMBER.match(text, position) if (village or road) else None
    if match:
        main, sub = match.group(1), match.group(2) or match.group(3)
        number = f"{int(main)}-{int(sub)}" if sub else str(int(main))
        position = match.end()
    poi = _poi_match(text, position, after_number=number is not None)
    name = poi.group() if poi else None
    if poi:
        position = poi.end()
    elif (village or road) and not number and NAME_ONLY.fullmatch(text, position):
        name, position = text[position:], len(text)  # a name without a POI word (庙港渔港)
    parts = AddressParts(text[:position] if position else text, village, road, number, name)
    if parts.empty and text:
        # no address word at all: perhaps a place known by name only ("太湖人家")
        return AddressParts(text, poi=text)
    return parts


def _poi_match(text: str, position: int, after_number: bool) -> re.Match[str] | None:
    """The POI: right after a number; else one that begins the text and covers the village
    and road found ("开弦弓村小学"), or one after them (七都社区七都社区第二便民服务站),
    whichever reaches further. A name that ends in a one-character word (庙, 桥…) must end
    there: "东庙桥村" holds no POI "东庙", "庙港社区庙港渔港" none "庙港社区庙"."""
    starts = (position,) if after_number else (0, position)
    found = [m for m in (POI.match(text, start) for start in starts)
             if m and m.end() >= position and not _cut_short(m, text)]
    return max(found, key=lambda m: m.end(), default=None)


def _cut_short(match: re.Match[str], text: str) -> bool:
    """Whether a POI ending in a one-character word is followed by more of a name."""
    kind = next(k for k in POI_KINDS if match.group().endswith(k))
    return len(kind) == 1 and bool(HAN_CHAR.match(text, match.end()))


def key_part(value: str | None) -> str | None:
    """A stored or parsed part as it appears in a search key (None when nothing is left)."""
    if value is None:
        return None
    return KEY_CHARS.sub("", unicodedata.normalize("NFKC", value).upper()) or None


def number_key(value: str | None) -> str | None:
    """A house number as "18" or "18-2" (from 18号, 18-2号, 18号之2, ５栋 …)."""
    if value is None:
        return None
    text = re.sub("[之—–~]", "-", unicodedata.normalize("NFKC", value))
    text = re.sub(r"(?<![0-9])0+(?=[0-9])", "", re.sub(r"[^0-9-]", "", text))
    match = re.search(r"[0-9]+(?:-[0-9]+)?", text)
    return match.group() if match else None


def search_key(village: str | None, road: str | None, number: str | None,
               poi: str | None) -> str:
    """Village, road, number and POI as space-separated words (pg_trgm pads each word)."""
    words = (key_part(village), key_part(road), number_key(number), key_part(poi))
    return " ".join(word for word in words if word)
