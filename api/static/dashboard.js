// The officials' dashboard. Signs in with a form (token → HttpOnly cookie; the token is never put in
// a URL or in storage), keeps the whole view in the URL (view, region/grid, dates, filters, ticket)
// so a view can be bookmarked and shared and Back works, and reads the JSON endpoints.
"use strict";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const pct = (r) => (r === null || r === undefined ? "—" : (100 * r).toFixed(1) + "%");
const num = (x) => (x === null || x === undefined ? "—" : Number(x).toLocaleString("zh-CN"));
const when = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "—");
const LEVELS = { city: "市", district: "区", street: "街道", community: "社区", grid: "网格" };
const ACTIONS = { create: "创建", accept: "接单", respond: "回复", start: "开始处理", resolve: "办结", close: "关闭", suspend: "挂起", resume: "恢复",
  transfer: "转派", merge: "合并", reject: "退回", reopen: "重办", reclassify: "改类", report: "居民再次反映（催办）", urge: "催办", thread: "群内相关发言", similar: "疑似重复", escalate: "升级督办" };
const SCORES = { satisfied: "满意", basically_satisfied: "基本满意", unsatisfied: "不满意" };
const charts = {};
let defs = {};       // indicator definitions by key (hover texts)
let me = null;       // the signed-in administrator
let refreshTimer = null;

function duration(s) {
  if (s === null || s === undefined) return "—";
  const h = Math.floor(s / 3600), d = Math.floor(h / 24);
  if (d >= 1) return `${d}天${h % 24}小时`;
  if (h >= 1) return `${h}小时${Math.floor((s % 3600) / 60)}分`;
  return `${Math.max(1, Math.floor(s / 60))}分钟`;
}

// ---- the URL is the state ----------------------------------------------------------------------
function state() { return new URLSearchParams(location.search); }
function go(changes, replace) {
  const q = state();
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === "") q.delete(k); else q.set(k, v);
  }
  const url = location.pathname + (q.toString() ? "?" + q : "");
  if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
  render();
}
window.addEventListener("popstate", () => render());
function link(changes, text, cls) {
  const q = state();
  for (const [k, v] of Object.entries(changes)) { if (v === null || v === "") q.delete(k); else q.set(k, v); }
  return `<a class="${cls || ""}" href="?${esc(q.toString())}" data-go="${esc(JSON.stringify(changes))}">${text}</a>`;
}
document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a[data-go]");
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
  ev.preventDefault();
  go(JSON.parse(a.dataset.go));
});

// ---- API calls with Chinese errors ------------------------------------------------------------
class ApiFailure extends Error { constructor(status, message) { super(message); this.status = status; } }
class Superseded extends Error {}  // a newer render started: this one's answers are dropped
let generation = 0;
function messageOf(status, body) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail) && body.detail.length) {
    return body.detail.map((d) => (d && typeof d.msg === "string" ? d.msg.replace(/^Value error, /, "") : "参数有误")).join("；");
  }
  return { 401: "请先登录", 403: "无权查看该区域", 404: "没有找到", 422: "参数有误", 429: "请求过于频繁，请稍后再试" }[status] || `服务器错误（${status}）`;
}
async function api(path, query) {
  const mine = generation;
  const data = await request(path, query);
  if (mine !== generation) throw new Superseded();
  return data;
}
async function request(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x)); else if (v !== null && v !== undefined && v !== "") q.set(k, v);
  }
  let res;
  try { res = await fetch(path + (q.toString() ? "?" + q : ""), { credentials: "same-origin", headers: { Accept: "application/json" } }); }
  catch (e) { throw new ApiFailure(0, "无法连接服务器，请检查网络"); }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new ApiFailure(res.status, messageOf(res.status, body));
  }
  return res.json();
}
function where() {
  const q = state();
  return q.get("grid") ? { grid: q.get("grid") } : q.get("region") ? { region: q.get("region") } : {};
}
function dates() {
  const q = state();
  return { from: q.get("from") || "", to: q.get("to") || "" };
}
function showError(e) {
  if (e instanceof Superseded) return;
  if (e instanceof ApiFailure && e.status === 401) { signedOut("登录已过期，请重新登录"); return; }
  $("status").textContent = "加载失败：" + (e && e.message ? e.message : "未知错误");
  $("status").className = "error";
  document.querySelectorAll(".view.active .panel").forEach((p) => p.classList.add("stale"));
}

