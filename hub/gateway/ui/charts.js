// Line charts in plain SVG (no library, nothing from the network): lineChart(svg, t, lines, {unit}).
// t: seconds since the epoch; lines: [{name, values, dash}], a null value breaks its line.
const charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#1f6feb", "#d9480f", "#2b8a3e", "#9c36b5", "#e67700", "#0b7285", "#c2255c", "#5c940d"];
  const W = 600, H = 170, L = 48, R = 8, T = 10, B = 22;

  function node(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(v, unit) {
    if (unit === "s") return v < 1 ? Math.round(v * 1000) + " ms" : v.toFixed(v < 10 ? 1 : 0) + " s";
    return v >= 100 ? Math.round(v).toString() : v.toFixed(1);
  }
  function clock(t) { return new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }

  function lineChart(svg, t, lines, opts = {}) {
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    const all = lines.flatMap(l => l.values.filter(v => v !== null && v !== undefined));
    const max = Math.max(opts.min || 1e-9, ...all) * 1.1;
    const t0 = t.length ? t[0] : 0, t1 = t.length > 1 ? t[t.length - 1] : t0 + 1;
    const x = v => L + (W - L - R) * (v - t0) / Math.max(t1 - t0, 1e-9);
    const y = v => T + (H - T - B) * (1 - v / max);
    svg.append(node("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }),
               node("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }),
               node("text", { x: L - 4, y: T + 8, class: "tick", "text-anchor": "end" }, fmt(max, opts.unit)),
               node("text", { x: L - 4, y: H - B, class: "tick", "text-anchor": "end" }, "0"));
    if (t.length) {
      svg.append(node("text", { x: L, y: H - 6, class: "tick" }, clock(t0)),
                 node("text", { x: W - R, y: H - 6, class: "tick", "text-anchor": "end" }, clock(t1)));
    }
    let points = 0;
    lines.forEach((line, i) => {
      const color = COLORS[i % COLORS.length];
      let d = "", pen = false;
      const has = j => line.values[j] !== null && line.values[j] !== undefined;
      line.values.forEach((v, j) => {
        if (!has(j)) { pen = false; return; }
        d += (pen ? " L" : " M") + x(t[j]).toFixed(1) + " " + y(v).toFixed(1);
        if (!pen && !has(j + 1)) {  // a point with no neighbour draws no line: a dot instead
          svg.append(node("circle", { cx: x(t[j]).toFixed(1), cy: y(v).toFixed(1), r: 2.2, fill: color }));
        }
        pen = true;
        points += 1;
      });
      if (d) svg.append(node("path", { d, class: "line", stroke: color, "stroke-dasharray": line.dash ? "4 3" : "none",
                                       "data-name": line.name }));
      svg.append(node("text", { x: L + 6 + (i % 3) * 180, y: T + 10 + Math.floor(i / 3) * 12, class: "legend",
                                fill: color }, line.name));
    });
    if (!points) svg.append(node("text", { x: W / 2, y: H / 2, class: "tick", "text-anchor": "middle" },
                                 "no data in this window yet"));
    svg.dataset.points = String(points);
    return points;
  }
  return { lineChart };
})();
