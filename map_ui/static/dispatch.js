/* The dispatcher console: queues, a map and the selected incident, all from the service's API.
   Every action names the version the dispatcher saw (If-Match); a 412 says who changed what. */
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("dispatch-config").textContent);
  const L10N = window.GisLabels;  // labels.js: the pages' Chinese words for the API's codes
  // which moves the lifecycle allows from which state: the service's own table, from the
  // page's settings (the service refuses the rest: 409)
  const can = (action, status) => (config.moves[action] || []).includes(status);
  const IN_HAND = config.in_hand;  // dispatching these re-assigns (改派)
  // a search finds the open ones unless the dispatcher asks for the closed too (the
  // lifecycle's open states, from the page's settings)
  const OPEN = config.open_states;
  const STORAGE_CRS = "cgcs2000";  // the map draws stored coordinates as they are
  const state = {
    queue: config.queues[0].key, items: [], counts: {}, selected: null, checked: new Set(),
    placing: false, busy: false, timer: null, grids: {}, found: null, history: [], links: [],
    photos: [],
    search: "",  // words of a description or address: the list shows what matches, any queue
  };

  // ---- small helpers ----------------------------------------------------------------------
  const { api, el, refusal, restoreTyped, typedIn } = window.pageKit;  // page.js
  const statusName = (s) => L10N.state(s);
  const categoryName = (c) => (c ? config.categories[c] || c : "未分类");
  const gridName = (i) => {
    const code = i.grid3 || i.grid2 || i.town;
    if (!code) return "—";
    return state.grids[code] ? `${state.grids[code]}（${code}）` : code;
  };
  const handlerName = (a) => L10N.assignee(a);
  const noteText = () => {
    const box = document.getElementById("detail-note");
    return box ? box.value.trim() : "";
  };

  function dueText(iso, missed) {
    const was = missed ? `；${L10N.chinaTime(missed)} 已超期` : "";
    if (!iso) return `—${was}`;
    const due = new Date(iso);
    const hours = (due.getTime() - Date.now()) / 3600000;
    const when = due.toLocaleString("zh-CN", {month: "2-digit", day: "2-digit",
                                              hour: "2-digit", minute: "2-digit"});
    const left = Math.abs(hours) < 1 ? `${Math.round(Math.abs(hours) * 60)}分钟`
      : `${Math.round(Math.abs(hours))}小时`;
    return `${when}（${hours < 0 ? "超期" : "剩余"}${left}）${was}`;
  }

  function say(kind, text) {
    const box = el("div", {class: `alert alert-${kind} dispatch-message`, role: "alert",
                           dataset: {kind}}, text);
    const list = document.getElementById("messages");
    list.prepend(box);
    while (list.children.length > 5) list.lastElementChild.remove();
    setTimeout(() => box.remove(), ["success", "info"].includes(kind) ? 6000 : 20000);
    return box;
  }

  // ---- actions: one POST each, with the version the dispatcher saw ---------------------------
  async function act(incident, action, extra) {
    const response = await api(`/api/v1/incidents/${incident.id}/actions`, {
      method: "POST", headers: {"If-Match": `"${incident.version}"`},
      json: {action, ...(extra || {})},
    });
    if (response.ok) return response.body;
    const detail = refusal(response);
    if (response.status === 412) {
      const now = response.body.version;
      say("warning", `冲突：事件 #${incident.id} 已被他人修改，现为第 ${now} 版（您看到的是第 ` +
        `${incident.version} 版）。已重新载入最新内容，请核对后再操作。`).classList
        .add("dispatch-conflict");
      await reloadAfterConflict(incident.id);
    } else if (response.status === 409) {
      say("danger", `事件 #${incident.id} 不能执行此操作：${detail}`);
    } else {
      say("danger", `事件 #${incident.id} 操作失败（${response.status}）：${detail}`);
    }
    return null;
  }

  async function reloadAfterConflict(id) {
    if (state.selected && state.selected.id === id) await select(id);
    await refresh();
  }

  // Take the incident to `dispatched`, to `to` (type:code) or by the rules when `to` is empty.
  async function dispatch(incident, to, location) {
    let current = incident;
    if (current.status === "reported") {
      current = await act(current, "register", {note: "调度台立案"});
      if (!current) return null;
    } else if (can("confirm", current.status)) {  // a camera's detection: confirming routes it
      current = await act(current, "confirm", {note: "调度台确认"});
      if (!current || !to) return current;
    } else if (!can("dispatch", current.status)) {
      say("danger", `事件 #${current.id} ${statusName(current.status)}，流程不允许派遣或改派`);
      return null;
    }
    const extra = {note: to ? "调度台指派" : "调度台按规则派遣"};
    if (to) extra.to = to;
    if (location) extra.location = location;
    return act(current, "dispatch", extra);
  }

  // One move at a time: a click while the last move's request is out is said to wait, not
  // dropped silently. The reload after a move runs outside this guard, so the dispatcher can
  // take the next step as soon as the service has answered.
  async function run(work) {
    if (state.busy) {
      say("warning", "上一步还在处理，请稍候再点");
      return;
    }
    state.busy = true;
    document.body.classList.add("dispatch-busy");
    try { await work(); } finally {
      state.busy = false;
      document.body.classList.remove("dispatch-busy");
    }
  }

  function assign(to, label) {
    const incident = state.selected;
    run(async () => {
      const done = await dispatch(incident, to, null);
      if (done) {
        say("success", `事件 #${done.id} 已派遣给 ${label}（第 ${done.version} 版）`);
        reloadAfter(done);
      }
    });
  }

  // An unplaced incident is placed and dispatched by the rules in one move; a placed one is
  // re-placed (its grid follows; re-assign it after if its handler should change).
  function placeAt(lon, lat, label) {
    const incident = state.selected;
    const location = {lon, lat, crs: STORAGE_CRS};
    run(async () => {
      if (incident.status !== "needs_location") {
        const moved = await act(incident, "place", {location, note: noteText()});
        if (moved) {
          say("success", `事件 #${moved.id} 已重新定位到${label}（${gridName(moved)}）`);
          reloadAfter(moved);
        }
        return;
      }
      const done = await dispatch(incident, null, location);
      if (done) {
        say("success", `事件 #${done.id} 已定位到${label}，按规则派遣给 ` +
          `${handlerName(done.assignee)}（第 ${done.version} 版）`);
        reloadAfter(done);
      }
    });
  }

  // One loop move from the detail pane (verify, close, evaluate, reject, merge, categorize…).
  function move(action, extra, said, needsNote) {
    const incident = state.selected;
    const note = noteText();
    if (needsNote && !note) {
      say("warning", `请先在“处理意见”中写明${needsNote}`);
      document.getElementById("detail-note").focus();
      return;
    }
    run(async () => {
      const done = await act(incident, action, {note, ...(extra || {})});
      if (done) {
        say("success", `事件 #${done.id} ${said}（${statusName(done.status)}，第 ${done.version} 版）`);
        reloadAfter(done);
      }
    });
  }

  function bulkDispatch() {
    const chosen = state.items.filter((i) => state.checked.has(i.id));
    run(async () => {
      let ok = 0;
      for (const incident of chosen) {
        if (incident.status === "needs_location") {
          say("danger", `事件 #${incident.id} 尚未定位，请先选定位置`);
          continue;
        }
        if (IN_HAND.includes(incident.status)) {
          say("danger", `事件 #${incident.id} 已派遣，请逐件选择改派对象`);
          continue;
        }
        if (!(incident.category in config.categories)) {
          say("danger", `事件 #${incident.id} 类别不在责任清单中，请逐件指定处置人`);
          continue;
        }
        const done = await dispatch(incident, null, null);
        if (done) ok += 1;
      }
      state.checked.clear();
      say(ok === chosen.length ? "success" : "warning",
          `批量派遣：${ok} / ${chosen.length} 起已按规则派遣`);
      await refresh();
      if (state.selected) await select(state.selected.id);
    });
  }

  function reloadAfter(incident) {
    afterChange(incident).catch((error) => say("danger", `刷新失败：${error}`));
  }

  async function afterChange(incident) {
    stopPlacing();
    state.selected = incident;
    state.found = null;
    renderDetail(incident);
    await refresh();
    await loadDetail(incident);
  }

  // ---- the map ------------------------------------------------------------------------------
  const map = L.map("map", {zoomSnap: 0.25, attributionControl: Boolean(config.basemap)})
    .setView([31.0, 120.25], 11);
  L.control.scale({imperial: false}).addTo(map);
  if (config.basemap) {
    L.tileLayer(config.basemap.url, {attribution: config.basemap.attribution, maxZoom: 19})
      .addTo(map);
  }
  const GRID_STYLES = {
    1: {color: "#ffffff", weight: 3, fill: false},
    2: {color: "#4fc3f7", weight: 2, fill: false},
    3: {color: "#78909c", weight: 1, fillColor: "#26a69a", fillOpacity: 0.08},
  };
  const grids = L.geoJSON(null, {
    style: (f) => ({...(GRID_STYLES[f.properties.level] ||
                        {color: "#ff80ab", weight: 1.5, dashArray: "3 5", fill: false}),
                    className: `dispatch-grid dispatch-grid${f.properties.level || "-special"} ` +
                      `dispatch-grid-${String(f.properties.code).replace(/[^\w-]/g, "_")}`}),
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.name}（${f.properties.code}）`,
                                                   {sticky: true}),
  }).addTo(map);
  const incidentsLayer = L.layerGroup().addTo(map);
  const candidatesLayer = L.layerGroup().addTo(map);
  // The spot the dispatcher clicked is kept apart from the geocoder's candidates: the detail
  // is drawn again when its suggestions arrive, and that must not take the spot away.
  const pickedLayer = L.layerGroup().addTo(map);
  const COLOURS = {green: "#66bb6a", yellow: "#ffca28", red: "#ff5252", none: "#78909c",
                   done: "#78909c"};

  async function loadGrids() {
    const response = await api("/api/v1/grids");
    if (!response.ok) return;
    const features = response.body.features || [];
    for (const f of features) state.grids[f.properties.code] = f.properties.name;
    grids.addData({type: "FeatureCollection", features});
    if (grids.getLayers().length) map.fitBounds(grids.getBounds(), {padding: [20, 20]});
  }

  function drawIncidents() {
    incidentsLayer.clearLayers();
    for (const incident of state.items) {
      if (incident.lon === null || incident.lat === null) continue;
      const selected = state.selected && state.selected.id === incident.id;
      const marker = L.circleMarker([incident.lat, incident.lon], {
        radius: selected ? 10 : 7, fillColor: COLOURS[incident.deadline_state] || "#78909c",
        fillOpacity: 0.9, color: selected ? "#ffffff" : "#0b1622", weight: selected ? 3 : 1.5,
        className: `dispatch-incident${selected ? " dispatch-incident-selected" : ""}`,
      });
      marker.bindTooltip(`#${incident.id} ${categoryName(incident.category)}`);
      marker.on("click", () => select(incident.id));
      marker.addTo(incidentsLayer);
    }
  }

  map.on("click", (event) => {
    if (!state.placing || !state.selected) return;
    const {lat, lng} = event.latlng;
    pickedLayer.clearLayers();
    const marker = L.marker([lat, lng]).addTo(pickedLayer);
    const lon = Number(lng.toFixed(7));
    const la = Number(lat.toFixed(7));
    const verb = state.selected.status === "needs_location" ? "在此定位并派遣" : "重新定位到此";
    const button = el("button", {type: "button", class: "btn btn-sm btn-primary",
                                 id: "place-here",
                                 onclick: () => placeAt(lon, la, "地图点选位置")}, verb);
    marker.bindPopup(el("div", {}, `经度 ${lon}，纬度 ${la} `, button)).openPopup();
  });

  // ---- the queues ---------------------------------------------------------------------------
  async function refresh() {
    const [counts, list] = await Promise.all([
      api("/api/v1/incidents/queues"),
      api(state.search ? `/api/v1/incidents?q=${encodeURIComponent(state.search)}&limit=200` +
        (document.getElementById("search-closed").checked ? "" : `&status=${OPEN.join(",")}`)
        : `/api/v1/incidents?queue=${encodeURIComponent(state.queue)}&limit=200`),
    ]);
    if (counts.ok) renderCounts(counts.body);
    if (list.ok) {
      state.items = list.body.items;
      const present = new Set(state.items.map((i) => i.id));
      for (const id of [...state.checked]) if (!present.has(id)) state.checked.delete(id);
      renderRows();
      drawIncidents();
    } else if (state.search) {
      say("danger", `查找失败：${refusal(list)}`);
    }
    document.getElementById("refreshed").textContent =
      `更新于 ${new Date().toLocaleTimeString("zh-CN", {hour12: false})}`;
  }

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(async () => {
      if (!state.busy) await refresh().catch(() => null);
      schedule();
    }, config.refresh_ms);
  }

  function renderCounts(counts) {
    state.counts = counts;
    for (const {key} of config.queues) {
      const badge = document.querySelector(`[data-count="${key}"]`);
      badge.textContent = String(counts[key]);
      badge.classList.toggle("dispatch-hot", counts[key] > 0);
    }
  }

  function renderRows() {
    const body = document.getElementById("queue-rows");
    body.replaceChildren(...state.items.map((incident) => {
      const selected = state.selected && state.selected.id === incident.id;
      const box = el("input", {type: "checkbox", class: "dispatch-check",
                               "aria-label": `选择事件 ${incident.id}`,
                               checked: state.checked.has(incident.id),
                               onclick: (e) => e.stopPropagation(),
                               onchange: (e) => toggle(incident.id, e.target.checked)});
      return el("tr", {class: selected ? "dispatch-selected" : null,
                       dataset: {id: incident.id, status: incident.status},
                       onclick: () => select(incident.id)},
        el("td", {}, box), el("td", {class: "dispatch-id"}, incident.id),
        el("td", {}, categoryName(incident.category)),
        el("td", {class: "dispatch-address", title: incident.address || ""},
           incident.address || "—"),
        el("td", {}, gridName(incident)), el("td", {}, statusName(incident.status)),
        el("td", {class: `dispatch-deadline deadline-${incident.deadline_state}`},
           incident.deadline_state === "done" ? "—（已办结）" : dueText(incident.due_at)),
        el("td", {}, handlerName(incident.assignee)));
    }));
    const empty = document.getElementById("queue-empty");
    const closedToo = document.getElementById("search-closed").checked;
    empty.textContent = state.search
      ? `没有描述或地址含“${state.search}”的${closedToo ? "" : "在办"}事件` : "此队列暂无事件";
    empty.hidden = state.items.length > 0;
    updateBulk();
  }

  function toggle(id, on) {
    if (on) state.checked.add(id); else state.checked.delete(id);
    updateBulk();
  }

  function updateBulk() {
    const n = state.items.filter((i) => state.checked.has(i.id)).length;
    document.getElementById("bulk-count").textContent = String(n);
    document.getElementById("bulk-dispatch").disabled = n === 0;
    document.getElementById("select-all").checked = n > 0 && n === state.items.length;
  }

  function showQueue(key) {
    state.queue = key;
    state.search = "";
    document.getElementById("search").value = "";
    state.checked.clear();
    markTabs(key);
    return refresh();
  }

  function markTabs(key) {
    for (const tab of document.querySelectorAll("[data-queue]")) {
      tab.classList.toggle("active", tab.dataset.queue === key);
      tab.setAttribute("aria-selected", String(tab.dataset.queue === key));
    }
  }

  // Find by words: the list shows every incident the caller may see that matches, whatever
  // its queue, until a queue is chosen again or the box is cleared.
  function search(words) {
    state.search = words.trim();
    state.checked.clear();
    markTabs(state.search ? null : state.queue);
    return refresh();
  }

  // ---- the selected incident ----------------------------------------------------------------
  async function select(id) {
    const response = await api(`/api/v1/incidents/${id}`);
    if (!response.ok) {
      say("danger", `事件 #${id} 无法载入：${refusal(response)}`);
      return;
    }
    state.selected = response.body;
    state.found = null;
    state.history = [];
    state.links = [];
    state.photos = [];
    stopPlacing();
    renderRows();
    drawIncidents();
    renderDetail(state.selected);
    const {lon, lat} = state.selected;
    if (lon !== null && lat !== null && !map.getBounds().contains([lat, lon])) {
      map.panTo([lat, lon]);
    }
    await loadDetail(state.selected);
  }

  // suggestions (and the geocoder's candidates), the history and the possible duplicates
  async function loadDetail(incident) {
    const base = `/api/v1/incidents/${incident.id}`;
    const [found, history, links, photos] = await Promise.all([
      api(`${base}/suggestions`), api(`${base}/history`), api(`${base}/links`),
      api(`${base}/photos`)]);
    if (!state.selected || state.selected.id !== incident.id) return;
    state.found = found.ok ? found.body : null;
    state.history = history.ok ? history.body : [];
    state.links = links.ok ? links.body : [];
    state.photos = photos.ok ? photos.body : [];
    renderDetail(state.selected);
  }

  // What the dispatcher has typed or chosen is kept while the same version of the same
  // incident is drawn again (its suggestions and history arrive after it), and so is the
  // focus and caret of the box being typed in, or the keys pressed next would go nowhere; a
  // new incident or a new version starts empty.
  const KEPT = ["detail-note", "close-resolution", "evaluate-score", "category-pick",
                "merge-target"];

  function keptIn(pane, shown) {
    if (pane.dataset.shown !== shown) return {values: [], focus: null};
    return typedIn(KEPT.map((id) => document.getElementById(id)).filter(Boolean));
  }

  function renderDetail(incident) {
    const pane = document.getElementById("detail");
    const shown = `${incident.id}:${incident.version}`;
    const typed = keptIn(pane, shown);
    const facts = el("dl", {},
      el("dt", {}, "类别"), el("dd", {id: "detail-category"}, categoryName(incident.category)),
      el("dt", {}, "状态"), el("dd", {id: "detail-status"}, statusName(incident.status)),
      el("dt", {}, "来源"), el("dd", {}, L10N.source(incident.source)),
      el("dt", {}, "地址"), el("dd", {}, incident.address || "—"),
      el("dt", {}, "定位"), el("dd", {id: "detail-geocode"}, placedHow(incident)),
      el("dt", {}, "网格"), el("dd", {}, gridName(incident)),
      el("dt", {}, "处置人"), el("dd", {id: "detail-assignee"}, handlerName(incident.assignee)),
      el("dt", {}, "协办"), el("dd", {}, incident.cooperating.join("、") || "—"),
      el("dt", {}, "期限"), el("dd", {class: `dispatch-deadline deadline-${incident.deadline_state}`},
                                 dueText(incident.due_at, incident.overdue_since)),
      el("dt", {}, "描述"), el("dd", {}, incident.description || "—"),
      ...cameraFacts(incident));
    const title = el("h2", {}, `#${incident.id} ${categoryName(incident.category)}`,
                     el("small", {class: "ms-2 text-secondary", id: "detail-version"},
                        `第 ${incident.version} 版`));
    const noteBox = el("textarea", {id: "detail-note", class: "form-control form-control-sm",
                                    rows: "2", maxlength: "4000",
                                    placeholder: "处理意见（退回、不予受理、核查不通过须填写）"});
    const parts = [title, facts, el("label", {for: "detail-note", class: "dispatch-label"},
                                    "处理意见"), noteBox,
                   loopMoves(incident), categorySection(incident), placing(incident),
                   photoSection(), choices(incident), mergeSection(incident), historySection()];
    pane.replaceChildren(...parts.flat(2).filter(Boolean));
    pane.dataset.shown = shown;
    restoreTyped(typed);
  }

  // a camera's incident: which camera saw what, how sure, how often (repeats fold into it)
  function cameraFacts(incident) {
    if (!incident.camera_code) return [];
    const sure = incident.confidence === null ? "" :
      `，置信度 ${Math.round(incident.confidence * 100)}%`;
    const seen = incident.detections === null ? "—" :
      `${incident.detections} 次，最近 ${L10N.chinaTime(incident.last_seen_at)}`;
    return [el("dt", {}, "摄像头"), el("dd", {id: "detail-camera"}, incident.camera_code),
            el("dt", {}, "识别场景"), el("dd", {id: "detail-scene"}, `${incident.scene}${sure}`),
            el("dt", {}, "检出"), el("dd", {id: "detail-detections"}, seen)];
  }

  // the report's photos and a camera's snapshots, newest last, each opening at full size
  function photoSection() {
    if (!state.photos.length) return [];
    return [el("h3", {}, "照片"), el("div", {class: "dispatch-photos"},
      state.photos.map((p) => el("a", {href: p.url, target: "_blank", rel: "noopener"},
        el("img", {src: p.url, alt: `照片 #${p.id}（${L10N.actor(p.taken_by)}）`,
                   loading: "lazy", class: "dispatch-photo"}))))];
  }

  // how the report was placed: the geocoder's method and confidence, or by hand
  function placedHow(incident) {
    const report = state.history.find((h) => h.action === "report");
    const geocoded = report && report.detail && report.detail.geocode;
    const placed = [...state.history].reverse().find((h) => h.action === "place" ||
      (h.action === "dispatch" && h.before && h.before.lon === null && h.after.lon !== null));
    if (placed) return `调度员定位（${L10N.actor(placed.actor)}，${L10N.chinaTime(placed.at)}）`;
    if (geocoded) return L10N.geocode(geocoded);
    if (incident.lon === null) return "未定位";
    return state.history.length ? "上报时自带坐标" : "…";
  }

  function button(label, kind, onclick, attrs) {
    return el("button", {type: "button", class: `btn btn-sm ${kind}`, onclick, ...(attrs || {})},
              label);
  }

  // verify, reopen, close with the 721 class, evaluate, reject: the center's loop moves
  function loopMoves(incident) {
    const moves = [];
    if (incident.status === "resolved") {
      moves.push(button("核查通过", "btn-success", () => move("verify", {}, "核查通过"),
                        {id: "verify"}),
                 button("核查不通过，重新派遣", "btn-outline-warning",
                        () => move("reopen", {}, "已重新派遣", "核查不通过的原因"), {id: "reopen"}));
    }
    if (incident.status === "verified") {
      const kind = el("select", {id: "close-resolution", class: "form-select form-select-sm",
                                 "aria-label": "结案方式（721）"},
        ...Object.entries(L10N.resolutions).map(([code, name]) =>
          el("option", {value: code}, `${name}解决`)));
      moves.push(el("div", {class: "dispatch-inline"}, kind,
        button("结案", "btn-success", () => move("close", {resolution: kind.value}, "已结案"),
               {id: "close"})),
        button("重新派遣", "btn-outline-warning",
               () => move("reopen", {}, "已重新派遣", "重新派遣的原因"), {id: "reopen"}));
    }
    if (incident.status === "closed" && incident.satisfaction === null) {
      const score = el("select", {id: "evaluate-score", class: "form-select form-select-sm",
                                  "aria-label": "满意度"},
        ...[5, 4, 3, 2, 1].map((n) => el("option", {value: String(n)}, `${n} 分`)));
      moves.push(el("div", {class: "dispatch-inline"}, el("span", {}, "回访满意度"), score,
        button("评价", "btn-success",
               () => move("evaluate", {satisfaction: Number(score.value)}, "已评价"),
               {id: "evaluate"})));
    }
    if (incident.satisfaction !== null) {
      moves.push(el("p", {class: "dispatch-hint", id: "evaluated"},
                    `已结案（${L10N.resolution(incident.resolution)}解决），满意度 ${incident.satisfaction}/5`));
    }
    if (can("confirm", incident.status)) {  // a camera's detection a person must look at
      moves.push(button("确认并派遣", "btn-success",
                        () => move("confirm", {}, "已确认，已按规则派遣"), {id: "confirm"}));
    }
    if (can("reject", incident.status)) {
      moves.push(button("不予受理", "btn-outline-danger",
                        () => move("reject", {}, "已不予受理", "不予受理的理由"), {id: "reject"}));
    }
    return moves.length ? [el("h3", {}, "办理"), el("div", {class: "dispatch-moves"}, moves)] : [];
  }

  function categorySection(incident) {
    if (!can("categorize", incident.status)) return [];
    const pick = el("select", {id: "category-pick", class: "form-select form-select-sm",
                               "aria-label": "事件类别"},
      el("option", {value: ""}, incident.category in config.categories ? "更正类别…" : "设定类别…"),
      ...Object.entries(config.categories).map(([code, name]) =>
        el("option", {value: code, selected: code === incident.category}, name)));
    return [el("div", {class: "dispatch-inline"}, pick,
      button(incident.category in config.categories ? "更正类别" : "设定类别", "btn-outline-info",
             () => {
               if (!pick.value) { say("warning", "请先选择类别"); return; }
               move("categorize", {category: pick.value},
                    `类别设为“${categoryName(pick.value)}”`);
             }, {id: "set-category"}))];
  }

  function stopPlacing() {
    state.placing = false;
    document.body.classList.remove("dispatch-placing");
    pickedLayer.clearLayers();
  }

  function startPlacing(incident) {
    state.placing = true;
    document.body.classList.add("dispatch-placing");
    // at once, not animated: the spot clicked next must be where the town is drawn now
    if (grids.getLayers().length) {
      map.fitBounds(grids.getBounds(), {padding: [20, 20], animate: false});
    }
    say("info", `请在地图上点击事件 #${incident.id} 的位置`);
  }

  function placing(incident) {
    candidatesLayer.clearLayers();
    if (incident.status !== "needs_location") {
      if (!can("place", incident.status)) return [];
      return [button(incident.lon === null ? "在地图上点选位置" : "重新定位（地图点选）",
                     "btn-outline-info mt-2", () => startPlacing(incident), {id: "place-on-map"})];
    }
    const offered = (state.found && state.found.candidates) || incident.candidates || [];
    // a candidate the geocoder could not put on the map is no place to pick
    const candidates = offered.filter((c) => Number.isFinite(c.lon) && Number.isFinite(c.lat));
    const rows = candidates.map((c, n) => {
      const how = `${L10N.method(c.method)}，可信度 ${Math.round(c.confidence * 100)}%`;
      L.circleMarker([c.lat, c.lon], {radius: 8, color: "#fff", fillColor: "#ab47bc",
                                      fillOpacity: 0.9, className: "dispatch-candidate"})
        .bindTooltip(`候选 ${n + 1}：${c.address}（${how}）`).addTo(candidatesLayer)
        .on("click", () => placeAt(c.lon, c.lat, c.address));
      return el("div", {class: "dispatch-choice dispatch-candidate-choice"},
        el("div", {}, el("strong", {}, `候选 ${n + 1}：${c.address}`), el("small", {}, how)),
        el("button", {type: "button", class: "btn btn-sm btn-primary",
                      dataset: {address: c.address},
                      onclick: () => placeAt(c.lon, c.lat, c.address)}, "定位并派遣"));
    });
    if (candidates.length) {
      // maxZoom: one candidate makes a bounds of no size, which Leaflet cannot fit
      map.fitBounds(L.latLngBounds(candidates.map((c) => [c.lat, c.lon])).pad(0.5),
                    {maxZoom: 16});
    }
    const click = button("在地图上点选位置", "btn-outline-info", () => startPlacing(incident),
                         {id: "place-on-map"});
    return [el("h3", {}, "定位：地理编码候选"),
            rows.length ? rows : el("p", {class: "dispatch-hint"}, "没有候选地址"), click];
  }

  function choices(incident) {
    const found = state.found;
    if (incident.status === "needs_location") return [];
    const reassign = IN_HAND.includes(incident.status);
    const confirming = can("confirm", incident.status);
    const open = (can("dispatch", incident.status) && !reassign)
      || can("register", incident.status) || confirming;
    if (!open && !reassign) return [];
    if (!found) return [el("p", {class: "dispatch-hint"}, "正在载入推荐处置人…")];
    const verb = reassign ? "改派" : confirming ? "确认并派遣" : "派遣";
    const rows = found.suggestions.map((s) => el("div", {
      class: `dispatch-choice dispatch-suggestion${s.rule ? " dispatch-rule" : ""}` +
        `${s.on_duty ? "" : " dispatch-off"}`, dataset: {to: s.to}},
      el("div", {}, el("strong", {}, `${s.name}（${L10N.assigneeType(s.type)}）`),
         el("small", {}, s.reason)),
      el("button", {type: "button", class: "btn btn-sm btn-success",
                    onclick: () => assign(s.to, s.name)}, verb)));
    const byRule = open && incident.category in config.categories ? el("button", {
      type: "button", class: "btn btn-sm btn-outline-warning mt-2", id: "dispatch-by-rule",
      onclick: () => assign(null, "规则指定的处置人")}, "按规则派遣") : null;
    return [el("h3", {}, reassign ? "改派给" : "推荐处置人"), rows, byRule];
  }

  function mergeSection(incident) {
    if (!can("merge", incident.status)) return [];
    const others = state.links.filter((l) => l.kind === "possible_duplicate")
      .map((l) => (l.incident_id === incident.id ? l.other_id : l.incident_id));
    const rows = [...new Set(others)].map((other) => el("div", {class: "dispatch-choice"},
      el("div", {}, el("strong", {}, `疑似重复：#${other}`)),
      button(`并入 #${other}`, "btn-outline-secondary",
             () => move("merge", {to: String(other)}, `已并入 #${other}`),
             {dataset: {mergeInto: String(other)}})));
    const target = el("input", {id: "merge-target", class: "form-control form-control-sm",
                                type: "number", min: "1", placeholder: "事件编号"});
    return [el("h3", {}, "合并重复事件"), rows,
      el("div", {class: "dispatch-inline"}, target,
         button("并入该事件", "btn-outline-secondary", () => {
           if (!target.value) { say("warning", "请填写要并入的事件编号"); return; }
           move("merge", {to: target.value}, `已并入 #${target.value}`);
         }, {id: "merge"}))];
  }

  function historySection() {
    if (!state.history.length) return [];
    const lines = [...state.history].reverse().map((entry) =>
      el("li", {dataset: {action: entry.action}}, L10N.historyLine(entry)));
    return [el("h3", {}, "办理记录"), el("ol", {class: "dispatch-history", reversed: true}, lines)];
  }

  // ---- start --------------------------------------------------------------------------------
  for (const tab of document.querySelectorAll("[data-queue]")) {
    tab.addEventListener("click", () => showQueue(tab.dataset.queue));
  }
  document.getElementById("select-all").addEventListener("change", (e) => {
    for (const i of state.items) { if (e.target.checked) state.checked.add(i.id); }
    if (!e.target.checked) state.checked.clear();
    renderRows();
  });
  document.getElementById("bulk-dispatch").addEventListener("click", bulkDispatch);
  document.getElementById("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    search(document.getElementById("search").value);
  });
  document.getElementById("search").addEventListener("search", (e) => {
    if (!e.target.value) search("");  // the box's clear button
  });

  loadGrids().then(() => showQueue(state.queue)).then(schedule);
})();
