// The dashboard: reads the JSON endpoints with the token the user typed (kept in sessionStorage).
"use strict";
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
if (params.get("token")) sessionStorage.setItem("gridbot-token", params.get("token"));
$("token").value = sessionStorage.getItem("gridbot-token") || "";
if (params.get("from")) $("from").value = params.get("from");
if (params.get("to")) $("to").value = params.get("to");
let trail = [];  // drill-down path: [{level, id, name}]
let chart = null;

const pct = (r) => (r === null || r === undefined ? "—" : (100 * r).toFixed(1) + "%");
const num = (x) => (x === null || x === undefined ? "—" : Number(x).toLocaleString("zh-CN"));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

async function api(path, query) {
  const q = new URLSearchParams(query);
  if ($("from").value) q.set("from", $("from").value);
  if ($("to").value) q.set("to", $("to").value);
  const res = await fetch(path + "?" + q, { headers: { Authorization: "Bearer " + sessionStorage.getItem("gridbot-token") } });
  if (!res.ok) throw new Error((await res.json().catch(() => ({}))).detail || res.status);
  return res.json();
}

function where(node) { return node.level === "grid" ? { grid: node.id } : { region: node.id }; }

function kpis(m) {
  const t = m.total;
  const items = [
    ["考核得分", m.assessment.score === null ? "—" : m.assessment.score.toFixed(1)],
    ["受理量", num(t.received)], ["首次响应及时率", pct(t.first_response_on_time_rate)],
    ["办结率", pct(t.resolution_rate)], ["按期办结率", pct(t.on_time_resolution_rate)],
    ["满意率", pct(t.satisfaction_rate)], ["入群率", pct(t.membership_rate)],
    ["超期工单", num(t.overdue)], ["居民发言", num(t.resident_messages)],
  ];
  $("kpis").innerHTML = items.map(([k, v]) => `<div class="kpi" data-kpi="${k}"><b>${v}</b><span>${k}</span></div>`).join("");
}

function rowsTable(el, rows, clickable) {
  el.innerHTML = "<tr><th>名称</th><th>受理</th><th>回复率</th><th>办结率</th><th>满意率</th><th>超期</th><th>得分</th></tr>" +
    rows.map((r, i) => `<tr class="${clickable ? "link" : ""}" data-i="${i}"><td class="name">${esc(r.node.name)}</td><td>${num(r.received)}</td>` +
      `<td>${pct(r.response_rate)}</td><td>${pct(r.resolution_rate)}</td><td>${pct(r.satisfaction_rate)}</td>` +
      `<td>${num(r.overdue)}</td><td>${r.score === null ? "—" : r.score.toFixed(1)}</td></tr>`).join("");
  if (clickable) el.querySelectorAll("tr.link").forEach((tr) => tr.addEventListener("click", () => {
    const n = rows[Number(tr.dataset.i)].node;
    trail.push(n);
    load();
  }));
}

function trend(days) {
  const data = {
    labels: days.map((d) => d.day.slice(5)),
    datasets: [
      { label: "居民发言", data: days.map((d) => d.resident_messages), borderColor: "#1565c0", yAxisID: "y1" },
      { label: "受理", data: days.map((d) => d.received), borderColor: "#b71c1c" },
      { label: "办结", data: days.map((d) => d.resolved), borderColor: "#2e7d32" },
      { label: "超期", data: days.map((d) => d.overdue), borderColor: "#ef6c00" },
    ],
  };
  const options = { animation: false, scales: { y: { beginAtZero: true }, y1: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } };
  if (chart) chart.destroy();
  chart = new Chart($("trend"), { type: "line", data, options });
}

async function warnings() {
  // the holiday list of this or next year missing, a bot waiting for its QR scan: said loudly
  const body = await fetch("/readyz").then((r) => r.json()).catch(() => ({ warnings: [] }));
  $("warnings").textContent = (body.warnings || []).map((w) => "⚠ " + w).join("\n");
}

async function load() {
  warnings();
  const node = trail[trail.length - 1];
  $("status").textContent = "加载中…";
  try {
    const q = node ? where(node) : {};
    const m = await api("/metrics/report", { ...q, limit: 0 });
    if (!node) trail = [m.node];
    $("crumbs").innerHTML = trail.map((n, i) => `<a data-i="${i}">${esc(n.name)}</a>`).join(" › ");
    $("crumbs").querySelectorAll("a").forEach((a) => a.addEventListener("click", () => { trail = trail.slice(0, Number(a.dataset.i) + 1); load(); }));
    kpis(m);
    const cur = trail[trail.length - 1];
    const isGrid = cur.level === "grid";
    const kids = cur.level === "community" ? (await api("/metrics/report", { region: cur.id, limit: 500 })).grids : m.children;
    $("children-title").textContent = cur.level === "community" ? "网格" : "下级区域";
    rowsTable($("children"), isGrid ? [] : kids, !isGrid);
    const [series, overdue] = await Promise.all([api("/metrics/series", where(cur)), api("/metrics/overdue", where(cur))]);
    trend(series.days);
    if (!isGrid) {
      const rank = await api("/metrics/ranking", { region: cur.id, key: "score", limit: 20 });
      $("ranking").innerHTML = "<tr><th>排名</th><th>网格</th><th>得分</th></tr>" +
        rank.rows.map((r) => `<tr><td>${r.rank ?? "—"}</td><td class="name">${esc(r.node.name)}</td><td>${r.value === null ? "—" : r.value.toFixed(1)}</td></tr>`).join("");
    } else $("ranking").innerHTML = "";
    $("overdue").innerHTML = "<tr><th>工单</th><th>类别</th><th>网格</th><th>应办结</th><th>督办</th></tr>" +
      overdue.map((t) => `<tr><td>#${t.number}</td><td class="name">${esc(t.category)}</td><td class="name">${esc(t.grid)}</td>` +
        `<td>${t.due_at ? new Date(t.due_at).toLocaleString("zh-CN") : "—"}</td><td>${t.escalation_level}</td></tr>`).join("");
    $("status").textContent = `${m.date_from} 至 ${m.date_to}，共 ${m.grid_count} 个网格`;
  } catch (e) {
    $("status").textContent = "加载失败：" + e.message;
  }
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("gridbot-token", $("token").value.trim());
  trail = [];
  load();
});
if (sessionStorage.getItem("gridbot-token")) load();
