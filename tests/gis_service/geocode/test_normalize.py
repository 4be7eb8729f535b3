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
    ("七都中心小学路口", "七都中心小学路"),  # perhaps a road's mouth: the parser decides
    ("开弦弓村口", "开弦弓村"),
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


@pytest.mark.parametrize(("text", "expected"), [
    ("江苏苏州吴江七都镇开弦弓村秀水路18号", "开弦弓村秀水路18号"),
    ("苏州吴江开弦弓村秀水路18号", "开弦弓村秀水路18号"),
    ("江苏吴江七都开弦弓村", "开弦弓村"),
    ("江苏苏州市吴江区七都镇开弦弓村", "开弦弓村"),
    ("浙江湖州南浔区开弦弓村", "开弦弓村"),
    ("七都秀水路18号", "秀水路18号"),  # the town without 镇, before a road
    ("苏州吴江七都大道53号", "七都大道53号"),
    # a bare name that opens a name stays
    ("七都大道53号", "七都大道53号"),
    ("七都社区朝阳路5号", "七都社区朝阳路5号"),
    ("七都农贸市场", "七都农贸市场"),
    ("七都中心小学路口", "七都中心小学路口"),
    ("七都新村", "七都新村"),
    ("江苏银行", "江苏银行"),
    ("江苏路5号", "江苏路5号"),
])
def test_strip_bare_region_names(text: str, expected: str) -> None:
    assert strip_prefixes(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("南环路18-一号", "南环路18之一号"),
    ("南环路18 — 二号", "南环路18之二号"),
    ("南环路十八-一号", "南环路十八之一号"),
    ("南环路十八-1号", "南环路十八之1号"),
    ("南环路18-2号", "南环路18-2号"),  # digits on both sides keep their dash
    ("南环路5-七都", "南环路5七都"),  # a numeral that opens a name is no sub-number
])
def test_a_dash_before_a_chinese_numeral_reads_as_zhi(text: str, expected: str) -> None:
    assert strip_punctuation(text) == expected


@pytest.mark.parametrize(("raw", "number"), [
    ("开弦弓村秀水路18-一号", "18-1"),
    ("开弦弓村秀水路18之一号", "18-1"),
    ("开弦弓村秀水路18－1号", "18-1"),  # full-width hyphen
    ("开弦弓村秀水路18—二号", "18-2"),
    ("开弦弓村秀水路十八-一号", "18-1"),
    ("开弦弓村秀水路十八之二号门口", "18-2"),
    ("开弦弓村秀水路18之2号", "18-2"),
    ("开弦弓村秀水路18号之一", "18-1"),
])
def test_sub_numbers(raw: str, number: str) -> None:
    parts = parse(raw)
    assert (parts.village, parts.road, parts.number) == ("开弦弓村", "秀水路", number)


@pytest.mark.parametrize(("raw", "village", "road", "number", "poi"), [
    ("江苏苏州吴江七都镇开弦弓村秀水路18号", "开弦弓村", "秀水路", "18", None),
    ("苏州吴江开弦弓村秀水路十八号附近", "开弦弓村", "秀水路", "18", None),
    # a road mouth: the road, no number; a name before 路口 may also be a place's
    ("太湖路口", None, "太湖路", None, None),
    ("太湖路口有积水", None, "太湖路", None, None),
    ("太湖路路口", None, "太湖路", None, None),
    ("庙港渔港路口", None, "庙港渔港路", None, "庙港渔港"),
    ("开弦弓村南环路口", "开弦弓村", "南环路", None, None),
    ("七都中心小学路口", None, "七都中心小学路", None, "七都中心小学"),
    ("太湖村虹桥路口", "太湖村", "虹桥路", None, None),  # 桥 opens no place here
    ("东庙桥村快递站路口", "东庙桥村", "快递站路", None, "东庙桥村快递站"),
    ("七都菜市场路边积水", None, None, None, "七都菜市场"),
    ("联强村向阳路1号滨湖安置房工地路口", "联强村", "向阳路", "1", "滨湖安置房工地"),
    # a 小区 is a housing estate: a place, not a village
    ("阳光小区5栋", None, None, None, "阳光小区"),
    ("七都阳光小区门口", None, None, None, "七都阳光小区"),
    ("庙港社区农资店", "庙港社区", None, None, "庙港社区农资店"),
    ("七都镇人民政府", None, None, None, "人民政府"),
    ("七都农贸市场门口", None, None, None, "七都农贸市场"),
    ("太湖湖滨公园", None, None, None, "太湖湖滨公园"),
    ("七都社区七都社区第二便民服务站", "七都社区", None, None, "七都社区第二便民服务站"),
    ("东庙桥村东庙桥村第二便民服务站", "东庙桥村", None, None, "东庙桥村第二便民服务站"),
    # a one-character place word (庙, 桥) must end the name: no POI "庙港社区庙" here …
    ("七都镇庙港社区庙港渔港", "庙港社区", None, None, "庙港渔港"),
    ("庙港社区庙", "庙港社区", None, None, "庙港社区庙"),  # … but here
    ("开弦弓村东头", "开弦弓村", None, None, None),  # two characters make no name
    ("江村路口", None, "江村路", None, None),  # 江村路's mouth, or the village 江村's
])
def test_parse_more_forms(raw: str, village: str | None, road: str | None,
                          number: str | None, poi: str | None) -> None:
    parts = parse(raw)
    assert (parts.village, parts.road, parts.number, parts.poi) == (village, road, number, poi)
