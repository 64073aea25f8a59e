// Live notifications: keeps the header's unread badge current and announces new notifications in a small toast
// (inside an aria-live region), in every open tab. Plain JavaScript, no build step, no inline script (the CSP).
//
// The socket (/ws/notifications/) says hello with the unread count and the newest notification id. After a
// reconnect the client sends {"type": "resume", "after": lastId} and gets what it missed. A heartbeat every
// 25 s reveals a lost message (the server's last_id is ahead: resume) and a half-open connection (no answer).
(function () {
  "use strict";

  var region = document.querySelector("[data-notifications-socket]");
  if (!region || !("WebSocket" in window)) { return; }
  var path = region.getAttribute("data-notifications-socket");
  var dismissLabel = region.getAttribute("data-dismiss-label") || "Dismiss";
  var MAX_TOASTS = 3;
  var TOAST_MS = 12000;

  var lastId = null;   // the newest notification id this tab knows of; null until the first hello
  var shown = {};      // ids already announced: a notification both replayed and pushed is shown once
  var socket = null;
  var attempt = 0;
  var heartbeatTimer = null;
  var reconnectTimer = null;
  var lastHeard = 0;
  var stopped = false;

  // The socket's state, for styles and tests: connecting, online, offline (reconnecting) or closed.
  function setState(state) { region.setAttribute("data-state", state); }

  function setUnread(count) {
    if (typeof count !== "number") { return; }
    document.querySelectorAll("[data-notifications-badge]").forEach(function (badge) {
      badge.textContent = String(count);
      badge.hidden = count <= 0;
    });
  }

  function dismissLater(item) {
    setTimeout(function () {
      // Someone reading or tabbing through the toast keeps it.
      if (item.matches(":hover") || item.contains(document.activeElement)) { dismissLater(item); return; }
      item.remove();
    }, TOAST_MS);
  }

  function toast(n) {
    var item = document.createElement("div");
    item.className = "notification-toast";
    item.setAttribute("data-testid", "notification-toast");
    var link = document.createElement("a");
    link.href = n.url;
    link.textContent = n.text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-ghost btn-small";
    close.setAttribute("aria-label", dismissLabel);
    close.textContent = "×";
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(link);
    item.appendChild(close);
    region.appendChild(item);
    while (region.children.length > MAX_TOASTS) { region.removeChild(region.firstElementChild); }
    dismissLater(item);
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(message)); }
  }

  function notification(m) {
    if (!shown[m.id]) {
      shown[m.id] = true;
      toast(m);
    }
    if (lastId === null || m.id > lastId) { lastId = m.id; }
    setUnread(m.unread);
  }

  function receive(m) {
    switch (m.type) {
      case "hello":
        if (lastId === null) { lastId = m.last_id; }
        setUnread(m.unread);
        setState("online");  // from here on, nothing is missed: the server joined this user's group first
        break;
      case "notification": notification(m); break;
      case "unread": setUnread(m.unread); break;
      case "resumed":
        if (lastId === null || m.last_id > lastId) { lastId = m.last_id; }
        setUnread(m.unread);
        break;
      case "heartbeat":
        setUnread(m.unread);
        if (lastId !== null && m.last_id > lastId) { send({type: "resume", after: lastId}); }
        break;
    }
  }

  // One socket at a time: each one's handlers act only while it is the current socket, so a replaced socket's
  // late close cannot schedule a second reconnect.
  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (stopped) { return; }
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) { return; }
    setState("connecting");
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + window.location.host + path);
    socket = ws;
    ws.addEventListener("open", function () {
      if (ws !== socket) { ws.close(); return; }
      attempt = 0;
      lastHeard = Date.now();
      // A reconnecting tab asks for what arrived while it was away; a fresh one learns lastId from hello.
      if (lastId !== null) { send({type: "resume", after: lastId}); }
      clearInterval(heartbeatTimer);
      heartbeatTimer = setInterval(heartbeat, 25000);
    });
    ws.addEventListener("message", function (frame) {
      if (ws !== socket) { return; }
      lastHeard = Date.now();
      var m;
      try { m = JSON.parse(frame.data); } catch (e) { return; }
      receive(m);
    });
    ws.addEventListener("close", function (event) {
      if (ws !== socket) { return; }
      clearInterval(heartbeatTimer);
      if (event.code === 4401 || event.code === 4403) { stopped = true; setState("closed"); return; }
      setState("offline");
      // Exponential backoff with jitter: 0.5 s, 1 s, 2 s … capped at 30 s.
      var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      reconnectTimer = setTimeout(connect, delay);
    });
  }

  function heartbeat() {
    if (!socket || socket.readyState !== WebSocket.OPEN) { return; }
    if (Date.now() - lastHeard > 60000) { socket.close(); return; }  // half-open: no answer to two heartbeats
    send({type: "heartbeat"});
  }

  window.addEventListener("online", function () {
    if (socket && socket.readyState !== WebSocket.OPEN && socket.readyState !== WebSocket.CONNECTING) {
      attempt = 0;
      connect();
    }
  });

  window.cocreateNotifications = {socket: function () { return socket; }};
  connect();
})();
