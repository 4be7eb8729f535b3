/* The plan editor: a draft's grids on the map, its validation, balance, impact and edit log,
   and the tools (vertex editing, split, merge, move a piece, undo, rebalance, publish, repair
   within tolerance), all through /api/v1/plans. Every edit names the version the page holds
   (If-Match); a 412 means someone else changed the plan: the page says so and reloads it. */
"use strict";

(function () {
  // ---- small helpers ----------------------------------------------------------------------
  const { api, el } = window.pageKit;  // page.js
  const { refusal } = window.planApi;  // plan_api.js: a refusal said of a plan
  const $ = (id) => document.getElementById(id);

  const listConfig = $("plan-list-config");
  if (listConfig) {  // the plan list: only the "new draft" form
    const form = $("new-plan");
    if (form) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const made = await api("/api/v1/plans", {
          method: "POST", json: {name: $("new-plan-name").value}});
        if (made.ok) window.location.assign(`/plans/${made.body.id}/edit`);
        else $("new-plan-error").textContent = refusal(made);
      });
    }
    return;
  }

  const config = JSON.parse($("plan-editor-config").textContent);
  const PLAN = `/api/v1/plans/${config.plan_id}`;
  const SENDABLE = ["name", "level", "kind", "parent_code", "households", "population",
                    "multipart"];
  const LEVEL_STYLES = {
    1: {color: "#e3eaf2", weight: 3, fill: false, interactive: false},
    2: {color: "#4fc3f7", weight: 2, fill: false, interactive: false},
    3: {color: "#90a4ae", weight: 1, fillColor: "#26a69a", fillOpacity: 0.18},
  };
  const BALANCE_COLOURS = {in: "#43a047", under: "#1e88e5", over: "#e53935"};
  const state = {
    version: config.version, status: config.status, editable: config.editable,
    features: [], byCode: {}, layers: {}, selected: null, mode: "select", level: 3,
    handler: null, drawn: null, validation: null, metrics: null, tab: "validation",
    sort: {key: "code", dir: 1}, busy: false, highlighted: null, repairs: null,
  };

  function say(kind, text, extraClass) {
    const box = el("div", {class: `pe-message pe-message-${kind} ${extraClass || ""}`,
                           role: "alert", dataset: {kind}}, text);
    const list = $("messages");
    list.prepend(box);
    while (list.children.length > 5) list.lastElementChild.remove();
    setTimeout(() => box.remove(), kind === "success" ? 8000 : 30000);
    return box;
  }

  function setVersion(version) {
    if (version === undefined || version === null) return;
    state.version = Number(version);
    $("plan-version").textContent = `第 ${state.version} 版`;
    document.body.dataset.version = String(state.version);
  }
  const versionOf = (etag) => (etag ? Number(etag.replace(/^W\//, "").replace(/"/g, "")) : null);

  // ---- the map --------------------------------------------------------------------------------
  const map = L.map("map", {zoomSnap: 0.25, attributionControl: Boolean(config.basemap),
                            doubleClickZoom: false}).setView([31.0, 120.25], 11);
  if (config.basemap) {
    L.tileLayer(config.basemap.url, {attribution: config.basemap.attribution, maxZoom: 19})
      .addTo(map);
  }
  L.control.scale({imperial: false}).addTo(map); // metres and kilometres only
  map.createPane("pe-problems").style.zIndex = 450;
  const gridLayer = L.featureGroup().addTo(map);
  const problemLayer = L.featureGroup().addTo(map);
  const repairLayer = L.featureGroup().addTo(map);  // the marker of the repair looked at
  let fitted = false;

  function balanceOf(code) {
    if (!state.metrics || state.tab !== "balance") return null;
    const item = state.metrics.byCode[code];
    if (!item || item.in_band === null || item.in_band === undefined) return null;
    if (item.in_band) return "in";
    return item.deviation < 0 ? "under" : "over";
  }

  function styleOf(feature) {
    const p = feature.properties;
    if (p.level === null || p.level === undefined) {
      return {color: "#ffb74d", weight: 1, dashArray: "4 4", fill: false, interactive: false};
    }
    const style = {dashArray: null, ...(LEVEL_STYLES[p.level] || LEVEL_STYLES[3])};
    style.interactive = p.level === state.level;
    if (p.level === state.level && p.level !== 3) {
      style.fill = true;
      style.fillColor = "#4fc3f7";
      style.fillOpacity = 0.08;
    }
    const balance = p.level === 3 ? balanceOf(p.code) : null;
    if (balance) {
      style.fillColor = BALANCE_COLOURS[balance];
      style.fillOpacity = 0.35;
    }
    if (p.changed && p.level === state.level) style.dashArray = "6 3";
    if (p.code === state.selected) {
      style.color = "#ffeb3b";
      style.weight = 3;
    }
    return style;
  }

  function classOf(feature) {
    const p = feature.properties;
    return `pe-grid pe-grid-${p.code} pe-level-${p.level === null ? "special" : p.level}`;
  }

  function drawGrids() {
    gridLayer.clearLayers();
    state.layers = {};
    // the town at the bottom, the level-3 grids on top where they can be clicked
    const RANK = {1: 0, 2: 1, 3: 3};
    const rank = (f) => (f.properties.level in RANK ? RANK[f.properties.level] : 2);
    const sorted = [...state.features].sort((a, b) => rank(a) - rank(b));
    for (const feature of sorted) {
      const p = feature.properties;
      const layer = L.geoJSON(feature, {className: classOf(feature), ...styleOf(feature)})
        .getLayers()[0];
      if (!layer) continue;
      layer.feature = feature;
      layer.on("click", (event) => {
        L.DomEvent.stopPropagation(event);
        onGridClick(p.code);
      });
      if (p.level === state.level) {
        layer.bindTooltip(`${p.name}\n${p.code}`, {permanent: true, direction: "center",
                                                    className: "pe-label"});
      }
      layer.addTo(gridLayer);
      state.layers[p.code] = layer;
    }
    if (!fitted && state.features.length) {
      map.fitBounds(gridLayer.getBounds(), {padding: [20, 20]});
      fitted = true;
    }
  }

  function restyle() {
    for (const [code, layer] of Object.entries(state.layers)) {
      if (state.byCode[code]) layer.setStyle(styleOf(state.byCode[code]));
    }
  }

  // every problem is drawn where it is: its shape, and a marker of fixed size at its point,
  // since a sliver 1 cm wide (or a 0.1 m² one) is no shape at any zoom a town fits in
  function drawProblems() {
    problemLayer.clearLayers();
    const problems = (state.validation && state.validation.problems) || [];
    problems.forEach((problem, index) => {
      if (problem.geometry) {
        L.geoJSON(problem.geometry, {
          pane: "pe-problems", color: "#ff1744", weight: 3, fillColor: "#ff1744",
          fillOpacity: 0.45, interactive: false,
          className: `pe-problem pe-problem-${problem.type} pe-problem-${index}`,
        }).addTo(problemLayer);
      }
      if (problem.location) {
        const [lon, lat] = problem.location;
        L.circleMarker([lat, lon], {
          pane: "pe-problems", radius: 8, color: "#ffffff", weight: 2, fillColor: "#ff1744",
          fillOpacity: 0.9,
          className: `pe-problem-marker pe-problem-marker-${problem.type} ` +
                     `pe-problem-marker-${index}`,
        }).bindTooltip(`${problemName(problem.type)} ${problem.grids.join("、")}`)
          .on("click", (event) => { L.DomEvent.stopPropagation(event); focusProblem(index); })
          .addTo(problemLayer);
      }
    });
  }

  // ---- loading --------------------------------------------------------------------------------
  // the plan stores every grid as a MultiPolygon; one of a single part is drawn (and edited:
  // leaflet-draw edits polygons only) as the Polygon it is
  function single(feature) {
    const g = feature.geometry;
    if (g && g.type === "MultiPolygon" && g.coordinates.length === 1) {
      return {...feature, geometry: {type: "Polygon", coordinates: g.coordinates[0]}};
    }
    return feature;
  }

  async function loadGrids() {
    const got = await api(`${PLAN}/grids`);
    if (!got.ok) return;
    state.features = (got.body.features || []).map(single);
    state.byCode = Object.fromEntries(state.features.map((f) => [f.properties.code, f]));
    if (state.selected && !state.byCode[state.selected]) select(null);
    drawGrids();
  }

  async function loadPlan() {
    const got = await api(PLAN);
    if (!got.ok) return;
    setVersion(got.body.version);
    state.status = got.body.status;
    $("plan-name").textContent = got.body.name;
    const status = $("plan-status");
    status.dataset.status = got.body.status;
    status.textContent = config.statuses[got.body.status] || got.body.status;
    if (got.body.status !== "draft") setReadOnly();
  }

  function problemName(type) { return config.problems[type] || type; }
  // a sliver's 0.05 m² is not "0 m²"
  const areaText = (m2) => (m2 < 10 ? m2.toFixed(2) : String(Math.round(m2)));

  async function loadValidation() {
    const got = await api(`${PLAN}/validation`);
    if (!got.ok) return;
    state.validation = got.body;
    const line = $("validation-state");
    const count = got.body.problems.length;
    line.dataset.valid = String(got.body.valid);
    line.textContent = got.body.valid ? "校验通过：没有问题" : `校验未通过：${count} 个问题`;
    const list = $("problems");
    list.replaceChildren(...got.body.problems.map((problem, index) => el("li", {
      class: "pe-problem-item", dataset: {type: problem.type, index: String(index)},
      onclick: () => focusProblem(index),
    }, el("b", {}, problemName(problem.type)), " ",
    problem.grids.join("、"), ` · ${areaText(problem.area_m2)} m²`,
    problem.message ? el("div", {class: "pe-problem-message"}, problem.message) : null)));
    drawProblems();
    showRepairForm(got.body.repairable || 0);
    document.body.dataset.valid = String(got.body.valid);
  }

  function focusProblem(index) {
    const problem = state.validation.problems[index];
    document.querySelectorAll(".pe-problem-item").forEach((item) => item.classList.toggle(
      "pe-focused", item.dataset.index === String(index)));
    document.querySelectorAll("path.pe-problem").forEach((path) => path.classList.toggle(
      "pe-focused", path.classList.contains(`pe-problem-${index}`)));
    document.querySelectorAll("path.pe-problem-marker").forEach((path) => path.classList.toggle(
      "pe-focused", path.classList.contains(`pe-problem-marker-${index}`)));
    if (problem.geometry) {
      map.fitBounds(L.geoJSON(problem.geometry).getBounds(),
                    {padding: [60, 60], maxZoom: 18, animate: false});
    } else if (problem.grids.length && state.layers[problem.grids[0]]) {
      map.fitBounds(state.layers[problem.grids[0]].getBounds(), {padding: [40, 40],
                                                                   animate: false});
    }
    if (problem.grids.length && state.byCode[problem.grids[0]]) select(problem.grids[0]);
  }

  function bandValue() {
    return [Number($("band-low").value), Number($("band-high").value)];
  }

  async function loadMetrics() {
    const [low, high] = bandValue();
    const got = await api(`${PLAN}/metrics?band=${low},${high}`);
    if (!got.ok) {
      say("warning", `均衡指标无法计算：${refusal(got)}`);
      return;
    }
    state.metrics = {...got.body, byCode: Object.fromEntries(
      got.body.grids.map((g) => [g.code, g]))};
    renderMetrics();
    restyle();
  }

  function renderMetrics() {
    if (!state.metrics) return;
    const {key, dir} = state.sort;
    const rows = [...state.metrics.grids].filter((g) => g.kind === "comprehensive" || g.level)
      .sort((a, b) => {
        const x = a[key], y = b[key];
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (x < y ? -1 : 1) * dir;
      });
    const cell = (value) => el("td", {}, value === null || value === undefined ? "—" : value);
    $("metrics-rows").replaceChildren(...rows.map((g) => el("tr", {
      class: g.in_band === false ? "pe-out-of-band" : "",
      dataset: {code: g.code, inBand: String(g.in_band)},
      onclick: () => { if (state.byCode[g.code]) { select(g.code); zoomTo(g.code); } },
    }, cell(g.code), cell(g.name), cell(g.households), cell(g.population),
    cell(g.address_points), cell(g.incidents_12m), cell(Math.round(g.area_m2)),
    cell(g.polsby_popper), cell(g.deviation),
    cell(g.in_band === null ? "—" : (g.in_band ? "是" : "否")))));
    const spread = state.metrics.plan.spread;
    const outside = state.metrics.plan.outside_band;
    $("spread").textContent = spread
      ? `三级网格户数：最少 ${spread.min}，最多 ${spread.max}，平均 ${spread.mean}；` +
        `区间外 ${outside.length} 个${outside.length ? "（" + outside.join("、") + "）" : ""}`
      : "没有三级网格";
    document.querySelectorAll("#metrics-table th").forEach((th) => {
      th.dataset.dir = th.dataset.sort === key ? (dir > 0 ? "asc" : "desc") : "";
    });
  }

  async function loadImpact() {
    const got = await api(`${PLAN}/impact`);
    const box = $("impact-summary");
    if (!got.ok) {
      box.replaceChildren(el("p", {}, `影响无法计算：${refusal(got)}`));
      return;
    }
    const t = got.body.totals;
    const perGrid = Object.entries(got.body.per_grid);
    // one column per count any grid has, in the page's order; unknown keys last, as they are
    const present = new Set(perGrid.flatMap(([, counts]) => Object.keys(counts)));
    const columns = Object.keys(config.impact_columns).filter((k) => present.has(k))
      .concat([...present].filter((k) => !(k in config.impact_columns)).sort());
    const gridName = (code) => {
      const feature = state.byCode[code];
      return feature && feature.properties.name ? `${feature.properties.name}（${code}）` : code;
    };
    box.replaceChildren(
      el("p", {}, `变化面积 ${Math.round(got.body.changed_area_m2)} m²`),
      el("table", {class: "pe-table", id: "impact-totals"}, el("tbody", {},
        Object.entries(t).map(([k, v]) => el("tr", {dataset: {key: k}},
          el("th", {}, config.impact_totals[k] || k), el("td", {}, v))))),
      perGrid.length ? el("table", {class: "pe-table", id: "impact-grids"},
        el("thead", {}, el("tr", {}, el("th", {}, "网格"), columns.map((k) =>
          el("th", {dataset: {key: k}}, config.impact_columns[k] || k)))),
        el("tbody", {}, perGrid.map(([code, counts]) => el("tr", {dataset: {code}},
          el("td", {}, gridName(code)),
          columns.map((k) => el("td", {}, counts[k] || "—"))))))
        : el("p", {id: "impact-none"}, "没有地址点、事件、网格员或片区归属会改变网格"));
  }

  async function loadLog() {
    const got = await api(`${PLAN}/edits`);
    if (!got.ok) return;
    $("edit-log").replaceChildren(...got.body.slice().reverse().map((e) => el("li", {
      class: e.undone ? "pe-undone" : "", dataset: {seq: String(e.seq), operation: e.operation},
    }, `#${e.seq} ${new Date(e.at).toLocaleString("zh-CN", {timeZone: "Asia/Shanghai"})} ` +
       `${e.actor} ${config.operations[e.operation] || e.operation}`,
    ` ${summary(e.detail)}`, e.undone ? "（已撤销）" : "")));
  }

  function summary(detail) {
    if (!detail) return "";
    if (detail.code) return detail.code;
    if (detail.grid) return `${detail.grid} → ${(detail.codes || []).join("、")}`;
    if (detail.grids) return `${detail.grids.join("、")}${detail.into ? " → " + detail.into : ""}`;
    if (detail.from) return `${detail.from} → ${detail.to}`;
    return "";
  }

  async function refresh() {
    const jobs = [loadGrids(), loadValidation()];
    if (state.tab === "balance") jobs.push(loadMetrics());
    if (state.tab === "impact") jobs.push(loadImpact());
    if (state.tab === "log") jobs.push(loadLog());
    await Promise.all(jobs);
    document.body.dataset.refreshed = String(Date.now());
  }

  // ---- tabs -----------------------------------------------------------------------------------
  function openTab(tab) {
    state.tab = tab;
    document.querySelectorAll(".pe-tab").forEach((b) => b.classList.toggle(
      "active", b.dataset.tab === tab));
    document.querySelectorAll(".pe-pane").forEach((p) => { p.hidden = p.dataset.pane !== tab; });
    if (tab === "balance") loadMetrics();
    else restyle();
    if (tab === "impact") loadImpact();
    if (tab === "log") loadLog();
  }
  document.querySelectorAll(".pe-tab").forEach((b) => b.addEventListener(
    "click", () => openTab(b.dataset.tab)));
  $("band-form").addEventListener("submit", (event) => { event.preventDefault(); loadMetrics(); });
  document.querySelectorAll("#metrics-table th").forEach((th) => th.addEventListener(
    "click", () => {
      const key = th.dataset.sort;
      state.sort = {key, dir: state.sort.key === key ? -state.sort.dir : 1};
      renderMetrics();
    }));

  // ---- selection ------------------------------------------------------------------------------
  function select(code) {
    state.selected = code;
    const feature = code && state.byCode[code];
    $("selected-grid").textContent = feature ? `${feature.properties.name}（${code}）` : "未选择";
    document.body.dataset.selected = code || "";
    restyle();
  }
  function zoomTo(code) {
    if (state.layers[code]) {
      map.fitBounds(state.layers[code].getBounds(), {padding: [40, 40], animate: false});
    }
  }

  function onGridClick(code) {
    if (state.mode === "merge") {
      if (code !== state.selected) mergeDialog(state.selected, code);
      return;
    }
    if (state.mode !== "select") return;
    select(code);
  }

  // ---- edits ----------------------------------------------------------------------------------
  // `after(answer)`, when given, says what was done once the page shows it
  async function edit(path, method, body, what, after) {
    if (state.busy) return null;
    state.busy = true;
    document.body.dataset.busy = "true";
    try {
      const got = await api(`${PLAN}${path}`, {
        method, headers: {"If-Match": `"${state.version}"`}, json: body});
      if (got.status === 412) {
        await reloadAfterConflict("方案已被他人修改：已重新载入最新版本，请在此基础上再操作");
        return null;
      }
      if (!got.ok) {
        say("danger", `${what}失败：${refusal(got)}`, "pe-refused");
        if (got.status === 409) await loadPlan();
        return null;
      }
      setVersion(versionOf(got.etag) ?? got.body.version);
      showRepairs(null);  // the repairs listed were made to the plan before this edit
      await refresh();
      // said once the map and lists show the result
      say("success", after ? after(got.body) : `${what}完成`);
      return got.body;
    } finally {
      state.busy = false;
      delete document.body.dataset.busy;
    }
  }

  async function reloadAfterConflict(text) {
    await loadPlan();
    await refresh();
    say("danger", text, "pe-conflict");
  }

  function needSelected() {
    if (!state.selected) {
      say("warning", "请先在地图上点选一个网格");
      return false;
    }
    return true;
  }

  function setMode(mode, hint) {
    state.mode = mode;
    document.body.dataset.mode = mode;
    $("mode-hint").textContent = hint || "";
    $("draw-actions").hidden = mode === "select" || mode === "merge";
    $("draw-finish").hidden = !["split", "move"].includes(mode);
    $("draw-save").hidden = mode !== "vertices";
    document.querySelectorAll(".pe-tool").forEach((b) => b.classList.toggle(
      "active", b.dataset.mode === mode));
  }

  function stopDrawing() {
    if (state.handler) {
      state.handler.disable();
      state.handler = null;
    }
    if (state.editing) {
      state.editing.editing.disable();
      state.editing = null;
    }
    setMode("select");
  }

  // vertex editing: leaflet-draw's edit handler on the selected grid's polygon
  function startVertices() {
    if (!needSelected()) return;
    stopDrawing();
    const layer = state.layers[state.selected];
    if (state.byCode[state.selected].geometry.type !== "Polygon") {
      say("warning", `${state.selected} 由多块组成，不能直接编辑顶点：请用“划出一块”或“合并”`);
      return;
    }
    layer.unbindTooltip();
    layer.editing.enable();
    state.editing = layer;
    setMode("vertices", `拖动 ${state.selected} 的顶点（中间点可增加顶点），完成后点“保存”`);
  }

  async function saveVertices() {
    const layer = state.editing;
    if (!layer) return;
    const code = state.selected;
    const props = state.byCode[code].properties;
    // false: every vertex as the page holds it (Leaflet rounds to 6 decimals, ~10 cm, by default)
    const geometry = layer.toGeoJSON(false).geometry;
    const properties = {code, crs: "cgcs2000"};
    for (const key of SENDABLE) if (props[key] !== undefined) properties[key] = props[key];
    stopDrawing();
    const done = await edit(`/grids/${encodeURIComponent(code)}`, "PUT",
                            {type: "Feature", geometry, properties}, `保存 ${code} 的边界`);
    if (!done) drawGrids();
  }

  function startDraw(mode, Handler, hint) {
    if (!needSelected()) return;
    stopDrawing();
    state.handler = new Handler(map, {
      shapeOptions: {color: "#ffeb3b", weight: 3, className: "pe-drawing"},
      showArea: false, showLength: false, allowIntersection: false,
    });
    state.handler.enable();
    setMode(mode, hint);
  }

  map.on(L.Draw.Event.CREATED, (event) => {
    const mode = state.mode;
    const geometry = event.layer.toGeoJSON(false).geometry;
    const code = state.selected;
    stopDrawing();
    if (mode === "split") splitDialog(code, geometry);
    if (mode === "move") moveDialog(code, geometry);
  });

  // ---- dialogs --------------------------------------------------------------------------------
  let dialogSubmit = null;
  function dialog(title, fields, onSubmit, submitLabel) {
    $("op-title").textContent = title;
    $("op-fields").replaceChildren(...fields);
    $("op-error").textContent = "";
    $("op-submit").textContent = submitLabel || "确定";
    $("op-submit").disabled = false;
    dialogSubmit = onSubmit;
    $("op-dialog").showModal();
  }
  const field = (label, input) => el("label", {class: "pe-field"}, label, input);
  $("op-cancel").addEventListener("click", () => { $("op-dialog").close(); setMode("select"); });
  $("op-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!dialogSubmit) return;
    $("op-submit").disabled = true;
    const problem = await dialogSubmit();
    if (problem) {
      $("op-error").textContent = problem;
      $("op-submit").disabled = false;
      return;
    }
    $("op-dialog").close();
  });

  function splitDialog(code, line) {
    const name = state.byCode[code].properties.name;
    const inputs = {
      codeA: el("input", {id: "split-code-a", value: code, required: true}),
      nameA: el("input", {id: "split-name-a", value: name, required: true}),
      codeB: el("input", {id: "split-code-b", value: `${code}-B`, required: true}),
      nameB: el("input", {id: "split-name-b", value: `${name}B`, required: true}),
    };
    dialog(`拆分 ${code}`, [
      el("p", {}, "线左侧（按画线方向）为第一块，右侧为第二块。"),
      field("第一块编码", inputs.codeA), field("第一块名称", inputs.nameA),
      field("第二块编码", inputs.codeB), field("第二块名称", inputs.nameB),
    ], async () => {
      await edit("/operations", "POST", {
        op: "split", grid: code, line,
        codes: [inputs.codeA.value.trim(), inputs.codeB.value.trim()],
        names: [inputs.nameA.value.trim(), inputs.nameB.value.trim()]}, `拆分 ${code}`);
      return null;
    }, "拆分");
  }

  function mergeDialog(a, b) {
    setMode("select");
    const fa = state.byCode[a], fb = state.byCode[b];
    const into = el("select", {id: "merge-into"},
      el("option", {value: a}, `${fa.properties.name}（${a}）`),
      el("option", {value: b}, `${fb.properties.name}（${b}）`));
    const name = el("input", {id: "merge-name", value: fa.properties.name, required: true});
    into.addEventListener("change", () => {
      name.value = state.byCode[into.value].properties.name;
    });
    dialog(`合并 ${a} 与 ${b}`, [field("保留编码", into), field("名称", name)], async () => {
      await edit("/operations", "POST", {op: "merge", grids: [a, b], into: into.value,
                                         name: name.value.trim()}, `合并 ${a} 与 ${b}`);
      return null;
    }, "合并");
  }

  function siblingsOf(code) {
    const p = state.byCode[code].properties;
    return state.features.map((f) => f.properties).filter((q) => q.code !== code
      && q.level === p.level && q.parent_code === p.parent_code && q.kind === p.kind);
  }

  function touching(code, other) {
    const a = state.layers[code], b = state.layers[other];
    return a && b && a.getBounds().pad(0.01).intersects(b.getBounds());
  }

  function moveDialog(code, piece) {
    const options = siblingsOf(code).filter((q) => touching(code, q.code));
    if (!options.length) {
      say("warning", `${code} 没有可以接收这一块的相邻同级网格`);
      return;
    }
    const to = el("select", {id: "move-to"}, options.map((q) => el(
      "option", {value: q.code}, `${q.name}（${q.code}）`)));
    dialog(`把 ${code} 的一块划出`, [field("划给", to)], async () => {
      await edit("/operations", "POST", {op: "move", piece, from: code, to: to.value},
                 `把 ${code} 的一块划给 ${to.value}`);
      return null;
    }, "划出");
  }

  function chinaNow() {
    // the date-time input shows China time (UTC+8) whatever the browser's zone
    const shifted = new Date(Date.now() + 8 * 3600 * 1000);
    return shifted.toISOString().slice(0, 19);
  }

  async function publishDialog() {
    stopDrawing();
    await loadValidation();
    const valid = state.validation && state.validation.valid;
    const when = el("input", {id: "publish-from", type: "datetime-local", step: "1",
                              value: chinaNow(), required: true});
    const policy = el("select", {id: "publish-policy"},
      el("option", {value: "keep"}, "keep：未办结事件留在原处理人"),
      el("option", {value: "reroute"}, "reroute：未办结事件按新网格改派"));
    dialog("发布方案", [
      el("p", {id: "publish-validity", class: "pe-validity", dataset: {valid: String(valid)}},
         valid ? "校验通过，可以发布" : "校验未通过：修正所有问题后才能发布"),
      field("生效时间（北京时间）", when), field("未办结事件", policy),
    ], async () => {
      const effective = `${when.value.length === 16 ? when.value + ":00" : when.value}+08:00`;
      const got = await api(`${PLAN}/publish`, {
        method: "POST", headers: {"If-Match": `"${state.version}"`},
        json: {effective_from: effective, policy: policy.value}});
      if (got.status === 412) {
        await reloadAfterConflict("方案已被他人修改：已重新载入最新版本，请重新发布");
        return null;
      }
      if (!got.ok) return `发布失败：${refusal(got)}`;
      await loadPlan();
      await refresh();
      say("success", `方案已发布，${new Date(got.body.effective_from)
        .toLocaleString("zh-CN", {timeZone: "Asia/Shanghai"})} 起生效`, "pe-published");
      return null;
    }, "发布");
    $("op-submit").disabled = !valid;
  }

  async function rebalance() {
    stopDrawing();
    if (state.busy) return;
    state.busy = true;
    try {
      const got = await api(`${PLAN}/rebalance`, {
        method: "POST", json: {band: bandValue()}});
      if (!got.ok) {
        say("danger", `自动均衡失败：${refusal(got)}`);
        return;
      }
      window.location.assign(`/plans/${got.body.id}/edit`);
    } finally {
      state.busy = false;
    }
  }

  // ---- repair within tolerance ----------------------------------------------------------------
  // offered while validation finds problems a repair within the default tolerance clears
  function showRepairForm(repairable) {
    const form = $("repair-form");
    if (!form) return;  // a reader's page, or a plan that was not a draft: no form
    form.hidden = !(state.editable && repairable > 0);
    form.dataset.repairable = String(repairable);
    $("repair-run").textContent = `容差内修复（${repairable} 处问题可修复）`;
  }

  const repairName = (kind) => config.repairs[kind] || kind;
  const shiftText = (m) => (m < 0.01 ? m.toFixed(3) : m.toFixed(2));

  function showRepairs(repairs, title) {
    repairLayer.clearLayers();
    state.repairs = repairs && repairs.length ? repairs : null;
    $("repairs").hidden = !state.repairs;
    if (!state.repairs) {
      $("repair-list").replaceChildren();
      return;
    }
    $("repairs-title").textContent = title;
    $("repair-list").replaceChildren(...state.repairs.map((repair, index) => el("li", {
      class: "pe-repair-item", dataset: {kind: repair.kind, index: String(index)},
      onclick: () => focusRepair(index),
    }, el("b", {}, repairName(repair.kind)), " ", repair.grids.join("、"),
    ` · ${areaText(repair.area_m2)} m² · 最大位移 ${shiftText(repair.shift_m)} m`,
    repair.pieces > 1 ? ` · ${repair.pieces} 处` : "",
    repair.message ? el("div", {class: "pe-problem-message"}, repair.message) : null)));
  }

  // a repair moves boundaries by centimetres: its place is shown by a marker, close up
  function focusRepair(index) {
    const repair = state.repairs[index];
    document.querySelectorAll(".pe-repair-item").forEach((item) => item.classList.toggle(
      "pe-focused", item.dataset.index === String(index)));
    repairLayer.clearLayers();
    if (!repair.location) {
      if (repair.grids.length) zoomTo(repair.grids[0]);
      return;
    }
    const [lon, lat] = repair.location;
    map.setView([lat, lon], Math.max(map.getZoom(), 18), {animate: false});
    L.circleMarker([lat, lon], {
      pane: "pe-problems", radius: 10, color: "#ffeb3b", weight: 3, fillColor: "#00c853",
      fillOpacity: 0.9, className: `pe-repair-marker pe-repair-marker-${repair.kind}`,
    }).bindTooltip(`${repairName(repair.kind)} ${repair.grids.join("、")}`).addTo(repairLayer);
    document.body.dataset.repairFocused = String(index);
  }

  async function repairPlan(event) {
    event.preventDefault();
    stopDrawing();
    const tolerance = Number($("repair-tolerance").value);
    if (!(tolerance > 0 && tolerance <= config.tolerance.max)) {
      say("warning", `容差须大于 0 米且不超过 ${config.tolerance.max} 米`, "pe-refused");
      return;
    }
    await edit("/repair", "POST", {tolerance_m: tolerance}, "容差内修复", (done) => {
      const count = done.repairs.length;
      showRepairs(done.repairs, `已修复 ${count} 项（容差 ${done.tolerance_m} 米）`);
      return count ? `容差内修复完成：${count} 项`
        : `容差 ${done.tolerance_m} 米内没有可修复的问题`;
    });
  }

  function setReadOnly() {
    state.editable = false;
    stopDrawing();
    showRepairForm(0);
    document.body.classList.add("pe-readonly");
    document.querySelectorAll(".pe-tool").forEach((b) => { b.disabled = true; });
  }

  // ---- the toolbar ----------------------------------------------------------------------------
  const TOOL_ACTIONS = {
    "tool-edit": ["vertices", startVertices],
    "tool-split": ["split", () => startDraw("split", L.Draw.Polyline,
      "在所选网格上画一条穿过它的线：逐点单击，最后点“完成”（或再点一次最后一点）")],
    "tool-merge": ["merge", () => {
      if (!needSelected()) return;
      stopDrawing();
      setMode("merge", `点选与 ${state.selected} 相邻的同级网格进行合并`);
    }],
    "tool-move": ["move", () => startDraw("move", L.Draw.Polygon,
      "画一个多边形圈出要划走的一块：逐点单击，最后点“完成”")],
    "tool-undo": [null, () => { stopDrawing(); edit("/undo", "POST", undefined, "撤销"); }],
    "tool-rebalance": [null, rebalance],
    "tool-publish": [null, publishDialog],
  };
  for (const [id, [mode, run]] of Object.entries(TOOL_ACTIONS)) {
    const button = $(id);
    if (!button) continue;
    if (mode) button.dataset.mode = mode;
    button.addEventListener("click", run);
  }
  $("draw-finish").addEventListener("click", () => {
    if (state.handler) state.handler.completeShape();
  });
  $("draw-save").addEventListener("click", saveVertices);
  $("draw-cancel").addEventListener("click", () => { stopDrawing(); drawGrids(); });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.mode !== "select") { stopDrawing(); drawGrids(); }
  });
  const levelPicker = el("select", {id: "edit-level", class: "pe-level-picker",
                                    "aria-label": "编辑层级"},
    el("option", {value: "3"}, "三级网格"), el("option", {value: "2"}, "二级网格"));
  levelPicker.addEventListener("change", () => {
    stopDrawing();
    state.level = Number(levelPicker.value);
    select(null);
    drawGrids();
  });
  const fitAll = el("button", {type: "button", id: "fit-all", title: "显示整个方案"}, "全图");
  fitAll.addEventListener("click", () => {
    if (state.features.length) {
      map.fitBounds(gridLayer.getBounds(), {padding: [20, 20], animate: false});
    }
  });
  document.querySelector(".pe-selected").after(levelPicker, fitAll);

  if ($("repair-form")) $("repair-form").addEventListener("submit", repairPlan);

  if (!state.editable) setReadOnly();
  openTab("validation");
  refresh().then(() => {
    const imported = window.planApi.takeRepairs(config.plan_id);  // plan_import.js left them
    if (imported) {
      showRepairs(imported.repairs, `导入时已修复 ${imported.repairs.length} 项` +
                  `（容差 ${imported.tolerance_m} 米）`);
    }
    document.body.dataset.ready = "true";
  });
}());
