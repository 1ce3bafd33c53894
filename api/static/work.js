// The gridworkers' work page: a one-time code from the bot's private message (in the link's #fragment,
// which browsers never send to a server) is exchanged for an HttpOnly cookie, then removed from the
// address bar. Every action goes through the same ticket lifecycle as the chat commands.
"use strict";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const pct = (r) => (r === null || r === undefined ? "—" : (100 * r).toFixed(0) + "%");
const when = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false, month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" }) : "—");
const ROLES = { report: "居民现场照片", after: "处置后照片" };
function attachmentList(list, base) {
  if (!list.length) return "<p>暂无照片或附件</p>";
  return `<ul class="attachments">${list.map((a) => {
    const head = `${when(a.at)} ${esc(ROLES[a.role] || "附件")}`;
    if (a.status !== "stored") return `<li>${head}：<span class="error">未保存（${esc({ too_large: "文件过大", type_not_allowed: "类型不允许", empty: "文件为空", not_delivered: "平台未下载", store_failed: "服务器保存失败" }[a.reason] || a.reason)}）</span></li>`;
    if (a.kind === "image") return `<li>${head}<br><a href="${base}${a.id}" target="_blank" rel="noopener"><img class="thumb" src="${base}${a.id}" alt="${esc(ROLES[a.role] || "照片")}" loading="lazy"></a></li>`;
    const voice = a.kind === "voice" ? `语音${a.needs_listening ? "（待收听）" : ""}` : "文件";
    const done = a.needs_listening ? ` <button class="secondary" data-heard="${a.id}">已收听</button>` : "";
    return `<li>${head}：<a href="${base}${a.id}">下载${voice}</a>${done}${a.transcript ? `<div class="note">转写：${esc(a.transcript)}</div>` : ""}</li>`;
  }).join("")}</ul>`;
}
const KINDS = { first_response: "首次响应", feedback: "反馈", resolution: "办结" };
const ACTIONS = { create: "创建", accept: "接单", respond: "回复", resolve: "办结", close: "关闭", suspend: "挂起", resume: "恢复", transfer: "转派", reject: "退回", reopen: "重办", reclassify: "改类", report: "居民再次反映", urge: "催办", thread: "群内相关发言" };

function left(iso) {
  if (!iso) return "";
  const s = (new Date(iso) - Date.now()) / 1000, a = Math.abs(s);
  const t = a >= 86400 ? `${Math.floor(a / 86400)}天${Math.floor((a % 86400) / 3600)}小时` : a >= 3600 ? `${Math.floor(a / 3600)}小时${Math.floor((a % 3600) / 60)}分` : `${Math.max(1, Math.floor(a / 60))}分钟`;
  return s >= 0 ? `剩余 ${t}` : `已超时 ${t}`;
}
// what an action did, told after the page is drawn again (drawing sets its own status line)
function done(text) { $("status").textContent = text; $("status").className = ""; }

function message(status, body) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) return "填写的内容有误";
  return { 401: "请重新登录", 403: "无权操作该工单", 404: "没有找到该工单", 409: "该工单当前不能这样操作" }[status] || `服务器错误（${status}）`;
}
async function call(method, path, body) {
  let res;
  const file = body instanceof Blob;  // a photo upload: the image itself is the request body
  try {
    res = await fetch(path, { method, credentials: "same-origin", headers: file ? { "Content-Type": body.type || "application/octet-stream" } : body ? { "Content-Type": "application/json" } : {}, body: file ? body : body ? JSON.stringify(body) : undefined });
  } catch (e) { throw new Error("无法连接服务器，请检查网络"); }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.status === 401) { signedOut("登录已过期，请向机器人发送「工作台」重新获取链接"); throw new Error("请重新登录"); }
  if (!res.ok) throw new Error(message(res.status, data));
  return data;
}

function signedOut(msg) { $("app").hidden = true; $("logout").hidden = true; $("signin").hidden = false; $("signin-error").textContent = msg || ""; }
async function signIn(code) {
  $("signin-error").textContent = "";
  const res = await fetch("/work/login", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }) }).catch(() => null);
  if (!res) { $("signin-error").textContent = "无法连接服务器，请检查网络"; return false; }
  if (!res.ok) { $("signin-error").textContent = message(res.status, await res.json().catch(() => null)); signedOut($("signin-error").textContent); return false; }
  return true;
}
$("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (await signIn($("code").value.trim())) { $("code").value = ""; start(); }
});
$("logout").addEventListener("click", async () => { await fetch("/work/logout", { method: "POST", credentials: "same-origin" }).catch(() => null); signedOut("已退出"); });

