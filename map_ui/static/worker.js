// The grid worker's phone page: my tasks, report here, record a patrol. Everything goes
// through the service's API with the session cookie; nothing is loaded from elsewhere.
// It works without signal: what the worker makes (reports, photos, actions, patrol tracks)
// goes through the outbox (worker_outbox.js), kept on the phone until it gets through; what
// the page reads (categories, grid, tasks) is kept there too and shown when the network is
// gone; the service worker (worker_sw.js) opens the page itself offline.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("worker-config").textContent);
  const L10N = window.GisLabels;  // labels.js: the pages' Chinese words for the API's codes
  const outbox = window.workerOutbox;
  // what a handler can do next from each state, in button order (the API refuses the rest)
  const NEXT = {
    dispatched: [["accept", "接单"], ["return", "退回"]],
    accepted: [["start", "开始处置"], ["resolve", "办结"], ["return", "退回"],
               ["escalate", "上报指挥中心"]],
    in_progress: [["resolve", "办结"], ["escalate", "上报指挥中心"]],
  };
  const NEEDS_NOTE = {"return": "退回须写明原因", escalate: "上报须写明原因"};
  // where an action still waiting to be sent takes its task, as the phone shows it meanwhile
  // (resolve, return and escalate take it off the worker's list)
  const AFTER = {accept: "accepted", start: "in_progress"};
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

  // no answer at all (no signal, the service out of reach), rather than a refusal
  const offline = (error) => !(error instanceof ApiError) && !error.signedOut;
  const why = (error) => error.detail || (offline(error) ? "网络不通" : error.message);
  const clock = (ms) => new Date(ms).toLocaleTimeString("zh-CN", {hour: "2-digit",
                                                                 minute: "2-digit"});

  // A read kept on the phone for use without network: the answer (and kept), else the last
  // kept answer with its time.
  async function remembered(name, read) {
    try {
      const value = await read();
      await outbox.save(name, value).catch(() => {});  // a full phone still shows the answer
      return {value, at: null};
    } catch (error) {
      if (!offline(error)) throw error;
      const kept = await outbox.load(name).catch(() => null);
      if (!kept) throw error;
      return kept;
    }
  }

  // ---- the network, and the outbox's news ----
  let making = 0;  // items being made now: their own outcome is said by whoever made them

  function showNetwork() {
    $("net").hidden = navigator.onLine;
  }

  function sentWords(sent) {
    const count = (kind) => sent.filter((o) => o.item.kind === kind).length;
    return [["report", "上报"], ["action", "操作"], ["patrol", "巡查轨迹"]]
      .filter(([kind]) => count(kind)).map(([kind, word]) => `${word} ${count(kind)} 条`)
      .join("、");
  }

  outbox.onSent((sent) => {
    if (!sent.length) return;
    if (sent.some((o) => o.item.kind !== "patrol")) loadTasks();
    showPatrol();
    if (!making) say(`待发送的内容已发出：${sentWords(sent)}`);
  });

  async function make(item) {
    making += 1;
    try {
      return await outbox.submit(item);
    } finally {
      making -= 1;
    }
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
      const {value: grid} = await remembered(
        "grid", () => api(`/api/v1/grids/${encodeURIComponent(config.grid)}`));
      const outline = L.geoJSON(grid, {style: {color: "#0b5cad", weight: 3, fillOpacity: 0.06}})
        .addTo(map);
      map.invalidateSize();  // the phone may have settled its layout since the map was made
      map.fitBounds(outline.getBounds(), {padding: [10, 10]});
      showTeam(grid.properties && grid.properties.team);
    } catch (error) {
      say(`网格边界未能加载：${why(error)}`, true);
    }
  }

  // the grid's people beside its worker (police group, volunteers, liaison …), a tap to call
  // each (kept with the grid, so the numbers are there without signal too)
  function showTeam(team) {
    if (!team || !team.length) return;
    const rows = team.map((member) => el("li", {dataset: {code: member.code}},
      el("span", {}, el("b", {}, L10N.teamRole(member.role)), ` ${member.name}`,
         member.organisation ? el("small", {}, member.organisation) : null),
      member.phone && !member.phone.includes("*")
        ? el("a", {href: `tel:${member.phone}`, class: "w-small"}, member.phone)
        : el("small", {}, member.phone || "")));
    $("team").replaceChildren(...rows);
    $("team-box").hidden = false;
  }

  function showMe(lat, lon) {
    const icon = L.divIcon({className: "", html: '<div class="w-me"></div>', iconSize: [22, 22]});
    if (meMarker) meMarker.setLatLng([lat, lon]);
    else meMarker = L.marker([lat, lon], {icon, title: "我的位置"}).addTo(map);
  }

  // ---- tabs ----
  if (!config.acts) {  // a grid team member's list is what it was brought in on
    document.querySelector("[data-tab=tasks]").textContent = "协办事项";
    document.querySelector("#tab-tasks h2").textContent = "协办事项";
  }
  if (!config.patrols) document.querySelector("[data-tab=patrol]").hidden = true;
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
                                "data-status": incident.status,
                                "data-waiting": incident.waiting ? String(incident.waiting) : null});
    const name = categories[incident.category] || incident.category || "未分类";
    // a handler reads what it has to do next; a team member where the handler stands
    const stateWords = config.acts ? L10N.handlerState(incident.status) : L10N.state(incident.status);
    item.append(el("h3", {}, `${name} · ${stateWords}`));
    const meta = el("p", {class: "w-meta"});
    meta.append(el("span", {}, `#${incident.id} `),
                el("span", {class: `w-due ${incident.deadline_state}`}, dueText(incident)));
    item.append(meta);
    if (incident.waiting) {
      item.append(el("p", {class: "w-pending"},
                      `有 ${incident.waiting} 项操作存在手机上待发送（版本以发送时为准）`));
    }
    const assignee = incident.assignee;
    if (assignee && config.worker_code && assignee.type === "grid_worker" &&
        assignee.code !== config.worker_code) {
      item.append(el("p", {class: "w-cover"},
                          `B岗顶岗：A岗 ${assignee.name || assignee.code} 不在岗`));
    }
    const where = [incident.address, incident.description].filter(Boolean).join(" · ");
    if (where) item.append(el("p", {}, where));
    if (!config.acts) {  // a grid team member: brought in to help, the handler acts
      item.append(el("p", {class: "w-cover"},
                     `协办：处置人 ${L10N.assignee(incident.assignee)}`));
      return item;
    }
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

  // Actions still waiting to be sent move their tasks on as the service will once they
  // arrive: from the version they were made on, one version each.
  function withWaiting(tasks, items) {
    const byId = new Map(tasks.map((task) => [task.id, {...task}]));
    for (const item of items) {
      const task = byId.get(item.incident);
      if (item.kind !== "action" || item.state !== "waiting" || !task ||
          task.version !== item.version) continue;
      task.version += 1;
      task.waiting = (task.waiting || 0) + 1;
      if (AFTER[item.action]) task.status = AFTER[item.action];
      else byId.delete(item.incident);
    }
    return tasks.map((task) => byId.get(task.id)).filter(Boolean);
  }

  // The list is drawn again whenever something waiting is sent or the network returns; a
  // note being written, photos chosen, and the focus of the box typed in stay with their task
  // (a task's new version included: the worker's words about it still hold).
  const typedIn = (list) => window.pageKit.typedIn(
    [...list.querySelectorAll("textarea, input[type=file]")]);

  async function loadTasks() {
    const list = $("tasks");
    try {
      const {value, at} = await remembered("tasks", myTasks);
      const tasks = withWaiting(value, await outbox.mine());
      const typed = typedIn(list);
      list.replaceChildren(...tasks.map(taskCard));
      window.pageKit.restoreTyped(typed);
      if (at) list.prepend(el("li", {class: "w-empty w-stale"}, `离线：以下是 ${clock(at)} 时的任务`));
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
      list.replaceChildren(el("li", {class: "w-empty"}, `任务未能加载：${why(error)}`));
    }
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
    const input = item.querySelector("input[type=file]");
    const label = L10N.action(action);
    try {
      // the photos go first, then the action with the version the worker saw (If-Match)
      const outcome = await make({
        kind: "action", title: `${label} · 任务 #${incident.id}`, incident: incident.id,
        version: incident.version, action, note, photos: Array.from(input.files || [])});
      input.value = "";
      // sent or waiting in the outbox, the note went with it; a refused move keeps it to retry
      if (!outcome.refused) item.querySelector("textarea").value = "";
      if (outcome.sent) {
        const done = outcome.result;
        say(action === "escalate" ? `#${done.id} 已上报${L10N.assignee(done.assignee)}`
          : `#${done.id} 已${label}，现为${L10N.handlerState(done.status)}`);
        return;  // the outbox's news reloads the list
      }
      if (outcome.refused) {
        await outbox.drop(outcome.item.id);  // said here and now: not kept as failed
        if (outcome.status === 412) say("该任务已被他人修改，已重新加载，请确认后再操作", true);
        else say(`操作未成功：${outcome.reason}`, true);
      } else {
        say(`网络不通：“${label}”已存在手机上，恢复网络后自动发送`, true);
      }
    } catch (error) {
      say(`操作未成功：${why(error)}`, true);
    }
    await loadTasks();
  }

  // ---- report here ----
  let here = null;

  async function loadCategories() {
    const select = $("category");
    try {
      const {value: services} = await remembered("categories",
                                                 () => api("/open311/v2/services.json"));
      select.replaceChildren(el("option", {value: ""}, "请选择类别"));
      for (const service of services) {
        categories[service.service_code] = service.service_name;
        select.append(el("option", {value: service.service_code}, service.service_name));
      }
    } catch (error) {
      say(`事件类别未能加载：${why(error)}`, true);
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

  function showReported(incident) {
    const result = $("report-result");
    const assignee = incident.assignee ? L10N.assignee(incident.assignee) : "待指挥中心分派";
    result.replaceChildren(
      el("p", {}, `已上报，事件编号 #${incident.id}`),
      el("p", {}, `所属网格：${incident.grid3 || incident.grid2 || "未落入网格"}`),
      el("p", {}, `分派给：${assignee}（${L10N.state(incident.status)}）`));
    result.dataset.id = String(incident.id);
    result.hidden = false;
  }

  function showKept(count) {
    const result = $("report-result");
    result.replaceChildren(el("p", {}, "网络不通：本次上报已存在手机上，恢复网络后自动发送"),
                           el("p", {}, `待发送 ${count} 条（见页面上方）`));
    delete result.dataset.id;
    result.hidden = false;
  }

  $("submit-report").addEventListener("click", async () => {
    $("submit-report").disabled = true;
    const category = $("category").value;
    const description = $("description").value.trim();
    // the report as it will be sent, whenever that is: its time is when it was made
    const body = {source: "grid_patrol", category, description,
                  location: {lon: here.lon, lat: here.lat, crs: $("crs").value},
                  reported_at: new Date().toISOString()};
    const name = categories[category] || category;
    const title = `上报 · ${name}${description ? ` · ${description.slice(0, 20)}` : ""}`;
    try {
      const outcome = await make({kind: "report", title, body: JSON.stringify(body),
                                  photos: Array.from($("report-photo").files || [])});
      const incident = outcome.item && outcome.item.result;
      if (outcome.refused) await outbox.drop(outcome.item.id);  // said here and now
      if (outcome.refused && !incident) {
        say(`上报未成功：${outcome.reason}`, true);  // the form keeps what was written
      } else {
        $("description").value = "";
        $("report-photo").value = "";
        if (incident) showReported(incident);
        if (outcome.refused) say(`事件 #${incident.id} 已上报，照片未能上传：${outcome.reason}`, true);
        else if (outcome.sent) say(`事件 #${incident.id} 已上报`);
        else if (incident) say(`事件 #${incident.id} 已上报，照片存在手机上待发送`, true);
        else {
          const waiting = (await outbox.mine()).filter((i) => i.state === "waiting").length;
          showKept(waiting);
          say("网络不通：上报已存在手机上，恢复网络后自动发送", true);
        }
      }
    } catch (error) {
      say(`上报未成功：${why(error)}`, true);
    }
    readyToReport();
  });

  // ---- patrol recording ----
  // parts: the track's parts made (kept and sent, or waiting); run: this walk's own mark
  const patrol = {watch: null, timer: null, points: [], distance: 0, total: 0, parts: 0,
                  run: null};

  function metres(a, b) {
    const rad = Math.PI / 180;
    const dLat = (b[1] - a[1]) * rad;
    const dLon = (b[0] - a[0]) * rad;
    const h = Math.sin(dLat / 2) ** 2 +
      Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
  }

  // this walk's parts still on the phone: {waiting, failed}
  async function partsKept() {
    const kept = (await outbox.mine()).filter((i) => i.kind === "patrol" && i.run === patrol.run);
    const waiting = kept.filter((i) => i.state === "waiting").length;
    return {waiting, failed: kept.length - waiting};
  }

  async function showPatrol(state) {
    if (state) $("patrol-state").textContent = state;
    $("patrol-distance").textContent = String(Math.round(patrol.distance));
    $("patrol-points").textContent = String(patrol.total);
    const {waiting, failed} = patrol.run ? await partsKept() : {waiting: 0, failed: 0};
    $("patrol-sent").textContent = `${patrol.parts - waiting - failed} 段` +
      `${waiting ? `，待发送 ${waiting} 段` : ""}${failed ? `，未能上传 ${failed} 段` : ""}`;
  }

  // the walk being recorded, kept on the phone at each fix: a page closed mid-walk loses none
  function keepPatrol() {
    const {run, points, distance, total, parts} = patrol;
    outbox.save("patrol", {run, points, distance, total, parts}).catch(() => {});
  }

  function onFix(fix) {
    const point = [fix.coords.longitude, fix.coords.latitude,
                   new Date(fix.timestamp || Date.now()).toISOString()];
    const last = patrol.points[patrol.points.length - 1];
    if (last && last[0] === point[0] && last[1] === point[1]) return;  // standing still
    if (last) patrol.distance += metres(last, point);
    else if (patrol.total === 0 && navigator.onLine) {
      api("/api/v1/patrols/ping", {method: "POST",
                                   json: {lon: point[0], lat: point[1], crs: "wgs84"}})
        .catch(() => {});  // a missed ping is harmless: the track carries the position too
    }
    patrol.points.push(point);
    patrol.total += 1;
    trackLine.addLatLng([point[1], point[0]]);
    showMe(point[1], point[0]);
    keepPatrol();
    showPatrol("巡查中");
  }

  function partOf(points, run, title) {
    return {kind: "patrol", run, title: `${title} · ${points.length} 个定位点`,
            body: JSON.stringify({crs: "wgs84", points})};
  }

  // The points so far become a part of the track, sent through the outbox.
  async function sendPart() {
    if (patrol.points.length < 2) return;
    const points = patrol.points.slice();
    // the next part starts where this one ended, so the walk stays connected
    patrol.points = [points[points.length - 1]];
    patrol.parts += 1;
    keepPatrol();
    try {
      const outcome = await make(partOf(points, patrol.run, "巡查轨迹"));
      if (outcome.sent) $("tab-patrol").dataset.lastTrack = String(outcome.result.id);
      // kept, as failed: a track is not made again; the worker may try it later (重试)
      if (outcome.refused) say(`轨迹上传未成功，稍后重试：${outcome.reason}`, true);
    } catch (error) {
      say(`轨迹未能保存：${why(error)}`, true);
    }
    await showPatrol();
  }

  // A walk left unfinished (the page was closed mid-walk): what it recorded goes out.
  async function unfinishedPatrol() {
    const kept = await outbox.load("patrol").catch(() => null);
    if (!kept) return;
    await outbox.forget("patrol");
    const points = kept.value.points || [];
    if (points.length < 2) return;
    await make(partOf(points, kept.value.run, "巡查轨迹（上次未结束）"));
    say("上次巡查未结束：已记录的轨迹已存入待发送", true);
  }

  async function startPatrol() {
    if (!navigator.geolocation) { say("此浏览器不支持定位", true); return; }
    Object.assign(patrol, {points: [], distance: 0, total: 0, parts: 0,
                           run: `${Date.now()}`});
    trackLine.setLatLngs([]);
    patrol.watch = navigator.geolocation.watchPosition(onFix, (error) => {
      // a fix lost for a moment (under trees, between buildings) is normal: keep watching
      if (error.code === error.PERMISSION_DENIED) say("定位失败：请允许本页使用位置信息", true);
      else showPatrol("巡查中（暂时无法定位，继续尝试…）");
    }, {enableHighAccuracy: true, maximumAge: 0, timeout: 30000});
    patrol.timer = setInterval(sendPart, config.flush_seconds * 1000);
    $("patrol-toggle").textContent = "结束巡查";
    showPatrol("巡查中");
  }

  async function stopPatrol() {
    navigator.geolocation.clearWatch(patrol.watch);
    clearInterval(patrol.timer);
    patrol.watch = null;
    $("patrol-toggle").disabled = true;
    await sendPart();
    await outbox.forget("patrol").catch(() => {});
    $("patrol-toggle").disabled = false;
    $("patrol-toggle").textContent = "开始巡查";
    const {waiting, failed} = await partsKept();
    const kept = !patrol.parts ? "定位点太少，未保存轨迹"
      : failed ? `轨迹存在手机上，${failed} 段未能上传（见待发送列表）`
        : waiting ? `轨迹存在手机上，${waiting} 段待恢复网络后上传` : "轨迹已保存";
    await showPatrol(`已结束，${kept}`);
  }

  $("patrol-toggle").addEventListener("click", () => {
    if (patrol.watch === null) startPatrol(); else stopPatrol();
  });

  // ---- the installable app: the service worker keeps the page for use offline ----
  function installable() {
    if (!("serviceWorker" in navigator) || !config.service_worker) return;
    navigator.serviceWorker.register(config.service_worker.url,
                                     {scope: config.service_worker.scope})
      .catch((error) => console.warn("离线使用未能启用", error));
  }

  $("reload").addEventListener("click", loadTasks);
  window.addEventListener("online", () => { showNetwork(); loadTasks(); });
  window.addEventListener("offline", showNetwork);
  showNetwork();
  installable();
  outbox.start(config.username, config.retry_seconds)
    .then(unfinishedPatrol)
    .catch((error) => say(`手机存储不可用，离线时所做的无法保存：${why(error)}`, true));
  loadCategories().then(loadTasks);
  drawGrid();
})();
