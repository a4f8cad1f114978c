// The operations dashboard: the summary every 2 s, the history charts every 3 s, dead letters every 10 s;
// topics, messages and schemas on demand. Connector actions and re-sending need the admin role (group
// "manage"); each is confirmed here and audited by the gateway.
const { get, el, text, token } = crmhub;
const BARS = " ▁▂▃▄▅▆▇█";
let win = "5m", canManage = false;

function seconds(v) { return v === null || v === undefined ? "–" : (v < 1 ? Math.round(v * 1000) + " ms" : v.toFixed(1) + " s"); }
function spark(series) {
  const max = Math.max(1, ...series.map(p => p[1]));
  return series.slice(-30).map(p => BARS[Math.ceil(p[1] / max * 8)]).join("");
}
function fill(id, rows) { document.querySelector("#" + id + " tbody").replaceChildren(...rows); }
async function send(method, path, body) {
  const res = await fetch(path, { method, headers: { Authorization: "Bearer " + token(), "Content-Type": "application/json" },
                                  body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.message || answer.detail || (method + " " + path + ": HTTP " + res.status));
  return answer;
}
function pretty(decoded) {
  if (!decoded || decoded.format === "null") return "null";
  const v = typeof decoded.value === "string" ? decoded.value : JSON.stringify(decoded.value, null, 2);
  return (decoded.format === "avro" ? "[avro, schema " + decoded.schema_id + "] " : "[" + decoded.format + "] ") + v;
}

// --- connectors and their actions -------------------------------------------------------------------------
const ACTIONS = { pause: ["PUT", "pause"], resume: ["PUT", "resume"], restart: ["POST", "restart"],
                  snapshot: ["POST", "snapshot"] };
async function act(name, action) {
  if (!confirm(action + " connector " + name + "?")) return;
  const [method, path] = ACTIONS[action];
  try { await send(method, "/ops/connectors/" + encodeURIComponent(name) + "/" + path); tick(); }
  catch (e) { document.getElementById("updated").textContent = e.message; }
}
function actions(c) {
  return el("td", { className: "admin-only actions" }, ...Object.keys(ACTIONS).map(a =>
    el("button", { type: "button", className: "act-" + a, onclick: () => act(c.name, a) }, a)));
}
function lagText(lag) {
  return Object.entries(lag).map(([t, l]) => t + ": " + seconds(l.seconds) +
    (l.rows === null || l.rows === undefined ? "" : " / " + l.rows + " rows")).join("; ");
}

function render(s) {
  fill("connectors", s.connectors.map(c => el("tr", { dataset: { name: c.name } },
    el("td", {}, c.name), el("td", { className: "state-" + c.state }, c.state), el("td", { className: "num" }, c.events),
    el("td", { className: "num" }, c.dead), el("td", { className: "source-lag" }, lagText(c.source_lag)), actions(c))));
  fill("pipelines", s.pipelines.map(w => el("tr", {}, el("td", {}, w.name),
    el("td", { className: "state-" + w.state }, w.state), el("td", { className: "num" }, w.messages),
    el("td", { className: "error" }, w.last_error || ""))));
  lastSince = s.freshness;
  renderFreshness();
  const groups = (s.lag && s.lag.groups) || [];
  fill("lag", groups.map(g => el("tr", {}, el("td", {}, g.group), el("td", { className: "st-" + g.status }, g.status),
    el("td", { className: "num" }, text(g.sum_lag)), el("td", { className: "num" }, seconds(g.max_lag_seconds)))));
  fill("partitions", groups.flatMap(g => g.partitions.map(p => el("tr", { className: "partition" },
    el("td", {}, g.group), el("td", {}, p.topic), el("td", { className: "num" }, p.partition),
    el("td", { className: "num" }, text(p.end)), el("td", { className: "num" }, text(p.committed)),
    el("td", { className: "num" }, text(p.lag)), el("td", { className: "num" }, seconds(p.lag_seconds)),
    el("td", { className: "st-" + p.status }, p.status)))));
  document.getElementById("dlq-dead").textContent = s.dlq.connector_dead_rows;
  document.getElementById("dlq-rejected").textContent = s.dlq.rejected_by_rules;
  fill("dq", s.dq.map(r => el("tr", { className: "dq-row", dataset: { rule: r.rule } }, el("td", {}, r.source),
    el("td", {}, r.table), el("td", {}, r.rule), el("td", {}, r.level), el("td", { className: "num" }, r.total),
    el("td", { className: "spark" }, spark(r.series)),
    el("td", {}, ...r.samples.slice(-3).map(x => el("div", { className: "sample" },
      x.source_key + ": " + x.reason))))));
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

// --- history: charts and the freshness table over the window ----------------------------------------------
let lastSince = {}, lastWindow = {};
function renderHistory(h) {
  charts.lineChart(document.getElementById("chart-events"), h.t,
    [{ name: "events/s", values: h.events_per_s }, { name: "golden/s", values: h.golden_per_s, dash: true }]);
  charts.lineChart(document.getElementById("chart-freshness"), h.t, Object.entries(h.freshness).flatMap(([src, f]) =>
    [{ name: src + " p50", values: f.p50_s }, { name: src + " p99", values: f.p99_s, dash: true }]), { unit: "s" });
  charts.lineChart(document.getElementById("chart-lag"), h.t,
    Object.entries(h.lag).map(([g, v]) => ({ name: g, values: v })));
  lastWindow = h.window_freshness;
  renderFreshness();
}
function renderFreshness() {
  const sources = new Set([...Object.keys(lastWindow), ...Object.keys(lastSince)]);
  fill("freshness", [...sources].sort().map(src => {
    const f = lastWindow[src] || {}, all = lastSince[src] || {};
    return el("tr", { dataset: { source: src } }, el("td", {}, src), el("td", { className: "num" }, seconds(f.p50_s)),
      el("td", { className: "num" }, seconds(f.p99_s)), el("td", { className: "num" }, Math.round(f.count || 0)),
      el("td", { className: "num" }, Math.round(all.count || 0)));
  }));
  document.getElementById("freshness-window").textContent = "p50, p99 and changes over the last " +
    (win === "5m" ? "5 minutes" : "hour") + " (– : no change from that source in the window)";
}

// --- dead letters ------------------------------------------------------------------------------------------
async function resend(id) {
  if (!confirm("Re-send " + id + " to its source topic? (its cause should be fixed first)")) return;
  const out = document.getElementById("dlq-result");
  try {
    const r = await send("POST", "/ops/dead-letters/resend", { id });
    out.textContent = "re-sent " + id + " → " + r.topic + "/" + r.partition + "/" + r.offset;
    out.dataset.resent = r.topic + "/" + r.partition + "/" + r.offset;
  } catch (e) { out.textContent = "not re-sent: " + e.message; }
}
async function deadLetters() {
  try {
    const d = await get("/ops/dead-letters?limit=50");
    document.getElementById("dlq-total").textContent = d.total + (d.notes.length ? " (" + d.notes.join("; ") + ")" : "");
    fill("dead-letters", d.letters.map(x => el("tr", { className: "letter", dataset: { id: x.id } },
      el("td", {}, x.id), el("td", {}, x.source), el("td", {}, x.table), el("td", {}, x.key), el("td", {}, x.rule),
      el("td", { className: "reason" }, x.reason),
      el("td", { className: "admin-only" }, x.resendable ? el("button", { type: "button", className: "resend",
        onclick: () => resend(x.id) }, "re-send") : ""))));
  } catch (e) { document.getElementById("dlq-total").textContent = e.message; }
}

// --- topics and messages -------------------------------------------------------------------------------------
async function topics() {
  const t = await get("/ops/topics");
  const select = document.getElementById("topic"), chosen = select.value;
  select.replaceChildren(...t.topics.map(x => el("option", { value: x.topic }, x.topic)));
  if (chosen) select.value = chosen;
  fill("topics", t.topics.map(x => el("tr", { className: "topic-row", dataset: { topic: x.topic },
    onclick: () => { select.value = x.topic; } }, el("td", {}, x.topic),
    el("td", { className: "num" }, x.partitions.length), el("td", { className: "num" }, x.messages))));
}
async function browse(ev) {
  ev.preventDefault();
  const q = new URLSearchParams(), v = id => document.getElementById(id).value.trim();
  if (v("partition")) q.set("partition", v("partition"));
  if (v("offset")) q.set("offset", v("offset"));
  if (v("key")) q.set("key", v("key"));
  const box = document.getElementById("messages");
  try {
    const m = await get("/ops/topics/" + encodeURIComponent(v("topic")) + "/messages?" + q);
    box.replaceChildren(...(m.messages.length ? m.messages.map(x => el("div", { className: "message",
      dataset: { partition: x.partition, offset: x.offset } },
      el("div", { className: "where" }, m.topic + " / " + x.partition + " / " + x.offset + " · " +
        new Date(x.timestamp_ms).toLocaleString()),
      el("pre", { className: "msg-key" }, "key " + pretty(x.key)), el("pre", { className: "msg-value" }, pretty(x.value))))
      : [el("p", { className: "hint" }, "no message there")]));
  } catch (e) { box.replaceChildren(el("p", { className: "error" }, e.message)); }
}

// --- schemas -------------------------------------------------------------------------------------------------
let subjects = [];
function versions() {
  const s = subjects.find(x => x.subject === document.getElementById("subject").value);
  const vs = s ? s.versions : [];
  for (const [id, pick] of [["from", vs.length - 2], ["to", vs.length - 1]]) {
    const sel = document.getElementById(id);
    sel.replaceChildren(...vs.map(n => el("option", { value: n }, "v" + n)));
    sel.value = vs[Math.max(0, pick)];
  }
}
async function loadSubjects() {
  subjects = (await get("/ops/schemas")).subjects;
  const select = document.getElementById("subject");
  select.replaceChildren(...subjects.map(s => el("option", { value: s.subject }, s.subject + " (" + s.versions.length + ")")));
  versions();
}
async function compare(ev) {
  ev.preventDefault();
  const v = id => document.getElementById(id).value;
  try {
    const d = await get("/ops/schemas/" + encodeURIComponent(v("subject")) + "/diff?from=" + v("from") + "&to=" + v("to"));
    fill("diff", d.changes.map(c => el("tr", { className: "change change-" + c.change, dataset: { path: c.path } },
      el("td", {}, c.path), el("td", {}, c.change), el("td", {}, text(c.old)), el("td", {}, text(c.new)))));
    document.getElementById("diff-lines").textContent = d.lines.join("\n") || "(the same schema)";
  } catch (e) { document.getElementById("diff-lines").textContent = e.message; }
}

// --- wiring --------------------------------------------------------------------------------------------------
async function tick() {
  try { render(await get("/ops/summary")); }
  catch (e) { document.getElementById("updated").textContent = e.message; }
}
async function history() {
  try { renderHistory(await get("/ops/history?window=" + win)); } catch (e) { /* the summary line says why */ }
}
async function whoami() {
  try {
    const me = await get("/whoami");
    canManage = me.groups.includes("manage");
    document.getElementById("who").textContent = me.name + " (" + me.role + ")";
  } catch (e) { canManage = false; }
  document.body.classList.toggle("can-manage", canManage);
}
document.querySelectorAll("button.window").forEach(b => b.addEventListener("click", () => {
  win = b.dataset.window;
  document.querySelectorAll("button.window").forEach(x => x.classList.toggle("on", x === b));
  history();
}));
document.getElementById("browse").addEventListener("submit", browse);
document.getElementById("schemas-form").addEventListener("submit", compare);
document.getElementById("subject").addEventListener("change", versions);
whoami();
tick(); history(); deadLetters(); topics().catch(() => {}); loadSubjects().catch(() => {});
setInterval(tick, 2000);
setInterval(history, 3000);
setInterval(deadLetters, 10000);
setInterval(() => { topics().catch(() => {}); loadSubjects().catch(() => {}); }, 30000);
