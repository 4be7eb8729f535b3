"""The address normaliser: pure functions, checked on tables of messy hotline addresses."""

from __future__ import annotations

import pytest

from gis_service.geocode.normalize import (
    AddressParts,
    arabic_numerals,
    chinese_to_int,
    clean,
    cut_noise,
    half_width,
    number_key,
    parse,
    search_key,
    strip_prefixes,
    strip_punctuation,
)


@pytest.mark.parametrize(("numeral", "value"), [
    ("一", 1), ("十", 10), ("十八", 18), ("二十", 20), ("二十一", 21), ("九十九", 99),
    ("一百", 100), ("一百零三", 103), ("一百一十", 110), ("一百一十五", 115), ("一百三", 130),
    ("两千零五", 2005), ("三千二百", 3200), ("一零三", 103), ("幺五", 15), ("两", 2),
    ("〇", 0),
])
def test_chinese_numerals(numeral: str, value: int) -> None:
    assert chinese_to_int(numeral) == value


@pytest.mark.parametrize(("text", "expected"), [
    ("南环路十八号", "南环路18号"),
    ("南环路一百零三号", "南环路103号"),
    ("开弦弓村二十一组", "开弦弓村21组"),
    ("开弦弓村第三组", "开弦弓村3组"),
    ("五十八弄三号", "58弄3号"),
    ("阳光花园五栋二单元三室", "阳光花园5栋2单元3室"),
    ("十八号之二", "18号之2"),
    ("五一路", "五一路"),  # numerals in a name stay
    ("三八村", "三八村"),
    ("一百三号", "130号"),
])
def test_arabic_numerals(text: str, expected: str) -> None:
    assert arabic_numerals(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("开弦弓村南环路１８号", "开弦弓村南环路18号"),
    ("開弦弓村　南環路 18號", "開弦弓村南環路18号"),
    ("ａｂｃ", "ABC"),
])
def test_half_width(text: str, expected: str) -> None:
    assert strip_punctuation(half_width(text)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("开弦弓村，南环路、18 号。", "开弦弓村南环路18号"),
    ("南环路18 - 2号", "南环路18-2号"),
    ("南环路18—2号", "南环路18-2号"),
    ("南环路18#", "南环路18号"),
    ("(开弦弓村)【南环路】“18”号!", "开弦弓村南环路18号"),
    ("-南环路-", "南环路"),
])
def test_strip_punctuation(text: str, expected: str) -> None:
    assert strip_punctuation(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("江苏省苏州市吴江区七都镇开弦弓村", "开弦弓村"),
    ("苏州市七都镇开弦弓村", "开弦弓村"),
    ("七都镇开弦弓村", "开弦弓村"),
    ("浙江省湖州市南浔区开弦弓村", "开弦弓村"),
    ("江苏省苏州市昆山市周市镇横泾路5号", "横泾路5号"),
    ("黑龙江省哈尔滨市道里区新阳路", "新阳路"),
    ("松陵街道开平路", "开平路"),
    ("我家在开弦弓村", "开弦弓村"),
    ("市民反映七都镇开弦弓村", "开弦弓村"),
    ("地址是吴江区七都镇开弦弓村", "开弦弓村"),
    ("开弦弓村水乡路3号", "开弦弓村水乡路3号"),  # 乡 inside a road is no 乡
    ("阳光小区5栋", "阳光小区5栋"),  # 小区 is no 区
    ("望湖超市", "望湖超市"),  # 超市 is no 市
    ("七都菜市场", "七都菜市场"),
    ("镇南路5号", "镇南路5号"),
])
def test_strip_prefixes(text: str, expected: str) -> None:
    assert strip_prefixes(text) == expected


def test_prefixes_are_configurable() -> None:
    assert strip_prefixes("太湖新城开弦弓村") == "开弦弓村"
    assert strip_prefixes("东太湖度假区开弦弓村", ("东太湖度假区",)) == "开弦弓村"


