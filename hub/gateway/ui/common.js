// Shared by the crmhub pages: the API token (from #token=… once, then sessionStorage) and JSON fetches.
const crmhub = (() => {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) { sessionStorage.setItem("crmhub.token", fromHash); history.replaceState(null, "", location.pathname + location.search); }
  const token = () => sessionStorage.getItem("crmhub.token") || "";
  async function get(path) {
    const res = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
    if (!res.ok) throw new Error(path + ": HTTP " + res.status);
    return res.json();
  }
  function text(v) { return v === null || v === undefined ? "" : (typeof v === "object" ? JSON.stringify(v) : String(v)); }
  function el(tag, props = {}, ...children) {
    const e = document.createElement(tag);
    const { dataset, ...rest } = props;
    Object.assign(e, rest);
    Object.assign(e.dataset, dataset || {});
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(text(c)));
    return e;
  }
  return { token, get, text, el };
})();