// ---- sign-in -----------------------------------------------------------------------------------
function signedOut(msg) {
  me = null;
  $("app").hidden = true; $("who").hidden = true; $("signin").hidden = false;
  $("signin-error").textContent = msg || "";
  $("token").focus();
}
$("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const token = $("token").value.trim();
  $("signin-error").textContent = "";
  try {
    const res = await fetch("/auth/login", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token }) });
    $("token").value = "";
    if (!res.ok) { $("signin-error").textContent = res.status === 401 ? "令牌无效或已过期" : messageOf(res.status, await res.json().catch(() => null)); return; }
    await start();
  } catch (e) { $("signin-error").textContent = "无法连接服务器，请检查网络"; }
});
$("logout").addEventListener("click", async () => {
  await fetch("/auth/logout", { method: "POST", credentials: "same-origin" }).catch(() => null);
  signedOut("已退出登录");
});

async function start() {
  try { me = await api("/auth/me"); }
  catch (e) { signedOut(e.status === 401 ? "" : e.message); return; }
  $("signin").hidden = true; $("app").hidden = false; $("who").hidden = false;
  $("who-name").textContent = me.name;
  const d = await api("/metrics/definitions").catch(() => ({ indicators: [] }));
  defs = Object.fromEntries(d.indicators.map((i) => [i.key, i]));
  defs.__method = d;
  warnings();
  render();
}

async function warnings() {
  // the holiday list of this or next year missing, a bot waiting for its QR scan: said loudly
  const body = await fetch("/readyz").then((r) => r.json()).catch(() => ({ warnings: [] }));
  $("warnings").textContent = (body.warnings || []).map((w) => "⚠ " + w).join("\n");
}

// ---- rendering ---------------------------------------------------------------------------------
function render() {
  if (!me) return;
  generation += 1;
  const q = state();
  const view = q.get("ticket") ? "ticket" : q.get("view") || "overview";
  document.body.classList.toggle("screen", q.get("screen") === "1");
  $("screen-toggle").textContent = q.get("screen") === "1" ? "退出大屏" : "大屏模式";
  document.querySelectorAll("#tabs a[data-view]").forEach((a) => a.classList.toggle("active", a.dataset.view === view));
  document.querySelectorAll(".view").forEach((s) => s.classList.toggle("active", s.id === "view-" + view));
  $("from").value = q.get("from") || ""; $("to").value = q.get("to") || "";
  $("status").className = ""; $("status").textContent = "加载中…";
  document.querySelectorAll(".panel.stale").forEach((p) => p.classList.remove("stale"));
  clearInterval(refreshTimer);
  if (q.get("screen") === "1") refreshTimer = setInterval(() => render(), 1000 * Number(q.get("refresh") || 60));
  const run = { overview, tickets: ticketList, ticket: ticketPage, workers, map: gridMap, quality }[view] || overview;
  Promise.all([crumbs(), run()]).catch(showError);
}
document.querySelectorAll("#tabs a[data-view]").forEach((a) => a.addEventListener("click", () => go({ view: a.dataset.view, ticket: null, page: null })));
$("screen-toggle").addEventListener("click", () => go({ screen: state().get("screen") === "1" ? null : "1", view: null, ticket: null }));
$("range").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const from = $("from").value, to = $("to").value;
  if (from && to && from > to) { $("status").className = "error"; $("status").textContent = "日期范围有误：开始日期不能晚于结束日期"; return; }
  go({ from, to, page: null });  // keeps region/grid and every filter: only the dates change
});

