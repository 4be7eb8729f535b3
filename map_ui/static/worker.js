// The grid worker's phone page: my tasks, report here, record a patrol. Everything goes
// through the service's API with the session cookie; nothing is loaded from elsewhere.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("worker-config").textContent);
  const L10N = window.GisLabels;  // labels.js: the pages' Chinese words for the API's codes
  // what a handler can do next from each state, in button order (the API refuses the rest)
  const NEXT = {
    dispatched: [["accept", "接单"], ["return", "退回"]],
    accepted: [["start", "开始处置"], ["resolve", "办结"], ["return", "退回"],
               ["escalate", "上报指挥中心"]],
    in_progress: [["resolve", "办结"], ["escalate", "上报指挥中心"]],
  };
  const NEEDS_NOTE = {"return": "退回须写明原因", escalate: "上报须写明原因"};
  const ACTIVE = Object.keys(NEXT);
  const categories = {};
  const $ = (id) => document.getElementById(id);

  // ---- talking to the service (page.js: the session, signing in again, refusals) ----
  const { el, refusal } = window.pageKit;
  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; this.detail = detail; }
  }

  // the page's steps run one after another: a refusal ends the step (ApiError, its reason in
  // Chinese) rather than being checked after every call
  async function api(path, options) {
    const got = await window.pageKit.api(path, options);
    if (!got.ok) throw new ApiError(got.status, refusal(got));
    return got.body;
  }

  function say(text, warn) {
    const box = $("message");
    box.textContent = text;
    box.classList.toggle("w-warn", Boolean(warn));
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  }

  // ---- the map: my grid's outline, my tasks, where I am ----
  const map = L.map("map", {attributionControl: Boolean(config.basemap)});
  map.setView([31.0, 120.5], 13);
  L.control.scale({imperial: false}).addTo(map);
  if (config.basemap) {
    L.tileLayer(config.basemap.url, {attribution: config.basemap.attribution, maxZoom: 19})
      .addTo(map);
  }
  const taskLayer = L.layerGroup().addTo(map);
  const trackLine = L.polyline([], {color: "#d84315", weight: 4}).addTo(map);
  let meMarker = null;

  async function drawGrid() {
    if (!config.grid) return;
    try {
      const grid = await api(`/api/v1/grids/${encodeURIComponent(config.grid)}`);
      const outline = L.geoJSON(grid, {style: {color: "#0b5cad", weight: 3, fillOpacity: 0.06}})
        .addTo(map);
      map.invalidateSize();  // the phone may have settled its layout since the map was made
      map.fitBounds(outline.getBounds(), {padding: [10, 10]});
    } catch (error) {
      say(`网格边界未能加载：${error.detail || error.message}`, true);
    }
  }

  function showMe(lat, lon) {
    const icon = L.divIcon({className: "", html: '<div class="w-me"></div>', iconSize: [22, 22]});
    if (meMarker) meMarker.setLatLng([lat, lon]);
    else meMarker = L.marker([lat, lon], {icon, title: "我的位置"}).addTo(map);
  }

  // ---- tabs ----
  for (const tab of document.querySelectorAll("[data-tab]")) {
    tab.addEventListener("click", () => {
      for (const other of document.querySelectorAll("[data-tab]")) {
        const chosen = other === tab;
        other.setAttribute("aria-selected", String(chosen));
        $(`tab-${other.dataset.tab}`).hidden = !chosen;
      }
    });
  }

  // ---- my tasks ----
  function dueText(incident) {
    if (!incident.due_at) return "无期限";
    const due = new Date(incident.due_at);
    const hours = (due - Date.now()) / 3600000;
    const when = due.toLocaleString("zh-CN", {month: "numeric", day: "numeric",
                                              hour: "2-digit", minute: "2-digit"});
    if (hours < 0) return `已超期 ${Math.ceil(-hours)} 小时（${when}）`;
    return `剩余 ${hours < 1 ? "不足1" : Math.floor(hours)} 小时（${when} 前）`;
  }

  function urgency(a, b) {
    if (a.priority !== b.priority) return b.priority - a.priority;
    const due = (i) => (i.due_at ? Date.parse(i.due_at) : Infinity);
    return due(a) - due(b);
  }

  function taskCard(incident) {
    const item = el("li", {class: `w-task ${incident.deadline_state}`,
                                "data-id": String(incident.id),
                                "data-status": incident.status});
    const name = categories[incident.category] || incident.category || "未分类";
    item.append(el("h3", {}, `${name} · ${L10N.handlerState(incident.status)}`));
    const meta = el("p", {class: "w-meta"});
    meta.append(el("span", {}, `#${incident.id} `),
                el("span", {class: `w-due ${incident.deadline_state}`}, dueText(incident)));
    item.append(meta);
    const assignee = incident.assignee;
    if (assignee && config.worker_code && assignee.type === "grid_worker" &&
        assignee.code !== config.worker_code) {
      item.append(el("p", {class: "w-cover"},
                          `B岗顶岗：A岗 ${assignee.name || assignee.code} 不在岗`));
    }
    const where = [incident.address, incident.description].filter(Boolean).join(" · ");
    if (where) item.append(el("p", {}, where));
    const noteId = `note-${incident.id}`;
    const photoId = `photo-${incident.id}`;
    item.append(el("label", {for: noteId}, "处置说明"),
                el("textarea", {id: noteId, rows: "2", maxlength: "4000",
                                     placeholder: "退回、上报须写明原因"}),
                el("label", {for: photoId}, "照片（随操作一并上传）"),
                el("input", {id: photoId, type: "file", accept: "image/*",
                                  capture: "environment", multiple: ""}));
    const buttons = el("div", {class: "w-actions"});
    for (const [action, label] of NEXT[incident.status] || []) {
      const button = el("button", {type: "button", "data-action": action,
                                        class: action in NEEDS_NOTE ? "" : "w-primary"}, label);
      button.addEventListener("click", () => act(incident, action, item));
      buttons.append(button);
    }
    item.append(buttons);
    return item;
  }

  // Exactly my open tasks (my post's, and an absent A post's while I cover it as B), asked
  // of the service by a filter rather than picked out of a page of everything in my grid.
  async function myTasks() {
    const query = new URLSearchParams({assignee: "me", status: ACTIVE.join(","), limit: "200"});
    const tasks = [];
    for (let page = 0; page < 10; page += 1) {  // 2,000 tasks at most: more is not a phone's
      const answer = await api(`/api/v1/incidents?${query}`);
      tasks.push(...answer.items);
      if (!answer.next_cursor) break;
      query.set("cursor", answer.next_cursor);
    }
    return tasks.sort(urgency);
  }

  async function loadTasks() {
    const list = $("tasks");
    try {
      const tasks = await myTasks();
      list.replaceChildren(...tasks.map(taskCard));
      if (!tasks.length) list.append(el("li", {class: "w-empty"}, "暂无待办任务"));
      taskLayer.clearLayers();
      for (const task of tasks) {
        if (task.lat === null || task.lon === null) continue;
        const colour = {red: "#d32f2f", yellow: "#e0a000", green: "#2e9d4f"}[task.deadline_state];
        L.circleMarker([task.lat, task.lon], {radius: 8, color: colour || "#52667a",
                                              fillOpacity: 0.8})
          .bindTooltip(`#${task.id} ${categories[task.category] || task.category || ""}`)
          .addTo(taskLayer);
      }
    } catch (error) {
      list.replaceChildren(el("li", {class: "w-empty"},
                                   `任务未能加载：${error.detail || error.message}`));
    }
  }

  async function uploadPhotos(incidentId, input) {
    for (const file of input.files || []) {
      const form = new FormData();
      form.append("file", file, file.name);
      await api(`/api/v1/incidents/${incidentId}/photos`, {method: "POST", body: form});
    }
    input.value = "";
  }

  async function act(incident, action, item) {
    const buttons = item.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    const note = item.querySelector("textarea").value.trim();
    if (action in NEEDS_NOTE && !note) {
      say(NEEDS_NOTE[action], true);
      buttons.forEach((b) => { b.disabled = false; });
      item.querySelector("textarea").focus();
      return;
    }
    try {
      await uploadPhotos(incident.id, item.querySelector("input[type=file]"));
      const done = await api(`/api/v1/incidents/${incident.id}/actions`, {
        method: "POST", headers: {"If-Match": `"${incident.version}"`}, json: {action, note}});
      say(action === "escalate" ? `#${done.id} 已上报${L10N.assignee(done.assignee)}`
        : `#${done.id} 已${L10N.action(action)}，现为${L10N.handlerState(done.status)}`);
    } catch (error) {
      if (error.status === 412) {
        say("该任务已被他人修改，已重新加载，请确认后再操作", true);
      } else {
        say(`操作未成功：${error.detail || error.message}`, true);
      }
    }
    await loadTasks();
  }

  // ---- report here ----
  let here = null;

  async function loadCategories() {
    const select = $("category");
    try {
      const services = await api("/open311/v2/services.json");
      select.replaceChildren(el("option", {value: ""}, "请选择类别"));
      for (const service of services) {
        categories[service.service_code] = service.service_name;
        select.append(el("option", {value: service.service_code}, service.service_name));
      }
    } catch (error) {
      say(`事件类别未能加载：${error.detail || error.message}`, true);
    }
  }

  function position(options) {
    return new Promise((resolve, reject) => {
      if (!navigator.geolocation) { reject(new Error("此浏览器不支持定位")); return; }
      navigator.geolocation.getCurrentPosition(resolve, reject, options);
    });
  }

  function readyToReport() {
    $("submit-report").disabled = !(here && $("category").value);
  }

  $("locate").addEventListener("click", async () => {
    $("position").textContent = "定位中…";
    try {
      const fix = await position({enableHighAccuracy: true, timeout: 20000, maximumAge: 0});
      here = {lon: fix.coords.longitude, lat: fix.coords.latitude, accuracy: fix.coords.accuracy};
      $("position").textContent =
        `经度 ${here.lon.toFixed(6)}，纬度 ${here.lat.toFixed(6)}（精度约 ${Math.round(here.accuracy)} 米）`;
      showMe(here.lat, here.lon);
      map.panTo([here.lat, here.lon]);
    } catch (error) {
      here = null;
      $("position").textContent = `定位失败：${error.message || "请允许使用位置信息"}`;
    }
    readyToReport();
  });
  $("category").addEventListener("change", readyToReport);

  $("submit-report").addEventListener("click", async () => {
    const button = $("submit-report");
    button.disabled = true;
    const result = $("report-result");
    try {
      const incident = await api("/api/v1/incidents", {
        method: "POST", headers: {"Idempotency-Key": newKey()},
        json: {source: "grid_patrol", category: $("category").value,
               description: $("description").value.trim(),
               location: {lon: here.lon, lat: here.lat, crs: $("crs").value},
               reported_at: new Date().toISOString()}});
      const assignee = incident.assignee ? L10N.assignee(incident.assignee) : "待指挥中心分派";
      result.replaceChildren(
        el("p", {}, `已上报，事件编号 #${incident.id}`),
        el("p", {}, `所属网格：${incident.grid3 || incident.grid2 || "未落入网格"}`),
        el("p", {}, `分派给：${assignee}（${L10N.state(incident.status)}）`));
      result.dataset.id = String(incident.id);
      result.hidden = false;
      await uploadPhotos(incident.id, $("report-photo"));
      $("description").value = "";
      say(`事件 #${incident.id} 已上报`);
      await loadTasks();
    } catch (error) {
      say(`上报未成功：${error.detail || error.message}`, true);
    }
    readyToReport();
  });

  // ---- patrol recording ----
  const patrol = {watch: null, timer: null, points: [], distance: 0, sent: 0, total: 0,
                  sending: false};

  function metres(a, b) {
    const rad = Math.PI / 180;
    const dLat = (b[1] - a[1]) * rad;
    const dLon = (b[0] - a[0]) * rad;
    const h = Math.sin(dLat / 2) ** 2 +
      Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
  }

  function showPatrol(state) {
    if (state) $("patrol-state").textContent = state;
    $("patrol-distance").textContent = String(Math.round(patrol.distance));
    $("patrol-points").textContent = String(patrol.total);
    $("patrol-sent").textContent = `${patrol.sent} 段`;
  }

  function onFix(fix) {
    const point = [fix.coords.longitude, fix.coords.latitude,
                   new Date(fix.timestamp || Date.now()).toISOString()];
    const last = patrol.points[patrol.points.length - 1];
    if (last && last[0] === point[0] && last[1] === point[1]) return;  // standing still
    if (last) patrol.distance += metres(last, point);
    else if (patrol.total === 0) {
      api("/api/v1/patrols/ping", {method: "POST",
                                   json: {lon: point[0], lat: point[1], crs: "wgs84"}})
        .catch(() => {});  // a missed ping is harmless: the track carries the position too
    }
    patrol.points.push(point);
    patrol.total += 1;
    trackLine.addLatLng([point[1], point[0]]);
    showMe(point[1], point[0]);
    showPatrol("巡查中");
  }

  async function flush() {
    if (patrol.sending || patrol.points.length < 2) return;
    patrol.sending = true;
    const points = patrol.points.slice();
    try {
      const track = await api("/api/v1/patrols", {method: "POST", json: {crs: "wgs84", points}});
      patrol.sent += 1;
      // the next part starts where this one ended, so the walk stays connected
      patrol.points = [points[points.length - 1], ...patrol.points.slice(points.length)];
      $("tab-patrol").dataset.lastTrack = String(track.id);
      showPatrol();
    } catch (error) {
      say(`轨迹上传未成功，稍后重试：${error.detail || error.message}`, true);
    } finally {
      patrol.sending = false;
    }
  }

  async function startPatrol() {
    if (!navigator.geolocation) { say("此浏览器不支持定位", true); return; }
    Object.assign(patrol, {points: [], distance: 0, sent: 0, total: 0});
    trackLine.setLatLngs([]);
    patrol.watch = navigator.geolocation.watchPosition(onFix, (error) => {
      // a fix lost for a moment (under trees, between buildings) is normal: keep watching
      if (error.code === error.PERMISSION_DENIED) say("定位失败：请允许本页使用位置信息", true);
      else showPatrol("巡查中（暂时无法定位，继续尝试…）");
    }, {enableHighAccuracy: true, maximumAge: 0, timeout: 30000});
    patrol.timer = setInterval(flush, config.flush_seconds * 1000);
    $("patrol-toggle").textContent = "结束巡查";
    showPatrol("巡查中");
  }

  async function stopPatrol() {
    navigator.geolocation.clearWatch(patrol.watch);
    clearInterval(patrol.timer);
    patrol.watch = null;
    $("patrol-toggle").disabled = true;
    while (patrol.sending) await new Promise((done) => setTimeout(done, 100));
    await flush();
    $("patrol-toggle").disabled = false;
    $("patrol-toggle").textContent = "开始巡查";
    const kept = patrol.sent ? "轨迹已保存" : "定位点太少，未保存轨迹";
    showPatrol(`已结束，${kept}`);
  }

  $("patrol-toggle").addEventListener("click", () => {
    if (patrol.watch === null) startPatrol(); else stopPatrol();
  });

  $("reload").addEventListener("click", loadTasks);
  loadCategories().then(loadTasks);
  drawGrid();
})();
