/* The planner's workbench: a client of the JSON API (/v1), nothing else. Chinese first, English on request.
   State lives in S; each screen is rendered from it. Every request carries the planner's API key. */
(function () {
  "use strict";

  var S = {
    key: sessionStorage.getItem("eldercare-key") || "",
    lang: localStorage.getItem("eldercare-lang") || "zh",
    schema: null, presets: [], scenario: null, read: null,
    job: null, poll: null, current: null, previous: null, sweep: null, sweepPoll: null
  };

  // ---------- small helpers ----------
  function $(id) { return document.getElementById(id); }
  function t(key) {
    var table = window.I18N[S.lang] || {};
    return table[key] !== undefined ? table[key] : (window.I18N.zh[key] !== undefined ? window.I18N.zh[key] : key);
  }
  function esc(value) {
    var map = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"};
    return String(value === null || value === undefined ? "–" : value).replace(/[&<>"']/g, function (c) { return map[c]; });
  }
  function num(value, digits) {
    if (value === null || value === undefined || value === "") { return "–"; }
    return Number(value).toLocaleString(S.lang === "zh" ? "zh-CN" : "en-US", {maximumFractionDigits: digits || 0});
  }
  function pct(value) { return value === null || value === undefined ? "–" : (100 * value).toFixed(1) + "%"; }
  function yuan(value) { return value === null || value === undefined ? "–" : num(value) + " " + t("yuan"); }
  function clone(value) { return JSON.parse(JSON.stringify(value)); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function notice(text, kind) {
    var box = $("notice");
    box.textContent = text || "";
    box.className = kind || "";
    box.hidden = !text;
    clearTimeout(S.noticeTimer);
    if (kind === "ok") { S.noticeTimer = setTimeout(function () { box.hidden = true; }, 3000); }
  }

  // ---------- the API ----------
  function ApiError(status, body) {
    this.status = status;
    this.detail = (body && body.detail) || ("HTTP " + status);
    this.problems = (body && body.problems) || [];
  }
  function headers(extra) {
    var h = extra || {};
    if (S.key) { h.Authorization = "Bearer " + S.key; }
    return h;
  }
  function api(method, path, body) {
    var init = {method: method, headers: headers({})};
    if (body instanceof FormData) { init.body = body; } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      if (response.status === 204) { return null; }
      var type = response.headers.get("content-type") || "";
      var read = type.indexOf("json") >= 0 ? response.json() : response.text();
      return read.then(function (data) {
        if (!response.ok) { throw new ApiError(response.status, typeof data === "object" ? data : {detail: data}); }
        return data;
      });
    });
  }
  function fail(error, box) {
    if (!(error instanceof ApiError)) { notice(String(error), "bad"); return; }
    if (error.status === 401) { notice(t("key.needed") + " (" + error.detail + ")", "bad"); return; }
    if (box) { showProblems(box, error); } else { notice(error.detail, "bad"); }
  }
  function showProblems(box, error) {
    box.hidden = false;
    box.innerHTML = "";
    box.appendChild(el("p", {"class": "detail"}, t("problems.title") + " " + error.detail));
    var list = el("ul");
    (error.problems.length ? error.problems : [{location: "", message: error.detail}]).forEach(function (p) {
      var item = el("li");
      if (p.location) { item.appendChild(el("code", {}, p.location)); item.appendChild(document.createTextNode(": ")); }
      item.appendChild(document.createTextNode(p.message));
      list.appendChild(item);
    });
    box.appendChild(list);
  }
  function clearProblems() { ["problems", "problems-2"].forEach(function (id) { $(id).hidden = true; $(id).innerHTML = ""; }); }
  function download(path, name) {
    return fetch(path, {headers: headers({})}).then(function (response) {
      if (!response.ok) { return response.json().then(function (b) { throw new ApiError(response.status, b); }); }
      return response.blob();
    }).then(function (blob) { saveBlob(blob, name); }).catch(function (e) { fail(e); });
  }
  function saveBlob(blob, name) {
    var url = URL.createObjectURL(blob);
    var link = el("a", {href: url, download: name});
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  // ---------- screens and language ----------
  function show(screen) {
    document.querySelectorAll(".screen").forEach(function (section) { section.hidden = section.id !== "screen-" + screen; });
    document.querySelectorAll("#nav button").forEach(function (b) { b.classList.toggle("active", b.dataset.screen === screen); });
    document.body.dataset.screen = screen;
    if (screen === "jobs") { loadJobs(); }
    if (screen === "sweep") { sweepYears(); }
  }
  // A phased scenario's sweep varies every year's cap scaled together, or one year's (the API's
  // `scale_years` / `year`); a one-year scenario has no such choice.
  function sweepYears() {
    var years = (S.scenario && S.scenario.years) || [], select = $("sweep-form").elements.years;
    $("sweep-years").hidden = !years.length;
    select.innerHTML = ["<option value=\"scale\">" + esc(t("sweep.scale")) + "</option>"].concat(years.map(function (y) {
      return "<option value=\"" + esc(String(y)) + "\">" + esc(t("sweep.year").replace("{y}", y)) + "</option>";
    })).join("");
  }
  function translate() {
    document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach(function (node) { node.textContent = t(node.dataset.i18n); });
    document.title = t("title");
    $("lang-toggle").textContent = S.lang === "zh" ? "English" : "中文";
  }
  function renderAll() {
    translate();
    renderRegions();
    renderPresets();
    renderScenario();
    if (S.current) { renderResult(); }
    if (S.sweep && S.sweep.frontier) { renderFrontier(); }
  }

  // ---------- start: regions and uploads ----------
  function loadRegions() {
    return api("GET", "/v1/regions").then(function (data) { S.regions = data.regions; renderRegions(); }).catch(function (e) { fail(e); });
  }
  function regionTitle(region) {
    var zh = {"pingyin-2024-2026": "平阴县 2024–2026（分年度、含床位）", "pingyin-2026": "平阴县 2026",
              "haidian-15min": "海淀（清华/五道口）15分钟养老服务圈", "example": "示例城区"};
    return S.lang === "zh" && zh[region.id] ? zh[region.id] : region.name;
  }
  function renderRegions() {
    var box = $("regions");
    box.innerHTML = "";
    (S.regions || []).forEach(function (region) {
      var card = el("button", {type: "button", "class": "card", "data-region": region.id});
      card.appendChild(el("strong", {}, regionTitle(region)));
      card.appendChild(el("span", {"class": "small"}, region.files.join(", ") + " · " + num(region.bytes / 1024) + " KiB"));
      card.addEventListener("click", function () { chooseRegion(region.id); });
      box.appendChild(card);
    });
  }
  function chooseRegion(id) {
    notice(t("working"));
    api("POST", "/v1/regions/" + encodeURIComponent(id) + "/copy").then(function (copy) {
      S.scenario = copy.scenario;
      return checkScenario($("problems"));
    }).catch(function (e) { fail(e, $("problems")); });
  }

  // A zipped shapefile: its members, read with the browser's own inflater (no library).
  function unzip(file) {
    return file.arrayBuffer().then(function (buffer) {
      var view = new DataView(buffer);
      var end = -1;
      for (var k = buffer.byteLength - 22; k >= Math.max(0, buffer.byteLength - 65557); k--) {
        if (view.getUint32(k, true) === 0x06054b50) { end = k; break; }
      }
      if (end < 0) { throw new Error(file.name + ": " + t("zip.bad")); }
      var count = view.getUint16(end + 10, true);
      var at = view.getUint32(end + 16, true);
      var members = [];
      for (var n = 0; n < count; n++) {
        var method = view.getUint16(at + 10, true);
        var size = view.getUint32(at + 20, true);
        var nameLength = view.getUint16(at + 28, true);
        var extra = view.getUint16(at + 30, true);
        var comment = view.getUint16(at + 32, true);
        var local = view.getUint32(at + 42, true);
        var name = new TextDecoder().decode(new Uint8Array(buffer, at + 46, nameLength)).split("/").pop();
        var start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
        if (name) { members.push({name: name, method: method, data: new Uint8Array(buffer, start, size)}); }
        at += 46 + nameLength + extra + comment;
      }
      return Promise.all(members.map(function (m) {
        if (m.method === 0) { return new File([m.data], m.name); }
        if (m.method !== 8) { throw new Error(file.name + ": " + t("zip.bad")); }
        var stream = new Blob([m.data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
        return new Response(stream).blob().then(function (blob) { return new File([blob], m.name); });
      }));
    });
  }
  function uploadLayers(event) {
    event.preventDefault();
    clearProblems();
    var form = event.target;
    var roles = ["demand", "sites", "network"];
    var chosen = roles.filter(function (role) { return form.elements[role].files.length; });
    if (chosen.indexOf("demand") < 0 || chosen.indexOf("sites") < 0) { notice(t("upload.missing"), "bad"); return; }
    var main = {};
    Promise.all(chosen.map(function (role) {
      var file = form.elements[role].files[0];
      if (/\.zip$/i.test(file.name)) {
        return unzip(file).then(function (files) {
          var shp = files.filter(function (f) { return /\.shp$/i.test(f.name); })[0];
          if (!shp) { throw new Error(file.name + ": " + t("zip.noshp")); }
          main[role] = shp.name;
          return files;
        });
      }
      main[role] = file.name;
      return [file];
    })).then(function (groups) {
      var data = new FormData();
      var seen = {};
      groups.forEach(function (files) {
        files.forEach(function (f) { if (!seen[f.name]) { seen[f.name] = true; data.append("files", f, f.name); } });
      });
      notice(t("working"));
      return api("POST", "/v1/files", data);
    }).then(function (upload) {
      var path = {};
      upload.files.forEach(function (f) { path[f.name] = f.path; });
      S.scenario = uploadedScenario(form, function (role) { return path[main[role]]; });
      return checkScenario($("problems"));
    }).catch(function (e) { fail(e, $("problems")); });
  }
  function uploadedScenario(form, pathOf) {
    var value = function (name) { return form.elements[name].value.trim(); };
    var demand = {path: pathOf("demand"), id: value("id") || "id", weights: {elderly: value("weight") || "pop60"}};
    if (value("group")) { demand.group = value("group"); }
    if (value("zone")) { demand.zone = value("zone"); }
    var sites = {path: pathOf("sites"), id: value("id") || "id"};
    if (value("demand_layer")) { demand.layer = value("demand_layer"); }
    if (value("sites_layer")) { sites.layer = value("sites_layer"); }
    var scenario = {
      format: 1, name: t("upload.name"), demand: demand, sites: sites,
      facility_types: {station: {radius_m: 1000, capital_cost: 600000, annual_cost: 90000}},
      targets: [{kind: "coverage", facility: "station", measure: "units", min_share: 1.0, label: t("upload.target")}],
      budget: {capital: null, annual: null}, objective: "min_cost", solver: {time_limit_s: 60}
    };
    if (pathOf("network")) {
      scenario.network = {path: pathOf("network")};
      if (value("network_layer")) { scenario.network.layer = value("network_layer"); }
    }
    return scenario;
  }

  // ---------- reading a scenario (the API's own validation) ----------
  function checkScenario(box) {
    clearProblems();
    notice(t("checking"));
    return api("POST", "/v1/scenarios/validate", S.scenario).then(function (read) {
      S.read = read;
      notice("");
      renderScenario();
      return read;
    }).catch(function (e) {
      S.read = null;
      renderScenario();
      notice("");
      fail(e, box || $("problems"));
      throw e;
    });
  }
  function renderSummary() {
    var box = $("read-summary");
    var read = S.read;
    box.hidden = !read;
    if (!read) { box.innerHTML = ""; return; }
    var groups = Object.keys(read.groups).map(function (g) { return esc(g) + " " + num(read.groups[g]); }).join("，");
    var zones = Object.keys(read.zones);
    var rows = [
      [t("read.name"), esc(read.name)], [t("read.units"), "<span id=\"read-units\">" + num(read.units) + "</span>"],
      [t("read.sites"), "<span id=\"read-sites\">" + num(read.sites) + "</span>"], [t("read.groups"), groups || "–"],
      [t("read.zones"), num(zones.length) + "：" + zones.map(esc).join("、")],
      [t("read.weights"), Object.keys(read.weights).map(function (w) { return esc(w) + " " + num(read.weights[w]); }).join("，")],
      [t("read.types"), read.facility_types.map(function (ft) { return esc(ft) + "（" + t("read.existing") + " " + num(read.existing[ft]) + "）"; }).join("，")],
      [t("read.reach"), esc(t("reach." + read.reach))], [t("read.years"), read.years ? read.years.join("、") : "–"],
      [t("read.targets"), num(read.targets.length)]
    ];
    box.innerHTML = "<h2>" + esc(t("read.title")) + "</h2><table class=\"kv\">" + rows.map(function (r) {
      return "<tr><th>" + esc(r[0]) + "</th><td>" + r[1] + "</td></tr>";
    }).join("") + "</table>" + (read.notes.length ? "<ul class=\"notes\">" + read.notes.map(function (n) { return "<li>" + esc(n) + "</li>"; }).join("") + "</ul>" : "") +
      "<button type=\"button\" id=\"to-targets\">" + esc(t("next.targets")) + "</button>";
    $("to-targets").addEventListener("click", function () { show("targets"); });
  }
  function renderScenario() {
    renderSummary();
    renderTargets();
    renderBudget();
    renderTargetForm();
    $("scenario-json").value = S.scenario ? JSON.stringify(S.scenario, null, 2) : "";
    $("run-button").disabled = !S.scenario;
  }

  // ---------- targets: presets, the list, the form generated from the JSON Schema ----------
  function loadPresets() {
    return api("GET", "/v1/presets").then(function (data) { S.presets = data.presets; renderPresets(); }).catch(function (e) { fail(e); });
  }
  function renderPresets() {
    var select = $("preset-select");
    select.innerHTML = "";
    (S.presets || []).forEach(function (p) {
      select.appendChild(el("option", {value: p.id}, p.region + " · " + p.title + "（" + p.document + "）"));
    });
  }
  function applyPreset() {
    if (!S.scenario) { notice(t("need.scenario"), "bad"); return; }
    S.scenario.targets = [{preset: $("preset-select").value}];
    checkScenario($("problems-2")).catch(function () { /* shown */ });
  }
  // Where each expanded target comes from in scenario.targets: a plain entry, or an entry of a preset.
  function targetOrigins() {
    var origins = [];
    (S.scenario.targets || []).forEach(function (entry, k) {
      if (entry.preset && !entry.kind) {
        (S.read ? S.read.targets : []).forEach(function (tr) {
          if (tr.preset && tr.preset.indexOf(entry.preset + "/") === 0) { origins[tr.index] = {entry: k, id: tr.preset.split("/")[1]}; }
        });
      }
    });
    var next = 0;
    (S.scenario.targets || []).forEach(function (entry, k) {
      if (entry.preset && !entry.kind) { return; }
      while (origins[next]) { next++; }
      origins[next] = {entry: k};
      next++;
    });
    return origins;
  }
  function requiredOf(tr) {
    var m = / (>=|>) ([0-9.]+)%/.exec(tr.text);
    return m ? {field: "min_share", value: Number(m[2]) / 100} : null;
  }
  function renderTargets() {
    var table = $("targets-table");
    table.innerHTML = "";
    if (!S.read) { return; }
    var origins = targetOrigins();
    var head = "<tr><th>#</th><th>" + [t("t.target"), t("t.label"), t("t.source"), t("t.share"), ""].map(esc).join("</th><th>") + "</th></tr>";
    table.innerHTML = "<thead>" + head + "</thead>";
    var body = el("tbody");
    S.read.targets.forEach(function (tr) {
      var row = el("tr", {"data-target": String(tr.index)});
      row.innerHTML = "<td>" + tr.index + "</td><td>" + esc(tr.text) + (tr.year ? "（" + tr.year + "）" : "") + "</td><td>" +
        esc(tr.label) + "</td><td class=\"source\">" + esc(tr.source || t("t.own")) + "</td><td></td><td></td>";
      var share = requiredOf(tr);
      if (share) {
        var input = el("input", {type: "number", min: "0", max: "100", step: "1", "class": "share", value: String(Math.round(share.value * 1000) / 10)});
        input.addEventListener("change", function () { changeShare(origins[tr.index], Number(input.value) / 100); });
        row.children[4].appendChild(input);
        row.children[4].appendChild(document.createTextNode("%"));
      }
      var remove = el("button", {type: "button", "class": "small"}, t("t.remove"));
      remove.addEventListener("click", function () { removeTarget(origins[tr.index]); });
      row.children[5].appendChild(remove);
      body.appendChild(row);
    });
    table.appendChild(body);
  }
  function changeShare(origin, share) {
    var entry = S.scenario.targets[origin.entry];
    if (origin.id) {
      entry.replace = entry.replace || {};
      entry.replace[origin.id] = Object.assign(entry.replace[origin.id] || {}, {min_share: share});
    } else { entry.min_share = share; }
    checkScenario($("problems-2")).catch(function () { /* shown */ });
  }
  function removeTarget(origin) {
    if (origin.id) {
      var entry = S.scenario.targets[origin.entry];
      entry.skip = (entry.skip || []).concat([origin.id]);
    } else { S.scenario.targets.splice(origin.entry, 1); }
    checkScenario($("problems-2")).catch(function () { /* shown */ });
  }
  function resolve(node) {
    if (node && node.$ref) { return S.schema.$defs[node.$ref.split("/").pop()]; }
    return node;
  }
  function targetKinds() {
    if (!S.schema) { return {}; }
    var items = S.schema.properties.targets.items.anyOf[0];
    var mapping = items.discriminator.mapping;
    var kinds = {};
    Object.keys(mapping).forEach(function (kind) { kinds[kind] = resolve({$ref: mapping[kind]}); });
    return kinds;
  }
  var SKIP_FIELDS = {kind: true, preset: true};
  function fieldType(spec) {
    if (spec.anyOf) {
      var real = spec.anyOf.filter(function (s) { return s.type !== "null"; });
      return real.length === 1 ? Object.assign({}, real[0], {optional: true}) : {type: "json", optional: true};
    }
    return spec;
  }
  function choices(name) {
    var read = S.read || {facility_types: [], groups: {}, zones: {}, weights: {}};
    if (name === "facility") { return read.facility_types; }
    if (name === "group") { return [""].concat(Object.keys(read.groups)); }
    if (name === "zone") { return [""].concat(Object.keys(read.zones)); }
    if (name === "measure") { return ["units"].concat(Object.keys(read.weights)); }
    return null;
  }
  function renderTargetForm() {
    var kinds = targetKinds();
    var select = $("target-kind");
    var chosen = select.value || "coverage";
    select.innerHTML = "";
    Object.keys(kinds).forEach(function (kind) { select.appendChild(el("option", {value: kind}, t("kind." + kind))); });
    select.value = kinds[chosen] ? chosen : Object.keys(kinds)[0];
    var form = $("target-form");
    form.innerHTML = "";
    var def = kinds[select.value];
    if (!def) { return; }
    var required = def.required || [];
    Object.keys(def.properties).forEach(function (name) {
      if (SKIP_FIELDS[name]) { return; }
      var spec = fieldType(def.properties[name]);
      var label = el("label", {title: def.properties[name].description || spec.description || ""});
      label.appendChild(el("span", {}, name + (required.indexOf(name) >= 0 ? " *" : "")));
      var input;
      var options = choices(name) || spec["enum"];
      if (options) {
        input = el("select", {name: name});
        options.forEach(function (o) { input.appendChild(el("option", {value: o}, o === "" ? "–" : o)); });
      } else if (spec.type === "boolean") {
        input = el("input", {type: "checkbox", name: name});
      } else if (spec.type === "number" || spec.type === "integer") {
        input = el("input", {type: "number", name: name, step: spec.type === "integer" ? "1" : "any"});
        if (spec.minimum !== undefined) { input.min = spec.minimum; }
        if (spec.maximum !== undefined) { input.max = spec.maximum; }
      } else {
        input = el("input", {name: name, placeholder: spec.type === "array" ? t("form.list") : ""});
      }
      input.dataset.kind = spec.type || "json";
      label.appendChild(input);
      form.appendChild(label);
    });
  }
  function addTarget() {
    if (!S.scenario) { notice(t("need.scenario"), "bad"); return; }
    var target = {kind: $("target-kind").value};
    $("target-form").querySelectorAll("input, select").forEach(function (input) {
      var kind = input.dataset.kind;
      if (kind === "boolean") { if (input.checked) { target[input.name] = true; } return; }
      var value = input.value.trim();
      if (value === "") { return; }
      if (kind === "number" || kind === "integer") { target[input.name] = Number(value); } else if (kind === "array") {
        target[input.name] = value.split(/[,，]/).map(function (s) { return s.trim(); }).filter(Boolean);
      } else if (kind === "json") {
        try { target[input.name] = JSON.parse(value); } catch (e) { target[input.name] = value; }
      } else { target[input.name] = value; }
    });
    S.scenario.targets = (S.scenario.targets || []).concat([target]);
    checkScenario($("problems-2")).then(function () { $("add-target").open = false; }).catch(function () {
      S.scenario.targets.pop();   // a target the API refused is not kept; its message stays on screen
      $("scenario-json").value = JSON.stringify(S.scenario, null, 2);
    });
  }

  // ---------- budgets and objective ----------
  function renderBudget() {
    var form = $("budget-form");
    form.innerHTML = "";
    if (!S.scenario) { return; }
    var budget = S.scenario.budget || {};
    var field = function (name, label, value, attrs) {
      var box = el("label");
      box.appendChild(el("span", {}, label));
      var input = el("input", Object.assign({name: name, type: "number", min: "0", step: "any"}, attrs || {}));
      input.value = value === null || value === undefined ? "" : value;
      box.appendChild(input);
      form.appendChild(box);
    };
    field("capital", t("budget.capital"), budget.capital);
    field("annual", t("budget.annual"), budget.annual);
    field("horizon_years", t("budget.horizon"), budget.horizon_years);
    (S.scenario.years || []).forEach(function (year) {
      field("year-" + year, t("budget.year").replace("{year}", year), (budget.capital_by_year || {})[String(year)]);
    });
    var objective = el("label");
    objective.appendChild(el("span", {}, t("objective")));
    var select = el("select", {name: "objective"});
    var options = S.schema ? S.schema.properties.objective["enum"] : ["min_cost", "max_coverage"];
    options.forEach(function (o) { select.appendChild(el("option", {value: o}, t("objective." + o))); });
    select.value = S.scenario.objective || "min_cost";
    objective.appendChild(select);
    form.appendChild(objective);
    field("time_limit_s", t("time.limit"), (S.scenario.solver || {}).time_limit_s, {min: "1"});
  }
  function readBudget() {
    if (!S.scenario) { return; }
    var form = $("budget-form");
    var value = function (name) {
      var input = form.elements[name];
      return !input || input.value.trim() === "" ? null : Number(input.value);
    };
    var budget = S.scenario.budget = Object.assign({}, S.scenario.budget || {});
    budget.capital = value("capital");
    budget.annual = value("annual");
    if (value("horizon_years") !== null) { budget.horizon_years = value("horizon_years"); } else { delete budget.horizon_years; }
    if (S.scenario.years) {
      var byYear = {};
      S.scenario.years.forEach(function (year) { if (value("year-" + year) !== null) { byYear[String(year)] = value("year-" + year); } });
      if (Object.keys(byYear).length) { budget.capital_by_year = byYear; } else { delete budget.capital_by_year; }
    }
    S.scenario.objective = form.elements.objective.value;
    S.scenario.solver = Object.assign({}, S.scenario.solver || {});
    if (value("time_limit_s") !== null) { S.scenario.solver.time_limit_s = value("time_limit_s"); }
    $("scenario-json").value = JSON.stringify(S.scenario, null, 2);
  }
  function applyJson() {
    try { S.scenario = JSON.parse($("scenario-json").value); } catch (e) {
      showProblems($("problems-2"), new ApiError(0, {detail: t("json.bad"), problems: [{location: "scenario.json", message: String(e.message)}]}));
      return;
    }
    checkScenario($("problems-2")).catch(function () { /* shown */ });
  }

  // ---------- running a job and watching it ----------
  function runScenario() {
    readBudget();
    if (!S.scenario) { notice(t("need.scenario"), "bad"); return; }
    $("job-error").hidden = true;
    var scenario = clone(S.scenario);
    api("POST", "/v1/scenarios", scenario).then(function (accepted) {
      rememberScenario(accepted.id, scenario);
      show("run");
      watch(accepted.id);
    }).catch(function (e) { show("run"); fail(e, $("job-error")); });
  }
  function rememberScenario(jobId, scenario) {
    try { sessionStorage.setItem("eldercare-scenario-" + jobId, JSON.stringify({scenario: scenario, read: S.read})); } catch (e) { /* full */ }
  }
  function watch(jobId) {
    clearInterval(S.poll);
    $("cancel-button").disabled = false;
    var tick = function () {
      api("GET", "/v1/jobs/" + jobId).then(function (job) {
        S.job = job;
        renderJob(job);
        if (["done", "failed", "cancelled"].indexOf(job.status) >= 0) {
          clearInterval(S.poll);
          $("cancel-button").disabled = true;
          if (job.status === "done") { openResult(job); }
        }
      }).catch(function (e) { clearInterval(S.poll); fail(e, $("job-error")); });
    };
    tick();
    S.poll = setInterval(tick, 700);
  }
  function progressRows(progress) {
    return Object.keys(progress || {}).filter(function (k) { return progress[k] !== null && progress[k] !== undefined; }).map(function (k) {
      var value = progress[k];
      if (k === "gap" && typeof value === "number") { value = pct(value); } else if (typeof value === "number") { value = num(value, 3); } else if (Array.isArray(value)) {
        value = value.map(function (v) { return t("stage." + v) === "stage." + v ? v : t("stage." + v); }).join(" → ");
      } else if (typeof value === "object") { value = JSON.stringify(value); } else if (t("stage." + value) !== "stage." + value) { value = t("stage." + value); }
      return "<dt>" + esc(t("progress." + k) === "progress." + k ? k : t("progress." + k)) + "</dt><dd data-key=\"" + esc(k) + "\">" + esc(value) + "</dd>";
    }).join("");
  }
  // The stages a job went through, as the API reports them (`stages_done` and `stage`, when it does).
  function stageStrip(progress) {
    if (!progress || !progress.stage) { return ""; }
    var done = Array.isArray(progress.stages_done) ? progress.stages_done : [];
    var names = done.concat(done.indexOf(progress.stage) < 0 ? [progress.stage] : []);
    return "<ol class=\"stages\" id=\"job-stage-list\">" + names.map(function (name) {
      var label = t("stage." + name) === "stage." + name ? name : t("stage." + name);
      return "<li class=\"" + (done.indexOf(name) >= 0 ? "done" : "current") + "\">" + esc(label) + "</li>";
    }).join("") + "</ol>";
  }
  // Best plan and bound as they improve: every value the job reported, drawn against time.
  function traceJob(job) {
    var p = job.progress || {};
    if (!S.trace || S.trace.id !== job.id) { S.trace = {id: job.id, points: []}; }
    var last = S.trace.points[S.trace.points.length - 1];
    if (typeof p.objective === "number" || typeof p.bound === "number") {
      var point = {t: p.elapsed_s || 0, objective: p.objective, bound: p.bound, phase: p.phase};
      if (!last || last.objective !== point.objective || last.bound !== point.bound) { S.trace.points.push(point); }
    }
    if (S.trace.points.length < 2) { return ""; }
    var phase = S.trace.points[S.trace.points.length - 1].phase;   // one phase's values share a scale
    var points = S.trace.points.filter(function (q) { return q.phase === phase; });
    if (points.length < 2) { return ""; }
    var values = [];
    points.forEach(function (q) { [q.objective, q.bound].forEach(function (v) { if (typeof v === "number") { values.push(v); } }); });
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values), t0 = points[0].t, t1 = points[points.length - 1].t;
    if (hi === lo) { hi = lo + 1; }
    if (t1 === t0) { t1 = t0 + 1; }
    var W = 480, H = 160, M = 8;
    var line = function (key) {
      return points.filter(function (q) { return typeof q[key] === "number"; }).map(function (q) {
        return (M + (W - 2 * M) * (q.t - t0) / (t1 - t0)).toFixed(1) + "," + (H - M - (H - 2 * M) * (q[key] - lo) / (hi - lo)).toFixed(1);
      }).join(" ");
    };
    return "<svg class=\"trace\" id=\"job-trace\" viewBox=\"0 0 " + W + " " + H + "\"><polyline class=\"objective\" points=\"" + line("objective") +
      "\"/><polyline class=\"bound\" points=\"" + line("bound") + "\"/><text x=\"" + (W - M) + "\" y=\"" + (M + 10) +
      "\" text-anchor=\"end\">" + esc(num(hi)) + "</text><text x=\"" + (W - M) + "\" y=\"" + (H - M - 2) + "\" text-anchor=\"end\">" +
      esc(num(lo)) + "</text></svg><p class=\"small\"><span class=\"objective\">━ " + esc(t("progress.objective")) +
      "</span> <span class=\"bound\">━ " + esc(t("progress.bound")) + "</span></p>";
  }
  function renderJob(job) {
    $("job-status").innerHTML = "<p><span class=\"status status-" + esc(job.status) + "\" id=\"status-word\">" + esc(t("status." + job.status)) +
      "</span> · " + esc(job.name) + " · <code>" + esc(job.id) + "</code></p>" +
      (job.notes.length ? "<ul class=\"notes\">" + job.notes.map(function (n) { return "<li>" + esc(n) + "</li>"; }).join("") + "</ul>" : "");
    $("job-progress").innerHTML = progressRows(job.progress);
    $("job-stages").innerHTML = stageStrip(job.progress) + traceJob(job);
    if (job.status === "failed" && job.error) { showProblems($("job-error"), new ApiError(0, {detail: t("status.failed"), problems: job.error.problems})); }
  }
  function cancelJob() {
    if (!S.job) { return; }
    api("POST", "/v1/jobs/" + S.job.id + "/cancel").then(renderJob).catch(function (e) { fail(e); });
  }

  // ---------- the answer ----------
  function extractMapData(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var node = doc.getElementById("plan-data");
    return node ? node.textContent : null;
  }
  function openResult(job) {
    Promise.all([api("GET", "/v1/jobs/" + job.id + "/plan"),
                 api("GET", "/v1/jobs/" + job.id + "/map.html").catch(function () { return null; })]).then(function (got) {
      var stored = JSON.parse(sessionStorage.getItem("eldercare-scenario-" + job.id) || "null");
      var mapText = got[1] ? extractMapData(got[1]) : null;
      setResult({job: job, plan: got[0], mapText: mapText, mapData: mapText ? JSON.parse(mapText) : null,
                 scenario: stored ? stored.scenario : null, label: job.name});
    }).catch(function (e) { fail(e); });
  }
  function setResult(result) {
    if (S.current && (!S.current.job || !result.job || S.current.job.id !== result.job.id)) { S.previous = S.current; }
    S.current = result;
    renderResult();
    show("results");
    loadMap(result.mapText);
  }
  function loadMap(mapText) {
    var frame = $("map-frame");
    frame.hidden = !mapText;
    if (!mapText) { return; }
    var send = function (event) {
      if (event.origin !== window.location.origin || event.source !== frame.contentWindow || !event.data || event.data.mapFrame !== "ready") { return; }
      window.removeEventListener("message", send);
      frame.contentWindow.postMessage({planData: mapText}, window.location.origin);
    };
    window.addEventListener("message", send);
    frame.src = "/map?" + Date.now();
  }
  function statusLine(plan) {
    return t("plan.status." + plan.status) === "plan.status." + plan.status ? plan.status : t("plan.status." + plan.status);
  }
  function renderResult() {
    var r = S.current;
    var plan = r.plan;
    var cost = plan.cost || {};
    var newCount = (plan.facilities || []).filter(function (f) { return f["new"]; }).length;
    $("result-head").innerHTML = "<h2>" + esc(plan.scenario) + "</h2><p class=\"headline\"><span id=\"all-met\" class=\"" +
      (plan.all_targets_met ? "ok" : "bad") + "\">" + esc(plan.all_targets_met ? t("met.all") : t("met.notall")) + "</span> · " +
      esc(statusLine(plan)) + " · " + esc(t("cost.capital")) + " " + yuan(cost.capital) + " · " + esc(t("cost.annual")) + " " +
      yuan(cost.annual) + " · " + esc(t("cost.total")) + " " + yuan(cost.total) + " · " + esc(t("facilities.new")) + " " + num(newCount) +
      (plan.gap !== null && plan.gap !== undefined ? " · " + esc(t("gap")) + " " + pct(plan.gap) : "") +
      (r.level !== undefined ? " · <em>" + esc(t("sweep.levelplan")) + "</em> <button type=\"button\" id=\"run-level\">" +
        esc(t("sweep.runlevel")) + "</button>" : "") + "</p>";
    if (r.level !== undefined) { $("run-level").addEventListener("click", function () { runLevel(r); }); }
    renderResultTargets(plan);
    renderExplanation(plan);
    renderYears(plan);
    renderBuildList(plan);
    renderUncovered(plan, r.mapData);
    renderDownloads(r);
    renderCompare();
  }
  function targetValue(kind, value) {
    if (value === null || value === undefined) { return "–"; }
    return kind === "coverage" || (kind === "beds" && value <= 1 && value > 0 && value % 1 !== 0) ? pct(value) : num(value, 1);
  }
  function renderResultTargets(plan) {
    $("result-targets").innerHTML = "<thead><tr><th>#</th><th>" + [t("t.label"), t("t.required"), t("t.achieved"), t("t.met"), t("t.source")].map(esc).join("</th><th>") +
      "</th></tr></thead><tbody>" + (plan.targets || []).map(function (tg) {
        return "<tr class=\"" + (tg.met ? "ok" : "bad") + "\"><td>" + tg.index + "</td><td>" + esc(tg.label || (tg.kind + " " + (tg.facility || ""))) +
          "</td><td class=\"num\">" + targetValue(tg.kind, tg.required) + "</td><td class=\"num\">" + targetValue(tg.kind, tg.achieved) +
          "</td><td>" + (tg.met ? "✓" : "✗") + "</td><td class=\"source\">" + esc(tg.source || "") + "</td></tr>";
      }).join("") + "</tbody>";
  }
  function renderExplanation(plan) {
    var box = $("result-explanation");
    var ex = plan.explanation;
    if (!ex) { box.innerHTML = ""; return; }
    var lines = [];
    var budget = ex.budget || {};
    (budget.by_year || []).forEach(function (y) {
      if (y.short) { lines.push(t("ex.year").replace("{year}", y.year).replace("{need}", yuan(y.least_capital_at_least)).replace("{have}", yuan(y.capital_budget))); }
    });
    if (budget.least_capital !== undefined && budget.least_capital !== null && !(budget.by_year || []).some(function (y) { return y.short; })) {
      lines.push(t("ex.capital").replace("{need}", yuan(budget.least_capital)).replace("{have}", yuan(budget.capital_budget)));
    }
    (plan.targets || []).forEach(function (tg) {
      if (!tg.met) { lines.push(t("ex.target").replace("{label}", tg.label || tg.kind).replace("{got}", targetValue(tg.kind, tg.achieved)).replace("{need}", targetValue(tg.kind, tg.required))); }
    });
    if (ex.best_plan) { lines.push(t("ex.best") + " " + ex.best_plan); }
    box.innerHTML = "<div class=\"explanation\" id=\"explanation\"><h3>" + esc(t("ex.title")) + "</h3><ul>" +
      lines.map(function (l) { return "<li>" + esc(l) + "</li>"; }).join("") + "</ul></div>";
  }
  function renderYears(plan) {
    var rows = [];
    if (plan.years) {
      Object.keys(plan.years).forEach(function (year) {
        var y = plan.years[year];
        rows.push([year, y.capital, y.annual, y.facilities_open, ((plan.budget || {}).capital_by_year || {})[year]]);
      });
    } else if (plan.cost) {
      rows.push([t("years.all"), plan.cost.capital, plan.cost.annual, (plan.facilities || []).length, (plan.budget || {}).capital]);
    }
    $("result-years").innerHTML = "<thead><tr><th>" + [t("year"), t("cost.capital"), t("cost.annual"), t("facilities.open"), t("budget.capital")].map(esc).join("</th><th>") +
      "</th></tr></thead><tbody>" + rows.map(function (r) {
        return "<tr><td>" + esc(r[0]) + "</td><td class=\"num\">" + yuan(r[1]) + "</td><td class=\"num\">" + yuan(r[2]) + "</td><td class=\"num\">" + num(r[3]) + "</td><td class=\"num\">" + yuan(r[4]) + "</td></tr>";
      }).join("") + "</tbody>";
  }
  // The build list: plan.json's `build_list` when the plan has one, else its facilities (new first).
  function buildRows(plan) {
    if (plan.build_list) { return plan.build_list; }
    return (plan.facilities || []).map(function (f) {
      return {zone: f.zone, site: f.site, name: f.name, type: f.type, label: f.label || f.type, action: f["new"] ? "new" : "existing",
              year: f.year, capital: f.capital_cost, annual: f.annual_cost, units_served: f.served_units};
    }).sort(function (a, b) {
      return (a.action === "existing") - (b.action === "existing") || String(a.zone).localeCompare(String(b.zone), "zh") ||
        String(a.year).localeCompare(String(b.year)) || String(a.name || a.site).localeCompare(String(b.name || b.site), "zh");
    });
  }
  function renderBuildList(plan) {
    var rows = buildRows(plan);
    $("result-build").innerHTML = "<thead><tr><th>" + [t("b.zone"), t("b.name"), t("b.type"), t("b.action"), t("year"), t("cost.capital"), t("cost.annual"), t("b.units")].map(esc).join("</th><th>") +
      "</th></tr></thead><tbody>" + rows.map(function (row) {
        return "<tr class=\"action-" + esc(row.action) + "\"><td>" + esc(row.zone) + "</td><td>" + esc(row.name || row.site) + (row.name ? " <small>" + esc(row.site) + "</small>" : "") +
          "</td><td>" + esc(row.label || row.type) + "</td><td>" + esc(t("action." + row.action)) + "</td><td>" + esc(row.year) +
          "</td><td class=\"num\">" + num(row.capital) + "</td><td class=\"num\">" + num(row.annual) + "</td><td class=\"num\">" + num(row.units_served) + "</td></tr>";
      }).join("") + "</tbody>";
  }
  function renderUncovered(plan, mapData) {
    var box = $("result-uncovered");
    var rows = [];
    if (plan.uncovered) {
      rows = plan.uncovered.map(function (u) { return {id: u.demand || u.id, name: u.name, zone: u.zone, types: [u.facility || u.type].filter(Boolean), weight: null}; });
    } else if (mapData) {
      var types = mapData.types.map(function (tp) { return tp.name; });
      var weight = mapData.weights[0];
      mapData.demand.features.forEach(function (f) {
        var p = f.properties;
        var missing = types.filter(function (tp) { return p["cov_" + tp] === 0; });
        if (missing.length) { rows.push({id: p.id, name: p.name, zone: p.zone, types: missing, weight: weight ? p[weight] : null}); }
      });
      rows.sort(function (a, b) { return (b.weight || 0) - (a.weight || 0); });
    }
    var shown = rows.slice(0, 200);
    box.innerHTML = "<p>" + esc(t("uncovered.count").replace("{n}", num(rows.length))) + "</p>" + (rows.length ?
      "<table class=\"data\"><thead><tr><th>" + [t("b.unit"), t("b.zone"), t("uncovered.types"), t("read.weights")].map(esc).join("</th><th>") +
      "</th></tr></thead><tbody>" + shown.map(function (u) {
        var label = function (tp) { return ((plan.facility_types || {})[tp] || {}).label || tp; };   // the type's Chinese name
        return "<tr><td>" + esc(u.name || u.id) + "</td><td>" + esc(u.zone) + "</td><td>" + u.types.map(label).map(esc).join("、") + "</td><td class=\"num\">" + num(u.weight) + "</td></tr>";
      }).join("") + "</tbody></table>" : "");
  }
  function renderDownloads(r) {
    var list = $("result-downloads");
    list.innerHTML = "";
    var add = function (label, action) {
      var item = el("li");
      var button = el("button", {type: "button", "class": "link", "data-file": label}, label);
      button.addEventListener("click", action);
      item.appendChild(button);
      list.appendChild(item);
    };
    if (r.job) {
      ((r.job.result || {}).artefacts || []).forEach(function (name) {
        add(name, function () { download("/v1/jobs/" + r.job.id + "/files/" + encodeURIComponent(name), name); });
      });
      add("scenario.json", function () {
        api("GET", "/v1/jobs/" + r.job.id + "/scenario").then(function (scenario) {
          saveBlob(new Blob([JSON.stringify(scenario, null, 2)], {type: "application/json"}), "scenario.json");
        }).catch(function (e) { fail(e); });
      });
    } else if (r.plan) {
      add("plan.json", function () { saveBlob(new Blob([JSON.stringify(r.plan, null, 1)], {type: "application/json"}), "plan.json"); });
    }
  }
  function facilityKeys(plan) {
    var keys = {};
    (plan.facilities || []).forEach(function (f) { keys[f.site + " · " + (f.label || f.type)] = f; });
    return keys;
  }
  function renderCompare() {
    var box = $("result-compare");
    var a = S.previous, b = S.current;
    if (!a || !b) { box.innerHTML = "<p class=\"hint\">" + esc(t("compare.none")) + "</p>"; return; }
    var pa = a.plan, pb = b.plan;
    var rows = [
      [t("compare.met"), pa.all_targets_met ? t("met.all") : t("met.notall"), pb.all_targets_met ? t("met.all") : t("met.notall")],
      [t("cost.capital"), yuan((pa.cost || {}).capital), yuan((pb.cost || {}).capital)],
      [t("cost.annual"), yuan((pa.cost || {}).annual), yuan((pb.cost || {}).annual)],
      [t("cost.total"), yuan((pa.cost || {}).total), yuan((pb.cost || {}).total)],
      [t("budget.capital"), yuan((pa.budget || {}).capital), yuan((pb.budget || {}).capital)],
      [t("compare.facilities"), num((pa.facilities || []).length), num((pb.facilities || []).length)]
    ];
    var byIndex = {};
    (pa.targets || []).forEach(function (tg) { byIndex[tg.label || tg.index] = [tg, null]; });
    (pb.targets || []).forEach(function (tg) { var k = tg.label || tg.index; byIndex[k] = [byIndex[k] ? byIndex[k][0] : null, tg]; });
    Object.keys(byIndex).forEach(function (k) {
      var pair = byIndex[k];
      var cell = function (tg) { return tg ? targetValue(tg.kind, tg.achieved) + " / " + targetValue(tg.kind, tg.required) + (tg.met ? " ✓" : " ✗") : "–"; };
      rows.push([k, cell(pair[0]), cell(pair[1])]);
    });
    var ka = facilityKeys(pa), kb = facilityKeys(pb);
    var added = Object.keys(kb).filter(function (k) { return !ka[k]; });
    var removed = Object.keys(ka).filter(function (k) { return !kb[k]; });
    box.innerHTML = "<table class=\"data compare\" id=\"compare-table\"><thead><tr><th></th><th>" + esc(t("compare.before")) + " · " + esc(a.label) +
      "</th><th>" + esc(t("compare.after")) + " · " + esc(b.label) + "</th></tr></thead><tbody>" + rows.map(function (r) {
        return "<tr><th>" + esc(r[0]) + "</th><td>" + esc(r[1]) + "</td><td>" + esc(r[2]) + "</td></tr>";
      }).join("") + "</tbody></table><div class=\"cols\"><div><h4 id=\"sites-added\">" + esc(t("compare.added").replace("{n}", added.length)) + "</h4><ul>" +
      added.slice(0, 100).map(function (k) { return "<li>" + esc(k) + "</li>"; }).join("") + "</ul></div><div><h4 id=\"sites-removed\">" +
      esc(t("compare.removed").replace("{n}", removed.length)) + "</h4><ul>" + removed.slice(0, 100).map(function (k) { return "<li>" + esc(k) + "</li>"; }).join("") + "</ul></div></div>";
  }

  // ---------- budget sweep and its frontier ----------
  function runSweep(event) {
    event.preventDefault();
    readBudget();
    if (!S.scenario) { notice(t("need.scenario"), "bad"); return; }
    var form = event.target;
    var request = {scenario: clone(S.scenario), elastic: form.elements.elastic.checked};
    var budgets = form.elements.budgets.value.split(/[,，\s]+/).filter(Boolean).map(Number);
    if (budgets.length) { request.budgets = budgets; } else { request.levels = Number(form.elements.levels.value) || 4; }
    if ((S.scenario.years || []).length) {
      var how = form.elements.years.value || "scale";
      if (how === "scale") { request.scale_years = true; } else { request.year = Number(how); }
    }
    api("POST", "/v1/sweeps", request).then(function (accepted) { watchSweep(accepted.id, request.scenario); }).catch(function (e) { fail(e, $("problems-2")); show("targets"); });
  }
  function watchSweep(jobId, scenario) {
    clearInterval(S.sweepPoll);
    S.sweep = {id: jobId, frontier: null, scenario: scenario || null};
    if (!scenario) {   // a sweep opened from the job list: its scenario from the service
      api("GET", "/v1/jobs/" + jobId + "/scenario").then(function (doc) { if (S.sweep.id === jobId) { S.sweep.scenario = doc; } }).catch(function () { /* gone */ });
    }
    $("sweep-cancel").disabled = false;
    $("sweep-chart").innerHTML = "";
    $("sweep-table").innerHTML = "";
    var tick = function () {
      api("GET", "/v1/sweeps/" + jobId).then(function (job) {
        S.sweep.job = job;
        $("sweep-status").innerHTML = "<p><span class=\"status status-" + esc(job.status) + "\" id=\"sweep-status-word\">" + esc(t("status." + job.status)) +
          "</span> · <code>" + esc(job.id) + "</code></p><dl class=\"kv\">" + progressRows(job.progress) + "</dl>" +
          (job.error ? "<ul class=\"problems\">" + job.error.problems.map(function (p) { return "<li>" + esc(p.location) + ": " + esc(p.message) + "</li>"; }).join("") + "</ul>" : "");
        if (["done", "failed", "cancelled"].indexOf(job.status) >= 0) {
          clearInterval(S.sweepPoll);
          $("sweep-cancel").disabled = true;
          if (job.status === "done") {
            api("GET", "/v1/sweeps/" + jobId + "/frontier").then(function (frontier) { S.sweep.frontier = frontier; renderFrontier(); }).catch(function (e) { fail(e); });
          }
        }
      }).catch(function (e) { clearInterval(S.sweepPoll); fail(e); });
    };
    tick();
    S.sweepPoll = setInterval(tick, 1000);
  }
  function renderFrontier() {
    var levels = S.sweep.frontier.levels;
    var W = 640, H = 320, L = 70, R = 20, T = 20, B = 50;
    var xs = levels.map(function (l) { return l.budget; });
    var ys = levels.map(function (l) { return l.coverage_share === null ? 0 : l.coverage_share; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    if (x1 === x0) { x1 = x0 + 1; }
    var px = function (x) { return L + (W - L - R) * (x - x0) / (x1 - x0); };
    var py = function (y) { return H - B - (H - T - B) * y; };
    var svgNS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(svgNS, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("class", "frontier");
    svg.setAttribute("id", "frontier-chart");
    var add = function (tag, attrs, text) {
      var node = document.createElementNS(svgNS, tag);
      Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      if (text !== undefined) { node.textContent = text; }
      svg.appendChild(node);
      return node;
    };
    add("line", {x1: L, y1: H - B, x2: W - R, y2: H - B, "class": "axis"});
    add("line", {x1: L, y1: T, x2: L, y2: H - B, "class": "axis"});
    [0, 0.25, 0.5, 0.75, 1].forEach(function (y) {
      add("text", {x: L - 6, y: py(y) + 4, "text-anchor": "end", "class": "tick"}, (100 * y) + "%");
      add("line", {x1: L, y1: py(y), x2: W - R, y2: py(y), "class": "grid"});
    });
    add("text", {x: (L + W - R) / 2, y: H - 8, "text-anchor": "middle", "class": "label"}, t("sweep.x"));
    add("text", {x: 14, y: (T + H - B) / 2, "text-anchor": "middle", "class": "label", transform: "rotate(-90 14 " + (T + H - B) / 2 + ")"}, t("sweep.y"));
    // The line joins the levels that have a plan; a level without one (infeasible, or no plan in
    // its time) sits on the axis as a hollow marker, not as a plan covering nobody.
    var planned = levels.map(function (l, k) { return k; }).filter(function (k) { return levels[k].coverage_share !== null; });
    add("polyline", {points: planned.map(function (k) { return px(xs[k]) + "," + py(ys[k]); }).join(" "), "class": "line"});
    levels.forEach(function (level, k) {
      add("text", {x: px(xs[k]), y: H - B + 16, "text-anchor": "middle", "class": "tick"}, num(level.budget / 10000) + t("wan"));
      var none = level.coverage_share === null;
      var dot = add("circle", {cx: px(xs[k]), cy: py(ys[k]), r: none ? 5 : 7, "class": "level" + (level.targets_met ? " met" : "") + (none ? " none" : ""),
                               "data-level": String(k), tabindex: "0"});
      var title = document.createElementNS(svgNS, "title");
      title.textContent = yuan(level.budget) + " → " + (none ? t("plan.status." + level.status) : pct(level.coverage_share));
      dot.appendChild(title);
      dot.addEventListener("click", function () { openLevel(k); });
    });
    var box = $("sweep-chart");
    box.innerHTML = "";
    box.appendChild(svg);
    $("sweep-table").innerHTML = "<thead><tr><th>" + [t("budget.capital"), t("cost.capital"), t("cost.total"), t("sweep.coverage"), t("compare.met"), t("plan.status"), ""].map(esc).join("</th><th>") +
      "</th></tr></thead><tbody>" + levels.map(function (l, k) {
        return "<tr><td class=\"num\">" + yuan(l.budget) + (l.least_sufficient ? " ★" : "") + "</td><td class=\"num\">" + yuan(l.capital) + "</td><td class=\"num\">" + yuan(l.total) +
          "</td><td class=\"num\">" + pct(l.coverage_share) + "</td><td>" + (l.targets_met ? "✓" : "✗") + "</td><td>" + esc(t("plan.status." + l.status)) +
          "</td><td><button type=\"button\" class=\"small open-level\" data-level=\"" + k + "\">" + esc(t("sweep.open")) + "</button></td></tr>";
      }).join("") + "</tbody>";
    $("sweep-table").querySelectorAll(".open-level").forEach(function (b) { b.addEventListener("click", function () { openLevel(Number(b.dataset.level)); }); });
  }
  // A sweep level as a solve of its own: the sweep's scenario with the level's budget and objective.
  function runLevel(r) {
    var level = S.sweep.frontier.levels[r.level];
    S.scenario = clone(S.sweep.scenario || S.scenario);
    S.scenario.budget = Object.assign({}, S.scenario.budget || {}, {capital: level.budget});
    S.scenario.objective = r.plan.objective_kind || S.scenario.objective;
    renderScenario();
    runScenario();
  }
  function openLevel(k) {
    var level = S.sweep.frontier.levels[k];
    api("GET", "/v1/sweeps/" + S.sweep.id + "/levels/" + k).then(function (plan) {
      setResult({job: null, plan: plan, mapText: null, mapData: null, level: k, label: t("sweep.level") + " " + yuan(level.budget)});
    }).catch(function (e) { fail(e); });
  }

  // ---------- my jobs ----------
  function loadJobs() {
    api("GET", "/v1/jobs?limit=50").then(function (data) {
      $("jobs-table").innerHTML = "<thead><tr><th>" + [t("jobs.id"), t("jobs.kind"), t("read.name"), t("plan.status"), t("jobs.created"), ""].map(esc).join("</th><th>") +
        "</th></tr></thead><tbody>" + data.jobs.map(function (job) {
          return "<tr data-job=\"" + esc(job.id) + "\"><td><code>" + esc(job.id.slice(0, 8)) + "</code></td><td>" + esc(t("jobs.kind." + job.kind)) + "</td><td>" + esc(job.name) +
            "</td><td>" + esc(t("status." + job.status)) + "</td><td>" + esc(new Date(job.created_at).toLocaleString()) +
            "</td><td><button type=\"button\" class=\"small open-job\" data-id=\"" + esc(job.id) + "\" data-kind=\"" + esc(job.kind) + "\">" + esc(t("jobs.open")) + "</button></td></tr>";
        }).join("") + "</tbody>";
      if (!data.jobs.length) { $("jobs-table").innerHTML = "<tbody><tr><td>" + esc(t("jobs.none")) + "</td></tr></tbody>"; }
      $("jobs-table").querySelectorAll(".open-job").forEach(function (b) {
        b.addEventListener("click", function () { openJob(b.dataset.id, b.dataset.kind); });
      });
    }).catch(function (e) { fail(e); });
  }
  function openJob(id, kind) {
    if (kind === "sweep") { show("sweep"); watchSweep(id); return; }
    api("GET", "/v1/jobs/" + id).then(function (job) {
      if (job.status === "done") { openResult(job); } else { show("run"); watch(id); }
    }).catch(function (e) { fail(e); });
  }

  // ---------- start-up ----------
  function useKey() {
    S.key = $("api-key").value.trim();
    sessionStorage.setItem("eldercare-key", S.key);
    S.current = S.previous = null;
    notice(t("key.saved"), "ok");
    start();
    if (document.body.dataset.screen === "jobs") { loadJobs(); }
  }
  function start() {
    loadRegions();
    loadPresets();
    return api("GET", "/v1/scenarios/schema").then(function (schema) { S.schema = schema; renderScenario(); }).catch(function (e) { fail(e); });
  }
  function init() {
    $("api-key").value = S.key;
    document.querySelectorAll("#nav button").forEach(function (b) { b.addEventListener("click", function () { show(b.dataset.screen); }); });
    $("key-save").addEventListener("click", useKey);
    $("api-key").addEventListener("keydown", function (e) { if (e.key === "Enter") { useKey(); } });
    $("lang-toggle").addEventListener("click", function () {
      S.lang = S.lang === "zh" ? "en" : "zh";
      localStorage.setItem("eldercare-lang", S.lang);
      notice("");
      renderAll();
    });
    $("upload-form").addEventListener("submit", uploadLayers);
    $("preset-apply").addEventListener("click", applyPreset);
    $("target-kind").addEventListener("change", renderTargetForm);
    $("target-add").addEventListener("click", addTarget);
    $("budget-form").addEventListener("change", readBudget);
    $("check-button").addEventListener("click", function () { readBudget(); checkScenario($("problems-2")).catch(function () { /* shown */ }); });
    $("to-run").addEventListener("click", function () { readBudget(); show("run"); });
    $("json-apply").addEventListener("click", applyJson);
    $("json-download").addEventListener("click", function () {
      readBudget();
      saveBlob(new Blob([JSON.stringify(S.scenario, null, 2)], {type: "application/json"}), "scenario.json");
    });
    $("run-button").addEventListener("click", runScenario);
    $("cancel-button").addEventListener("click", cancelJob);
    $("change-again").addEventListener("click", function () { show("targets"); });
    $("sweep-form").addEventListener("submit", runSweep);
    $("sweep-cancel").addEventListener("click", function () {
      if (S.sweep) { api("POST", "/v1/sweeps/" + S.sweep.id + "/cancel").catch(function (e) { fail(e); }); }
    });
    $("jobs-refresh").addEventListener("click", loadJobs);
    translate();
    show("start");
    start();
  }
  init();
})();