async function crumbs() {
  const trail = Object.keys(where()).length ? await api("/dashboard/api/path", where()) : [];
  const top = link({ region: null, grid: null, ticket: null, page: null }, "全部管辖区域");
  $("crumbs").innerHTML = [top, ...trail.map((n) => link(n.level === "grid" ? { grid: n.id, region: null, ticket: null, page: null } : { region: n.id, grid: null, ticket: null, page: null }, esc(n.name)))].join(" › ");
}

function chart(id) {
  if (typeof echarts === "undefined") return null;
  const el = $(id);
  if (!charts[id] || charts[id].getDom() !== el) charts[id] = echarts.init(el, document.body.classList.contains("screen") ? "dark" : null);
  return charts[id];
}
window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));

function kpiCard(key, label, value, extra) {
  const d = defs[key];
  const tip = d ? d.definition + (d.weight ? `（考核权重 ${d.weight}）` : "") : "";
  return `<div class="kpi" data-kpi="${esc(label)}" title="${esc(tip)}" tabindex="0"><b>${value}</b><span>${esc(label)}</span>${extra ? `<small>${esc(extra)}</small>` : ""}${tip ? `<em class="tip">${esc(tip)}</em>` : ""}</div>`;
}

async function overview() {
  const w = where(), d = dates();
  const m = await api("/metrics/report", { ...w, ...d, limit: 0 });
  const t = m.total, a = m.assessment;
  const isGrid = m.node.level === "grid";
  $("kpis").innerHTML = [
    kpiCard("score", "考核得分", a.score === null ? "—" : a.score.toFixed(1), t.no_cases ? "无案件" : ""),
    kpiCard("received", "受理量", num(t.received)),
    kpiCard("first_response_on_time_rate", "首次响应及时率", pct(t.first_response_on_time_rate), `应响应 ${t.response_due} 件`),
    kpiCard("on_time_signing_rate", "及时签收率", pct(t.on_time_signing_rate)),
    kpiCard("resolution_rate", "办结率", pct(t.resolution_rate)),
    kpiCard("on_time_resolution_rate", "按期办结率", pct(t.on_time_resolution_rate)),
    kpiCard("solve_rate", "解决率", pct(t.solve_rate)),
    kpiCard("satisfaction_rate", "满意率", pct(t.satisfaction_rate)),
    kpiCard("return_rate", "回退率", pct(t.return_rate)),
    kpiCard("urge_rate", "催办率", pct(t.urge_rate)),
    kpiCard("patrol_rate", "主动发现率", pct(t.patrol_rate)),
    kpiCard("membership_rate", "入群率", pct(t.membership_rate), t.members_per_household === null ? "" : `入群人数/户数 ${pct(t.members_per_household)}`),
    kpiCard("overdue", "超期工单", num(t.overdue)),
  ].join("");
  // (the data-quality self-check recounts the last week live: it runs on its own view only)
  const [series, overview, overdue] = await Promise.all([
    api("/metrics/series", { ...w, ...d }),
    api("/dashboard/api/overview", { ...w, ...d }),
    api("/dashboard/api/overdue", w),
  ]);
  trend(series.days);
  categories(overview.categories);
  $("hot").innerHTML = "<tr><th>类别</th><th>本周</th><th>上周</th><th>变化</th></tr>" + (overview.rising.length ? overview.rising.map((r) =>
    `<tr><td>${link({ view: "tickets", category: r.category, ticket: null }, esc(r.category))}</td><td>${r.this_week}</td><td>${r.last_week}</td><td class="${r.change > 0 ? "up" : ""}">${r.change > 0 ? "+" : ""}${r.change}</td></tr>`).join("") : `<tr><td colspan="4">${isGrid ? "（网格级不统计热点）" : "统计期最后7天无新工单"}</td></tr>`);
  $("places").innerHTML = "<tr><th>网格</th><th>最后7天工单</th></tr>" + overview.places.map((p) => `<tr><td>${link({ grid: p.grid_id, region: null }, esc(p.grid))}</td><td>${p.count}</td></tr>`).join("");
  // children: regions below, or the grids of a community
  let kids = m.children;
  if (m.node.level === "community") kids = (await api("/metrics/report", { region: m.node.id, ...d, limit: 500 })).grids;
  $("children-title").textContent = m.node.level === "community" ? "网格" : isGrid ? "" : "下级区域";
  $("children").innerHTML = isGrid ? "" : "<tr><th>名称</th><th>受理</th><th>首次响应及时率</th><th>办结率</th><th>满意率</th><th>超期</th><th>得分</th></tr>" + kids.map((r) =>
    `<tr class="link"><td class="name">${link(r.node.level === "grid" ? { grid: r.node.id, region: null } : { region: r.node.id, grid: null }, esc(r.node.name))}</td><td>${num(r.received)}</td>` +
    `<td>${pct(r.first_response_on_time_rate)}</td><td>${pct(r.resolution_rate)}</td><td>${pct(r.satisfaction_rate)}</td><td>${num(r.overdue)}</td>` +
    `<td>${r.no_cases ? '<span class="tag">无案件</span>' : r.score === null ? "—" : r.score.toFixed(1)}</td></tr>`).join("");
  if (!isGrid) await ranking(m.node);
  else { $("ranking").innerHTML = ""; $("method").textContent = a.note ? "本网格得分说明：" + a.note : ""; }
  $("overdue").innerHTML = overdueTable(overdue);
  exportsPanel(m.node);
  $("status").textContent = `${LEVELS[m.node.level] || ""}${m.node.name}：${m.date_from} 至 ${m.date_to}，共 ${m.grid_count} 个网格`;
}

