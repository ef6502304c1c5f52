"""The step-through page: the graph drawn once by Graphviz as SVG, the steps as JSON, and a
small script that replays them (next, previous, play; arrow keys and space).

Every node and edge carries an SVG id (`u3`, `eu5_0`: input 0 of node u5), so the script
highlights and relabels the drawing without laying it out again. Replaying step k resets the
picture and applies steps 1..k, so going back is exact.
"""

from __future__ import annotations

import html
import json
import shutil
from typing import Any

import graphviz

from viz import _labels as L
from viz._walk import GraphData

STYLES = {"op": L.NODE_STYLES["op"], "param": L.NODE_STYLES["param"],
          "const": L.NODE_STYLES["const"]}


def svg(units: dict[Any, Any], data: GraphData) -> str:
    if shutil.which("dot") is None:
        raise RuntimeError("backprop_steps: Graphviz's `dot` program is not on PATH; install "
                           "Graphviz (apt-get install graphviz, brew install graphviz)")
    g = graphviz.Digraph(graph_attr={"rankdir": "LR", "fontname": "Helvetica",
                                     "bgcolor": "white"},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    for unit in units.values():
        lines = [unit.title, L.shape_text(unit.shape)]
        if unit.value is not None and unit.value.size <= 4:
            lines.append(L.values(unit.value).replace("\n", " "))
        if unit.paths > 1:
            lines.append(f"Σ 0 of {unit.paths} paths")
        g.node(unit.id, L.label(lines), id=unit.id, **STYLES[unit.kind])
    for e in data.edges:
        src, dst = units[e.src].id, units[e.dst].id
        attrs = L.GRAD_EDGE if e.needs_grad else L.CONST_EDGE
        text = "∇ " + L.shape_text(e.shape) if e.needs_grad else ""
        g.edge(src, dst, L.label([text]), id=f"e{dst}_{e.slot}", **attrs)
    out = g.pipe(format="svg").decode("utf-8")
    return out[out.index("<svg"):]  # drop the XML prolog and DOCTYPE


def page(title: str, units: dict[Any, Any], data: GraphData, steps: list[dict[str, Any]]
         ) -> str:
    meta = {u.id: {"title": u.title, "paths": u.paths, "kind": u.kind}
            for u in units.values()}
    return (TEMPLATE.replace("%TITLE%", html.escape(title))
            .replace("%SVG%", svg(units, data))
            .replace("%STEPS%", to_json(steps))
            .replace("%UNITS%", to_json(meta)))


def to_json(value: Any) -> str:
    """JSON safe to place inside a <script> element."""
    return json.dumps(value).replace("</", "<\\/")


TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%TITLE%</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 12px; color: #222; }
#bar { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
#bar button { font-size: 14px; padding: 4px 12px; }
#where { font-weight: bold; }
#main { display: flex; gap: 16px; align-items: flex-start; }
#graph { flex: 3; overflow: auto; border: 1px solid #ddd; }
#graph svg { max-width: 100%; height: auto; }
#panel { flex: 2; min-width: 320px; font-size: 13px; }
#panel pre { background: #f6f6f6; padding: 6px; margin: 2px 0 8px; white-space: pre-wrap; }
#panel h3 { margin: 6px 0; }
.current polygon, .current path, .current ellipse { stroke: #e67e22 !important;
  stroke-width: 4px !important; }
.done polygon, .done path { fill-opacity: 0.55; }
.sent path { stroke: #e67e22 !important; stroke-width: 2.5px !important; }
.sent text { fill: #b9470b !important; font-weight: bold; }
.arrived text { fill: #1a4d80; }
details { margin: 2px 0 8px; }
</style></head>
<body>
<div id="bar">
  <button id="first" title="Home">first</button>
  <button id="prev" title="Left arrow">&#x25C0; previous</button>
  <button id="play" title="Space">play</button>
  <button id="next" title="Right arrow">next &#x25B6;</button>
  <span id="where"></span>
</div>
<div id="main"><div id="graph">%SVG%</div><div id="panel"></div></div>
<script type="application/json" id="steps-data">%STEPS%</script>
<script type="application/json" id="units-data">%UNITS%</script>
<script>
(function () {
  const steps = JSON.parse(document.getElementById("steps-data").textContent);
  const units = JSON.parse(document.getElementById("units-data").textContent);
  const panel = document.getElementById("panel");
  const original = {};
  document.querySelectorAll("#graph g.edge, #graph g.node").forEach(function (g) {
    const texts = g.querySelectorAll("text");
    original[g.id] = Array.from(texts).map(function (t) { return t.textContent; });
  });
  let k = 0, timer = null;
  document.body.dataset.steps = String(steps.length);

  function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;"); }
  function arr(a) {
    let s = "<pre>" + esc(a.text) + "</pre>";
    if (a.full) s += "<details><summary>full array</summary><pre>" + esc(a.full) +
      "</pre></details>";
    return s;
  }
  function reset() {
    document.querySelectorAll("#graph g").forEach(function (g) {
      g.classList.remove("current", "done", "sent", "arrived");
      const texts = g.querySelectorAll("text");
      (original[g.id] || []).forEach(function (t, i) { texts[i].textContent = t; });
      delete g.dataset.sum;
      delete g.dataset.path;
    });
  }
  function setLast(id, text) {
    const g = document.getElementById(id);
    const texts = g ? g.querySelectorAll("text") : [];
    if (texts.length) texts[texts.length - 1].textContent = text;
  }
  function apply(step, isCurrent) {
    const node = document.getElementById(step.node);
    node.classList.add(isCurrent ? "current" : "done");
    step.sent.forEach(function (s) {
      const edge = document.getElementById(s.edge);
      if (edge) {
        edge.classList.add(isCurrent ? "sent" : "arrived");
        setLast(s.edge, s.label);
      }
      const target = document.getElementById(s.to);
      target.dataset.sum = JSON.stringify(s.sum_exact);
      target.dataset.path = String(s.path);
      if (s.paths > 1) setLast(s.to, "\\u03a3 " + s.path + " of " + s.paths + " paths");
    });
  }
  function describe(step) {
    let s = "<h3>" + esc(step.op) + " <small>(" + esc(units[step.node].title) +
      ")</small></h3>";
    s += "<b>local derivative</b> (from the op's docstring)<pre>" + esc(step.formula) +
      "</pre>";
    s += "<b>upstream gradient</b> (arrived at its output)" + arr(step.upstream);
    s += "<b>output</b>" + arr(step.output);
    step.inputs.forEach(function (x) { s += "<b>input " + x.slot + "</b>" + arr(x); });
    s += "<b>gradients sent</b>";
    step.sent.forEach(function (e) {
      s += "<div class='sent-item' data-to='" + e.to + "'>to input " + e.slot + " (" +
        esc(e.to_title) + ")" + arr(e.grad);
      if (e.paths > 1) {
        s += "<div class='running'>path " + e.path + " of " + e.paths + " arrived at " +
          esc(e.to_title) + "; sum so far" + arr(e.sum) + "</div>";
      }
      s += "</div>";
    });
    return s;
  }
  function show(n) {
    k = Math.max(0, Math.min(steps.length, n));
    reset();
    for (let i = 0; i < k; i++) apply(steps[i], i === k - 1);
    document.body.dataset.step = String(k);
    document.getElementById("where").textContent = k === 0 ?
      "forward graph (step 0 of " + steps.length + ")" :
      "backward step " + k + " of " + steps.length + ": " + steps[k - 1].op;
    panel.innerHTML = k === 0 ?
      "<p>The forward graph. Press <b>next</b> (or the right arrow) to run backward one " +
      "node at a time, in the order the engine ran it.</p>" : describe(steps[k - 1]);
  }
  function play() {
    if (timer) { clearInterval(timer); timer = null; return; }
    if (k >= steps.length) show(0);
    timer = setInterval(function () {
      if (k >= steps.length) { clearInterval(timer); timer = null; return; }
      show(k + 1);
    }, 1200);
  }
  document.getElementById("first").onclick = function () { show(0); };
  document.getElementById("prev").onclick = function () { show(k - 1); };
  document.getElementById("next").onclick = function () { show(k + 1); };
  document.getElementById("play").onclick = play;
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") show(k + 1);
    else if (e.key === "ArrowLeft") show(k - 1);
    else if (e.key === "Home") show(0);
    else if (e.key === " ") { e.preventDefault(); play(); }
  });
  show(0);
})();
</script>
</body></html>
"""
