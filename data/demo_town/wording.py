"""How reports read: short descriptions per category, and addresses as callers give them
(administrative prefixes, filler, Chinese numerals, words after the address)."""

from __future__ import annotations

import random
import re

from demo_town.addresses import Address
from demo_town.common import TOWN_PREFIX

DESCRIPTIONS = {
    "GARBAGE": ("路边生活垃圾堆放，多日无人清运", "垃圾桶满溢，周边散落暴露垃圾",
                "河岸边有人倾倒生活垃圾", "垃圾房外堆满垃圾，气味较大",
                "节日期间垃圾量大，清运不及时"),
    "MATERIAL": ("门前乱堆砖块木料，影响通行", "路边堆放建筑材料未清理", "公共场地被堆放杂物",
                 "农户在路肩堆放秸秆和杂物"),
    "FLOATING": ("河道内漂浮垃圾较多", "溇港口有大片水草和漂浮物", "河面有死鱼和塑料袋漂浮"),
    "NEIGHBOUR": ("邻居之间因宅基地边界发生纠纷", "楼上漏水引起邻里矛盾，要求调解",
                  "邻居养狗扰民，双方争执", "因通道占用发生口角，请求村里协调"),
    "POSTER": ("电线杆上张贴小广告", "墙面被乱涂写联系电话", "公交站台乱贴广告"),
    "GREENERY": ("绿化带被踩踏毁坏", "行道树被人砍伐", "公共绿地被开垦种菜"),
    "STREET-VENDOR": ("流动摊贩占道经营，影响交通", "店外摆摊占用人行道", "早市摊位占用机动车道",
                      "学校门口有流动摊点"),
    "BUILDING": ("有人在自家院内私自搭建彩钢棚", "屋顶加层违章搭建，疑似无审批",
                 "占用河道管理范围搭建棚屋", "沿街店铺私自外扩搭建"),
    "MUCK": ("渣土车沿路撒漏，路面污染严重", "工地车辆带泥上路", "夜间有车辆偷倒渣土"),
    "STRAW-BURNING": ("田间有人焚烧秸秆，浓烟较大", "地头露天焚烧稻草",
                      "农田边焚烧垃圾和秸秆，烟雾扰民"),
    "NOISE": ("夜间施工噪声扰民", "广场舞音响声音过大", "工厂机器噪声影响休息",
              "店铺外放音乐噪声扰民"),
    "FUME": ("饭店油烟直排，影响楼上住户", "烧烤摊油烟扰民", "餐饮店未安装油烟净化设施"),
    "BILLBOARD": ("店招广告牌松动有坠落危险", "路边私设大型广告牌", "广告牌破损未维修"),
    "PARKING": ("车辆乱停占用消防通道", "路边违停影响通行", "校门口接送车辆乱停",
                "大货车长期占道停放"),
    "ILLEGAL-FISHING": ("湖边有人使用地笼捕鱼", "夜间有人驾船在太湖偷捕", "岸边有人电鱼",
                        "禁渔期有人在湖边撒网捕捞"),
    "POLLUTION": ("河水发黑发臭", "企业疑似向河道排放污水", "水面出现油污", "养殖尾水直排入河"),
    "ROAD-DAMAGE": ("路面坑洼，车辆通行困难", "道路塌陷出现深坑", "桥面破损需要修补"),
    "STREETLIGHT": ("路灯不亮，夜间出行不便", "多盏路灯损坏", "路灯杆倾斜有安全隐患"),
    "MANHOLE": ("窨井盖缺失，存在安全隐患", "井盖破损下沉", "雨水井盖被盗"),
    "FIRE-ACCESS": ("消防通道被杂物堵塞", "小区消防通道被车辆占用", "厂区消防通道堆放货物"),
    "SAFETY-HAZARD": ("厂房内电线私拉乱接", "危化品存放不规范", "出租房内违规使用电瓶车充电",
                      "施工现场未设置安全防护"),
    "FOOD-SAFETY": ("饭店卫生条件差，疑似售卖过期食品", "无证经营熟食摊",
                    "菜场出售疑似变质水产品"),
    "ILLEGAL-LAND": ("农田被硬化建房", "占用基本农田堆放建材", "私自挖塘占用耕地"),
    "SEWAGE": ("生活污水外溢到路面", "污水管道堵塞返水", "化粪池满溢"),
    "FLOOD": ("湖堤出现渗水，需要排查", "强降雨后道路积水严重", "圩区排涝泵站需要加强值守",
              "台风影响，沿湖堤防出现险情"),
}
SOURCE_PREFIX = {"video": "【视频智能识别】", "county_ticket": "【区级派单】"}

PROVINCE_PREFIXES = ("", "", "", "江苏省苏州市吴江区", "苏州市吴江区", "吴江区", "苏州市",
                     "江苏省吴江区")
FILLERS = ("", "", "", "", "市民来电反映", "来电反映", "群众反映", "地址：", "在", "我家住在")
AFTER = ("", "", "", "附近", "门口", "旁边", "对面", "东侧", "西侧", "一带", "路口")
DIGITS = "零一二三四五六七八九"
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def chinese_number(number: int) -> str:
    """18 → 十八, 105 → 一百零五 (as a caller would say a house number)."""
    if number < 10:
        return DIGITS[number]
    if number < 20:
        return "十" + (DIGITS[number % 10] if number % 10 else "")
    if number < 100:
        tens, ones = divmod(number, 10)
        return DIGITS[tens] + "十" + (DIGITS[ones] if ones else "")
    hundreds, rest = divmod(number, 100)
    if rest == 0:
        return DIGITS[hundreds] + "百"
    middle = "零" + DIGITS[rest] if rest < 10 else chinese_number(rest).removeprefix("一十")
    if 10 <= rest < 20:
        middle = "一" + chinese_number(rest)
    return DIGITS[hundreds] + "百" + middle


def describe(rng: random.Random, category: str, source: str) -> str:
    """A short description of a report."""
    return SOURCE_PREFIX.get(source, "") + rng.choice(DESCRIPTIONS[category])


def spoken(rng: random.Random, row: Address, prefix: str = TOWN_PREFIX) -> str:
    """The address as a caller gives it (its town's addresses start with `prefix`): messy, but
    still placeable by the geocoder."""
    text = row.address
    by_name = bool(row.poi) and rng.random() < 0.5
    if by_name:
        text = row.poi  # a named place is often given by its name alone
    elif rng.random() < 0.25 and "-" not in row.number:
        text = _numerals(text)  # not for 18-1号: "18-一号" is no way to say it
    elif rng.random() < 0.04:
        text = text.translate(FULL_WIDTH)
    if text.startswith(prefix) and rng.random() < 0.2:
        text = text.removeprefix(prefix)
    elif text.startswith(prefix):
        text = rng.choice(PROVINCE_PREFIXES) + text
    if rng.random() < 0.15:
        text = text.replace("号", "号 ", 1).strip()  # a stray space, as typed
    after = rng.choice(AFTER)
    if by_name and after == "路口":
        after = "门口"  # "渔港路口" would read as a road
    return rng.choice(FILLERS) + text + after


def _numerals(text: str) -> str:
    """House and 组 numbers in Chinese numerals (十八号, 三组)."""
    return re.sub(r"(\d+)(?=[号组])", lambda m: chinese_number(int(m.group(1))), text)