function trend(days) {
  const c = chart("trend"); if (!c) return;
  c.setOption({
    animation: false, tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 40, top: 30, bottom: 30, containLabel: true },
    xAxis: { type: "category", data: days.map((x) => x.day.slice(5)) },
    yAxis: [{ type: "value", name: "工单", minInterval: 1 }, { type: "value", name: "发言", splitLine: { show: false } }],
    series: [
      { name: "居民发言", type: "line", yAxisIndex: 1, data: days.map((x) => x.resident_messages) },
      { name: "受理", type: "line", data: days.map((x) => x.received) },
      { name: "办结", type: "line", data: days.map((x) => x.resolved) },
      { name: "超期", type: "line", data: days.map((x) => x.overdue) },
    ],
  }, true);
}

function categories(rows) {
  const c = chart("categories"); if (!c) return;
  c.off("click");
  c.setOption({
    animation: false, tooltip: { trigger: "item", formatter: "{b}：{c} 件（{d}%）" },
    series: [{ type: "pie", radius: ["35%", "65%"], data: rows.map((r) => ({ name: r.category, value: r.count })), label: { formatter: "{b}\n{c}" } }],
    title: rows.length ? undefined : { text: "统计期内无工单", left: "center", top: "middle", textStyle: { fontSize: 14, color: "#888" } },
  }, true);
  c.on("click", (p) => go({ view: "tickets", category: p.name, ticket: null, page: null }));
}

async function ranking(node) {
  const r = await api("/metrics/ranking", { region: node.id, key: "score", limit: 20, ...dates() });
  const method = defs.__method || {};
  const note = r.rows.find((x) => x.note && !x.no_cases);
  $("method").textContent = `${method.method || "考核办法"}：各指标权重之和 ${method.total_weight ?? ""}；无数据的指标不计分，其权重按比例分给其余指标；无案件的网格不参与排名。`;
  $("ranking").innerHTML = "<tr><th>排名</th><th>网格</th><th>得分</th><th>得分构成（得分/权重）</th></tr>" + r.rows.map((x) => {
    const parts = (x.parts || []).map((p) => `<span class="part${p.points === null ? " missing" : ""}" title="${esc((defs[p.key] || {}).definition || "")}">${esc(p.label)} ${p.value === null ? "无数据" : (defs[p.key] || {}).is_rate === false ? p.value.toFixed(2) : pct(p.value)} → ${p.points === null ? "不计" : p.points.toFixed(1)}/${p.weight}</span>`).join("");
    return `<tr><td>${x.rank ?? "—"}</td><td class="name">${link({ grid: x.node.id, region: null }, esc(x.node.name))}</td>` +
      `<td>${x.no_cases ? '<span class="tag">无案件</span>' : x.value === null ? "—" : x.value.toFixed(1)}</td><td class="parts">${parts}${x.note ? `<small>${esc(x.note)}</small>` : ""}</td></tr>`;
  }).join("");
  void note;
}

