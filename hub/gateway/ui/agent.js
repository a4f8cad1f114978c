// The agent console: search with hints and recently viewed customers; the golden record with human labels and the
// source of every field and of every address, phone, e-mail and contact; alerts (time, severity, acknowledge,
// repeats folded); open orders with stock and the cases, live from /live; the history of changes; the credit banner.
const { get, el, text, token } = crmhub;
const LABELS = {
  kind: "Kind", org_name: "Organisation", title: "Title", given_name: "Given name", middle_name: "Middle name",
  family_name: "Family name", birth_date: "Birth date", national_id: "National id", tax_id: "Tax id (VAT)",
  account_status: "Account status", credit_status: "Credit status", credit_limit: "Credit limit",
  credit_reason: "Credit reason", owning_agent: "Owning agent", addresses: "Address", phones: "Phone",
  emails: "E-mail", contacts: "Contact person", xrefs: "Cross-reference",
};
const SCALARS = ["kind", "org_name", "title", "given_name", "middle_name", "family_name", "birth_date", "national_id",
  "tax_id", "account_status", "credit_status", "credit_limit", "credit_reason", "owning_agent"];
const LISTS = ["addresses", "phones", "emails", "contacts"];
const RECENT_KEY = "crmhub.recent";
let stream = null, liveStream = null, current = null, lastOrders = null;

