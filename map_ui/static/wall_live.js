/* The one-map wall, live. map_ui/wall_live.py renders startWall(config, refs) after the map,
 * its area layers and the layer control exist. Everything here asks the service as the
 * signed-in user (session cookie): the open incidents by a history cursor (/api/v1/wall/feed),
 * the KPI panel, the H3 heat layers, the last 30 days as vector tiles, workers' positions,
 * a day's replay, the week's warnings (/api/v1/hotspots), the cameras with their lens
 * direction (/api/v1/cameras), and the cards of a clicked grid (with its team), incident or
 * camera. Nothing comes from outside. */
(function () {
  "use strict";

  // Leaflet ≥ 1.8 dropped L.DomEvent.fakeStop, which VectorGrid 1.3.0's canvas click calls
  // (fixed upstream after 1.3.0, unreleased): give it the same meaning (stop the event).
  if (window.L && !L.DomEvent.fakeStop) { L.DomEvent.fakeStop = L.DomEvent.stop; }

  var CHINA_OFFSET_MS = 8 * 3600 * 1000;
  var NEW_MS = 30 * 60 * 1000; // a report this recent is flagged as new
  // beyond this many open incidents the live layer draws on one canvas instead of an SVG
  // element each: a town has hundreds open, a backlog of thousands must stay smooth too
  var SVG_LIMIT = 3000;

  var kit = window.pageKit; // page.js: the API call as the signed-in person, elements from text
  var el = kit.el;

  function chinaTime(moment, withDate) {
    var text = new Date(new Date(moment).getTime() + CHINA_OFFSET_MS).toISOString();
    return withDate ? text.slice(0, 16).replace("T", " ") : text.slice(11, 19);
  }

  function chinaToday() {
    return new Date(Date.now() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
  }

  // what the wall reads: the answer, or a failure its caller shows (a card, the status line)
  function getJson(url) {
    return kit.api(url).then(function (got) {
      if (!got.ok) { throw new Error(kit.refusal(got)); }
      return got.body;
    });
  }

  // a term and its description, for a card's <dl>
  function fact(term, description) {
    return [el("dt", {}, term), el("dd", {}, description)];
  }

  // a tooltip made when it opens, as text (a string given to Leaflet would be read as HTML)
  function tip(text) {
    return function () { return el("span", {}, text()); };
  }

  window.startWall = function (config, refs) {
    var map = refs.map;
    L.control.scale({imperial: false}).addTo(map); // metres and kilometres only
    var links = config.links;
    // a county viewer drilled into one town: every answer narrowed to it (`town=`)
    function inArea(url) {
      if (!config.town) { return url; }
      return url + (url.indexOf("?") < 0 ? "?" : "&") + "town=" + encodeURIComponent(config.town);
    }
    var layers = Object.assign({}, refs.layers);
    var statusColour = {};
    config.statusGroups.forEach(function (group) {
      group[2].forEach(function (status) { statusColour[status] = group[1]; });
    });
    var status = document.getElementById("wall-status");

    /* ---------- cards ---------- */
    var card = document.getElementById("wall-card");
    var cardBody = document.getElementById("wall-card-body");
    card.querySelector(".wall-card-close").addEventListener("click", function () {
      card.hidden = true;
    });
    function showCard(nodes) {
      cardBody.replaceChildren.apply(cardBody, nodes.flat());
      card.hidden = false;
    }
    function showFailure(what) {
      showCard([el("p", {class: "wall-card-error"}, what + "读取失败，请稍后再试。")]);
    }
    var words = window.GisLabels; // static/labels.js: the pages' Chinese for the API's codes
    function statusName(value) { return words.state(value); }
    function categoryName(code) {
      return code ? config.categories[code] || code : "未分类";
    }
    function gridName(code) {
      if (!code) { return "—"; }
      return config.gridNames[code] ? config.gridNames[code] + "（" + code + "）" : code;
    }
    // a town's or county's code is its grid's: the wall knows that name
    function placeName(type, code) {
      return type === "town" || type === "county" ? config.gridNames[code] || "" : "";
    }

    function historyRow(event) {
      var p = words.historyParts(event, placeName);
      var why = [p.reason, p.note].filter(Boolean).join("；");
      return el("li", {dataset: {action: event.action}}, el("time", {}, p.when),
                " " + p.who + " · ", el("b", {}, p.what), p.move ? " " + p.move : null,
                why ? el("span", {class: "card-why"}, why) : null);
    }

    function dueText(incident) {
      if (!incident.due_at) { return "—"; }
      var state = incident.deadline_state;
      var late = state === "yellow" || state === "red";
      return chinaTime(incident.due_at, true) + (late ? "（" + words.deadline(state) + "）" : "");
    }

    function incidentCard(id) {
      Promise.all([getJson(links.incident + id), getJson(links.incident + id + "/history")])
        .then(function (both) {
          var incident = both[0], history = both[1];
          showCard([
            el("h2", {class: "card-incident", dataset: {id: incident.id}}, "事件 " + incident.id),
            el("dl", {},
               fact("类别", categoryName(incident.category)),
               fact("状态", statusName(incident.status)),
               fact("来源", words.source(incident.source)),
               fact("地址", incident.address || "—"),
               fact("网格", gridName(incident.grid3)),
               fact("承办", words.assignee(incident.assignee, placeName)),
               fact("时限", dueText(incident)),
               incident.resolution ? fact("结案方式", words.resolution(incident.resolution)) : [],
               fact("描述", incident.description || "—")),
            el("h3", {}, "处置记录"),
            el("ol", {class: "card-history"}, history.map(historyRow))]);
        })
        .catch(function () { showFailure("事件"); });
    }

    // a grid's people beyond its worker (1+1+N): null when not the caller's to see
    function teamList(team) {
      if (!team) { return []; }
      var rows = team.map(function (member) {
        return el("li", {dataset: {code: member.code, role: member.role}},
                  el("b", {}, words.teamRole(member.role)), " " + member.name +
                  (member.organisation ? "（" + member.organisation + "）" : "") +
                  (member.phone ? " " + member.phone : ""));
      });
      return [el("h3", {}, "网格力量"),
              el("ul", {class: "card-team"}, rows.length ? rows : el("li", {}, "—"))];
    }

    function gridCard(code) {
      var path = encodeURIComponent(code);
      Promise.all([getJson(links.grid_card + path),
                   getJson(links.grid + path).catch(function () { return null; })])
      .then(function (both) {
        var grid = both[0];
        var team = both[1] && both[1].properties ? both[1].properties.team : null;
        var workers = grid.workers.map(function (w) {
          return w.name + (w.on_duty ? "" : "（不在岗）");
        }).join("、") || "—";
        var items = grid.open_items.map(function (item) {
          // the colour is the API's (`deadline`), looked up in the wall's palette
          var colour = config.deadlineColours[item.deadline] || "#90a4ae";
          return el("li", {}, el("span", {class: "dot", style: "--c:" + colour}),
                    item.id + " " + categoryName(item.category) + " · " +
                    statusName(item.status));
        });
        var month = grid.month;
        showCard([
          el("h2", {class: "card-grid", dataset: {code: grid.code}},
             grid.name + "（" + grid.code + "）"),
          el("dl", {},
             fact("网格员", workers),
             fact("在办", grid.open + " 起"),
             fact("本月上报", month.reported + " 起"),
             fact("本月办结", month.closed + " 起"),
             fact("按期率", month.on_time_rate === null ? "—" :
               (month.on_time_rate * 100).toFixed(1) + "%")),
          teamList(team),
          el("h3", {}, "在办事项"),
          el("ul", {class: "card-items"}, items.length ? items : el("li", {}, "无"))]);
      }).catch(function () { showFailure("网格"); });
    }

    refs.grids.forEach(function (layer) {
      layer.on("click", function (event) {
        var props = event.layer && event.layer.feature && event.layer.feature.properties;
        if (props && props.code) { gridCard(props.code); }
      });
    });

    /* ---------- the live incidents ---------- */
    var live = L.featureGroup();
    var markers = {};
    var cursor = null;
    var seenAt = null;
    var lastReset = 0;
    var firstLoad = true;
    var canvas = null;
    var drawnOnce;  // settled once the first answer of the feed is drawn (or has failed)
    var firstDrawn = new Promise(function (resolve) { drawnOnce = resolve; });

    /* The colour is the API's (`deadline`, the service's rule as of its answer). An incident
       that does not change is sent again only when the wall starts afresh, so between answers
       the colour moves on at the moments the API sends with it: green turns yellow at
       `yellow_at`, and green or yellow turns red once `due_at` has passed. The wall keeps no
       rule of its own (which incidents have a deadline, when yellow begins, that a missed
       deadline stays red are the service's); it only reads the clock against those moments. */
    function deadlineNow(item, now) {
      var colour = item.deadline;
      if (colour !== "green" && colour !== "yellow") { return colour; }  // settled
      if (item.due_at && now > Date.parse(item.due_at)) { return "red"; }
      if (colour === "green" && item.yellow_at && now >= Date.parse(item.yellow_at)) {
        return "yellow";
      }
      return colour;
    }

    function styleOf(item, now) {
      return {radius: item.priority > 0 ? 10 : 8, weight: 3, opacity: 1, fillOpacity: 0.95,
              color: statusColour[item.status] || "#ffffff",
              fillColor: config.deadlineColours[deadlineNow(item, now)]};
    }

    function upsert(item, now, arrived) {
      var marker = markers[item.id];
      if (!item.open || item.lon === null || item.lat === null) {
        if (marker) { live.removeLayer(marker); delete markers[item.id]; }
        return;
      }
      if (!marker) {
        var isNew = arrived || now - Date.parse(item.reported_at) < NEW_MS;
        var options = {className: "wall-live wall-live-" + item.id + (isNew ? " wall-new" : "")};
        if (canvas) { options.renderer = canvas; }
        marker = L.circleMarker([item.lat, item.lon], Object.assign(styleOf(item, now), options));
        marker.on("click", function () { incidentCard(item.id); });
        markers[item.id] = marker;
        live.addLayer(marker);
      } else {
        marker.setLatLng([item.lat, item.lon]);
        marker.setStyle(styleOf(item, now));
      }
      marker.item = item;
      if (!marker.getTooltip()) {
        marker.bindTooltip(tip(function () {
          var shown = marker.item;  // the latest answer's
          return shown.id + " · " + (shown.category || "") + " · " + statusName(shown.status);
        }));
      }
    }

    function poll() {
      var now = Date.now();
      var fresh = cursor === null || now - lastReset > config.resetMs;
      var url = inArea(links.feed + (fresh ? "" :
        "?after=" + cursor + "&seen_at=" + encodeURIComponent(seenAt)));
      return getJson(url).then(function (feed) {
        var at = Date.now();
        if (feed.reset) {
          if (!canvas && feed.incidents.length > SVG_LIMIT) {
            canvas = L.canvas({padding: 0.5});
            live.clearLayers();
            Object.keys(markers).forEach(function (id) { delete markers[id]; });
          }
          var keep = {};
          feed.incidents.forEach(function (item) { keep[item.id] = true; });
          Object.keys(markers).forEach(function (id) {
            if (!keep[id]) { live.removeLayer(markers[id]); delete markers[id]; }
          });
          lastReset = at;
        }
        feed.incidents.forEach(function (item) {
          upsert(item, at, !feed.reset && !firstLoad);
        });
        firstLoad = false;
        cursor = feed.cursor;
        seenAt = feed.at;
        status.textContent = "在办 " + Object.keys(markers).length + " 起 · 更新于 " +
          chinaTime(feed.at) + " · 每 " + config.feedMs / 1000 + " 秒刷新";
        status.classList.remove("wall-offline");
        document.body.dataset.wallCursor = String(cursor);
      }).catch(function () {
        status.textContent = "与服务的连接中断，正在重试… " + chinaTime(Date.now());
        status.classList.add("wall-offline");
      }).finally(drawnOnce);
    }

    function recolour() {
      var now = Date.now();
      Object.keys(markers).forEach(function (id) {
        markers[id].setStyle(styleOf(markers[id].item, now));
      });
    }

    function schedule(task, ms) {
      var run = function () {
        Promise.resolve(task()).finally(function () { window.setTimeout(run, ms); });
      };
      run();
    }

    /* ---------- KPI panel ---------- */
    function fillList(id, items) {
      var list = document.getElementById(id);
      list.replaceChildren.apply(list, items.length ? items : [el("li", {}, "—")]);
    }

    // the county's towns side by side this month; each name opens that town's wall
    function refreshLeague() {
      return getJson(config.league).then(function (league) {
        var percent = function (rate) {
          return rate === null ? "—" : (rate * 100).toFixed(0) + "%";
        };
        var rows = league.towns.map(function (town) {
          return el("tr", {dataset: {code: town.code}},
            el("td", {}, el("a", {href: "/?town=" + encodeURIComponent(town.code)}, town.name)),
            el("td", {}, town.intake), el("td", {}, town.open),
            el("td", {class: town.overdue ? "kpi-late" : null}, town.overdue),
            el("td", {}, percent(town.on_time_rate)),
            el("td", {}, town.satisfaction === null ? "—" : town.satisfaction.toFixed(1)),
            el("td", {}, town.escalated), el("td", {}, town.returned));
        });
        var body = document.getElementById("league-rows");
        body.replaceChildren.apply(body, rows);
        document.getElementById("wall-league").hidden = false;
      }).catch(function () { /* the status line already says when the service is away */ });
    }

    function refreshKpi() {
      return getJson(inArea(links.kpi)).then(function (kpi) {
        var month = kpi.month;
        document.getElementById("kpi-today").textContent = kpi.today.total;
        document.getElementById("kpi-open").textContent = kpi.open;
        document.getElementById("kpi-overdue").textContent = kpi.overdue;
        document.getElementById("kpi-closed").textContent = month.closed;
        document.getElementById("kpi-ontime").textContent = month.on_time_rate === null ?
          "—" : (month.on_time_rate * 100).toFixed(1) + "%";
        document.getElementById("kpi-721").textContent = month.ratio_721 ?
          month.ratio_721.map(function (n) { return Math.round(n); }).join(":") : "—";
        fillList("kpi-sources", Object.keys(kpi.today.by_source).sort(function (a, b) {
          return kpi.today.by_source[b] - kpi.today.by_source[a];
        }).map(function (source) {
          return el("li", {}, el("span", {}, words.source(source)),
                    el("b", {}, kpi.today.by_source[source]));
        }));
        [["kpi-top-open", kpi.top_open_grids], ["kpi-top-month", kpi.top_month_grids]]
          .forEach(function (pair) {
            fillList(pair[0], pair[1].map(function (grid) {
              return el("li", {dataset: {code: grid.code}}, el("span", {}, grid.name),
                        el("b", {}, grid.count));
            }));
          });
      }).catch(function () { /* the status line already says when the service is away */ });
    }

    document.getElementById("wall-kpi").addEventListener("click", function (event) {
      var item = event.target.closest("li[data-code]");
      if (item) { gridCard(item.dataset.code); }
    });

    /* ---------- heat, history tiles, workers ---------- */
    /* The heat hexagons lie in their own pane, above the tiles and below the other shapes. The
       30-day tiles beneath them are drawn on canvases that a hexagon would keep every click
       from: while those tiles are shown, the hexagons let clicks through (wall.css). */
    var heatPane = map.createPane("wall-heat");
    heatPane.style.zIndex = 350;
    function passHeatClicks() {
      heatPane.classList.toggle("wall-heat-passive", map.hasLayer(layers.history));
    }
    map.on("layeradd layerremove", passHeatClicks);

    function heatLayer(days) {
      var layer = L.geoJSON(null, {
        pane: "wall-heat",
        style: function (feature) {
          var share = feature.properties.count / Math.max(layer.maxCount || 1, 1);
          return {weight: 0.5, color: "#ffab40", fillColor: share > 0.66 ? "#ff1744" :
                  share > 0.33 ? "#ff9100" : "#ffd740", fillOpacity: 0.15 + 0.55 * share,
                  className: "wall-heat"};
        },
        onEachFeature: function (feature, shape) {
          shape.bindTooltip(tip(function () {
            return "近" + days + "天 " + feature.properties.count + " 起";
          }));
        }
      });
      var loaded = 0;
      layer.on("add", function () {
        if (Date.now() - loaded < 300000) { return; }
        getJson(inArea(links.heat + "?days=" + days)).then(function (heat) {
          layer.clearLayers();
          layer.maxCount = heat.max;
          layer.addData(heat);
          loaded = Date.now();
        }).catch(function () { /* shown on the next add */ });
      });
      return layer;
    }

    /* The last 30 days: counts per bin up to z13 (the service bins a window this long there),
       one point per incident from z14. */
    function historyLayer() {
      var since = new Date(Date.now() - 30 * 86400 * 1000).toISOString();
      var url = inArea(links.incident_tiles + "?since=" + encodeURIComponent(since));
      var tiles = L.vectorGrid.protobuf(url, {
        rendererFactory: L.canvas.tile, interactive: true, maxNativeZoom: 16,
        fetchOptions: {credentials: "same-origin"},
        getFeatureId: function (feature) {
          // a point's incident id is its tile feature's id, not a property; the drawn point
          // keeps only the properties, so the id is copied there for a click to find
          if (feature.id !== undefined && feature.properties.count === undefined) {
            feature.properties.id = feature.id;
          }
          return feature.id;
        },
        vectorTileLayerStyles: {
          incidents: function (props) {
            if (props.count !== undefined) { // a bin: size by count
              return {radius: Math.min(3 + Math.sqrt(props.count) * 1.6, 18), weight: 1,
                      color: "#0b1622", fill: true, fillOpacity: 0.75,
                      fillColor: props.open > 0 ? "#ff9100" : "#64b5f6"};
            }
            return {radius: 4, weight: 1, color: "#0b1622", fill: true, fillOpacity: 0.85,
                    fillColor: config.deadlineColours[props.deadline] || "#9e9e9e"};
          }
        }
      });
      tiles.on("loading", function () { document.body.dataset.historyTiles = "loading"; });
      tiles.on("load", function () { document.body.dataset.historyTiles = "loaded"; });
      // VectorGrid (1.3) draws each feature as a circle marker with no latlng, which Leaflet
      // (1.9) reads when a small one is clicked: a page error and no click. Each is given its
      // place when its tile is drawn.
      tiles.on("tileload", function (event) {
        var drawn = tiles._vectorTiles[tiles._tileCoordsToKey(event.coords)];
        if (!drawn) { return; }
        var corner = event.coords.scaleBy(tiles.getTileSize());
        Object.keys(drawn._layers).forEach(function (key) {
          var shape = drawn._layers[key];
          if (shape._point && !shape._latlng) {
            shape._latlng = map.unproject(corner.add(shape._point), event.coords.z);
          }
        });
      });
      tiles.on("click", function (event) {
        var props = event.layer && event.layer.properties;
        if (!props) { return; }
        if (props.count !== undefined) { // a bin: closer, towards its points
          map.setView(event.latlng, Math.min(Math.floor(map.getZoom()) + 2, 16));
        } else if (props.id) {
          incidentCard(props.id);
        }
      });
      return tiles;
    }

    function workersLayer() {
      var layer = L.geoJSON(null, {
        pointToLayer: function (feature, at) {
          return L.circleMarker(at, {radius: 7, weight: 2, color: "#ffffff",
                                     fillColor: "#00b0ff", fillOpacity: 1,
                                     className: "wall-worker"});
        },
        onEachFeature: function (feature, shape) {
          var p = feature.properties;
          shape.bindTooltip(tip(function () {
            return (p.worker_name || p.username || "") + " · " +
              (p.grid_code ? gridName(p.grid_code) : "") + " · " +
              (p.at ? chinaTime(p.at, true) : "");
          }));
        }
      });
      function load() {
        if (!map.hasLayer(layer)) { return Promise.resolve(); }
        return getJson(inArea(links.positions)).then(function (positions) {
          layer.clearLayers();
          layer.addData(positions);
        }).catch(function () { /* kept as last drawn */ });
      }
      layer.on("add", load);
      window.setInterval(load, 30000);
      return layer;
    }

    /* ---------- cameras: where each looks, and what is open at it ---------- */
    var COMPASS = ["北", "东北", "东", "东南", "南", "西南", "西", "西北"];
    function directionText(degrees) {
      if (degrees === null || degrees === undefined) { return "未知"; }
      return COMPASS[Math.round(degrees / 45) % 8] + "（" + Math.round(degrees) + "°）";
    }

    function cameraCard(code) {
      getJson(links.camera + encodeURIComponent(code)).then(function (camera) {
        var p = camera.properties;
        var items = p.open_items.map(function (item) {
          var colour = config.deadlineColours[item.deadline] || "#90a4ae";
          return el("li", {dataset: {id: item.id}, class: "card-link",
                           onclick: function () { incidentCard(item.id); }},
                    el("span", {class: "dot", style: "--c:" + colour}),
                    item.id + " " + categoryName(item.category) + " · " +
                    statusName(item.status));
        });
        showCard([
          el("h2", {class: "card-camera", dataset: {code: p.code}}, p.name),
          el("dl", {},
             fact("编码", p.code),
             fact("类型", p.device_type_name || p.device_type),
             fact("云台", p.ptz ? words.ptz(p.ptz) : "—"),
             fact("朝向", directionText(p.direction)),
             fact("区划", p.division),
             fact("网络", p.network_name || p.network),
             fact("权属", p.owner || "—")),
          el("h3", {}, "在办事件"),
          el("ul", {class: "card-items card-camera-items"},
             items.length ? items : el("li", {}, "无"))]);
      }).catch(function () { showFailure("摄像机"); });
    }

    /* Above the areas and the incidents (a click reaches the camera, not the grid beneath);
       an incident at a camera is opened from the camera's card. */
    var cameraPane = map.createPane("wall-cameras");
    cameraPane.style.zIndex = 450;

    function cameraIcon(p) {
      var parts = [];
      if (p.direction !== null && p.direction !== undefined) { // the lens's field of view
        parts.push(el("span", {class: "wall-camera-lens",
                               style: "transform: rotate(" + Number(p.direction) + "deg)"}));
      }
      parts.push(el("span", {class: "wall-camera-body"}, el("i", {class: "fa-solid fa-video"})));
      return L.divIcon({className: "wall-camera", iconSize: [56, 56], iconAnchor: [28, 28],
                        html: el("div", {class: "wall-camera-icon",
                                         dataset: {code: p.code}}, parts)});
    }

    function camerasLayer() {
      var layer = L.geoJSON(null, {
        pointToLayer: function (feature, at) {
          return L.marker(at, {icon: cameraIcon(feature.properties), pane: "wall-cameras",
                               keyboard: false});
        },
        onEachFeature: function (feature, marker) {
          var p = feature.properties;
          marker.bindTooltip(tip(function () {
            return p.name + " · " + (p.device_type_name || "") + " · 朝向" +
              directionText(p.direction);
          }));
          marker.on("click", function () { cameraCard(p.code); });
        }
      });
      var loaded = 0;
      function load() {
        if (!map.hasLayer(layer) || Date.now() - loaded < 300000) { return; }
        var url = links.cameras + (config.areaTown ?
          "?town=" + encodeURIComponent(config.areaTown) : "");
        getJson(url).then(function (cameras) {
          layer.clearLayers();
          layer.addData(cameras);
          loaded = Date.now();
          document.body.dataset.cameras = String(cameras.features.length);
        }).catch(function () { /* drawn on the next add */ });
      }
      layer.on("add", load);
      return layer;
    }

    /* ---------- this week's warnings: hotspots, new clusters, repeat addresses ---------- */
    var KIND_NAMES = {hotspot: "热点", new_cluster: "新聚集", repeat_address: "重复上报",
                      rising_category: "类别上升", grid_load: "网格激增"};
    var warningBox = document.getElementById("wall-warnings");
    var warningList = document.getElementById("wall-warnings-list");
    var warningToggle = document.getElementById("wall-warnings-toggle");
    var warnings = [];

    function warningCard(index) {
      var w = warnings[index];
      if (!w) { return; }
      if (w.geometry) {
        map.fitBounds(L.geoJSON(w.geometry).getBounds(), {maxZoom: 16, padding: [80, 80]});
      }
      showCard([
        el("h2", {class: "card-warning"}, "预警 · " + (KIND_NAMES[w.kind] || w.kind)),
        el("p", {}, w.message),
        el("dl", {},
           fact("本周", w.count + " 起"),
           w.expected === null ? [] : fact("周均", w.expected + " 起"),
           w.p === null ? [] : fact("p 值", w.p.toPrecision(2)))]);
    }

    function warningsLayer() {
      var layer = L.geoJSON(null, {
        style: function () {
          return {color: "#ff1744", weight: 3, fillColor: "#ff1744", fillOpacity: 0.12,
                  className: "wall-warning"};
        },
        pointToLayer: function (feature, at) {
          return L.circleMarker(at, {radius: 14, color: "#ff1744", weight: 3,
                                     fillOpacity: 0.15, className: "wall-warning"});
        },
        onEachFeature: function (feature, shape) {
          shape.bindTooltip(tip(function () { return feature.properties.message; }));
          shape.on("click", function () { warningCard(feature.properties.index); });
        }
      });
      function load() {
        return getJson(inArea(links.hotspots + "?cells=false")).then(function (answer) {
          // the service lists the surprising first; a wall cannot show hundreds at once
          warnings = answer.warnings.slice(0, config.warningsShown);
          layer.clearLayers();
          layer.addData({type: "FeatureCollection", features: warnings.map(function (w, i) {
            return w.geometry ? {type: "Feature", geometry: w.geometry,
                                 properties: {message: w.message, kind: w.kind, index: i}} : null;
          }).filter(Boolean)});
          var rows = warnings.map(function (w, i) {
            return el("li", {dataset: {warning: i}, class: "wall-warning-" + w.kind},
                      el("span", {}, w.message));
          });
          warningList.replaceChildren.apply(
            warningList, rows.length ? rows : [el("li", {}, "本周暂无预警")]);
          document.getElementById("wall-warnings-n").textContent =
            String(answer.warnings.length);
          warningBox.hidden = false;
          warningBox.classList.toggle("wall-warnings-some", answer.warnings.length > 0);
          document.body.dataset.warnings = String(answer.warnings.length);
        }).catch(function () { /* kept as last drawn; the status line tells of outages */ });
      }
      return {layer: layer, load: load};
    }

    warningToggle.addEventListener("click", function () {
      warningList.hidden = !warningList.hidden;
      warningToggle.setAttribute("aria-expanded", String(!warningList.hidden));
    });
    warningList.addEventListener("click", function (event) {
      var item = event.target.closest("li[data-warning]");
      if (item) { warningCard(Number(item.dataset.warning)); }
    });

    var warned = warningsLayer();
    layers.heat7 = heatLayer(7);
    layers.heat30 = heatLayer(30);
    layers.history = historyLayer();
    layers.workers = workersLayer();
    layers.cameras = camerasLayer();
    layers.live = live;
    layers.warnings = warned.layer;
    ["heat7", "heat30", "history", "workers", "cameras", "live", "warnings"]
    .forEach(function (key) {
      refs.control.addOverlay(layers[key], config.names[key]);
    });

    /* ---------- viewpoints ---------- */
    var buttons = document.querySelectorAll(".wall-view");
    function showView(view, remember) {
      var shown = config.views[view] || config.views[config.defaultView];
      Object.keys(layers).forEach(function (key) {
        var on = shown.indexOf(key) >= 0;
        if (on && !map.hasLayer(layers[key])) { map.addLayer(layers[key]); }
        if (!on && map.hasLayer(layers[key])) { map.removeLayer(layers[key]); }
      });
      buttons.forEach(function (button) {
        button.classList.toggle("active", button.dataset.view === view);
      });
      document.body.dataset.view = view;
      if (remember) {
        var url = new URL(window.location.href);
        url.searchParams.set("view", view);
        window.history.replaceState(null, "", url.pathname + url.search);
      }
    }
    buttons.forEach(function (button) {
      button.addEventListener("click", function () { showView(button.dataset.view, true); });
    });
    var asked = new URL(window.location.href).searchParams.get("view");
    showView(config.views[asked] ? asked : config.defaultView, false);

    /* ---------- replay a day ---------- */
    var replay = L.featureGroup();
    var replayData = null;
    var replayTimer = null;
    var controls = document.querySelector("#wall-replay .replay-controls");
    var toggle = document.getElementById("replay-toggle");
    var dayInput = document.getElementById("replay-day");
    var slider = document.getElementById("replay-slider");
    var clock = document.getElementById("replay-clock");
    var counter = document.getElementById("replay-count");
    var playButton = document.getElementById("replay-play");
    dayInput.value = chinaToday();
    dayInput.max = chinaToday();

    function statusAt(steps, moment) {
      var current = null;
      steps.forEach(function (step) { if (step[0] <= moment) { current = step[1]; } });
      return current;
    }

    function drawReplay() {
      if (!replayData) { return; }
      var minute = Number(slider.value);
      var moment = replayData.start + minute * 60;
      clock.textContent = String(Math.floor(minute / 60)).padStart(2, "0") + ":" +
        String(minute % 60).padStart(2, "0");
      replay.clearLayers();
      var shown = 0;
      replayData.incidents.forEach(function (item) {
        if (item.reported_at > moment) { return; }
        var state = statusAt(item.steps, moment) || "reported";
        shown += 1;
        replay.addLayer(L.circleMarker([item.lat, item.lon], {
          radius: 7, weight: 1.5, color: "#0b1622", fillOpacity: 0.9,
          fillColor: statusColour[state] || "#ffffff",
          className: "wall-replayed wall-replayed-" + item.id
        }).bindTooltip(tip(function () { return item.id + " · " + statusName(state); })));
      });
      counter.textContent = "已上报 " + shown + " / " + replayData.incidents.length + " 起";
    }

    function loadReplay() {
      return getJson(inArea(links.replay + "?day=" + encodeURIComponent(dayInput.value)))
        .then(function (data) { replayData = data; drawReplay(); })
        .catch(function () { counter.textContent = "回放数据读取失败"; });
    }

    function stopPlaying() {
      if (replayTimer) { window.clearInterval(replayTimer); replayTimer = null; }
      playButton.textContent = "▶";
    }

    toggle.addEventListener("click", function () {
      var on = controls.hidden;
      controls.hidden = !on;
      toggle.textContent = on ? "退出回放" : "回放一天";
      toggle.classList.toggle("active", on);
      document.body.classList.toggle("wall-replaying", on);
      if (on) {
        if (map.hasLayer(live)) { map.removeLayer(live); }
        map.addLayer(replay);
        loadReplay();
      } else {
        stopPlaying();
        map.removeLayer(replay);
        if (!map.hasLayer(live)) { map.addLayer(live); }
      }
    });
    dayInput.addEventListener("change", loadReplay);
    slider.addEventListener("input", drawReplay);
    playButton.addEventListener("click", function () {
      if (replayTimer) { stopPlaying(); return; }
      playButton.textContent = "⏸";
      replayTimer = window.setInterval(function () {
        var next = Number(slider.value) + 5;
        if (next > 1439) { stopPlaying(); return; }
        slider.value = String(next);
        drawReplay();
      }, 100);
    });

    /* ---------- run ---------- */
    schedule(poll, config.feedMs);
    schedule(refreshKpi, config.kpiMs);
    // the banner counts them in every view; the week's scan reads weeks of reports, so it
    // waits for the open incidents to be drawn rather than share the service's first second
    firstDrawn.then(function () { schedule(warned.load, config.warningMs); });
    // the month's league moves slowly and reads the whole county's month: every few minutes
    if (config.league) { schedule(refreshLeague, config.leagueMs); }
    window.setInterval(recolour, 15000);
    window.wallState = {markers: markers, layers: layers, map: map,
                        showView: showView, gridCard: gridCard, incidentCard: incidentCard,
                        warningCard: warningCard, cameraCard: cameraCard};
  };
}());
