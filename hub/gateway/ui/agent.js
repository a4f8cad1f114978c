// The agent console: search, the 360° view with each field's source, open orders with stock, live credit banner.
const { get, el, text, token } = crmhub;
const FIELDS = ["kind", "org_name", "title", "given_name", "family_name", "birth_date", "national_id", "tax_id",
  "addresses", "phones", "emails", "contacts", "account_status", "credit_status", "credit_limit", "credit_reason",
  "owning_agent"];
let stream = null;

function banner(message) {
  const b = document.getElementById("banner");
  b.textContent = message;
  b.hidden = !message;
}

function queryFor(q) {
  if (q.includes("@")) return "email=" + encodeURIComponent(q);
  if (/^[+\d][\d\s()./-]{5,}$/.test(q)) return "phone=" + encodeURIComponent(q);
  return "name=" + encodeURIComponent(q);
}

function label(rec) {
  const d = rec.data || {};
  return d.org_name || [d.given_name, d.family_name].filter(Boolean).join(" ") || rec.golden_id;
}

async function search(ev) {
  ev.preventDefault();
  const list = document.getElementById("results");
  list.replaceChildren();
  try {
    const res = await get("/customers?" + queryFor(document.getElementById("q").value.trim()));
    if (!res.results.length) list.append(el("li", { className: "none" }, "no match"));
    for (const r of res.results) {
      const item = el("li", { className: "hit", dataset: { gid: r.golden_id } }, label(r), " ",
        el("span", { className: "src" }, r.golden_id));
      item.addEventListener("click", () => open(r.golden_id));
      list.append(item);
    }
  } catch (e) { list.append(el("li", { className: "error" }, e.message)); }
}

function show(v) {  // lists of addresses, phones, e-mails, contacts: their non-empty parts, one entry per line
  if (!Array.isArray(v)) return text(v);
  return v.map(x => typeof x === "object" && x !== null
    ? Object.entries(x).filter(([k, y]) => y !== null && y !== "" && k !== "type").map(([, y]) => y)
      .join("given_name" in x ? " " : ", ")
    : text(x)).join("\n");
}

function renderFields(rec) {
  const data = rec.data || {}, lineage = rec.lineage || {};
  const rows = [];
  for (const f of FIELDS) {
    if (!(f in data) || data[f] === null || (Array.isArray(data[f]) && !data[f].length)) continue;
    const src = lineage[f] || lineage[f + "[0]"] || {};
    const from = src.source ? src.source + "/" + (src.source_key || "") : "";
    rows.push(el("tr", { dataset: { field: f } }, el("td", {}, f), el("td", { className: "value" }, show(data[f])),
      el("td", { className: "src" }, from)));
  }
  document.querySelector("#fields tbody").replaceChildren(...rows);  // one swap: concurrent renders never mix
}

async function renderOrders(gid) {
  const rows = [];
  const res = await get("/customers/" + gid + "/orders?open=true");
  for (const o of res.orders) {
    const d = o.data || {};
    const lines = el("td", {});
    for (const line of d.lines || []) {
      let stock = "";
      try {
        const inv = await get("/inventory/" + encodeURIComponent(line.item));
        stock = inv.warehouses.map(w => w.warehouse + ": " + text((w.data || {}).available)).join(", ");
      } catch (e) { stock = "no stock data"; }
      lines.append(el("div", { className: "line" }, line.item + " × " + text(line.quantity) + " (" + stock + ")"));
    }
    rows.push(el("tr", { className: "order" }, el("td", {}, o.order_number), el("td", {}, o.status),
      el("td", { className: "num" }, text(d.total_amount)), lines));
  }
  document.querySelector("#orders tbody").replaceChildren(...rows);
}

async function renderAlerts(gid) {
  const res = await get("/customers/" + gid + "/alerts");
  document.getElementById("alerts").replaceChildren(
    ...res.alerts.map(a => el("li", { className: "alert" }, a.severity + " · " + a.message)));
}

function listen(gid) {
  if (stream) stream.close();
  const url = "/stream?kind=both&golden_id=" + encodeURIComponent(gid) + "&access_token=" +
    encodeURIComponent(token());
  stream = new EventSource(url);
  delete document.body.dataset.live;
  // the gateway fixes the stream's start position before it answers: from here on nothing is missed
  stream.onopen = () => { document.body.dataset.live = gid; };
  const onEvent = async (msg) => {
    const rec = JSON.parse(msg.data).record || {};
    if (rec.rule === "credit-frozen" || (rec.fields || []).some(f => f.field === "credit_status")) {
      await open(gid, false);
    }
  };
  stream.addEventListener("alert", onEvent);
  stream.addEventListener("change", onEvent);
  stream.onmessage = onEvent;
}

async function open(gid, subscribe = true) {
  const rec = await get("/customers/" + encodeURIComponent(gid));
  document.getElementById("view").hidden = false;
  document.getElementById("title").textContent = label(rec);
  document.getElementById("gid").textContent = rec.golden_id;
  document.getElementById("version").textContent = rec.version;
  document.getElementById("members").textContent = rec.members.map(m => m.source + "/" + m.source_key).join(", ");
  renderFields(rec);
  const status = (rec.data || {}).credit_status;
  banner(status === "FROZEN" ? "Credit FROZEN for " + label(rec) + " — do not take new orders" : "");
  await Promise.all([renderOrders(rec.golden_id), renderAlerts(rec.golden_id)]);
  if (subscribe) listen(rec.golden_id);
}

document.getElementById("search-form").addEventListener("submit", search);
const wanted = new URLSearchParams(location.search).get("customer");
if (wanted) open(wanted);
