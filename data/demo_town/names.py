"""Name tables: people, roads and places. All invented for the demo; no real person is meant."""

from __future__ import annotations

import random

# common surnames of the Taihu plain, the first ones more often
SURNAMES = (
    "沈", "吴", "张", "王", "陈", "周", "徐", "钱", "朱", "陆", "顾", "姚", "费", "金", "杨",
    "李", "蒋", "孙", "潘", "施", "许", "汤", "邱", "严", "凌", "倪", "范", "俞", "戴", "蔡",
    "唐", "胡", "邵", "丁", "宋", "叶", "卢", "任", "吕", "谢",
)
GIVEN = (
    "建", "国", "明", "华", "伟", "强", "军", "平", "勇", "峰", "志", "海", "林", "斌", "杰",
    "涛", "磊", "超", "波", "辉", "敏", "静", "丽", "芳", "燕", "红", "萍", "婷", "霞", "琴",
    "娟", "雪", "晓", "春", "秋", "文", "新", "忠", "良", "宏", "一", "子", "佳", "俊", "宇",
    "浩", "晨", "欣", "怡", "雨", "梅", "兰", "桂", "英", "荣", "昌", "德", "亮", "刚", "成",
)

ROAD_NAMES = (
    "太湖路", "港湾路", "新民路", "兴业路", "庙前街", "渔港路", "蚕桑路", "丝绸路", "育才路",
    "胜利路", "和平街", "长漾路", "溇港路", "临湖路", "沿河路", "桑园巷", "望湖路", "吴溇街",
    "浦江路", "东风路", "建设路", "人民路", "振兴路", "富民路", "创业路", "文化路", "学府路",
    "光电路", "湖滨路", "清风路", "明月路", "荷花路", "梅园路", "竹园路", "茶园路", "金港路",
    "银杏路", "枫桥路", "双塘路", "庄前路", "西河街", "东河街", "光明路", "青云路", "瑞丰路",
    "永安路", "同心路", "友谊路", "翠湖路", "长春路", "联谊路", "新港路", "丰收路", "向阳路",
    "菱湖路", "芦墟路", "稻香路", "鱼米路", "渡口路", "北塘路", "南塘路", "石桥路", "横港路",
    "江村路", "书院路", "蚕花路", "湖光路", "柳堤路", "月湾路", "观澜路", "水韵路", "银湖路",
    "朝阳路", "桃源路", "杏花路", "莲塘路", "秀水路", "碧波路", "思贤路", "宜家路", "安居路",
    "乐业路", "康宁路", "惠民路", "育英路", "致富路", "迎春路", "平安路", "景湖路", "云湖路",
    "锦绣路", "嘉禾路", "丰乐路", "长堤路", "新桥路", "东港路", "西港路", "虹桥路", "苇荡路",
)
SHARED_ROADS = ("幸福路", "中心街", "村前路")  # in several villages: ambiguous without one
TOWN_ROADS = ("环湖大道", "七都大道")  # numbered along their whole length across villages
GROUP_VILLAGES = ("沧浦村", "丰民村", "光荣村")  # rural addressing: 村 + N组 + N号
INDUSTRIAL_ROADS = ("光电路", "创业路", "兴业路")

FACTORIES = (
    "七都光缆一厂", "太湖线缆有限公司", "七都电子材料厂", "浦江源纺织厂", "七都光电科技公司",
    "吴溇五金厂", "七都包装材料厂", "太湖新材料公司", "太湖电力器材厂", "七都精密机械厂",
    "东庙桥丝绸厂", "七都物流中心",
)
TOWN_POIS = (
    ("七都中学", "school"), ("七都实验幼儿园", "school"), ("七都镇人民政府", "seat"),
    ("七都派出所", "seat"), ("七都汽车站", "seat"), ("七都文体中心", "seat"),
    ("七都镇敬老院", "seat"), ("七都镇应急避难场所", "seat"), ("七都人民医院", "seat"),
    ("湖滨公园游客中心", "scenic"), ("庙港渔港码头", "harbour"), ("庙港水产市场", "harbour"),
)
VILLAGE_POI_KINDS = ("超市", "加油站", "幼儿园", "码头", "农资店", "银行", "快递站")


def person(rng: random.Random) -> str:
    """A plausible name: a surname and one or two given characters."""
    weights = [max(1, 12 - i // 3) for i in range(len(SURNAMES))]
    surname = rng.choices(SURNAMES, weights)[0]
    given = "".join(rng.sample(GIVEN, 1 if rng.random() < 0.25 else 2))
    return surname + given


def stem(village: str) -> str:
    """A village's name without 村/社区 (开弦弓村 → 开弦弓)."""
    return village.removesuffix("社区").removesuffix("村")


def short_names(villages: list[str]) -> dict[str, str]:
    """The name a village's shops and clinic go by: its stem, or its full name where two
    villages share a stem (庙港村, 庙港社区), so that no two places get the same name."""
    stems = [stem(v) for v in villages]
    return {v: s if stems.count(s) == 1 else v for v, s in zip(villages, stems, strict=True)}


def committee(village: str) -> str:
    """The village committee or community office of a village."""
    return f"{village}居委会" if village.endswith("社区") else f"{village}村委会"