function overdueTable(rows) {
  if (!rows.length) return "<tr><td>当前没有超期工单</td></tr>";
  return "<tr><th>工单</th><th>类别</th><th>网格</th><th>责任人</th><th>应办结</th><th>超期时长</th><th>督办级别</th></tr>" + rows.map((t) =>
    `<tr><td>${link({ ticket: t.number }, "#" + t.number)}</td><td class="name">${esc(t.category)}</td><td class="name">${esc(t.grid)}</td>` +
    `<td>${esc(t.assignee || "未指派")}</td><td>${when(t.due_at)}</td><td class="late">${duration(t.overdue_s)}</td><td>${["网格员", "网格长", "社区", "街道"][t.escalation_level] || t.escalation_level}</td></tr>`).join("");
}

function exportsPanel(node) {
  const d = dates();
  const month = (d.to || new Date().toISOString().slice(0, 10)).slice(0, 7);
  const out = [];
  if (node.level === "street" || node.level === "district") {
    for (const [fmt, label] of [["xlsx", "月度通报 XLSX"], ["csv", "月度通报 CSV"], ["html", "月度通报 打印版"]]) {
      out.push(`<a class="button" id="export-bulletin-${fmt}" href="/bulletin?region=${node.id}&month=${month}&format=${fmt}" ${fmt === "html" ? 'target="_blank" rel="noopener"' : "download"}>${label}（${month}）</a>`);
    }
  } else out.push(`<span class="note">月度通报按街道或区生成，请进入街道或区查看。</span>`);
  out.push(`<a class="button" id="export-tickets" href="${ticketQuery("csv")}" download>工单清单 CSV</a>`);
  $("exports").innerHTML = out.join(" ");
}

// ---- tickets -----------------------------------------------------------------------------------
const FILTERS = ["status", "category", "priority", "overdue", "urged", "reopened"];
function ticketQuery(format, page) {
  const q = state(), p = new URLSearchParams();
  for (const [k, v] of Object.entries(where())) p.set(k, v);
  for (const k of FILTERS) if (q.get(k)) p.set(k, q.get(k));
  if (q.get("from")) p.set("from", q.get("from"));
  if (q.get("to")) p.set("to", q.get("to"));
  if (format) p.set("format", format);
  if (page) { p.set("offset", String((page - 1) * 50)); p.set("limit", "50"); }
  return "/dashboard/api/tickets?" + p;
}
let filterOptionsLoaded = false;
async function ticketList() {
  const q = state();
  const f = $("filters");
  if (!filterOptionsLoaded) {
    const sel = f.elements.status;
    for (const [v, l] of [["new", "待受理"], ["accepted", "已受理"], ["in_progress", "处理中"], ["suspended", "挂起"], ["resolved", "已办结"], ["closed", "已评价"], ["merged", "已合并"], ["rejected", "无效/退回"]]) sel.add(new Option(l, v));
    filterOptionsLoaded = true;
  }
  const ov = await api("/dashboard/api/overview", { ...where(), ...dates() }).catch(() => ({ categories: [] }));
  const cat = f.elements.category;
  const want = q.get("category") || "";
  cat.innerHTML = '<option value="">全部</option>' + [...new Set([...ov.categories.map((c) => c.category), ...(want ? [want] : [])])].map((c) => `<option>${esc(c)}</option>`).join("");
  for (const k of FILTERS) f.elements[k].value = q.get(k) || "";
  $("tickets-csv").href = ticketQuery("csv");
  const page = Number(q.get("page") || 1);
  const data = await fetchTickets(page);
  $("tickets").innerHTML = "<tr><th>工单</th><th>创建时间</th><th>网格</th><th>类别</th><th>紧急</th><th>状态</th><th>责任人</th><th>超期</th><th>标记</th><th>内容</th></tr>" +
    (data.items.length ? data.items.map((t) => `<tr><td>${link({ ticket: t.number }, "#" + t.number)}</td><td>${when(t.created_at)}</td><td class="name">${esc(t.grid)}</td><td>${esc(t.category)}</td>` +
      `<td>${t.priority === "urgent" ? '<span class="tag red">紧急</span>' : "一般"}</td><td>${esc(t.status_label)}</td><td>${esc(t.assignee || "未指派")}</td><td class="late">${t.overdue_s ? duration(t.overdue_s) : ""}</td>` +
      `<td>${t.urged ? '<span class="tag">催办</span>' : ""}${t.reopened ? '<span class="tag">重办</span>' : ""}${t.source === "patrol" ? '<span class="tag">主动发现</span>' : ""}</td><td class="text">${esc(t.text).slice(0, 60)}</td></tr>`).join("") : '<tr><td colspan="10">没有符合条件的工单</td></tr>');
  const pages = Math.max(1, Math.ceil(data.total / 50));
  $("pager").innerHTML = `共 ${data.total} 件，第 ${page}/${pages} 页 ` + (page > 1 ? link({ page: page - 1 }, "上一页") : "") + " " + (page < pages ? link({ page: page + 1 }, "下一页") : "");
  $("status").textContent = `工单清单：${data.total} 件`;
}
async function fetchTickets(page) {
  return api(ticketQuery(null, page));
}
$("filters").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const f = ev.target, ch = { page: null, view: "tickets" };
  for (const k of FILTERS) ch[k] = f.elements[k].value;
  go(ch);
});