const labelOf = (f) => LABELS[f] || f.replace(/_/g, " ");
const pad = (n) => String(n).padStart(2, "0");
function when(ms) {  // local time, to the minute
  if (ms === null || ms === undefined || ms === "") return "";
  const d = new Date(Number(ms));
  if (isNaN(d)) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
const clock = () => { const d = new Date(); return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`; };
const store = (key, fallback) => { try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; } };
const denied = (e) => /HTTP 403/.test(e.message);

async function post(path) {  // a change: JSON content type (the gateway refuses other POSTs), the page's token
  const res = await fetch(path, { method: "POST", body: "{}",
    headers: { Authorization: "Bearer " + token(), "Content-Type": "application/json" } });
  if (!res.ok) throw new Error(path + ": HTTP " + res.status);
  return res.json();
}

function banner(message) {
  const b = document.getElementById("banner");
  b.textContent = message;
  b.hidden = !message;
}

function nameOf(rec) {
  const d = rec.data || {};
  return d.org_name || [d.given_name, d.family_name].filter(Boolean).join(" ") || rec.golden_id;
}

// --- search and recently viewed -------------------------------------------------------------------------------

function requestFor(q) {
  if (/^G\d+$/i.test(q)) return { open: q.toUpperCase() };
  const ref = q.match(/^([A-Za-z][\w.-]*)\/(\S+)$/);
  if (ref) return { path: "/customers/by-source/" + encodeURIComponent(ref[1]) + "/" + encodeURIComponent(ref[2]) };
  if (q.includes("@")) return { path: "/customers?email=" + encodeURIComponent(q) };
  if (/^[+\d][\d\s()./-]{5,}$/.test(q)) return { path: "/customers?phone=" + encodeURIComponent(q) };
  return { path: "/customers?name=" + encodeURIComponent(q) };
}

async function search(ev) {
  ev.preventDefault();
  const q = document.getElementById("q").value.trim();
  const list = document.getElementById("results"), status = document.getElementById("search-status");
  list.replaceChildren();
  if (!q) { status.textContent = "type a name, phone, e-mail, contact person or id"; return; }
  const started = performance.now();
  status.textContent = "searching…";
  try {
    const want = requestFor(q);
    if (want.open) { status.textContent = ""; await open(want.open); return; }
    const res = await get(want.path);
    const hits = res.results || [res];  // a source reference answers with the record itself
    status.textContent = `${hits.length} found in ${Math.round(performance.now() - started)} ms`;
    document.body.dataset.searchMs = String(Math.round(performance.now() - started));
    if (!hits.length) list.append(el("li", { className: "none" }, "no match: try another spelling, a phone or an e-mail"));
    for (const r of hits) {
      const d = r.data || {};
      const where = (d.addresses || []).map(a => a.city).filter(Boolean)[0] || "";
      const item = el("li", { className: "hit", dataset: { gid: r.golden_id } }, nameOf(r), " ",
        el("span", { className: "src" }, [where, r.golden_id].filter(Boolean).join(" · ")));
      item.addEventListener("click", () => open(r.golden_id));
      list.append(item);
    }
  } catch (e) {
    status.textContent = "";
    list.append(el("li", { className: "error" }, /HTTP 404/.test(e.message) ? "no such record" : e.message));
  }
}

function remember(rec) {
  const recent = store(RECENT_KEY, []).filter(r => r.gid !== rec.golden_id);
  recent.unshift({ gid: rec.golden_id, name: nameOf(rec), at: Date.now() });
  localStorage.setItem(RECENT_KEY, JSON.stringify(recent.slice(0, 8)));
  renderRecent();
}

function renderRecent() {
  const recent = store(RECENT_KEY, []);
  const list = document.getElementById("recent");
  if (!recent.length) return;
  list.replaceChildren(...recent.map(r => {
    const item = el("li", { className: "hit", dataset: { gid: r.gid } }, r.name, " ",
      el("span", { className: "src" }, when(r.at)));
    item.addEventListener("click", () => open(r.gid));
    return item;
  }));
}

// --- the golden record -------------------------------------------------------------------------------------------

function fromCell(src) {  // the source record a value came from (system/key) and the source time it carries
  const ok = src && src.source;
  return el("td", { className: "from" }, el("span", { className: "src" }, ok ? src.source + "/" + (src.source_key || "") : ""),
    ok ? " " : "", el("time", { className: "when" }, ok ? when(src.ts_ms) : ""));
}

const regions = (() => { try { return new Intl.DisplayNames(["en"], { type: "region" }); } catch { return null; } })();
function countryName(code) {  // "DE" -> "Germany" (the browser's own tables: no network)
  try { return (regions && regions.of(code)) || code; } catch { return code; }
}

function itemText(kind, x) {
  if (typeof x !== "object" || x === null) return text(x);
  if (kind === "addresses") {
    const city = [x.postal_code, x.city].filter(Boolean).join(" ");
    const parts = [x.line1, x.line2, city, x.region, x.country].filter(Boolean);
    if (x.country && parts.length === 1) return `${x.country} (${countryName(x.country)}: no street or city in this source)`;
    return parts.join(", ");
  }
  if (kind === "phones") return text(x.number);
  if (kind === "emails") return text(x.address);
  if (kind === "contacts") return [x.given_name, x.family_name].filter(Boolean).join(" ");
  return Object.values(x).filter(v => v !== null && v !== "").join(", ");
}

function renderFields(rec) {
  const data = rec.data || {}, lineage = rec.lineage || {};
  const rows = [];
  for (const f of SCALARS) {
    if (data[f] === null || data[f] === undefined || data[f] === "") continue;
    const src = lineage[f] || {};
    rows.push(el("tr", { dataset: { field: f } }, el("td", { className: "label" }, labelOf(f)),
      el("td", { className: "value" }, text(data[f])), fromCell(src)));
  }
  const items = [];
  for (const f of LISTS) {
    (data[f] || []).forEach((x, i) => {
      const src = lineage[`${f}[${i}]`] || lineage[f] || {};
      items.push(el("tr", { className: "item", dataset: { field: f, index: String(i) } },
        el("td", { className: "label" }, labelOf(f)), el("td", { className: "type" }, text(x && x.type)),
        el("td", { className: "value" }, itemText(f, x)), fromCell(src)));
    });
  }
  if (!items.length) items.push(el("tr", {}, el("td", { colSpan: 4, className: "none" }, "no addresses, phones or e-mails")));
  document.querySelector("#fields tbody").replaceChildren(...rows);  // one swap each: concurrent renders never mix
  document.querySelector("#items tbody").replaceChildren(...items);
}

// --- alerts, cases, history -----------------------------------------------------------------------------------

function foldAlerts(alerts) {  // the same rule and message again: one line, counted, with the newest time
  const groups = new Map();
  for (const a of alerts) {
    const key = a.rule + "\u0000" + a.message;
    const g = groups.get(key);
    if (g) { g.count += 1; g.members.push(a); g.first = Math.min(g.first, a.ts_ms); }
    else groups.set(key, { alert: a, count: 1, members: [a], first: a.ts_ms });
  }
  return [...groups.values()];
}

async function renderAlerts(gid) {
  const list = document.getElementById("alerts");
  let res;
  try { res = await get("/customers/" + gid + "/alerts"); }
  catch (e) { list.replaceChildren(el("li", { className: "none" }, denied(e) ? "your role may not read alerts" : e.message)); return; }
  const groups = foldAlerts(res.alerts);
  if (!groups.length) { list.replaceChildren(el("li", { className: "none" }, "no alerts")); return; }
  list.replaceChildren(...groups.map(g => {
    const a = g.alert, open = g.members.filter(m => !m.acknowledged);
    const done = !open.length, by = done ? g.members[0].acknowledged : null;
    const ack = done
      ? el("span", { className: "acked-by" }, `acknowledged by ${by.by} ${when(by.ts_ms)}`)
      : el("button", { className: "ack", type: "button" }, "acknowledge");
    if (!done) ack.addEventListener("click", async () => {
      ack.disabled = true;
      try { await Promise.all(open.map(m => post("/alerts/" + encodeURIComponent(m.alert_id) + "/ack"))); }
      catch (e) { ack.textContent = denied(e) ? "not allowed" : "failed: " + e.message; return; }
      await renderAlerts(gid);
    });
    return el("li", { className: "alert sev-" + a.severity + (done ? " acked" : ""), dataset: { rule: a.rule } },
      el("time", { className: "when" }, when(a.ts_ms)), " ", el("span", { className: "sev" }, a.severity), " ",
      el("span", { className: "msg" }, a.message), g.count > 1 ? el("span", { className: "count" }, ` ×${g.count} since ${when(g.first)}`) : "",
      " ", ack);
  }));
}

function renderCases(cases) {
  const body = document.querySelector("#cases tbody");
  if (!cases.length) {
    body.replaceChildren(el("tr", {}, el("td", { colSpan: 7, className: "none" }, "no cases or tickets for this customer")));
    return;
  }
  body.replaceChildren(...cases.map(c => {
    const d = c.data || {};
    return el("tr", { className: "case" + (c.is_open ? " open" : ""), dataset: { source: c.source + "/" + c.source_key } },
      el("td", {}, c.case_number), el("td", {}, text(d.kind)),
      el("td", {}, c.status + (d.step ? " · " + d.step : "")), el("td", {}, text(d.subject)),
      el("td", {}, text(d.owner)), el("td", { className: "when" }, when(d.opened_at_ms)),
      el("td", { className: "when" }, when(d.due_at_ms)));
  }));
}

function deniedParts(who) {  // a role without "orders" or "cases" gets no such event on /live
  for (const [group, table, cols] of [["orders", "#orders", 4], ["cases", "#cases", 7]]) {
    if (!who.groups.includes(group)) document.querySelector(table + " tbody").replaceChildren(
      el("tr", {}, el("td", { colSpan: cols, className: "none" }, `your role may not read ${group}`)));
  }
}

function brief(json, field) {  // an old or new value of the history (JSON text), short
  let v;
  try { v = JSON.parse(json); } catch { v = json; }
  if (Array.isArray(v)) v = v.map(x => itemText(field, x)).filter(Boolean).join("; ");
  if (v === null || v === undefined || v === "") return "—";
  const s = text(v);
  return s.length > 90 ? s.slice(0, 89) + "…" : s;
}

function reordered(f) {  // a list whose entries only changed places (survivorship orders them by source time)
  try {
    const [o, n] = [JSON.parse(f.old), JSON.parse(f.new)];
    const key = (v) => v.map(x => JSON.stringify(x)).sort().join("\n");
    return Array.isArray(o) && Array.isArray(n) && o.length > 1 && key(o) === key(n);
  } catch { return false; }
}

async function renderHistory(gid) {
  const list = document.getElementById("history");
  let res;
  try { res = await get("/customers/" + gid + "/history?limit=50"); }
  catch (e) { list.replaceChildren(el("li", { className: "none" }, denied(e) ? "your role may not read the history" : e.message)); return; }
  if (!res.changes.length) { list.replaceChildren(el("li", { className: "none" }, "no changes recorded")); return; }
  list.replaceChildren(...res.changes.map(c => {
    const cause = c.cause || {};
    const from = cause.source ? `${cause.source}/${cause.source_key}` + (cause.table ? ` (${cause.table})` : "") : "steward";
    const shown = (c.fields || []).map(f => [f, f.field.replace(/\[\d+\]$/, "")])
      .map(([f, root]) => reordered(f) ? [f, "same entries", "in another order"] : [f, brief(f.old, root), brief(f.new, root)])
      .filter(([, o, n]) => o !== n);
    const fields = el("ul", { className: "changed" }, ...shown.map(([f, o, n]) => el("li", { dataset: { field: f.field } },
      labelOf(f.field.replace(/\[\d+\]$/, "")) + ": ", el("span", { className: "old" }, o), " → ",
      el("span", { className: "new" }, n))));
    return el("li", { className: "change", dataset: { version: String(c.version) } },
      el("time", { className: "when" }, when(c.ts_ms)), " ", el("b", {}, c.kind), ` v${c.version} from `,
      el("span", { className: "src" }, from), fields);
  }));
}

// --- open orders with stock: their own live stream ------------------------------------------------------------

function renderOrders(body, frozen) {
  const rows = [];
  for (const o of body.orders) {
    const d = o.data || {};
    const lines = el("td", {});
    for (const line of d.lines || []) {
      const stock = line.stock === undefined ? "" : line.stock.length
        ? line.stock.map(w => w.warehouse + ": " + text(w.available)).join(", ") : "no stock data";
      lines.append(el("div", { className: "line", dataset: { item: line.item } },
        line.item + " × " + text(line.quantity) + (stock ? " (" + stock + ")" : "")));
    }
    rows.push(el("tr", { className: "order", dataset: { source: o.source + "/" + o.source_key } },
      el("td", {}, o.order_number), el("td", {}, o.status),
      el("td", { className: "num" }, text(d.total_amount) + (d.currency ? " " + d.currency : "")), lines));
  }
  if (!rows.length) {
    const why = frozen ? "No open orders. Credit is frozen: no new orders may be taken." : "No open orders for this customer.";
    rows.push(el("tr", {}, el("td", { colSpan: 4, className: "none" }, why)));
  }
  document.querySelector("#orders tbody").replaceChildren(...rows);
}

function listenLive(gid) {  // orders with stock, and cases: sent at once and whenever they change
  if (liveStream) liveStream.close();
  const state = document.getElementById("orders-state");
  state.textContent = "connecting…";
  liveStream = new EventSource("/live?golden_id=" + encodeURIComponent(gid) + "&access_token=" +
    encodeURIComponent(token()));
  liveStream.addEventListener("orders", (msg) => {
    const body = lastOrders = JSON.parse(msg.data);
    renderOrders(body, current && (current.data || {}).credit_status === "FROZEN");
    state.textContent = "live · updated " + clock();
    document.body.dataset.ordersAt = String(Date.now());
  });
  liveStream.addEventListener("cases", (msg) => renderCases(JSON.parse(msg.data).cases));
  liveStream.onerror = () => { state.textContent = "reconnecting…"; };
}

// --- the open record and its live stream ----------------------------------------------------------------------

function listen(gid) {
  if (stream) stream.close();
  const url = "/stream?kind=both&golden_id=" + encodeURIComponent(gid) + "&access_token=" + encodeURIComponent(token());
  stream = new EventSource(url);
  delete document.body.dataset.live;
  const state = document.getElementById("live-state");
  // the gateway fixes the stream's start position before it answers: from here on nothing is missed
  stream.onopen = () => { document.body.dataset.live = gid; state.textContent = "live"; };
  stream.onerror = () => { state.textContent = "reconnecting…"; };
  const onEvent = async (msg) => {
    const kind = msg.type === "alert" ? "alert" : "change";
    await refresh(gid, kind);
  };
  stream.addEventListener("alert", onEvent);
  stream.addEventListener("change", onEvent);
}

async function refresh(gid, kind) {
  if (kind === "alert") { await renderAlerts(gid); return; }
  await open(gid, false);
}

function showRecord(rec) {
  current = rec;
  document.getElementById("home").hidden = true;
  document.getElementById("view").hidden = false;
  document.getElementById("title").textContent = nameOf(rec);
  document.getElementById("gid").textContent = rec.golden_id;
  document.getElementById("version").textContent = rec.version;
  document.getElementById("updated").textContent = when(rec.updated_ms);
  document.getElementById("members").replaceChildren(...rec.members.map(m =>
    el("span", { className: "member", title: m.table || "" }, m.source + "/" + m.source_key)));
  renderFields(rec);
  const status = (rec.data || {}).credit_status;
  banner(status === "FROZEN" ? "Credit FROZEN for " + nameOf(rec) + " — do not take new orders" : "");
  if (lastOrders && lastOrders.golden_id === rec.golden_id) renderOrders(lastOrders, status === "FROZEN");
}

async function open(gid, subscribe = true) {
  const rec = await get("/customers/" + encodeURIComponent(gid));
  showRecord(rec);
  if (subscribe) {
    lastOrders = null;
    remember(rec);
    history.replaceState(null, "", location.pathname + "?customer=" + encodeURIComponent(rec.golden_id));
    listen(rec.golden_id);
    listenLive(rec.golden_id);
  }
  if (me) deniedParts(me);
  await Promise.all([renderAlerts(rec.golden_id), renderHistory(rec.golden_id)]);
}

let me = null;  // the token's name, role and groups (GET /whoami)
async function whoami() {
  try {
    me = await get("/whoami");
    document.getElementById("who").textContent = me.name + " · " + me.role;
  } catch (e) { document.getElementById("who").textContent = token() ? "token not accepted" : "no token: open the link with #token=…"; }
}

document.getElementById("search-form").addEventListener("submit", search);
for (const example of document.querySelectorAll("#home .hints code")) {  // an example searches itself
  example.title = "search for this";
  example.addEventListener("click", () => {
    document.getElementById("q").value = example.textContent;
    document.getElementById("search-form").requestSubmit();
  });
}
document.getElementById("home-link").addEventListener("click", (ev) => {  // back to the search page
  ev.preventDefault();
  for (const s of [stream, liveStream]) if (s) s.close();
  stream = liveStream = current = lastOrders = null;
  delete document.body.dataset.live;
  banner("");
  document.getElementById("view").hidden = true;
  document.getElementById("home").hidden = false;
  history.replaceState(null, "", location.pathname);
  document.getElementById("q").focus();
});
document.addEventListener("keydown", (ev) => {  // "/" jumps to the search box, as on many sites
  if (ev.key === "/" && document.activeElement !== document.getElementById("q")) {
    ev.preventDefault();
    document.getElementById("q").focus();
  }
});
renderRecent();
(async () => {
  await whoami();
  const wanted = new URLSearchParams(location.search).get("customer");
  if (wanted) {
    try { await open(wanted); }
    catch (e) { document.getElementById("search-status").textContent = /HTTP 404/.test(e.message) ? `no customer ${wanted}` : e.message; }
  }
})();