// ---- tabs in the URL (?tab=…&t=N) so Back works --------------------------------------------------
function go(q) { history.pushState(null, "", "/work?" + new URLSearchParams(q)); render(); }
window.addEventListener("popstate", () => render());
document.querySelectorAll("#tabs a").forEach((a) => a.addEventListener("click", () => go({ tab: a.dataset.tab })));

let me = null;
async function start() {
  try { me = await call("GET", "/work/api/me"); } catch (e) { if (!$("signin").hidden) return; signedOut(e.message); return; }
  $("signin").hidden = true; $("app").hidden = false; $("logout").hidden = false;
  render();
}
async function render() {
  const q = new URLSearchParams(location.search);
  const tab = q.get("t") ? "ticket" : q.get("tab") || "mine";
  document.querySelectorAll("#tabs a").forEach((a) => a.classList.toggle("active", a.dataset.tab === tab));
  document.querySelectorAll(".tab").forEach((s) => s.classList.toggle("active", s.id === "tab-" + tab));
  $("status").textContent = "加载中…"; $("status").className = "";
  try { await { mine, review, stats, ticket: () => ticket(q.get("t")) }[tab](); }
  catch (e) { $("status").textContent = e.message; $("status").className = "error"; }
}

function card(t, extra) {
  const due = t.next_due || t.due_at;
  const late = due && new Date(due) < Date.now();
  return `<li class="${t.priority === "urgent" ? "urgent" : late ? "late" : ""}" data-t="${t.number}">` +
    `<b>#${t.number} ${esc(t.category)}</b> ${t.priority === "urgent" ? '<span class="tag red">紧急</span>' : ""}<span class="tag">${esc(t.status_label)}</span>${t.urged ? '<span class="tag">催办</span>' : ""}${t.reopened ? '<span class="tag">重办</span>' : ""}` +
    `<div>${esc(t.text).slice(0, 80)}</div><div class="meta">${esc(t.grid)} · ${t.next_kind ? KINDS[t.next_kind] + "期限 " : "期限 "}${left(due)}</div>${extra || ""}</li>`;
}
function openOnClick(list) { list.querySelectorAll("li[data-t]").forEach((li) => li.addEventListener("click", (ev) => { if (!ev.target.closest("button,select,input")) go({ t: li.dataset.t }); })); }

async function mine() {
  const rows = await call("GET", "/work/api/tickets");
  $("mine").innerHTML = rows.length ? rows.map((t) => card(t)).join("") : "<li>没有待办工单 👍</li>";
  openOnClick($("mine"));
  $("status").textContent = `${me.name}：待办 ${rows.length} 件（紧急和快到期的在前）`;
}

async function review() {
  const r = await call("GET", "/work/api/review");
  const options = r.categories.map((c) => `<option>${esc(c.label)}</option>`).join("");
  $("review").innerHTML = r.items.length ? r.items.map((t) => card(t, `<div class="actions"><button data-do="accept">确认并接单</button>` +
    `<select aria-label="正确的类别"><option value="">改为…</option>${options}</select><button class="secondary" data-do="reclassify">改类</button>` +
    `<button class="secondary" data-do="reject">不是问题，退回</button></div>`)).join("") : "<li>没有待确认的工单</li>";
  $("review").querySelectorAll("button[data-do]").forEach((b) => b.addEventListener("click", async () => {
    const li = b.closest("li"), n = li.dataset.t, action = b.dataset.do;
    const body = {};
    if (action === "reclassify") { body.category = li.querySelector("select").value; if (!body.category) { $("status").textContent = "请先选择正确的类别"; return; } }
    if (action === "reject") { body.note = "机器人误判，非网格事项"; }
    try { await call("POST", `/work/api/tickets/${n}/${action}`, body); await review(); done(`工单 #${n} 已处理`); }
    catch (e) { $("status").textContent = e.message; $("status").className = "error"; }
  }));
  openOnClick($("review"));
  $("status").textContent = `待确认 ${r.items.length} 件：机器人拿不准的反映，请确认或纠正（纠正会用于改进识别）`;
}