const ATTACHMENT_ROLES = { report: "居民现场照片", after: "处置后照片" };
const REFUSED = { too_large: "文件过大", type_not_allowed: "类型不允许", empty: "文件为空", not_delivered: "平台未下载", store_failed: "服务器保存失败" };
function attachmentList(list) {
  if (!list.length) return "<p>暂无照片或附件</p>";
  return `<ul class="attachments">${list.map((a) => {
    const head = `<time>${when(a.at)}</time> ${esc(ATTACHMENT_ROLES[a.role] || "附件")}`;
    if (a.status !== "stored") return `<li>${head}：<span class="late">未保存（${esc(REFUSED[a.reason] || a.reason)}）</span></li>`;
    const url = "/attachments/" + encodeURIComponent(a.id);
    if (a.kind === "image") return `<li>${head}<br><a href="${url}" target="_blank" rel="noopener"><img class="thumb" src="${url}" alt="${esc(ATTACHMENT_ROLES[a.role] || "照片")}" loading="lazy"></a></li>`;
    const what = a.kind === "voice" ? `语音${a.needs_listening ? "（待网格员收听）" : ""}` : "文件";
    return `<li>${head}：<a href="${url}">下载${what}</a>${a.transcript ? `<div class="note">转写（已脱敏）：${esc(a.transcript)}</div>` : ""}</li>`;
  }).join("")}</ul>`;
}

