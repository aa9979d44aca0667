// Steward's catalog site: search and filters over the models index, nothing else.
// It reads the search index (search-index.js: `self.stewardIndex`, a list of model rows) and
// fills the table with DOM nodes whose texts are set as text, never parsed as markup.
(function () {
  "use strict";
  var rows = self.stewardIndex;
  var table = document.getElementById("models");
  var form = document.getElementById("search");
  if (!Array.isArray(rows) || !table || !form) {
    return;
  }
  var tbody = table.tBodies[0];
  var query = document.getElementById("q");
  var count = document.getElementById("count");
  var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-filter]"));

  function valuesOf(row, key) {
    if (key === "stage") { return Object.keys(row.stages || {}); }
    if (key === "team") { return row.team ? [row.team] : []; }
    if (key === "risk") { return row.risk ? [row.risk] : []; }
    if (key === "tag") { return row.tags || []; }
    if (key === "classification") {
      return (row.classification || []).concat(row.inherited || []);
    }
    return [];
  }

  // Each filter's options: the values the rows hold, sorted, each once.
  selects.forEach(function (select) {
    var key = select.getAttribute("data-filter");
    var seen = {};
    rows.forEach(function (row) {
      valuesOf(row, key).forEach(function (value) { seen[value] = true; });
    });
    Object.keys(seen).sort().forEach(function (value) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = value;
      select.appendChild(option);
    });
  });

  function haystack(row) {
    return [row.name, row.description, row.owner, row.team, row.risk]
      .concat(row.tags || [], row.classification || [], row.inherited || [])
      .filter(function (v) { return typeof v === "string"; })
      .join(" ")
      .toLowerCase();
  }
  var texts = rows.map(haystack);

  function cell(tr, content) {
    var td = document.createElement("td");
    if (content instanceof Node) { td.appendChild(content); } else { td.textContent = content; }
    tr.appendChild(td);
    return td;
  }

  function stagesCell(row) {
    var span = document.createElement("span");
    ["production", "staging"].forEach(function (stage) {
      var held = (row.stages || {})[stage];
      if (!held || !held.length) { return; }
      var badge = document.createElement("span");
      badge.className = "badge stage-" + stage;
      badge.textContent = stage;
      span.appendChild(badge);
      span.appendChild(document.createTextNode(" " + held.join(", ") + " "));
    });
    if (!span.childNodes.length) { span.textContent = "-"; }
    return span;
  }

  function render() {
    var words = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    var wanted = selects.map(function (s) { return [s.getAttribute("data-filter"), s.value]; })
      .filter(function (pair) { return pair[1] !== ""; });
    var fragment = document.createDocumentFragment();
    var shown = 0;
    rows.forEach(function (row, i) {
      var matches = words.every(function (w) { return texts[i].indexOf(w) !== -1; }) &&
        wanted.every(function (pair) { return valuesOf(row, pair[0]).indexOf(pair[1]) !== -1; });
      if (!matches) { return; }
      shown += 1;
      var tr = document.createElement("tr");
      var a = document.createElement("a");
      a.href = "models/" + encodeURIComponent(row.name) + ".html";
      a.textContent = row.name;
      cell(tr, a);
      cell(tr, row.owner || "-");
      cell(tr, row.team || "-");
      cell(tr, row.risk || "-");
      var labels = (row.classification || []).slice();
      (row.inherited || []).forEach(function (l) { if (labels.indexOf(l) === -1) { labels.push(l); } });
      cell(tr, labels.join(", ") || "-");
      cell(tr, stagesCell(row));
      cell(tr, row.latest || "-");
      cell(tr, row.changed || "-");
      tr.setAttribute("data-model", row.name);
      fragment.appendChild(tr);
    });
    tbody.replaceChildren(fragment);
    count.textContent = shown + " of " + rows.length + " models shown";
  }

  // Filters live in the address (?q=...&team=...), so a filtered view can be shared.
  var params = new URLSearchParams(location.search);
  query.value = params.get("q") || "";
  selects.forEach(function (s) { s.value = params.get(s.getAttribute("data-filter")) || ""; });

  function remember() {
    var next = new URLSearchParams();
    if (query.value) { next.set("q", query.value); }
    selects.forEach(function (s) { if (s.value) { next.set(s.getAttribute("data-filter"), s.value); } });
    var search = next.toString();
    try {
      history.replaceState(null, "", search ? "?" + search : location.pathname);
    } catch (e) {
      // some file:// contexts refuse it; the filter still applies
    }
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("input", function () { render(); remember(); });
  form.addEventListener("change", function () { render(); remember(); });
  render();
})();
