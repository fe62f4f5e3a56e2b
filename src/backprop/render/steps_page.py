"""The step-through page's inline style and script (``render/steps_html.py``).

The script reads the page's JSON (``#steps-data``) and, for step k of the chosen mode
(reverse or forward), shows what the first k steps wrote: each node's value, the current
sweep's adjoints or tangents (the running sums), the gradient's entries read off so far,
the current step's line and its running sum, and highlights the step's node and edges.
It only displays the texts the Python side wrote: it does no arithmetic on them.
"""

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1rem 2rem;
       color: #111827; background: #ffffff; }
h1 { font-size: 1.25rem; }
#controls { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap;
            position: sticky; top: 0; background: #ffffff; padding: .5rem 0; }
button { font-size: 1rem; padding: .3rem .8rem; }
button:focus-visible { outline: 3px solid #2563eb; }
#counter { font-weight: bold; margin-left: 1rem; }
#now { min-height: 7rem; }
#phase { color: #4b5563; margin: .3rem 0; }
#step-text { font-family: ui-monospace, monospace; font-size: 1.05rem; margin: .3rem 0; }
#sum p, #done { margin: .3rem 0; }
#sum ol { margin: 0; font-family: ui-monospace, monospace; font-size: .9rem; }
fieldset { display: inline-flex; gap: .8rem; border: 1px solid #e5e7eb; margin-left: 1rem; }
#sum span, .num { font-family: ui-monospace, monospace; }
#done { color: #047857; font-weight: bold; }
#picture { overflow: auto; border: 1px solid #e5e7eb; margin: .5rem 0; }
svg text { font-size: 12px; fill: #111827; }
svg text.op { fill: #6b7280; font-size: 11px; }
.node rect { fill: #ffffff; stroke: #374151; stroke-width: 1.2; }
.node.input rect { fill: #dbeafe; stroke: #1d4ed8; }
.node.const rect { fill: #f3f4f6; stroke: #9ca3af; }
.node.output rect { fill: #fde68a; stroke: #b45309; stroke-width: 2; }
.node.done rect { stroke-width: 2.5; }
.node.current rect { fill: #fecaca; stroke: #dc2626; stroke-width: 3.5; }
.node.carrier rect { stroke: #dc2626; stroke-dasharray: 4 3; stroke-width: 2.5; }
.edge path { fill: none; stroke: #9ca3af; stroke-width: 1.4; }
.edge.inactive path { stroke-dasharray: 5 4; }
.edge text { fill: #4b5563; font-size: 10px; }
marker path { fill: #6b7280; }
.edge.current path { stroke: #dc2626; stroke-width: 3.5; }
.edge.current text { fill: #dc2626; font-weight: bold; }
table { border-collapse: collapse; margin: .8rem 0; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
th, td { border: 1px solid #e5e7eb; padding: .2rem .6rem; text-align: left; }
tr.current { background: #fee2e2; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("steps-data").textContent);
  var mode = "reverse", steps = [], at = 0;  // steps shown: 0 (none) .. steps.length (all)
  function $(id) { return document.getElementById(id); }
  function text(id, value) { $(id).textContent = value === null ? "" : value; }
  var rows = {};
  document.querySelectorAll("#nodes tr[data-node]").forEach(function (tr) {
    rows[tr.getAttribute("data-node")] = tr;
  });
  var PHASES = {value: "Forward sweep: every node's value, inputs first",
                seed: {reverse: "Reverse mode: the output's adjoint is 1",
                       forward: "Forward mode: the input's tangent is 1"},
                adjoint: "Reverse mode: an adjoint update along one edge",
                tangent: "Forward mode: a node's tangent, summed over its edges",
                result: {reverse: "Reverse mode: a derivative read off an adjoint",
                         forward: "Forward mode: a derivative read off a tangent"}};
  var NAMES = {reverse: function (sweep, node) { return "adj[" + node + "]"; },
               forward: function (sweep, node) {
                 return "t_" + data.wrt[sweep] + "[" + node + "]"; }};

  function edgeName(id) {  // "x → x*x": from the argument to the node that uses it
    var edge = data.edges.filter(function (e) { return e.id === id; })[0];
    return data.nodes[edge.source].name + " → " + data.nodes[edge.target].name;
  }

  function sweepText(sweep) {
    if (sweep === null) {
      return mode === "reverse" ? "adjoint (reverse mode)" : "tangent (forward mode)";
    }
    if (mode === "reverse") {
      var out = data.outputs[sweep];
      return "adjoint in the sweep of output " + out + ": adj[n] = ∂" + out + "/∂n";
    }
    var x = data.wrt[sweep];
    return "tangent in the sweep of input " + x + ": t_" + x + "[n] = ∂n/∂" + x;
  }

  function show(k) {
    at = Math.max(0, Math.min(steps.length, k));
    var values = {}, derivs = {}, gradient = {}, sweep = null;
    for (var j = 0; j < at; j++) {
      var s = steps[j];
      if (s.kind === "value") { values[s.node] = s.value; continue; }
      if (s.sweep !== sweep) { derivs = {}; sweep = s.sweep; }  // a new sweep starts
      if (s.kind === "result") { gradient[s.output + ":" + s.wrt] = s.value; }
      else { derivs[s.node] = s.after; }
    }
    Object.keys(rows).forEach(function (id) {
      var tr = rows[id];
      tr.querySelector(".value").textContent = id in values ? values[id] : "";
      tr.querySelector(".deriv").textContent = id in derivs ? derivs[id] : "";
      tr.classList.remove("current");
    });
    document.querySelectorAll("#gradient td[data-output]").forEach(function (td) {
      var key = td.getAttribute("data-output") + ":" + td.getAttribute("data-wrt");
      td.textContent = key in gradient ? gradient[key] : "";
    });
    document.querySelectorAll("#graph .node, #graph .edge").forEach(function (g) {
      g.classList.remove("current", "carrier", "done");
      var id = g.getAttribute("data-node");
      if (id !== null && id in values) { g.classList.add("done"); }
    });
    text("deriv-of", sweepText(sweep));
    text("deriv-head", mode === "reverse" ? "adjoint" : "tangent");
    var now = at > 0 ? steps[at - 1] : null;
    $("sum").hidden = true;
    if (now === null) {
      text("phase", "Press Next (or →) to start the forward sweep.");
      text("step-text", "");
    } else {
      var phase = PHASES[now.kind];
      phase = typeof phase === "string" ? phase : phase[mode];
      var sweeps = mode === "reverse" ? data.outputs : data.wrt;
      if (now.sweep !== null && sweeps.length > 1) {
        phase += " (sweep " + (now.sweep + 1) + " of " + sweeps.length + ", " +
                 (mode === "reverse" ? "output " : "input ") + sweeps[now.sweep] + ")";
      }
      text("phase", phase);
      text("step-text", now.text);
      var node = $("n" + now.node);
      node.classList.add("current");
      if (node.scrollIntoView) { node.scrollIntoView({block: "nearest", inline: "nearest"}); }
      rows[now.node].classList.add("current");
      now.edges.forEach(function (id) {
        $(id).classList.add("current");
        var edge = data.edges.filter(function (e) { return e.id === id; })[0];
        [edge.source, edge.target].forEach(function (n) {
          if (n !== now.node) { $("n" + n).classList.add("carrier"); }
        });
      });
      if (now.terms.length > 0) {
        $("sum").hidden = false;
        text("sum-name", NAMES[mode](now.sweep, data.nodes[now.node].name));
        text("sum-before", now.before === null ? "(none yet)" : now.before);
        text("sum-plus", now.terms.map(function (t) {
          return " + " + t.contribution; }).join(""));
        text("sum-after", now.after);
        var list = $("sum-terms");
        while (list.firstChild) { list.removeChild(list.firstChild); }
        now.terms.forEach(function (t) {
          var li = document.createElement("li");
          [["contribution", t.contribution], [null, " = "], ["carried", t.carried],
           [null, " × "], ["partial", t.partial],
           [null, "  (" + (mode === "reverse" ? "adjoint × partial" : "tangent × partial") +
            " along " + edgeName(t.edge) + ")"]].forEach(function (piece) {
            var span = document.createElement("span");
            if (piece[0] !== null) { span.className = piece[0]; }
            span.textContent = piece[1];
            li.appendChild(span);
          });
          list.appendChild(li);
        });
      }
    }
    text("counter", "Step " + at + " of " + steps.length);
    $("first").disabled = $("prev").disabled = at === 0;
    $("next").disabled = $("last").disabled = at === steps.length;
    $("done").hidden = at !== steps.length;
  }

  function choose(which) {
    mode = which;
    steps = data.values.concat(data.modes[mode]);
    show(Math.min(at, data.values.length));  // the values are the same in both modes
  }

  $("first").addEventListener("click", function () { show(0); });
  $("prev").addEventListener("click", function () { show(at - 1); });
  $("next").addEventListener("click", function () { show(at + 1); });
  $("last").addEventListener("click", function () { show(steps.length); });
  document.querySelectorAll("#mode input").forEach(function (input) {
    input.addEventListener("change", function () {
      if (input.checked) { choose(input.value); }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.target && event.target.tagName === "INPUT") { return; }  // the mode's radios
    var to = {ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: steps.length}[event.key];
    if (to === undefined) { return; }
    event.preventDefault();
    show(to);
  });
  var checked = document.querySelector("#mode input:checked");
  choose(checked ? checked.value : "reverse");
})();
"""