async function ticketPage() {
  const n = state().get("ticket");
  const t = await api("/dashboard/api/tickets/" + encodeURIComponent(n));
  const row = (k, v) => `<tr><th>${k}</th><td>${v}</td></tr>`;
  $("ticket").innerHTML = `<h2>工单 #${t.number} <span class="tag">${esc(t.status_label)}</span>${t.priority === "urgent" ? '<span class="tag red">紧急</span>' : ""}${t.urged ? '<span class="tag">催办</span>' : ""}${t.reopened ? '<span class="tag">重办</span>' : ""}</h2>` +
    `<div class="scroll"><table class="kv">${row("类别", esc(t.category))}${row("网格", link({ grid: t.grid_id, region: null, ticket: null }, esc(t.grid)))}${row("责任人", esc(t.assignee || "未指派"))}` +
    `${row("来源", t.source === "patrol" ? "网格员巡查主动发现" : "居民反映")}${row("反映人数", t.reporters)}${row("创建时间", when(t.created_at))}${row("应办结", when(t.due_at))}` +
    `${row("超期", t.overdue_s ? `<span class="late">${duration(t.overdue_s)}</span>` : "否")}${row("督办级别", t.escalation_level)}${row("内容（已脱敏）", esc(t.text))}${t.resolution_note ? row("办结说明", esc(t.resolution_note)) : ""}</table></div>` +
    `<h3>办理过程</h3><ol class="trail">${t.events.map((e) => `<li><time>${when(e.at)}</time> <b>${esc(ACTIONS[e.action] || e.action)}</b> ${esc(e.actor || "系统")}${e.from_status && e.to_status && e.from_status !== e.to_status ? `：${esc(e.from_status)} → ${esc(e.to_status)}` : ""}${e.note ? `<div class="note">${esc(e.note)}</div>` : ""}</li>`).join("")}</ol>` +
    `<h3>时限</h3><div class="scroll"><table><tr><th>时限</th><th>轮次</th><th>应完成</th><th>完成</th></tr>${t.deadlines.map((d) => `<tr><td>${{ first_response: "首次响应", feedback: "反馈", resolution: "办结" }[d.kind] || d.kind}</td><td>${d.cycle + 1}</td><td>${when(d.due_at)}</td><td>${d.met_at ? when(d.met_at) + (new Date(d.met_at) > new Date(d.due_at) ? ' <span class="late">超时</span>' : "") : d.paused ? "挂起中" : "未完成"}</td></tr>`).join("")}</table></div>` +
    `<h3>群消息</h3>${t.messages.length ? `<ol class="messages">${t.messages.map((m) => `<li><time>${when(m.at)}</time> <b>${esc(m.sender || (m.direction === "outbound" ? "机器人" : "居民"))}</b>：${m.type === "image" ? '<span class="tag">图片</span>' : ""}${esc(m.text)}</li>`).join("")}</ol>` : "<p>没有关联的群消息</p>"}` +
    `<h3>照片与附件</h3>${attachmentList(t.attachments || [])}` +
    `<h3>评价与回访</h3>${t.ratings.length ? `<ul>${t.ratings.map((r) => `<li><time>${when(r.at)}</time> 第${r.cycle + 1}轮：${esc(SCORES[r.score] || r.score)}；问题解决了吗：${r.solved === null ? "未回答" : r.solved ? "已解决" : "未解决"}${r.comment ? "；" + esc(r.comment) : ""}</li>`).join("")}</ul>` : "<p>尚无评价</p>"}` +
    `<p><button type="button" id="back">返回</button></p>`;
  $("back").addEventListener("click", () => (history.length > 1 ? history.back() : go({ ticket: null })));
  $("status").textContent = `工单 #${t.number}`;
}

// ---- gridworkers, map, quality -----------------------------------------------------------------
async function workers() {
  const r = await api("/dashboard/api/workers", { ...where(), ...dates() });
  $("workers").innerHTML = "<tr><th>网格员</th><th>期内工单</th><th>首次响应及时率</th><th>及时签收率</th><th>办结率</th><th>满意率</th><th>在办</th><th>超期</th><th>主动发现</th></tr>" +
    (r.workers.length ? r.workers.map((w) => `<tr><td class="name">${esc(w.name)}</td><td>${w.received}</td><td>${pct(w.first_response_on_time_rate)}</td><td>${pct(w.on_time_signing_rate)}</td><td>${pct(w.resolution_rate)}</td>` +
      `<td>${pct(w.satisfaction_rate)}（${w.rated}）</td><td>${w.open}</td><td class="${w.overdue ? "late" : ""}">${w.overdue}</td><td>${w.patrol}</td></tr>`).join("") : '<tr><td colspan="9">统计期内没有指派给网格员的工单</td></tr>');
  $("status").textContent = `网格员：${r.workers.length} 人（${r.date_from} 至 ${r.date_to}）`;
}