async function stats() {
  me = await call("GET", "/work/api/me");
  const m = me.mine;
  $("stats").innerHTML = (m ? `<h3>我本周</h3><div class="stat"><div><b>${m.received}</b>新工单</div><div><b>${m.open}</b>在办</div><div><b>${m.overdue}</b>超期</div>` +
    `<div><b>${pct(m.first_response_on_time_rate)}</b>首次响应及时率</div><div><b>${pct(m.on_time_signing_rate)}</b>及时签收率</div><div><b>${pct(m.satisfaction_rate)}</b>满意率</div></div>` : "<p>本周还没有指派给我的工单</p>") +
    me.grids.map((g) => `<h3>${esc(g.name)} 本周</h3><div class="stat"><div><b>${g.received}</b>受理</div><div><b>${g.resolved}</b>办结</div>` +
      `<div><b>${pct(g.first_response_on_time_rate)}</b>首次响应及时率（应响应 ${g.response_due}）</div><div><b>${pct(g.satisfaction_rate)}</b>满意率</div><div><b>${pct(g.solve_rate)}</b>解决率</div><div><b>${g.overdue}</b>超期</div></div>`).join("") +
    `<p class="meta">未到期且未响应的工单不计入响应类指标，与群里「统计」一致。</p>`;
  $("status").textContent = "本周数据（周一至今）";
}

async function ticket(n) {
  const t = await call("GET", `/work/api/tickets/${encodeURIComponent(n)}`);
  const others = t.transfer_to.map((p) => `<option value="${p.person_id}">${esc(p.name)}</option>`).join("");
  $("ticket").innerHTML = `<ul class="cards">${card({ ...t, next_due: null })}</ul>` +
    `<label>说明 / 回复内容<textarea id="note" rows="3" maxlength="500" placeholder="回复居民的话、挂起原因或办结说明"></textarea></label>` +
    `<label>处置后照片<input type="file" id="photo" accept="image/*" capture="environment"></label>` +
    `<div class="actions"><button data-do="accept">接单</button><button data-do="reply">回复</button><button data-do="resolve">办结</button>` +
    `<button class="secondary" data-do="suspend">挂起</button><button class="secondary" data-do="resume">恢复</button></div>` +
    (others ? `<div class="actions"><select id="to" aria-label="转派给">${others}</select><button class="secondary" data-do="transfer">转派</button></div>` : "") +
    `<h3>照片与附件</h3>${attachmentList(t.attachments, "/work/api/attachments/")}` +
    `<h3>办理过程</h3><ol class="trail">${t.events.map((e) => `<li>${when(e.at)} ${esc(ACTIONS[e.action] || e.action)} ${esc(e.actor || "系统")}${e.note ? "：" + esc(e.note) : ""}</li>`).join("")}</ol>` +
    `<h3>评价</h3>${t.ratings.length ? t.ratings.map((r) => `<p>${when(r.at)} ${{ satisfied: "满意", basically_satisfied: "基本满意", unsatisfied: "不满意" }[r.score]}；${r.solved === null ? "未回答是否解决" : r.solved ? "已解决" : "未解决"}</p>`).join("") : "<p>尚无评价</p>"}`;
  $("ticket").querySelectorAll("button[data-heard]").forEach((b) => b.addEventListener("click", async () => {
    try { await call("POST", `/work/api/attachments/${b.dataset.heard}/heard`); await ticket(n); }
    catch (e) { $("status").textContent = e.message; $("status").className = "error"; }
  }));
  $("photo").addEventListener("change", async (ev) => {
    const f = ev.target.files[0];
    if (!f) return;
    try { await call("POST", `/work/api/tickets/${t.number}/photos`, f); await ticket(n); done("处置后照片已上传"); }
    catch (e) { $("status").textContent = e.message; $("status").className = "error"; }
  });
  $("ticket").querySelectorAll("button[data-do]").forEach((b) => b.addEventListener("click", async () => {
    const body = { note: $("note").value.trim(), expected_version: t.version };
    if (b.dataset.do === "transfer") body.person_id = Number($("to").value);
    try { await call("POST", `/work/api/tickets/${t.number}/${b.dataset.do}`, body); await ticket(n); done(`已${b.textContent}`); }
    catch (e) { $("status").textContent = e.message; $("status").className = "error"; }
  }));
  $("status").textContent = `工单 #${t.number}`;
}

(async () => {
  const code = new URLSearchParams(location.hash.slice(1)).get("code");
  if (code) {
    history.replaceState(null, "", "/work");  // the one-time code leaves the address bar at once
    if (!(await signIn(code))) return;
  }
  start();
})();
