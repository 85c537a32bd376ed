// gitprov report: pan and zoom of the lineage graph, and a node's record on click or Enter.
// No library and no network: the page's data is the JSON in #report-data.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent || "{}");
  var box = document.querySelector(".graph-box");
  if (!box) { return; }
  var svg = box.querySelector("svg");
  var records = data.records || {};
  var panel = document.getElementById("record");
  var full = { w: +svg.getAttribute("data-width"), h: +svg.getAttribute("data-height") };
  var view = { x: 0, y: 0, w: full.w, h: full.h };

  function apply() {
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
  }
  function zoom(factor, cx, cy) {
    var nx = cx === undefined ? view.x + view.w / 2 : cx;
    var ny = cy === undefined ? view.y + view.h / 2 : cy;
    view.x = nx - (nx - view.x) * factor; view.y = ny - (ny - view.y) * factor;
    view.w *= factor; view.h *= factor; apply();
  }
  function pan(dx, dy) { view.x += dx * view.w; view.y += dy * view.h; apply(); }
  function reset() { view = { x: 0, y: 0, w: full.w, h: full.h }; apply(); }

  box.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = svg.getBoundingClientRect();
    var scale = Math.max(view.w / r.width, view.h / r.height);
    zoom(e.deltaY > 0 ? 1.2 : 1 / 1.2, view.x + (e.clientX - r.left) * scale,
         view.y + (e.clientY - r.top) * scale);
  }, { passive: false });
  var drag = null;
  box.addEventListener("pointerdown", function (e) {
    if (e.target.closest(".node")) { return; }
    drag = { x: e.clientX, y: e.clientY };
  });
  window.addEventListener("pointerup", function () { drag = null; });
  box.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    var r = svg.getBoundingClientRect();
    var scale = Math.max(view.w / r.width, view.h / r.height);
    view.x -= (e.clientX - drag.x) * scale; view.y -= (e.clientY - drag.y) * scale;
    drag = { x: e.clientX, y: e.clientY }; apply();
  });
  box.addEventListener("keydown", function (e) {
    var keys = { "+": [zoom, 1 / 1.2], "=": [zoom, 1 / 1.2], "-": [zoom, 1.2],
                 ArrowLeft: [pan, -0.1, 0], ArrowRight: [pan, 0.1, 0],
                 ArrowUp: [pan, 0, -0.1], ArrowDown: [pan, 0, 0.1], "0": [reset] };
    var act = keys[e.key];
    if (act) {
      e.preventDefault(); act[0].apply(null, act.slice(1));
    }
  });
  document.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      var z = b.getAttribute("data-zoom");
      if (z === "in") { zoom(1 / 1.2); } else if (z === "out") { zoom(1.2); } else { reset(); }
    });
  });

  function text(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }
  function show(id) {
    var rec = records[id];
    document.querySelectorAll(".node.selected").forEach(function (n) { n.classList.remove("selected"); });
    var node = svg.querySelector('.node[data-id="' + CSS.escape(id) + '"]');
    if (node) { node.classList.add("selected"); }
    panel.textContent = "";
    if (!rec) { panel.appendChild(text("p", "No record for " + id)); return; }
    panel.appendChild(text("h3", rec.title));
    var dl = document.createElement("dl");
    (rec.fields || []).forEach(function (f) { dl.appendChild(text("dt", f[0])); dl.appendChild(text("dd", f[1])); });
    panel.appendChild(dl);
    if (rec.href) {
      var a = text("a", "Open its page"); a.href = rec.href; panel.appendChild(a);
    }
  }
  // One listener for all nodes: a graph of hundreds of nodes opens faster.
  svg.addEventListener("click", function (e) {
    var node = e.target.closest(".node");
    if (node) { show(node.getAttribute("data-id")); }
  });
  svg.addEventListener("keydown", function (e) {
    var node = e.target.closest(".node");
    if (node && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault(); e.stopPropagation(); show(node.getAttribute("data-id"));
    }
  });
  var find = document.getElementById("find");
  if (find) {
    find.addEventListener("change", function () {
      var id = find.value;
      if (!id) { return; }
      show(id);
      var node = svg.querySelector('.node[data-id="' + CSS.escape(id) + '"]');
      if (node) { center(node); node.focus(); }
    });
  }
  // A readable scale around one node: the whole of a long history would be specks.
  function center(node) {
    var t = node.transform.baseVal.consolidate().matrix;
    view.w = Math.min(full.w, 1400); view.h = Math.min(full.h, 700);
    view.x = Math.max(0, Math.min(full.w - view.w, t.e - view.w / 2));
    view.y = Math.max(0, Math.min(full.h - view.h, t.f - view.h / 2)); apply();
  }
  var start = data.focus && svg.querySelector('.node[data-id="' + CSS.escape(data.focus) + '"]');
  if (start) { show(data.focus); }
  if (full.w > 2800 || full.h > 1400) {
    var nodes = svg.querySelectorAll(".node");
    center(start || nodes[nodes.length - 1]);  // the newest column is drawn last
  }
})();
