// The operations dashboard: polls /ops/summary and renders connectors, pipelines, freshness, lag and data quality.
const { get, el, text } = crmhub;
const BARS = " ▁▂▃▄▅▆▇█";

function seconds(v) { return v === null || v === undefined ? "–" : (v < 1 ? Math.round(v * 1000) + " ms" : v.toFixed(1) + " s"); }
function spark(series) {
  const max = Math.max(1, ...series.map(p => p[1]));
  return series.slice(-30).map(p => BARS[Math.ceil(p[1] / max * 8)]).join("");
}
function fill(id, rows) { document.querySelector("#" + id + " tbody").replaceChildren(...rows); }

function render(s) {
  fill("connectors", s.connectors.map(c => el("tr", { dataset: { name: c.name } },
    el("td", {}, c.name), el("td", { className: "state-" + c.state }, c.state), el("td", { className: "num" }, c.events),
    el("td", { className: "num" }, c.dead),
    el("td", {}, Object.entries(c.source_lag).map(([t, l]) => t + ": " + seconds(l.seconds) +
      (l.rows === null ? "" : " / " + l.rows + " rows")).join("; ")))));
  fill("pipelines", s.pipelines.map(w => el("tr", {}, el("td", {}, w.name),
    el("td", { className: "state-" + w.state }, w.state), el("td", { className: "num" }, w.messages),
    el("td", { className: "error" }, w.last_error || ""))));
  fill("freshness", Object.entries(s.freshness).map(([src, f]) => el("tr", {}, el("td", {}, src),
    el("td", { className: "num" }, seconds(f.p50_s)), el("td", { className: "num" }, seconds(f.p99_s)),
    el("td", { className: "num" }, f.count))));
  const groups = (s.lag && s.lag.groups) || [];
  fill("lag", groups.map(g => el("tr", {}, el("td", {}, g.group), el("td", { className: "st-" + g.status }, g.status),
    el("td", { className: "num" }, text(g.sum_lag)), el("td", { className: "num" }, seconds(g.max_lag_seconds)))));
  document.getElementById("dlq-dead").textContent = s.dlq.connector_dead_rows;
  document.getElementById("dlq-rejected").textContent = s.dlq.rejected_by_rules;
  fill("dq", s.dq.map(r => el("tr", { className: "dq-row", dataset: { rule: r.rule } }, el("td", {}, r.source),
    el("td", {}, r.table), el("td", {}, r.rule), el("td", {}, r.level), el("td", { className: "num" }, r.total),
    el("td", { className: "spark" }, spark(r.series)),
    el("td", {}, ...r.samples.slice(-3).map(x => el("div", { className: "sample" },
      x.source_key + ": " + x.reason))))));
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

async function tick() {
  try { render(await get("/ops/summary")); }
  catch (e) { document.getElementById("updated").textContent = e.message; }
}
tick();
setInterval(tick, 2000);
