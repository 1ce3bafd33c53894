// The WeCom sidebar: current external chat -> its pending replies (one tap to send) and open tickets.
(function () {
  "use strict";
  var token = null;
  var chatId = null;
  var statusEl = document.getElementById("status");

  function status(text) { statusEl.textContent = text; }

  function api(path, method) {
    return fetch(path, { method: method || "GET", headers: token ? { Authorization: "Bearer " + token } : {} })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { throw new Error(body.detail || ("请求失败 " + r.status)); }
          return body;
        });
      });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function button(label, cls, onClick) {
    var b = el("button", cls, label);
    b.addEventListener("click", onClick);
    return b;
  }

  function send(handoff, btn) {
    // sendChatMessage puts the text into the current chat; the archive then confirms it was sent
    wx.invoke("sendChatMessage", { msgtype: "text", enterChat: true, text: { content: handoff.text } }, function (res) {
      if (res.err_msg === "sendChatMessage:ok") {
        btn.textContent = "已发送";
        btn.disabled = true;
        status("已发送，存档确认后自动从列表移除");
      } else {
        status("发送未完成：" + res.err_msg);
      }
    });
  }

  function act(number, action) {
    api("/wecom/sidebar/api/chat/" + encodeURIComponent(chatId) + "/tickets/" + number.replace("#", "") + "/" + action, "POST")
      .then(function (t) { return load().then(function () { status("工单 " + t.number + " " + t.status); }); })
      .catch(function (e) { status(e.message); });
  }

  function render(chat) {
    document.getElementById("topic").textContent = chat.topic;
    var h = document.getElementById("handoffs");
    h.innerHTML = "";
    if (!chat.handoffs.length) { h.appendChild(el("div", "muted", "暂无")); }
    chat.handoffs.forEach(function (item) {
      var card = el("div", "card");
      card.dataset.handoff = item.id;
      if (item.ticket) { card.appendChild(el("div", "muted", "工单 " + item.ticket)); }
      card.appendChild(el("div", "text", item.text));
      var b = button("发送", "", function () { send(item, b); });
      card.appendChild(b);
      h.appendChild(card);
    });
    var t = document.getElementById("tickets");
    t.innerHTML = "";
    if (!chat.tickets.length) { t.appendChild(el("div", "muted", "暂无")); }
    chat.tickets.forEach(function (item) {
      var card = el("div", "card");
      card.dataset.ticket = item.number;
      card.appendChild(el("div", "", item.number + "【" + item.category + "】" + item.status));
      card.appendChild(el("div", "text muted", item.text));
      card.appendChild(button("接单", "plain", function () { act(item.number, "accept"); }));
      card.appendChild(button("办结", "plain", function () { act(item.number, "resolve"); }));
      t.appendChild(card);
    });
    status("已更新");
  }

  function load() {
    return api("/wecom/sidebar/api/chat/" + encodeURIComponent(chatId)).then(render);
  }

  function start() {
    var code = new URLSearchParams(location.search).get("code");
    if (!code) { status("请从企业微信聊天工具栏打开本页"); return; }
    api("/wecom/sidebar/api/session?code=" + encodeURIComponent(code))
      .then(function (s) {
        token = s.token;
        return api("/wecom/sidebar/api/jsconfig?url=" + encodeURIComponent(location.href.split("#")[0]));
      })
      .then(function (cfg) {
        wx.agentConfig({
          corpid: cfg.corpid, agentid: cfg.agentid, timestamp: cfg.timestamp,
          nonceStr: cfg.nonceStr, signature: cfg.signature,
          jsApiList: ["getCurExternalChat", "sendChatMessage"],
          success: function () {
            wx.invoke("getCurExternalChat", {}, function (res) {
              if (res.err_msg !== "getCurExternalChat:ok") { status("请在客户群中打开：" + res.err_msg); return; }
              chatId = res.chatId;
              load().catch(function (e) { status(e.message); });
            });
          },
          fail: function (res) { status("企业微信授权失败：" + (res.errMsg || res.err_msg)); }
        });
      })
      .catch(function (e) { status(e.message); });
  }

  start();
})();
