/* ililab report viewer: draws a class dependency graph on a 2D canvas.
   Self-contained (no library, no network). The data come from the JSON block
   #ililab-data written by ililab.report; positions are precomputed there, so the
   first render is one JSON.parse and one canvas pass. */
(function () {
  "use strict";
  const t0 = performance.now();
  const D = JSON.parse(document.getElementById("ililab-data").textContent);
  const $ = (id) => document.getElementById(id);
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];
  const GREY = "#8a8a8a";
  const STATUS_COLOUR = { added: "#1a9850", removed: "#d73027", reversed: "#f46d43", reoriented: "#7b3294", same: "#b8b8b8" };
  const STATUS_TEXT = { added: "added (only in B)", removed: "removed (only in A)", reversed: "reversed",
    reoriented: "re-oriented (directed in one, undirected in the other)", same: "same in A and B" };
  const TABLE_ROWS = 500;

  const nodes = D.nodes.map((v, i) => ({ i: i, name: v[0], label: v[1], modality: v[2],
    m: v[2] === null ? -1 : D.modalities.indexOf(v[2]) }));
  const n = nodes.length;
  const index = new Map(nodes.map((v) => [v.name, v.i]));
  function makeEdge(row, k, status) {
    const s = nodes[row[0]], t = nodes[row[1]];
    return { k: k, s: row[0], t: row[1], d: row[2] === 1, w: row[3], c: row[4], x: status ? null : row[5],
      status: status ? row[5] : null, cross: s.m >= 0 && t.m >= 0 && s.m !== t.m };
  }
  const graphEdges = D.edges.map((e, k) => makeEdge(e, k, false));
  const diffEdges = D.diff ? D.diff.edges.map((e, k) => makeEdge(e, k, true)) : null;
  let maxW = 0;
  for (const e of graphEdges.concat(diffEdges || [])) if (e.w !== null) maxW = Math.max(maxW, Math.abs(e.w));

  const S = { layout: D.defaultLayout, mode: D.defaultMode, minW: 0, minC: 0, cross: false, modality: "",
    selected: -1, hover: -1, k: 1, tx: 0, ty: 0, sortKey: null, sortDir: 1, tableFilter: "" };
  let pos = D.layouts[S.layout];
  let visibleEdges = [];
  const visibleNodes = new Uint8Array(n);
  let hl = null;  // highlighted nodes (the selection and its neighbours) or null
  let drawn = { nodes: 0, edges: 0 };

  // ---------------------------------------------------------------- helpers
  function esc(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }
  function num(v, digits) { return v === null || v === undefined ? "–" : Number(v).toFixed(digits === undefined ? 3 : digits); }
  function value(v) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "number") {
      if (Number.isInteger(v) || Math.abs(v) >= 1e4) return String(Number.isInteger(v) ? v : v.toFixed(1));
      return String(Number(v.toPrecision(4)));
    }
    if (Array.isArray(v)) return v.map(value).join(", ");
    if (typeof v === "object") return Object.keys(v).map((key) => key + " " + value(v[key])).join(", ");
    return String(v);
  }
  function arrow(e) { return e.d ? " → " : " — "; }
  function edgeText(e) { return nodes[e.s].name + arrow(e) + nodes[e.t].name; }
  function colourOf(v) { return v.m < 0 ? GREY : PALETTE[v.m % PALETTE.length]; }
  function edgesOfMode() { return S.mode === "diff" ? diffEdges : graphEdges; }

  // ---------------------------------------------------------------- filters and selection
  function passes(e) {
    if (S.minW > 0 && (e.w === null || Math.abs(e.w) < S.minW)) return false;
    if (S.minC > 0 && (e.c === null || e.c < S.minC)) return false;
    if (S.cross && !e.cross) return false;
    if (S.modality && nodes[e.s].modality !== S.modality && nodes[e.t].modality !== S.modality) return false;
    return true;
  }
  function applyFilters() {
    visibleEdges = edgesOfMode().filter(passes);
    visibleNodes.fill(S.modality ? 0 : 1);
    if (S.modality) {
      for (const v of nodes) if (v.modality === S.modality) visibleNodes[v.i] = 1;
      for (const e of visibleEdges) { visibleNodes[e.s] = 1; visibleNodes[e.t] = 1; }
    }
    if (S.selected >= 0 && !visibleNodes[S.selected]) S.selected = -1;
    S.hover = -1;
    computeHighlight();
    renderTable();
    renderStats();
    schedule();
  }
  function computeHighlight() {
    hl = null;
    if (S.selected >= 0) {
      hl = new Uint8Array(n);
      hl[S.selected] = 1;
      for (const e of visibleEdges) if (e.s === S.selected || e.t === S.selected) { hl[e.s] = 1; hl[e.t] = 1; }
    }
    renderInfo();
  }
  function select(i) {
    S.selected = i;
    computeHighlight();
    schedule();
  }
  function focusNode(i) {
    if (!visibleNodes[i]) { S.modality = ""; $("modality").value = ""; applyFilters(); }
    select(i);
    S.k = Math.max(S.k, 16 / D.unit);
    S.tx = W / 2 - pos[2 * i] * S.k;
    S.ty = H / 2 - pos[2 * i + 1] * S.k;
    schedule();
  }

  // ---------------------------------------------------------------- canvas
  const canvas = $("graph");
  const ctx = canvas.getContext("2d");
  const tooltip = $("tooltip");
  let W = 1, H = 1, dpr = 1;
  function resize() {
    const r = canvas.parentElement.getBoundingClientRect();
    dpr = window.devicePixelRatio || 1;
    W = Math.max(1, r.width); H = Math.max(1, r.height);
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
    canvas.style.width = W + "px"; canvas.style.height = H + "px";
    schedule();
  }
  function labelsAlways() { return n <= 120; }
  function fit() {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, pos[2 * i]); x1 = Math.max(x1, pos[2 * i]);
      y0 = Math.min(y0, pos[2 * i + 1]); y1 = Math.max(y1, pos[2 * i + 1]);
    }
    if (!isFinite(x0)) { x0 = y0 = 0; x1 = y1 = 1; }
    const padX = labelsAlways() ? 150 : 30, padY = 30;
    S.k = Math.min((W - 2 * padX) / Math.max(x1 - x0, D.unit), (H - 2 * padY) / Math.max(y1 - y0, D.unit));
    S.k = Math.max(S.k, 1e-4);
    S.tx = W / 2 - S.k * (x0 + x1) / 2;
    S.ty = H / 2 - S.k * (y0 + y1) / 2;
    schedule();
  }
  const sx = (i) => pos[2 * i] * S.k + S.tx;
  const sy = (i) => pos[2 * i + 1] * S.k + S.ty;
  function radius() { return Math.max(2, Math.min(7, 0.28 * S.k * D.unit)); }
  // Within one column of the columns layout an edge is an arc bulging towards the other columns.
  function control(e) {
    if (S.layout !== "columns" || pos[2 * e.s] !== pos[2 * e.t]) return null;
    const x = sx(e.s), y1 = sy(e.s), y2 = sy(e.t);
    const bulge = Math.min(0.35 * Math.abs(y2 - y1), 0.45 * D.columnGap * S.k);
    return [x + D.side[e.s] * bulge, (y1 + y2) / 2];
  }
  function edgeStyle(e) {
    let colour, dash = !e.d;
    if (S.mode === "diff") { colour = STATUS_COLOUR[e.status]; dash = dash || e.status === "removed"; }
    else colour = e.d ? colourOf(nodes[e.s]) : GREY;
    let width = 0.7 + 2.3 * (e.w === null || maxW === 0 ? 0.3 : Math.abs(e.w) / maxW);
    let alpha = e.c === null ? 0.8 : 0.2 + 0.8 * e.c;
    if (S.mode === "diff" && e.status === "same") alpha = Math.min(alpha, 0.45);
    if (hl && e.s !== S.selected && e.t !== S.selected) alpha = 0.06;
    if (e.k === S.hover) { width += 2; alpha = 1; }
    return { colour: colour, dash: dash, width: Math.round(width * 2) / 2, alpha: Math.round(alpha * 20) / 20 };
  }
  let pending = false;
  function schedule() { if (!pending) { pending = true; requestAnimationFrame(draw); } }
  let firstDraw = true;
  function draw() {
    pending = false;
    const started = performance.now();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const r = radius();
    const groups = new Map();
    let edgeCount = 0;
    for (const e of visibleEdges) {
      const x1 = sx(e.s), y1 = sy(e.s), x2 = sx(e.t), y2 = sy(e.t);
      const c = control(e);
      const lox = Math.min(x1, x2, c ? c[0] : x1), hix = Math.max(x1, x2, c ? c[0] : x1);
      if (hix < -10 || lox > W + 10 || Math.max(y1, y2) < -10 || Math.min(y1, y2) > H + 10) continue;
      edgeCount++;
      const st = edgeStyle(e);
      const key = st.colour + "|" + st.alpha + "|" + st.width + "|" + st.dash;
      let g = groups.get(key);
      if (!g) { g = { st: st, lines: [], heads: [] }; groups.set(key, g); }
      g.lines.push(x1, y1, x2, y2, c ? c[0] : NaN, c ? c[1] : NaN);
      if (e.d) {
        const fx = c ? c[0] : x1, fy = c ? c[1] : y1;
        const len = Math.hypot(x2 - fx, y2 - fy) || 1;
        g.heads.push(x2 - (x2 - fx) / len * r, y2 - (y2 - fy) / len * r, (x2 - fx) / len, (y2 - fy) / len);
      }
    }
    const order = Array.from(groups.values()).sort((a, b) => a.st.alpha - b.st.alpha);
    for (const g of order) {
      ctx.globalAlpha = g.st.alpha;
      ctx.strokeStyle = g.st.colour; ctx.fillStyle = g.st.colour;
      ctx.lineWidth = g.st.width;
      ctx.setLineDash(g.st.dash ? [5, 4] : []);
      ctx.beginPath();
      const L = g.lines;
      for (let j = 0; j < L.length; j += 6) {
        ctx.moveTo(L[j], L[j + 1]);
        if (isNaN(L[j + 4])) ctx.lineTo(L[j + 2], L[j + 3]);
        else ctx.quadraticCurveTo(L[j + 4], L[j + 5], L[j + 2], L[j + 3]);
      }
      ctx.stroke();
      if (g.heads.length) {
        const a = 4 + 1.5 * g.st.width;
        ctx.beginPath();
        const A = g.heads;
        for (let j = 0; j < A.length; j += 4) {
          const x = A[j], y = A[j + 1], ux = A[j + 2], uy = A[j + 3];
          ctx.moveTo(x, y);
          ctx.lineTo(x - a * ux - 0.5 * a * uy, y - a * uy + 0.5 * a * ux);
          ctx.lineTo(x - a * ux + 0.5 * a * uy, y - a * uy - 0.5 * a * ux);
          ctx.closePath();
        }
        ctx.fill();
      }
    }
    ctx.setLineDash([]);
    // nodes, grouped by colour and fading
    const nodeGroups = new Map();
    let nodeCount = 0;
    for (let i = 0; i < n; i++) {
      if (!visibleNodes[i]) continue;
      const x = sx(i), y = sy(i);
      if (x < -r || x > W + r || y < -r || y > H + r) continue;
      nodeCount++;
      const key = colourOf(nodes[i]) + "|" + (hl && !hl[i] ? 0.15 : 1);
      let g = nodeGroups.get(key);
      if (!g) { g = []; nodeGroups.set(key, g); }
      g.push(x, y);
    }
    for (const [key, P] of nodeGroups) {
      const parts = key.split("|");
      ctx.globalAlpha = Number(parts[1]);
      ctx.fillStyle = parts[0];
      ctx.beginPath();
      for (let j = 0; j < P.length; j += 2) { ctx.moveTo(P[j] + r, P[j + 1]); ctx.arc(P[j], P[j + 1], r, 0, 2 * Math.PI); }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    if (S.selected >= 0) {
      ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(sx(S.selected), sy(S.selected), r + 3, 0, 2 * Math.PI); ctx.stroke();
    }
    drawLabels(r);
    drawn = { nodes: nodeCount, edges: edgeCount };
    api.drawMs = performance.now() - started;
    if (firstDraw) {
      firstDraw = false;
      api.renderMs = performance.now();
      api.scriptMs = performance.now() - t0;
      api.ready = true;
      document.body.setAttribute("data-ready", "1");
    }
  }
  function drawLabels(r) {
    const all = labelsAlways() || S.k * D.unit >= 12;
    if (!all && !hl) return;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (let i = 0; i < n; i++) {
      if (!visibleNodes[i] || (!all && !hl[i])) continue;
      const x = sx(i), y = sy(i);
      if (x < -200 || x > W + 200 || y < -10 || y > H + 10) continue;
      const faded = hl && !hl[i];
      ctx.globalAlpha = faded ? 0.2 : 1;
      ctx.font = (hl && hl[i] ? "bold " : "") + "11px system-ui, sans-serif";
      const text = nodes[i].label || nodes[i].name;
      const left = S.layout === "columns" && D.side[i] > 0;
      ctx.textAlign = left ? "right" : "left";
      const tx = left ? x - r - 4 : x + r + 4;
      ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,0.85)";
      ctx.strokeText(text, tx, y);
      ctx.fillStyle = "#222";
      ctx.fillText(text, tx, y);
    }
    ctx.globalAlpha = 1;
    if (S.layout === "columns") {
      ctx.font = "bold 13px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.fillStyle = "#333";
      for (const col of D.columns) ctx.fillText(col.name, col.x * S.k + S.tx, D.top * S.k + S.ty - 18);
    }
  }

  // ---------------------------------------------------------------- hit testing
  function local(ev) { const b = canvas.getBoundingClientRect(); return { x: ev.clientX - b.left, y: ev.clientY - b.top }; }
  function nodeAt(p) {
    const r = radius() + 4;
    let best = -1, bestD = r * r;
    for (let i = 0; i < n; i++) {
      if (!visibleNodes[i]) continue;
      const dx = sx(i) - p.x, dy = sy(i) - p.y, d = dx * dx + dy * dy;
      if (d <= bestD) { bestD = d; best = i; }
    }
    return best;
  }
  function segDist(px, py, x1, y1, x2, y2) {
    const dx = x2 - x1, dy = y2 - y1, L = dx * dx + dy * dy;
    const t = L ? Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / L)) : 0;
    return Math.hypot(px - x1 - t * dx, py - y1 - t * dy);
  }
  function edgeAt(p) {
    let best = -1, bestD = 6;
    for (const e of visibleEdges) {
      if (hl && e.s !== S.selected && e.t !== S.selected) continue;
      const x1 = sx(e.s), y1 = sy(e.s), x2 = sx(e.t), y2 = sy(e.t), c = control(e);
      let d;
      if (!c) d = segDist(p.x, p.y, x1, y1, x2, y2);
      else {
        d = Infinity;
        let ax = x1, ay = y1;
        for (let j = 1; j <= 12; j++) {
          const t = j / 12, u = 1 - t;
          const bx = u * u * x1 + 2 * u * t * c[0] + t * t * x2, by = u * u * y1 + 2 * u * t * c[1] + t * t * y2;
          d = Math.min(d, segDist(p.x, p.y, ax, ay, bx, by));
          ax = bx; ay = by;
        }
      }
      if (d < bestD) { bestD = d; best = e.k; }
    }
    return best;
  }
  function edgeDetails(e) {
    const rows = [["source", nodes[e.s].name], ["target", nodes[e.t].name], ["kind", e.d ? "directed" : "undirected"],
      ["weight", num(e.w)], ["confidence", num(e.c)]];
    if (e.status) rows.unshift(["diff", STATUS_TEXT[e.status]]);
    if (e.x) for (const key of Object.keys(e.x)) rows.push([key, value(e.x[key])]);
    return rows;
  }
  function showTooltip(p, e) {
    tooltip.innerHTML = "<table>" + edgeDetails(e).map((r) => "<tr><th>" + esc(r[0]) + "</th><td>" + esc(r[1]) + "</td></tr>").join("") + "</table>";
    tooltip.style.display = "block";
    tooltip.style.left = Math.min(p.x + 14, W - 260) + "px";
    tooltip.style.top = Math.min(p.y + 14, H - 140) + "px";
  }

  let drag = null;
  canvas.addEventListener("mousedown", (ev) => { drag = { x: ev.clientX, y: ev.clientY, tx: S.tx, ty: S.ty, moved: false }; });
  window.addEventListener("mousemove", (ev) => {
    if (drag) {
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) { S.tx = drag.tx + dx; S.ty = drag.ty + dy; tooltip.style.display = "none"; schedule(); }
      return;
    }
    if (ev.target !== canvas) return;
    const p = local(ev);
    const over = nodeAt(p) >= 0 ? -1 : edgeAt(p);
    if (over !== S.hover) { S.hover = over; schedule(); }
    if (over >= 0) showTooltip(p, edgesOfMode()[over]); else tooltip.style.display = "none";
    canvas.style.cursor = over >= 0 || nodeAt(p) >= 0 ? "pointer" : "grab";
  });
  window.addEventListener("mouseup", (ev) => {
    if (drag && !drag.moved && ev.target === canvas) {
      const i = nodeAt(local(ev));
      select(i >= 0 ? i : -1);
    }
    drag = null;
  });
  canvas.addEventListener("mouseleave", () => { tooltip.style.display = "none"; if (S.hover >= 0) { S.hover = -1; schedule(); } });
  function zoomAt(p, f) {
    S.tx = p.x - (p.x - S.tx) * f; S.ty = p.y - (p.y - S.ty) * f; S.k *= f; schedule();
  }
  canvas.addEventListener("wheel", (ev) => { ev.preventDefault(); zoomAt(local(ev), Math.exp(-ev.deltaY * 0.0015)); }, { passive: false });
  $("zoom-in").addEventListener("click", () => zoomAt({ x: W / 2, y: H / 2 }, 1.5));
  $("zoom-out").addEventListener("click", () => zoomAt({ x: W / 2, y: H / 2 }, 1 / 1.5));
  $("fit").addEventListener("click", fit);
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") select(-1); });

  // ---------------------------------------------------------------- side panels
  function renderStats() {
    const shown = visibleNodes.reduce((a, b) => a + b, 0);
    const total = edgesOfMode().length;
    $("stats").textContent = shown + " of " + n + " nodes, " + visibleEdges.length + " of " + total + " edges shown";
  }
  function renderInfo() {
    const box = $("info");
    if (S.selected < 0) { box.innerHTML = "<p class=\"hint\">Click a node (or search) to see its parents, children and undirected neighbours.</p>"; return; }
    const v = nodes[S.selected];
    const groups = { parents: [], children: [], undirected: [] };
    for (const e of visibleEdges) {
      if (e.s !== S.selected && e.t !== S.selected) continue;
      const other = e.s === S.selected ? e.t : e.s;
      const which = !e.d ? "undirected" : e.t === S.selected ? "parents" : "children";
      groups[which].push([other, e]);
    }
    let html = "<h3>" + esc(v.name) + "</h3>";
    for (const key of ["parents", "children", "undirected"]) {
      const list = groups[key].sort((a, b) => a[0] - b[0]);
      html += "<h4>" + key + " (" + list.length + ")</h4><ul class=\"nbrs\">";
      for (const [o, e] of list) {
        html += "<li><button data-node=\"" + o + "\">" + esc(nodes[o].name) + "</button> <span class=\"num\">w " + num(e.w) +
          ", c " + num(e.c) + (e.status ? ", " + esc(e.status) : "") + "</span></li>";
      }
      html += "</ul>";
    }
    box.innerHTML = html;
  }
  $("info").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-node]");
    if (b) focusNode(Number(b.getAttribute("data-node")));
  });

  // search: substring, case-insensitive; Enter or a click jumps to the match
  let matches = [];
  function renderMatches() {
    const q = $("search").value.trim().toLowerCase();
    matches = q ? nodes.filter((v) => v.name.toLowerCase().includes(q)).map((v) => v.i) : [];
    $("matches").innerHTML = matches.slice(0, 30).map((i) => "<li><button data-node=\"" + i + "\">" + esc(nodes[i].name) + "</button></li>").join("") +
      (matches.length > 30 ? "<li class=\"hint\">and " + (matches.length - 30) + " more</li>" : "") +
      (q && !matches.length ? "<li class=\"hint\">no class matches</li>" : "");
  }
  $("search").addEventListener("input", renderMatches);
  $("search").addEventListener("keydown", (ev) => { if (ev.key === "Enter" && matches.length) focusNode(matches[0]); });
  $("matches").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-node]");
    if (b) focusNode(Number(b.getAttribute("data-node")));
  });

  // filters
  function readNumber(id) { const v = parseFloat($(id).value); return isFinite(v) && v > 0 ? v : 0; }
  $("min-weight").addEventListener("input", () => { S.minW = readNumber("min-weight"); applyFilters(); });
  $("min-confidence").addEventListener("input", () => { S.minC = readNumber("min-confidence"); applyFilters(); });
  $("cross-only").addEventListener("change", () => { S.cross = $("cross-only").checked; applyFilters(); });
  $("modality").innerHTML = "<option value=\"\">all modalities</option>" +
    D.modalities.map((m) => "<option value=\"" + esc(m) + "\">" + esc(m) + "</option>").join("");
  $("modality").addEventListener("change", () => { S.modality = $("modality").value; applyFilters(); });
  $("layout").value = S.layout;
  $("layout").addEventListener("change", () => { S.layout = $("layout").value; pos = D.layouts[S.layout]; fit(); });
  if (diffEdges) {
    $("mode").value = S.mode;
    $("mode").addEventListener("change", () => { S.mode = $("mode").value; S.sortKey = null; applyFilters(); });
  }

  // ---------------------------------------------------------------- edge table
  function columns() {
    const cols = [];
    if (S.mode === "diff") cols.push(["status", "diff", (e) => e.status]);
    cols.push(["source", "source", (e) => nodes[e.s].name], ["target", "target", (e) => nodes[e.t].name],
      ["kind", "kind", (e) => (e.d ? "directed" : "undirected")], ["weight", "weight", (e) => e.w], ["confidence", "confidence", (e) => e.c]);
    if (S.mode === "graph") for (const f of D.extraFields) cols.push(["x:" + f, f, (e) => (e.x ? e.x[f] : null)]);
    cols.push(["cross", "cross-modal", (e) => (e.cross ? "yes" : "")]);
    return cols;
  }
  function renderTable() {
    const cols = columns();
    const q = S.tableFilter.toLowerCase();
    let rows = q ? visibleEdges.filter((e) => edgeText(e).toLowerCase().includes(q) || (e.status || "").includes(q)) : visibleEdges.slice();
    const col = cols.find((c) => c[0] === S.sortKey);
    if (col) {
      const get = col[2], dir = S.sortDir;
      rows.sort((a, b) => {
        let va = get(a), vb = get(b);
        if (va === null || va === undefined) return 1;
        if (vb === null || vb === undefined) return -1;
        if (typeof va === "number" && typeof vb === "number") return (va - vb) * dir || a.k - b.k;
        va = typeof va === "object" ? JSON.stringify(va) : String(va); vb = typeof vb === "object" ? JSON.stringify(vb) : String(vb);
        return va.localeCompare(vb) * dir || a.k - b.k;
      });
    }
    $("edge-head").innerHTML = "<tr>" + cols.map((c) => "<th data-key=\"" + esc(c[0]) + "\">" + esc(c[1]) +
      (c[0] === S.sortKey ? (S.sortDir > 0 ? " ▲" : " ▼") : "") + "</th>").join("") + "</tr>";
    $("edge-body").innerHTML = rows.slice(0, TABLE_ROWS).map((e) => "<tr data-edge=\"" + e.k + "\"" +
      (e.status ? " class=\"st-" + e.status + "\"" : "") + ">" + cols.map((c) => {
        const v = c[2](e);
        return typeof v === "number" ? "<td class=\"num\">" + esc(value(v)) + "</td>" : "<td>" + esc(value(v === null ? null : v)) + "</td>";
      }).join("") + "</tr>").join("");
    $("table-note").textContent = rows.length + " edge" + (rows.length === 1 ? "" : "s") +
      (rows.length > TABLE_ROWS ? "; the first " + TABLE_ROWS + " are listed, narrow the filter to see others" : "");
  }
  $("edge-head").addEventListener("click", (ev) => {
    const th = ev.target.closest("th[data-key]");
    if (!th) return;
    const key = th.getAttribute("data-key");
    S.sortDir = S.sortKey === key ? -S.sortDir : (key === "weight" || key === "confidence" ? -1 : 1);
    S.sortKey = key;
    renderTable();
  });
  $("table-filter").addEventListener("input", () => { S.tableFilter = $("table-filter").value.trim(); renderTable(); });
  $("edge-body").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr[data-edge]");
    if (!tr) return;
    const e = edgesOfMode()[Number(tr.getAttribute("data-edge"))];
    focusNode(e.s);
    S.hover = e.k;
    schedule();
  });

  // ---------------------------------------------------------------- meta and diff panels
  function metaHtml(obj, depth) {
    if (obj === null || typeof obj !== "object") return esc(value(obj));
    if (Array.isArray(obj)) {
      if (!obj.some((v) => v !== null && typeof v === "object")) return esc(obj.map(value).join(", ")) || "–";
      return "<ol>" + obj.map((v) => "<li>" + metaHtml(v, depth + 1) + "</li>").join("") + "</ol>";
    }
    const keys = Object.keys(obj);
    if (!keys.length) return "–";
    return "<dl class=\"d" + depth + "\">" + keys.map((key) => "<dt>" + esc(key) + "</dt><dd>" + metaHtml(obj[key], depth + 1) + "</dd>").join("") + "</dl>";
  }
  const warnings = D.meta.warnings;
  $("meta").innerHTML = (Array.isArray(warnings) && warnings.length ? "<div class=\"warn\">" + warnings.map((w) => esc(value(w))).join("<br>") + "</div>" : "") +
    metaHtml(D.meta, 0);
  if (D.diff) {
    const dd = D.diff;
    let html = "<p>A: <b>" + esc(dd.a) + "</b><br>B: <b>" + esc(dd.b) + "</b><br>SHD " + dd.shd + "</p>";
    for (const status of ["added", "removed", "reversed", "reoriented"]) {
      const list = diffEdges.filter((e) => e.status === status);
      html += "<h4 class=\"st-" + status + "\">" + esc(STATUS_TEXT[status]) + " (" + list.length + ")</h4><ul id=\"diff-" + status + "\" class=\"difflist\">" +
        list.map((e) => "<li>" + esc(edgeText(e)) + "</li>").join("") + "</ul>";
    }
    $("diff").innerHTML = html;
  }

  // ---------------------------------------------------------------- test and scripting hooks
  const api = {
    ready: false, renderMs: null, scriptMs: null, drawMs: null,
    drawn: () => { if (pending) draw(); return Object.assign({}, drawn); },  // a frame may still be due
    selected: () => (S.selected < 0 ? null : nodes[S.selected].name),
    highlighted: () => (hl ? nodes.filter((v) => hl[v.i]).map((v) => v.name) : []),
    visibleEdges: () => visibleEdges.map((e) => [nodes[e.s].name, nodes[e.t].name, e.d ? "directed" : "undirected"]),
    screenPosition: (name) => { const i = index.get(name); const b = canvas.getBoundingClientRect(); return { x: b.left + sx(i), y: b.top + sy(i) }; },
    state: () => ({ layout: S.layout, mode: S.mode, k: S.k, tx: S.tx, ty: S.ty, width: W, height: H }),
  };
  window.ililabReport = api;

  new ResizeObserver(() => { const first = W === 1; resize(); if (first) fit(); }).observe(canvas.parentElement);
  resize();
  fit();
  applyFilters();
})();