@pytest.mark.parametrize(("text", "expected"), [
    ("开弦弓村南环路18号附近", "开弦弓村南环路18号"),
    ("开弦弓村南环路18号门口有垃圾", "开弦弓村南环路18号"),
    ("开弦弓村南环路18号旁边噪音扰民", "开弦弓村南环路18号"),
    ("开弦弓村南环路18号对面占道经营", "开弦弓村南环路18号"),
    ("开弦弓村南环路口", "开弦弓村南环路"),
    ("开弦弓村南环路路口", "开弦弓村南环路"),
    ("南环路边积水", "南环路"),
    ("七都菜市场路边积水", "七都菜市场"),
    ("开弦弓村口", "开弦弓村"),
    ("开弦弓村有人占道经营", "开弦弓村"),
])
def test_cut_noise(text: str, expected: str) -> None:
    assert cut_noise(text) == expected


@pytest.mark.parametrize(("raw", "village", "road", "number", "poi"), [
    ("江苏省苏州市吴江区七都镇 开弦弓村南环路十八号门口有垃圾", "开弦弓村", "南环路", "18", None),
    ("开弦弓村 南环路，１８ 号附近噪音扰民", "开弦弓村", "南环路", "18", None),
    ("开弦弓村二十一组一百零三号", "开弦弓村", "21组", "103", None),
    ("我家在开弦弓村南环路18号之二", "开弦弓村", "南环路", "18-2", None),
    ("开弦弓村南环路18-2号", "开弦弓村", "南环路", "18-2", None),
    ("开弦弓村南环路58弄3号", "开弦弓村", "南环路58弄", "3", None),
    ("庙港社区太湖大道八号", "庙港社区", "太湖大道", "8", None),
    ("阳光花园5栋3单元502室", "阳光花园", None, "5", None),
    ("南环路18", None, "南环路", "18", None),
    ("南还路18号", None, "南还路", "18", None),
    ("开弦弓村村前路5号", "开弦弓村", "村前路", "5", None),
    ("前村路18号", None, "前村路", "18", None),  # 前村 followed by 路 is no village
    ("开弦弓村18号", "开弦弓村", None, "18", None),
    ("开弦弓村", "开弦弓村", None, None, None),
    ("东庙桥村", "东庙桥村", None, None, None),  # no POI "东庙" inside a village
    ("七都中心小学门口占道经营", None, None, None, "七都中心小学"),
    ("开弦弓村小学", "开弦弓村", None, None, "开弦弓村小学"),
    ("开弦弓村委会", "开弦弓村", None, None, "开弦弓村委会"),
    ("开弦弓村南环路加油站", "开弦弓村", "南环路", None, "开弦弓村南环路加油站"),
    ("车站路5号", None, "车站路", "5", None),
    ("七都菜市场门口占道经营", None, None, None, "七都菜市场"),
    ("望湖超市噪音扰民", None, None, None, "望湖超市"),
    ("太湖人家", None, None, None, "太湖人家"),  # no address word: taken as a name
])
def test_parse(raw: str, village: str | None, road: str | None, number: str | None,
               poi: str | None) -> None:
    parts = parse(raw)
    assert (parts.village, parts.road, parts.number, parts.poi) == (village, road, number, poi)


def test_parse_keeps_the_address_text_only() -> None:
    parts = parse("市民反映七都镇开弦弓村南环路18号有垃圾")
    assert parts.text == "开弦弓村南环路18号"


def test_nothing_to_parse() -> None:
    assert parse("  ，。 ").empty
    assert clean("附近") == "附近"  # a noise word opening the text is not cut to nothing


@pytest.mark.parametrize(("number", "key"), [
    ("18号", "18"), ("18", "18"), ("18-2号", "18-2"), ("18号之2", "18-2"), ("１８号", "18"),
    ("5栋", "5"), ("018号", "18"), ("0", "0"), ("007-03", "7-3"), ("号", None), (None, None),
])
def test_number_key(number: str | None, key: str | None) -> None:
    assert number_key(number) == key


def test_search_key_joins_parts_with_spaces() -> None:
    assert search_key("开弦弓村", "南环路", "18号", None) == "开弦弓村 南环路 18"
    assert search_key(" 开弦弓 村", None, "18号之2", "开弦弓小学") == "开弦弓村 18-2 开弦弓小学"
    assert search_key(None, None, None, None) == ""
    assert AddressParts("", "开弦弓村", "南环路", "18").key() == "开弦弓村 南环路 18"
