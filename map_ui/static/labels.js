/* The pages' Chinese vocabulary, in one place: the words a town operator reads for the codes the
 * API speaks (states, actions, handlers, channels, geocode methods, the 721 classes, deadline
 * states, roles, grid team roles, camera PTZ types) and a few helpers that put them together
 * (an assignee, a history line).
 * Loaded by a plain <script> before each page's own script; it exposes window.GisLabels and
 * nothing else. The API keeps its codes (they are a contract): only what is shown changes. */
(function () {
  "use strict";

  var CHINA_OFFSET_MS = 8 * 3600 * 1000; // China keeps one time zone and no summer time

  var states = {
    reported: "待登记", needs_location: "待定位", needs_confirmation: "待确认",
    registered: "已登记", dispatched: "已派遣", accepted: "已接单", in_progress: "处置中",
    returned: "已退回", resolved: "已办结待核查", verified: "已核查待结案", closed: "已结案",
    rejected: "不予受理"
  };
  // the same states as a handler's phone page says them: what waits on the person holding it
  var handlerStates = {dispatched: "待接单", accepted: "已接单", in_progress: "处置中",
                       resolved: "已办结", returned: "已退回"};

  var actions = {
    report: "上报", register: "登记", reject: "不予受理", dispatch: "派遣", accept: "接单",
    "return": "退回", start: "开始处置", resolve: "办结", verify: "核查通过",
    reopen: "重新派遣", close: "结案", escalate: "上报升级", whistle: "吹哨",
    evaluate: "评价", merge: "合并", link: "关联", needs_location: "待定位",
    regrid: "网格调整", attach_photo: "上传照片", categorize: "设定类别", place: "重新定位",
    confirm: "确认", assign: "指派", note: "备注", mirror: "镇街办理进展",
    needs_confirmation: "待确认", detect: "再次检测到"
  };

  var assigneeTypes = {grid_worker: "网格员", squad: "执法中队", department: "职能部门",
                       town: "镇指挥中心", county: "县指挥中心"};

  var sources = {
    hotline_12345: "12345热线", mayor_mailbox: "书记/镇长信箱", grid_patrol: "网格巡查",
    enforcement_patrol: "执法巡查", video: "视频监控", county_ticket: "上级派单",
    open311: "网上受理", walk_in: "来访", "import": "批量导入"
  };

  var actors = {system: "系统", "import": "批量导入", scheduler: "系统（时限）",
                open311: "网上受理"};

  var methods = {house: "门牌", poi: "地名/兴趣点", road: "道路", village: "村/社区",
                 manual: "人工定位", gps: "坐标"};

  var resolutions = {service: "服务", management: "管理", enforcement: "执法"};

  var deadlines = {green: "正常", yellow: "临期", red: "超期", done: "已办结", none: "无时限"};

  var roles = {admin: "管理员", commander: "指挥长", dispatcher: "调度员", planner: "规划员",
               grid_worker: "网格员", squad: "执法队员", department: "部门人员",
               team: "网格力量"};

  // a grid's people beyond its worker (gis_service/people/team_roles.py: 1+1+N, 三长六员)
  var teamRoles = {
    police_officer: "社区民警", police_auxiliary: "辅警", volunteer: "志愿者",
    liaison: "网格联络员", grid_head: "网格长", group_head: "村民小组长",
    household_head: "联户长", information_officer: "信息员", mediator: "调解员",
    safety_officer: "安全员", environment_officer: "环保员", publicity_officer: "宣传员",
    service_officer: "服务员"
  };

  // a camera's PTZ type (GB/T 28181 PTZType; gis_service/cameras/catalog.py)
  var ptzTypes = {dome: "球机", half_dome: "半球", fixed: "固定枪机", remote_bullet: "遥控枪机",
                  remote_half_dome: "遥控半球", panorama: "多目设备全景/拼接通道",
                  multi_split: "多目设备分割通道"};

  // the words of history details' `reason`, `fallback` and `why` values
  var reasons = {
    overdue: "超期未办结",
    "no coordinates": "没有坐标",
    "outside the service area": "不在本镇服务范围内",
    "no enforcement district here: the town center": "此处无执法片区，转镇指挥中心",
    "no grid worker on duty: the town center": "无在岗网格员，转镇指挥中心",
    "town command center": "镇指挥中心",
    "county command center": "县指挥中心",
    "not re-routed: outside the town": "未改派：不在本镇",
    "not re-routed: category without a routing rule": "未改派：此类别无派遣规则",
    "the new grid has the same handler": "新网格处置人不变",
    // a camera's detection waiting for a person, and confirmed by a later one
    // (gis_service/incidents/core/detections.py)
    "the scene needs a person's confirmation": "此场景须人工确认",
    "below the scene's confidence": "置信度低于场景要求",
    "before the dwell time": "未达停留时长",
    "seen again, sure enough and long enough": "再次检测到且已达停留时长，自动确认"
  };

  function named(table, code, none) {
    if (code === null || code === undefined || code === "") { return none || "—"; }
    return Object.prototype.hasOwnProperty.call(table, code) ? table[code] : String(code);
  }

  function chinaTime(moment, withDate) {
    if (!moment) { return ""; }
    var text = new Date(new Date(moment).getTime() + CHINA_OFFSET_MS).toISOString();
    return withDate === false ? text.slice(11, 16) : text.slice(0, 16).replace("T", " ");
  }

  /** A handler in words: its name when the API gives one (or `nameOf(type, code)`, a page's
   *  own lookup, knows it), else its kind and code. */
  function assignee(a, nameOf) {
    if (!a || !a.type) { return "未指派"; }
    var kind = named(assigneeTypes, a.type);
    var name = a.name || (nameOf && a.code ? nameOf(a.type, a.code) : "");
    if (name === kind) { return kind; }  // the county center is named by its kind alone
    if (name) { return kind + " " + name; }
    return a.code ? kind + " " + a.code : kind;
  }

  /** A `type:code` handler reference (as `dispatch` takes in `to`) in words. */
  function handlerRef(ref, name) {
    var parts = String(ref || "").split(":");
    return assignee({type: parts[0], code: parts.slice(1).join(":"), name: name});
  }

  function actor(name) { return named(actors, name, "系统"); }

  function reason(code) {
    var kept = /^not re-routed: ([a-z_]+)$/.exec(code || "");
    if (kept && states[kept[1]]) { return "未改派：事件" + states[kept[1]]; }
    return named(reasons, code, "");
  }

  function geocodeWords(g) {
    if (!g) { return ""; }
    if (g.placed === false) {
      var best = g.method ? "；最佳匹配：" + named(methods, g.method) +
        (g.matched ? " " + g.matched : "") +
        (typeof g.confidence === "number" ? "，可信度 " + Math.round(g.confidence * 100) + "%" : "")
        : "";
      return "地址未能自动定位" + (g.reason ? "（" + g.reason + "）" : "") + best +
        (g.candidates ? "；候选 " + g.candidates + " 处" : "");
    }
    var how = g.method ? "按" + named(methods, g.method) + "定位" : "已定位";
    var sure = typeof g.confidence === "number" ?
      "，可信度 " + Math.round(g.confidence * 100) + "%" : "";
    return how + (g.matched ? "：" + g.matched : "") + sure;
  }

  /** What a history entry's detail says, in words ("" when it says nothing a person needs). */
  function detailWords(entry, nameOf) {
    var d = entry.detail || {};
    var said = [];
    if (d.reason) { said.push(reason(d.reason)); }
    if (d.was_due) { said.push("原时限 " + chinaTime(d.was_due)); }
    if (d.geocode) { said.push(geocodeWords(d.geocode)); }
    if (d.channel && entry.action === "report") { said.push("渠道：" + named(sources, d.channel)); }
    if (d.auto === true) { said.push("按规则自动派遣"); }
    if (d.named_by === "dispatcher") { said.push("调度员指定"); }
    if (d.post === "B") { said.push("B岗代办，A岗 " + (d.absent || "") + " 不在岗"); }
    if (d.fallback) { said.push(reason(d.fallback)); }
    if (d.returned_by) { said.push("由" + assignee(d.returned_by, nameOf) + "退回"); }
    if (d.resolution) { said.push("结案方式：" + named(resolutions, d.resolution)); }
    if (d.satisfaction) { said.push("满意度 " + d.satisfaction + "/5"); }
    if (d.merged_into) { said.push("并入事件 " + d.merged_into); }
    if (d.merged) { said.push("事件 " + d.merged + " 并入此件"); }
    if (d.called) { said.push("通知部门：" + Object.keys(d.called).join("、")); }
    if (d.team) {
      said.push("网格力量协办：" + (d.team.members.length ? d.team.members.join("、") : "无"));
    }
    if (d.possible_duplicates && d.possible_duplicates.length) {
      said.push("疑似重复：" + d.possible_duplicates.join("、"));
    }
    if (d.handler === "rerouted") { said.push("按新边界改派"); }
    if (d.why) { said.push(reason(d.why)); }
    if (d.photo_id) { said.push("照片 " + d.photo_id); }
    if (d.category && entry.action === "categorize") {
      said.push("类别 " + (d.category.from || "未分类") + " → " + d.category.to);
    }
    if (entry.action === "place" && d.to) {
      said.push("网格 " + ((d.from && d.from.grid3) || "—") + " → " + (d.to.grid3 || "—"));
    }
    if (d.to && entry.action === "escalate") { said.push("上报至" + reason(d.to)); }
    return said.filter(Boolean).join("；");
  }

  /** Where an entry moved the incident (its new handler or state), "" when nowhere new. */
  function moveWords(entry, nameOf) {
    var before = entry.before || {}, after = entry.after || {};
    if (after.assignee_type && (after.assignee_type !== before.assignee_type ||
                                after.assignee_code !== before.assignee_code)) {
      return "→ " + assignee({type: after.assignee_type, code: after.assignee_code,
                              name: after.assignee_name}, nameOf);
    }
    return "";
  }

  /** A history entry's parts in words: who, what, when (China time), to whom, why and the
   *  note (`nameOf` as for assignee). */
  function historyParts(entry, nameOf) {
    return {who: actor(entry.actor), what: named(actions, entry.action),
            when: chinaTime(entry.at), move: moveWords(entry, nameOf),
            reason: detailWords(entry, nameOf), note: entry.note || ""};
  }

  /** A history entry as one line: "调度员甲 · 派遣 → 网格员 张三（按规则自动派遣） · 2024-05-01 09:30". */
  function historyLine(entry, nameOf) {
    var p = historyParts(entry, nameOf);
    var what = p.what + (p.move ? " " + p.move : "");
    var why = [p.reason, p.note].filter(Boolean).join("；");
    return p.who + " · " + what + (why ? "（" + why + "）" : "") + " · " + p.when;
  }

  window.GisLabels = {
    states: states, handlerStates: handlerStates, actions: actions,
    assigneeTypes: assigneeTypes, sources: sources, actors: actors, methods: methods,
    resolutions: resolutions, deadlines: deadlines, roles: roles, reasons: reasons,
    teamRoles: teamRoles, ptzTypes: ptzTypes,
    state: function (code) { return named(states, code); },
    handlerState: function (code) {
      return handlerStates[code] || named(states, code);
    },
    action: function (code) { return named(actions, code); },
    assigneeType: function (code) { return named(assigneeTypes, code); },
    source: function (code) { return named(sources, code); },
    method: function (code) { return named(methods, code); },
    resolution: function (code) { return named(resolutions, code); },
    deadline: function (code) { return named(deadlines, code); },
    role: function (code) { return named(roles, code); },
    teamRole: function (code) { return named(teamRoles, code); },
    ptz: function (code) { return named(ptzTypes, code); },
    actor: actor, reason: reason, assignee: assignee, handlerRef: handlerRef,
    chinaTime: chinaTime, geocode: geocodeWords, historyParts: historyParts,
    historyLine: historyLine
  };
}());
