/* eldercare plan map: reads the JSON in #plan-data and draws it with Leaflet, no tiles, no network. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("plan-data").textContent);
  var STATUS = {optimal: "最优 optimal", time_limit_feasible: "时间限制内可行解 time-limited",
                infeasible: "目标无法全部满足 infeasible", time_limit_no_solution: "无解 no solution"};

  function esc(value) {
    var map = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"};
    return String(value === null || value === undefined ? "–" : value).replace(/[&<>"']/g, function (c) { return map[c]; });
  }
  function num(value, digits) {
    if (value === null || value === undefined) { return "–"; }
    return Number(value).toLocaleString("zh-CN", {maximumFractionDigits: digits || 0});
  }
  function pct(value) { return value === null || value === undefined ? "–" : (100 * value).toFixed(1) + "%"; }
  function byValue(classes) {
    var out = {};
    classes.forEach(function (c) { out[c.value] = c; });
    return out;
  }
  function rows(pairs) {
    return "<table>" + pairs.map(function (p) {
      return "<tr><th>" + esc(p[0]) + "</th><td class=\"num\">" + p[1] + "</td></tr>";
    }).join("") + "</table>";
  }
  function targetValue(kind, value) {
    if (kind === "coverage") { return pct(value); }
    return kind === "land" ? num(value) + " m²" : num(value);
  }

  var colour = {};
  var typeLabel = {};
  data.types.forEach(function (t) { colour[t.name] = t.colour; typeLabel[t.name] = t.label || t.name; });
  function labelled(type) {   // "社区养老服务站 station", or the id alone when it has no label
    var label = typeLabel[type] || type;
    return label === type ? esc(type) : esc(label) + " <span class=\"id\">" + esc(type) + "</span>";
  }
  function title(name, id) {
    return "<h3>" + esc(name || id) + "</h3>" + (name && name !== id ? "<div class=\"id\">" + esc(id) + "</div>" : "");
  }
  var coverageClass = byValue(data.coverageClasses);
  var zoneClass = byValue(data.zoneClasses);
  var unit = data.distanceUnit === "min" ? " 分钟" : " m";

  function facilityPopup(p) {
    var pairs = [["设施类型 type", labelled(p.type)], ["状态", p["new"] ? "新建 new" : "现有 existing"]];
    if (data.years.length) {
      pairs.push(["开放年份 opening year", p.year === null || p.year === undefined ? "现有 existing" : esc(p.year)]);
    }
    pairs = pairs.concat([
                 ["建设投资（元）", num(p.capital_cost)], ["年运营费用（元）", num(p.annual_cost)],
                 ["用地（m²）", num(p.land_m2)], ["街道/乡镇", esc(p.zone)], ["服务社区数", num(p.served_units)]]);
    data.weights.forEach(function (w) { pairs.push(["服务人口 " + w, num(p["served_" + w])]); });
    return "<div class=\"popup\">" + title(p.name, p.site) + rows(pairs) + "</div>";
  }
  function demandPopup(p) {
    var pairs = [["类别", esc(p.group)], ["街道/乡镇", esc(p.zone)]];
    data.weights.forEach(function (w) { pairs.push([w, num(p[w])]); });
    data.types.forEach(function (t) {
      var covered = p["cov_" + t.name];
      var mark = covered === null || covered === undefined ? "不服务" : (covered ? "✓ 覆盖" : "✗ 未覆盖");
      pairs.push([t.label || t.name, mark + "，最近 " + num(p["dist_" + t.name]) + unit]);
    });
    return "<div class=\"popup\">" + title(p.name, p.id) + rows(pairs) + "</div>";
  }
  function zonePopup(p) {
    var pairs = [["社区数", num(p.units)]];
    data.types.forEach(function (t) {
      pairs.push([t.label || t.name, num(p["open_" + t.name]) + " 处（新建 " + num(p["new_" + t.name]) + "）"]);
    });
    data.targets.forEach(function (t) {
      var met = p["t" + t.index + "_met"];
      if (met === null || met === undefined) { return; }
      pairs.push(["目标" + t.index + " " + t.text,
                  targetValue(t.kind, p["t" + t.index + "_ach"]) + " / " + targetValue(t.kind, p["t" + t.index + "_req"]) +
                  (met ? " <span class=\"ok\">✓</span>" : " <span class=\"bad\">✗</span>")]);
    });
    var cls = zoneClass[zoneClassOf(p)];
    return "<div class=\"popup\"><h3>" + esc(p.zone || "全域") + "</h3><div>" + esc(cls ? cls.label : "") +
           "</div>" + rows(pairs) + "</div>";
  }

  var map = L.map("map", {preferCanvas: true, zoomSnap: 0.25});
  map.attributionControl.setPrefix("Leaflet | eldercare");
  var overlays = {};

  var years = data.years || [];
  var yearIndex = years.length - 1;   // the last planning year: the whole plan
  var wanted = /[#&]year=(\d+)/.exec(window.location.hash);
  if (wanted && years.indexOf(Number(wanted[1])) >= 0) { yearIndex = years.indexOf(Number(wanted[1])); }
  function zoneClassOf(p) {   // the chosen year's shading; the whole plan's without years
    var byYear = p.target_class_by_year;
    return byYear && byYear.length && yearIndex >= 0 ? byYear[yearIndex] : p.target_class;
  }

  var zones = L.geoJSON(data.zones, {
    style: function (f) {
      var cls = zoneClass[zoneClassOf(f.properties)];
      return {color: data.zoneOutline, weight: 1.5, fillColor: cls ? cls.colour : "#ccc", fillOpacity: 0.3};
    },
    onEachFeature: function (f, layer) { layer.bindPopup(function () { return zonePopup(f.properties); }); }
  }).addTo(map);
  overlays["街道/乡镇 目标达成 zones"] = zones;

  if (data.roads) {   // SVG, not the canvas: each road is a path a test (or a screen reader) can find
    map.createPane("roads").style.zIndex = 410;
    var roads = L.geoJSON(data.roads, {pane: "roads", renderer: L.svg({pane: "roads"}), interactive: false,
                                      style: {color: "#7a7a7a", weight: 1.2, opacity: 0.8, className: "road"}}).addTo(map);
    overlays["道路 roads"] = roads;
  }
  map.createPane("zone-labels").style.zIndex = 450;
  map.getPane("zone-labels").style.pointerEvents = "none";
  var zoneLabels = L.layerGroup(data.zoneLabels.map(function (z) {
    return L.marker([z.lat, z.lon], {pane: "zone-labels", interactive: false, keyboard: false,
      icon: L.divIcon({className: "zone-label", iconSize: null, html: "<span>" + esc(z.zone) + "</span>"})});
  })).addTo(map);
  overlays["街道/乡镇名称 zone names"] = zoneLabels;

  data.types.forEach(function (t) {
    var areas = {type: "FeatureCollection", features: data.serviceAreas.features.filter(function (f) {
      return f.properties.type === t.name;
    })};
    overlays["服务范围 service area: " + esc(t.label || t.name)] = L.geoJSON(areas, {
      style: {color: t.colour, weight: 1, fillColor: t.colour, fillOpacity: 0.08}, interactive: false});
  });

  function coverageOf(p) {
    var byYear = p.coverage_by_year;
    return byYear && byYear.length && yearIndex >= 0 ? byYear[yearIndex] : p.coverage;
  }
  function openIn(p) {   // existing facilities are open from the first year; new ones from their opening year
    return yearIndex < 0 || p.year === null || p.year === undefined || p.year <= years[yearIndex];
  }

  map.createPane("units").style.zIndex = 420;   // communities above the roads, below the facilities
  var demand = L.geoJSON(data.demand, {
    pane: "units", renderer: L.canvas({pane: "units"}),
    pointToLayer: function (f, latlng) {
      var cls = coverageClass[coverageOf(f.properties)];
      return L.circleMarker(latlng, {pane: "units", radius: 3.5, color: "#333", weight: 0.8, fillColor: cls ? cls.colour : "#999",
                                     fillOpacity: 0.9});
    },
    style: function (f) {
      var cls = coverageClass[coverageOf(f.properties)];
      return {color: "#333", weight: 0.6, fillColor: cls ? cls.colour : "#999", fillOpacity: 0.6};
    },
    onEachFeature: function (f, layer) { layer.bindPopup(function () { return demandPopup(f.properties); }); }
  }).addTo(map);
  overlays["社区与村 communities"] = demand;

  var markers = 0;
  var placed = [];   // [marker, group, properties] of every facility, shown or hidden by year
  var nTypes = data.types.length;
  data.types.forEach(function (t, k) {
    var group = L.layerGroup();
    var angle = 2 * Math.PI * k / Math.max(nTypes, 1);
    var anchor = nTypes > 1 ? [8 + 5 * Math.cos(angle), 8 + 5 * Math.sin(angle)] : [8, 8];
    data.facilities.features.forEach(function (f) {
      var p = f.properties;
      if (p.type !== t.name) { return; }
      var icon = L.divIcon({
        className: "fac-marker", iconSize: [16, 16], iconAnchor: anchor, popupAnchor: [0, -7],
        html: "<span class=\"fac " + (p["new"] ? "fac-new" : "fac-existing") + "\" style=\"background:" + t.colour + "\"></span>"
      });
      var c = f.geometry.coordinates;
      var marker = L.marker([c[1], c[0]], {icon: icon, title: (p.name || p.site) + " " + (typeLabel[p.type] || p.type),
                                            keyboard: false})
        .bindPopup(facilityPopup(p));
      placed.push([marker, group, p]);
      if (openIn(p)) { marker.addTo(group); }
      markers += 1;
    });
    group.addTo(map);
    overlays["设施 " + esc(t.label || t.name) + "（" + placed.filter(function (e) { return e[1] === group; }).length + "）"] = group;
  });

  // Open beside a full-size map; folded to its button in a small window (the workbench frame), where it would cover the legend.
  L.control.layers(null, overlays, {collapsed: window.innerWidth < 1100, position: "topright"}).addTo(map);
  L.control.scale({imperial: false}).addTo(map);

  function headlineCost() {   // the chosen year's money; the whole plan's without years
    var m = data.meta;
    var y = data.yearSummaries[yearIndex];
    if (!y) {
      return "总成本：" + num(m.cost_total) + " 元（投资 " + num(m.cost_capital) + "，年运营 " + num(m.cost_annual) + "）";
    }
    return esc(y.year) + " 年：累计投资 " + num(y.capitalToDate) + " 元（当年 " + num(y.capital) + "），年运营 " +
      num(y.annual) + " 元<br><span class=\"id\">全期总成本 whole plan " + num(m.cost_total) + " 元</span>";
  }
  var info = L.control({position: "topleft"});
  info.onAdd = function () {
    var div = L.DomUtil.create("div", "panel");
    var m = data.meta;
    div.innerHTML = "<h1>" + esc(m.title) + "</h1>" +
      "<div>求解状态：" + esc(STATUS[m.status] || m.status) + (m.gap === null ? "" : "，gap " + (100 * m.gap).toFixed(3) + "%") + "</div>" +
      "<div id=\"headline-cost\">" + headlineCost() + "</div>" +
      "<div>规划目标：" + (m.all_targets_met ? "<span class=\"ok\">全部达成 all met</span>" : "<span class=\"bad\">未全部达成 not all met</span>") + "</div>" +
      "<div>设施 " + markers + " 处</div>";
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  info.addTo(map);

  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "panel");
    var html = "<h2>设施 facilities</h2>";
    data.types.forEach(function (t) {
      html += "<div class=\"legend-row\"><span class=\"swatch round\" style=\"background:" + t.colour + "\"></span>" +
              "<span class=\"swatch\" style=\"background:" + t.colour + "\"></span>" + labelled(t.name) + "</div>";
    });
    html += "<div>● 新建 new　■ 现有 existing</div><h2>社区与村 communities</h2>";
    data.coverageClasses.forEach(function (c) {
      html += "<div class=\"legend-row\"><span class=\"swatch round\" style=\"background:" + c.colour + "\"></span>" + esc(c.label) + "</div>";
    });
    if (data.roads) { html += "<div class=\"legend-row\"><span class=\"swatch road-swatch\"></span>道路 roads</div>"; }
    html += "<h2>街道/乡镇 zones</h2>";
    data.zoneClasses.forEach(function (c) {
      html += "<div class=\"legend-row\"><span class=\"swatch\" style=\"background:" + c.colour + ";opacity:0.7\"></span>" + esc(c.label) + "</div>";
    });
    div.innerHTML = html;
    return div;
  };
  legend.addTo(map);

  function yearSummary() {
    var y = data.yearSummaries[yearIndex];
    if (!y) { return ""; }
    return "<div>" + esc(y.year) + " 年：设施 " + num(y.facilitiesOpen) + " 处，当年投资 " + num(y.capital) +
      " 元，年运营 " + num(y.annual) + " 元</div><div>当年考核目标达成 " + num(y.targetsMet) + " / " + num(y.targets) + "</div>";
  }
  function showYear(index) {
    yearIndex = index;
    var shown = 0;
    placed.forEach(function (e) {
      if (openIn(e[2])) { e[1].addLayer(e[0]); shown += 1; } else { e[1].removeLayer(e[0]); }
    });
    demand.eachLayer(function (layer) {
      var cls = coverageClass[coverageOf(layer.feature.properties)];
      layer.setStyle({fillColor: cls ? cls.colour : "#999"});
    });
    var label = document.getElementById("year-label");
    if (label) { label.textContent = String(years[index]); }
    var summary = document.getElementById("year-summary");
    if (summary) { summary.innerHTML = yearSummary(); }
    zones.setStyle(function (f) {
      var cls = zoneClass[zoneClassOf(f.properties)];
      return {fillColor: cls ? cls.colour : "#ccc"};
    });
    var headline = document.getElementById("headline-cost");
    if (headline) { headline.innerHTML = headlineCost(); }
    document.body.dataset.year = String(years[index]);
    document.body.dataset.zoneClasses = zoneClasses();
    document.body.dataset.facilitiesShown = String(shown);
  }
  if (years.length) {
    var control = L.control({position: "topleft"});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "panel year-control");
      div.innerHTML = "<h2>规划年份 year <span id=\"year-label\"></span></h2>" +
        "<input type=\"range\" id=\"year-slider\" min=\"0\" max=\"" + (years.length - 1) + "\" step=\"1\" value=\"" +
        yearIndex + "\" aria-label=\"规划年份 year\">" +
        "<div class=\"year-ticks\">" + years.map(function (y, k) {
          return "<button type=\"button\" data-year-index=\"" + k + "\">" + esc(y) + "</button>";
        }).join("") + "</div><div id=\"year-summary\"></div>";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      var slider = div.querySelector("#year-slider");
      slider.addEventListener("input", function () { showYear(Number(slider.value)); });
      Array.prototype.forEach.call(div.querySelectorAll("button[data-year-index]"), function (b) {
        b.addEventListener("click", function () {
          slider.value = b.dataset.yearIndex;
          showYear(Number(b.dataset.yearIndex));
        });
      });
      return div;
    };
    control.addTo(map);
    showYear(yearIndex);
  }

  // Search: a site or community by name or id; a result zooms to it and opens its popup.
  var index = [];   // [text to match, label, kind, layer]
  placed.forEach(function (e) {
    var p = e[2];
    index.push([((p.name || "") + " " + p.site).toLowerCase(), (p.name || p.site) + " · " + (typeLabel[p.type] || p.type),
                "site", e[0], p.site]);
  });
  demand.eachLayer(function (layer) {
    var p = layer.feature.properties;
    index.push([((p.name || "") + " " + p.id).toLowerCase(), (p.name || p.id) + (p.zone ? " · " + p.zone : ""),
                "unit", layer, p.id]);
  });
  function search(text) {
    var query = String(text || "").trim().toLowerCase();
    var list = document.getElementById("search-results");
    if (!list) { return; }
    var found = query ? index.filter(function (entry) { return entry[0].indexOf(query) >= 0; }).slice(0, 15) : [];
    list.innerHTML = found.map(function (entry, k) {
      return "<li><button type=\"button\" class=\"search-hit\" data-hit=\"" + k + "\" data-kind=\"" + entry[2] + "\">" +
        esc(entry[1]) + " <span class=\"id\">" + esc(entry[4]) + "</span></button></li>";
    }).join("") + (query && !found.length ? "<li class=\"id\">无结果 no match</li>" : "");
    Array.prototype.forEach.call(list.querySelectorAll("button[data-hit]"), function (b) {
      b.addEventListener("click", function () { show(found[Number(b.dataset.hit)][3]); });
    });
    document.body.dataset.searchHits = String(found.length);
  }
  function show(layer) {
    var at = layer.getLatLng();
    if (!map.hasLayer(layer)) { layer.addTo(map); }   // a facility not open in the chosen year is shown anyway
    map.setView(at, Math.max(map.getZoom(), 15));
    layer.openPopup();
  }
  var finder = L.control({position: "topleft"});
  finder.onAdd = function () {
    var div = L.DomUtil.create("div", "panel search");
    div.innerHTML = "<input type=\"search\" id=\"map-search\" placeholder=\"站点或社区名称、编号 site or community\"" +
      " aria-label=\"搜索站点或社区 search\"><ul id=\"search-results\"></ul>";
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    var input = div.querySelector("#map-search");
    input.addEventListener("input", function () { search(input.value); });
    input.addEventListener("keydown", function (event) {
      var first = div.querySelector("button[data-hit]");
      if (event.key === "Enter" && first) { first.click(); }
    });
    return div;
  };
  finder.addTo(map);
  var asked = /[#&]search=([^&]*)/.exec(window.location.hash);
  if (asked) {
    var text = decodeURIComponent(asked[1]);
    document.getElementById("map-search").value = text;
    search(text);
  }

  var bounds = zones.getBounds();
  if (demand.getLayers().length) { bounds.extend(demand.getBounds()); }
  if (bounds.isValid()) { map.fitBounds(bounds, {padding: [10, 10]}); } else { map.setView([35, 105], 4); }
  function zoneClasses() {   // the shading of each zone, for tests and tools reading the page
    return zones.getLayers().map(function (l) { return zoneClassOf(l.feature.properties); }).join(",");
  }
  document.body.dataset.zoneClasses = zoneClasses();
  document.body.dataset.facilityMarkers = String(markers);
  document.body.dataset.ready = "true";
}());