const MAP_KEYS = ["received", "overdue", "score", "first_response_on_time_rate", "resolution_rate", "satisfaction_rate", "membership_rate"];
async function gridMap() {
  const q = state();
  const key = q.get("key") || "received";
  const sel = $("map-key");
  sel.innerHTML = MAP_KEYS.map((k) => `<option value="${k}">${esc((defs[k] || {}).label || ({ received: "受理量", overdue: "超期工单", score: "考核得分" })[k] || k)}</option>`).join("");
  sel.value = key;
  sel.onchange = () => go({ key: sel.value });
  const region = where().region || (me && me.region_id);
  const r = await api("/dashboard/api/map", { region, key, ...dates() });
  const c = chart("map"); if (!c) return;
  const rate = (defs[key] || {}).is_rate;
  const fmt = (v) => (v === null || v === undefined ? "无数据" : rate ? pct(v) : Number(v).toFixed(key === "score" ? 1 : 0));
  const values = r.grids.map((g) => g.value).filter((v) => v !== null);
  const visualMap = { min: Math.min(0, ...values), max: Math.max(rate ? 1 : 1, ...values), calculable: true, left: 0, bottom: 0, inRange: { color: key === "overdue" ? ["#e8f5e9", "#c62828"] : ["#ffebee", "#1565c0"] }, formatter: (v) => fmt(v) };
  const polygons = r.grids.filter((g) => g.geometry);
  // features are named by grid id: grid names repeat across communities (第一网格)
  const byId = Object.fromEntries(r.grids.map((g) => [String(g.grid_id), g.name]));
  c.off("click");
  if (polygons.length) {
    echarts.registerMap("grids", { type: "FeatureCollection", features: polygons.map((g) => ({ type: "Feature", properties: { name: String(g.grid_id) }, geometry: g.geometry })) });
    c.setOption({ animation: false, tooltip: { formatter: (p) => `${esc(byId[p.name] || p.name)}：${fmt(p.value)}` }, visualMap,
      series: [{ type: "map", map: "grids", roam: true, label: { show: polygons.length < 60, formatter: (p) => byId[p.name] || "" }, data: polygons.map((g) => ({ name: String(g.grid_id), value: g.value, gridId: g.grid_id })) }] }, true);
  } else {
    const pts = r.grids.filter((g) => g.center);
    c.setOption({ animation: false, tooltip: { formatter: (p) => `${esc(p.data.name)}：${fmt(p.data.v)}` }, visualMap: { ...visualMap, dimension: 2 },
      xAxis: { type: "value", scale: true, name: "经度" }, yAxis: { type: "value", scale: true, name: "纬度" },
      series: [{ type: "scatter", symbolSize: pts.length > 2000 ? 4 : 14, data: pts.map((g) => ({ name: g.name, value: [...g.center, g.value ?? 0], v: g.value, gridId: g.grid_id })) }] }, true);
  }
  c.on("click", (p) => { if (p.data && p.data.gridId) go({ grid: p.data.gridId, region: null, view: "overview" }); });
  const shown = polygons.length ? "网格边界" : r.outlines === false ? "网格较多，只画中心点；进入区、街道可看网格边界" : "网格中心点";
  $("map-note").textContent = r.grids.length ? `共 ${r.grids.length} 个网格有位置数据（${shown}），点击网格查看详情；不依赖在线地图服务。` : "本区域的网格尚未导入位置（中心点或边界 GeoJSON），无法绘制地图。";
  $("status").textContent = `地图：${(defs[key] || {}).label || key}（${r.date_from} 至 ${r.date_to}）`;
}

async function quality() {
  const rows = await api("/metrics/quality", where());
  $("quality").innerHTML = "<tr><th>检查项</th><th>结果</th><th>说明</th><th>处理办法</th></tr>" + rows.map((c) =>
    `<tr><td>${esc(c.label)}</td><td class="${c.ok ? "ok" : "late"}">${c.ok ? "正常" : `${c.problems} 项问题`}</td><td>${esc(c.detail)}</td><td>${c.ok ? "" : esc(c.fix)}</td></tr>`).join("");
  $("status").textContent = "数据质量自检";
}

start();
