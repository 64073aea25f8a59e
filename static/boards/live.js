// The live room. Plain JavaScript, no build step, no inline script (the CSP forbids it).
//
// The room's state is the session's event log: the page loads it over REST, then listens on the socket.
// After any disconnect it reconnects with exponential backoff and sends {"type": "resume", "after": lastId};
// on {"type": "resync"} it reloads what it missed over REST, then resumes again. Messages it sends carry a
// client_msg_id and are re-sent after a reconnect until acknowledged; the server stores each id once.
(function () {
  "use strict";

  var configNode = document.getElementById("live-config");
  if (!configNode) { return; }
  var cfg = JSON.parse(configNode.textContent);
  var t = cfg.t;

  var state = {
    lastId: 0,
    seen: {},
    sessionState: cfg.state,
    current: cfg.currentAgendaItem,
    currentSetBy: 0,
    topic: "current",
    messages: {},
    questions: {},
    polls: {},
    decisions: [],
    actions: [],
    myUpvotes: {},
    myVotes: {},
    choices: {}                // poll id -> options ticked but maybe not sent yet: the list is redrawn on every event
  };
  var pending = {};            // client_msg_id -> message, until the server acknowledges it
  var socket = null;
  var attempt = 0;
  var heartbeatTimer = null;
  var reconnectTimer = null;   // the one pending reconnect, so that a reconnect and the "online" event never open two
  var lastHeard = 0;
  var stopped = false;
  var held = null;             // live events received while a resync loads the snapshot (see resync())

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else if (key === "className") { node.className = attrs[key]; }
      else if (key.slice(0, 2) === "on") { node.addEventListener(key.slice(2), attrs[key]); }
      else if (attrs[key] !== false && attrs[key] !== null && attrs[key] !== undefined) { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }
  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }
  function agendaTitle(id) {
    for (var i = 0; i < cfg.agenda.length; i++) { if (cfg.agenda[i].id === id) { return cfg.agenda[i].title; } }
    return "";
  }
  function toast(text) {
    var node = $("toast");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { node.hidden = true; }, 4000);
  }
  function setStatus(kind, text) {
    var node = $("conn-status");
    node.dataset.state = kind;
    node.textContent = text;
  }

  // --- Applying events ------------------------------------------------------------------------------

  function apply(ev) {
    if (state.seen[ev.id]) { return; }
    state.seen[ev.id] = true;
    if (ev.id > state.lastId) { state.lastId = ev.id; }
    var p = ev.payload;
    switch (ev.kind) {
      case "chat.message":
        state.messages[p.message] = {id: p.message, ev: ev.id, body: p.body, author: p.author, agenda: p.agenda_item,
          at: ev.created_at, pinned: false, hidden: false};
        break;
      case "chat.hidden":
        if (state.messages[p.message]) { state.messages[p.message].hidden = true; }
        break;
      case "chat.pinned":
        if (state.messages[p.message]) { state.messages[p.message].pinned = p.pinned; }
        break;
      case "question.asked":
      case "question.published":
        var known = state.questions[p.question] || {};
        state.questions[p.question] = {id: p.question, body: p.body, author: p.author, anonymous: p.anonymous,
          status: p.status === "pending" && ev.kind === "question.published" ? "open" : p.status,
          upvotes: Math.max(p.upvotes, known.upvotes || 0), pinned: known.pinned || false, agenda: p.agenda_item};
        if (ev.kind === "question.published") { state.questions[p.question].status = "open"; }
        break;
      case "question.upvoted":
        if (state.questions[p.question]) { state.questions[p.question].upvotes = Math.max(state.questions[p.question].upvotes, p.upvotes); }
        break;
      case "question.answered":
      case "question.hidden":
        if (state.questions[p.question]) { state.questions[p.question].status = p.status; }
        break;
      case "question.pinned":
        if (state.questions[p.question]) { state.questions[p.question].pinned = p.pinned; }
        break;
      case "poll.opened":
        state.polls[p.poll] = {id: p.poll, question: p.question, kind: p.kind, live: p.results_live, options: p.options,
          counts: null, voters: 0, closed: false, resultsAt: 0};
        break;
      case "poll.results":
      case "poll.closed":
        var poll = state.polls[p.poll];
        if (poll) {
          if (ev.id > poll.resultsAt) {
            poll.resultsAt = ev.id;
            poll.voters = p.voters;
            if (p.counts) { poll.counts = p.counts; }
          }
          if (ev.kind === "poll.closed") { poll.closed = true; poll.counts = p.counts; }
        }
        break;
      case "reaction.added":
        if (ev.created_at && Date.now() - Date.parse(ev.created_at) < 15000) { floatReaction(p.emoji); }
        break;
      case "agenda.advanced":
        if (ev.id > state.currentSetBy) { state.current = p.agenda_item; state.currentSetBy = ev.id; }
        break;
      case "decision.recorded":
        state.decisions.push({id: p.decision, text: p.text, agenda: p.agenda_item});
        break;
      case "action_item.created":
        state.actions.push({id: p.action_item, title: p.title, owner: p.owner, due: p.due_date});
        break;
      case "session.state":
        state.sessionState = p.state;
        if (p.agenda_item && ev.id > state.currentSetBy) { state.current = p.agenda_item; state.currentSetBy = ev.id; }
        break;
    }
  }

  // --- Rendering -------------------------------------------------------------------------------------
  //
  // Every event redraws the room, but in place: each list is built afresh off the page, then the nodes on the
  // page are patched to match it (text, attributes, children; rows matched by their data-key, buttons and inputs
  // by their data-focus). So a redraw never replaces the element a keyboard or screen-reader user is on, a live
  // region announces only what is new, and a ticked option stays ticked. Buttons in the lists carry a data-action
  // handled by one listener (see "Actions"), because a patched node keeps the listeners it was created with.

  function keyOf(node) {
    return node.nodeType === 1 ? (node.getAttribute("data-key") || node.getAttribute("data-focus")) : null;
  }

  function morph(target, source) {
    if (target.nodeType !== 1) {
      if (target.nodeValue !== source.nodeValue) { target.nodeValue = source.nodeValue; }
      return;
    }
    Array.prototype.slice.call(target.attributes).forEach(function (attr) {
      if (!source.hasAttribute(attr.name)) { target.removeAttribute(attr.name); }
    });
    Array.prototype.slice.call(source.attributes).forEach(function (attr) {
      if (target.getAttribute(attr.name) !== attr.value) { target.setAttribute(attr.name, attr.value); }
    });
    if (target.tagName === "INPUT") {
      // Once touched, an input's state lives in its properties; the attributes are only its defaults.
      target.checked = source.hasAttribute("checked");
      if (target !== document.activeElement && target.value !== source.value) { target.value = source.value; }
    }
    patchChildren(target, source);
  }

  // Makes ``parent``'s children look like ``source``'s: keyed nodes are kept (and moved if the order changed),
  // unkeyed ones are matched by position and kind; what is new is inserted, what is gone removed.
  function patchChildren(parent, source) {
    var keyed = {};
    Array.prototype.forEach.call(parent.childNodes, function (child) {
      var key = keyOf(child);
      if (key !== null) { keyed[key] = child; }
    });
    var cursor = parent.firstChild;
    Array.prototype.slice.call(source.childNodes).forEach(function (wanted) {
      var key = keyOf(wanted);
      var match = null;
      if (key !== null) {
        match = keyed[key] || null;
        if (match && match.nodeName !== wanted.nodeName) { match = null; }
        delete keyed[key];
      } else if (cursor && keyOf(cursor) === null && cursor.nodeName === wanted.nodeName) {
        match = cursor;
      }
      if (!match) {
        parent.insertBefore(wanted, cursor);
        return;
      }
      if (match === cursor) { cursor = cursor.nextSibling; } else { parent.insertBefore(match, cursor); }
      morph(match, wanted);
    });
    while (cursor) {
      var gone = cursor;
      cursor = cursor.nextSibling;
      parent.removeChild(gone);
    }
  }

  function draw(container, rows) {
    var fresh = document.createElement(container.tagName);
    rows.forEach(function (row) { if (row) { fresh.appendChild(row); } });
    patchChildren(container, fresh);
  }

  // The safety net under the patching: a node that had to move (a question that overtook another) loses focus
  // in the browser; give it back, with the caret or selection of a text field, without scrolling.
  // A node that is gone for good (the "Approve" of a question just approved, a hidden question) hands the focus
  // to what is left nearest to it: a control of the same item, else the list it was in.
  function keepingFocus(redraw) {
    var active = document.activeElement;
    var key = active ? active.getAttribute("data-focus") : null;
    var holder = active && active.closest ? active.closest("[data-key]") : null;
    var holderKey = holder ? holder.getAttribute("data-key") : null;
    var box = active && active.closest ? active.closest("[id]") : null;
    var boxId = box ? box.id : null;
    var typing = active && /^(TEXTAREA|INPUT)$/.test(active.tagName) && typeof active.selectionStart === "number";
    var selection = typing ? [active.selectionStart, active.selectionEnd, active.selectionDirection] : null;
    redraw();
    if (!active || active === document.body || document.activeElement === active) { return; }
    var target = active.isConnected ? active : (key ? document.querySelector('[data-focus="' + key + '"]') : null);
    if (!target && holderKey) {
      var same = document.querySelector('[data-key="' + holderKey + '"]');
      target = same ? same.querySelector("[data-focus]:not([disabled])") : null;
    }
    if (!target && boxId && document.getElementById(boxId)) {
      target = document.getElementById(boxId);
      if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    }
    if (!target) { return; }
    target.focus({preventScroll: true});
    if (selection && target.setSelectionRange) { target.setSelectionRange(selection[0], selection[1], selection[2]); }
  }

  function render() {
    keepingFocus(function () {
      renderState();
      renderAgenda();
      renderChat();
      renderQuestions();
      renderPolls();
      renderDecisions();
    });
  }

  function renderState() {
    var badge = $("session-state");
    badge.textContent = t[state.sessionState] || state.sessionState;
    badge.className = "status status-" + state.sessionState;
    var banner = $("live-banner");
    banner.hidden = state.sessionState !== "ended";
    banner.textContent = t.sessionEnded;
    if ($("start-session")) {
      $("start-session").hidden = state.sessionState !== "scheduled";
      $("end-session").hidden = state.sessionState !== "live";
    }
    document.body.classList.toggle("room-ended", state.sessionState === "ended");
  }

  function renderAgenda() {
    draw($("agenda-list"), cfg.agenda.map(function (item) {
      var li = el("li", {className: item.id === state.current ? "is-current" : "", "data-key": "agenda-" + item.id}, [
        el("span", {text: item.title}), el("span", {className: "meta", text: " · " + item.minutes + " min"})
      ]);
      if (item.ideas && item.ideas.length) {
        li.appendChild(el("ul", {className: "agenda-ideas", "aria-label": t.linkedIdeas}, item.ideas.map(function (idea) {
          return el("li", {"data-key": "idea-" + idea.id}, [
            el("a", {href: idea.url, target: "_blank", rel: "noopener", text: idea.title,
              "data-focus": "agenda-" + item.id + "-idea-" + idea.id}),
            el("span", {className: "meta", text: " · " + idea.supporters + " " + t.supporters})
          ]);
        })));
      }
      if (cfg.isFacilitator && item.id !== state.current && state.sessionState === "live") {
        li.appendChild(action("agenda.advance", item.id, t.goTo, "btn btn-ghost btn-small", "agenda-" + item.id + "-go"));
      }
      return li;
    }));
    var select = $("chat-topic");
    if (!select.options.length) {
      select.appendChild(el("option", {value: "current", text: "▶ " + t.live}));
      select.appendChild(el("option", {value: "all", text: t.allTopics}));
      cfg.agenda.forEach(function (item) { select.appendChild(el("option", {value: String(item.id), text: item.title})); });
      select.addEventListener("change", function () { state.topic = select.value; render(); });
    }
  }

  // A button whose click is handled by ``actions[name](id)``.
  function action(name, id, text, className, focusKey) {
    return el("button", {type: "button", className: className, text: text, "data-action": name, "data-id": id,
      "data-focus": focusKey});
  }

  function topicId() {
    if (state.topic === "current") { return state.current; }
    if (state.topic === "all") { return null; }
    return Number(state.topic);
  }

  function renderChat() {
    var log = $("chat-log");
    var wanted = topicId();
    var nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    var rows = Object.keys(state.messages).map(function (k) { return state.messages[k]; })
      .filter(function (m) { return !m.hidden && (state.topic === "all" || m.agenda === wanted); })
      .sort(function (a, b) { return a.ev - b.ev; });
    draw(log, !rows.length ? [el("li", {className: "meta empty-line", text: t.noMessages})] : rows.map(function (m) {
      var mine = m.author && m.author.id === cfg.user.id;
      var li = el("li", {className: "chat-msg" + (m.pinned ? " is-pinned" : "") + (mine ? " is-mine" : ""), "data-id": m.id,
        "data-key": "message-" + m.id}, [
        el("span", {className: "chat-author", text: m.author ? m.author.name : ""}),
        m.pinned ? el("span", {className: "chip", text: "📌 " + t.pinned}) : null,
        state.topic === "all" && m.agenda ? el("span", {className: "meta", text: " · " + agendaTitle(m.agenda)}) : null,
        el("p", {className: "chat-body", text: m.body})
      ]);
      if (cfg.isFacilitator) {
        li.appendChild(el("span", {className: "msg-tools"}, [
          action("chat.pin", m.id, m.pinned ? t.unpin : t.pin, "btn btn-ghost btn-small", "message-" + m.id + "-pin"),
          action("chat.hide", m.id, t.hide, "btn btn-ghost btn-small", "message-" + m.id + "-hide")
        ]));
      }
      return li;
    }));
    if (nearBottom) { log.scrollTop = log.scrollHeight; }
  }

  function renderQuestions() {
    var rows = Object.keys(state.questions).map(function (k) { return state.questions[k]; })
      .filter(function (q) { return q.status !== "hidden"; })
      .sort(function (a, b) {
        return (b.pinned - a.pinned) || ((a.status === "answered") - (b.status === "answered")) || (b.upvotes - a.upvotes) || (a.id - b.id);
      });
    draw($("question-list"), !rows.length ? [el("li", {className: "meta", text: t.noQuestions})] : rows.map(function (q) {
      var who = q.author ? q.author.name : t.anonymous;
      if (q.anonymous && q.author) { who = t.anonymous + " (" + q.author.name + ")"; }
      var upvoted = !!state.myUpvotes[q.id];
      var focus = "question-" + q.id;
      var upvote = action("question.upvote", q.id, "", "upvote" + (upvoted ? " is-done" : ""), focus + "-upvote");
      upvote.title = t.upvote;
      upvote.appendChild(el("span", {text: "▲"}));
      upvote.appendChild(el("strong", {text: String(q.upvotes)}));
      if (upvoted) {
        // Still focusable (a disabled button would drop the keyboard focus of whoever just pressed it).
        upvote.setAttribute("aria-disabled", "true");
      } else if (q.status === "pending" || state.sessionState !== "live") {
        upvote.disabled = true;
      }
      var li = el("li", {className: "question q-" + q.status + (q.pinned ? " is-pinned" : ""), "data-key": focus}, [
        upvote,
        el("div", {className: "q-text"}, [
          el("p", {text: q.body}),
          el("span", {className: "meta", text: who}),
          q.status === "pending" ? el("span", {className: "status status-pending", text: t.pending}) : null,
          q.status === "answered" ? el("span", {className: "status status-live", text: t.answered}) : null,
          q.pinned ? el("span", {className: "chip", text: "📌"}) : null
        ])
      ]);
      if (cfg.isFacilitator) {
        var tools = el("div", {className: "msg-tools"});
        if (q.status === "pending") {
          tools.appendChild(action("question.approve", q.id, t.approve, "btn btn-ok btn-small", focus + "-approve"));
        }
        if (q.status === "open") {
          tools.appendChild(action("question.answer", q.id, t.markAnswered, "btn btn-ghost btn-small", focus + "-answer"));
        }
        tools.appendChild(action("question.pin", q.id, q.pinned ? t.unpin : t.pin, "btn btn-ghost btn-small", focus + "-pin"));
        tools.appendChild(action("question.hide", q.id, t.hide, "btn btn-ghost btn-small", focus + "-hide"));
        li.appendChild(tools);
      }
      return li;
    }));
  }

  function renderPolls() {
    var polls = Object.keys(state.polls).map(function (k) { return state.polls[k]; }).sort(function (a, b) { return b.id - a.id; });
    draw($("poll-list"), !polls.length ? [el("p", {className: "meta", text: t.noPolls})] : polls.map(function (poll) {
      var focus = "poll-" + poll.id;
      var card = el("div", {className: "poll" + (poll.closed ? " is-closed" : ""), "data-poll": poll.id, "data-key": focus}, [
        el("p", {className: "poll-q"}, [el("strong", {text: poll.question}),
          poll.closed ? el("span", {className: "status", text: " " + t.closed}) : null]),
        el("p", {className: "meta", text: poll.voters + " " + t.voters})
      ]);
      var total = 0;
      if (poll.counts) { Object.keys(poll.counts).forEach(function (k) { total += poll.counts[k]; }); }
      var form = el("form", {className: "poll-form", "data-poll": poll.id, "data-key": focus + "-form"});
      poll.options.forEach(function (option) {
        var count = poll.counts ? (poll.counts[String(option.id)] || 0) : null;
        var pct = count !== null && total ? Math.round(100 * count / total) : 0;
        var input = el("input", {type: poll.kind === "multiple" ? "checkbox" : "radio", name: "poll-" + poll.id, value: option.id,
          "data-focus": focus + "-option-" + option.id,
          disabled: poll.closed || state.sessionState !== "live" ? "disabled" : false,
          checked: (state.choices[poll.id] || state.myVotes[poll.id] || []).indexOf(option.id) >= 0 ? "checked" : false});
        form.appendChild(el("label", {className: "poll-option", "data-key": focus + "-label-" + option.id}, [
          input, el("span", {text: option.label}),
          count !== null ? el("span", {className: "meta", text: " " + count + " (" + pct + "%)"}) : null,
          count !== null ? el("div", {className: "progress"}, [el("span", {style: "width:" + pct + "%"})]) : null
        ]));
      });
      if (!poll.counts && !poll.closed) { form.appendChild(el("p", {className: "meta", text: t.resultsAfterClose})); }
      if (!poll.closed && state.sessionState === "live") {
        form.appendChild(el("button", {type: "submit", className: "btn btn-secondary btn-small", text: t.vote,
          "data-focus": focus + "-vote"}));
      }
      card.appendChild(form);
      if (cfg.isFacilitator && !poll.closed) {
        card.appendChild(action("poll.close", poll.id, t.closePoll, "btn btn-ghost btn-small", focus + "-close"));
      }
      return card;
    }));
  }

  function renderDecisions() {
    draw($("decision-list"), !state.decisions.length ? [el("li", {className: "meta", text: t.nothingYet})] :
      state.decisions.map(function (d) { return el("li", {className: "decision", text: "✔ " + d.text, "data-key": "decision-" + d.id}); }));
    draw($("action-list"), !state.actions.length ? [el("li", {className: "meta", text: t.nothingYet})] :
      state.actions.map(function (a) {
        return el("li", {"data-key": "action-" + a.id}, [el("strong", {text: a.title}), el("br"),
          el("span", {className: "meta", text: a.owner.name + " · " + t.due + " " + a.due})]);
      }));
  }

  function renderPresence(users) {
    keepingFocus(function () {
      draw($("presence-list"), users.map(function (u) {
        return el("li", {"data-key": "user-" + u.id}, [el("span", {className: "dot", "aria-hidden": "true"}),
          el("span", {text: u.name + (u.id === cfg.user.id ? " (" + t.you + ")" : "")})]);
      }));
      $("presence-count").textContent = String(users.length);
    });
  }

  // --- Actions: the buttons and forms of the redrawn lists -----------------------------------------------

  var actions = {
    "agenda.advance": function (id) { send({type: "agenda.advance", agenda_item: id}); },
    "chat.pin": function (id) {
      var m = state.messages[id];
      if (m) { send({type: "chat.pin", message: id, pinned: !m.pinned}); }
    },
    "chat.hide": function (id) { send({type: "chat.hide", message: id}); },
    "question.upvote": function (id) {
      if (state.myUpvotes[id]) { return; }
      state.myUpvotes[id] = true;
      send({type: "question.upvote", question: id});
      render();
    },
    "question.approve": function (id) { send({type: "question.approve", question: id}); },
    "question.answer": function (id) { send({type: "question.answer", question: id}); },
    "question.pin": function (id) {
      var q = state.questions[id];
      if (q) { send({type: "question.pin", question: id, pinned: !q.pinned}); }
    },
    "question.hide": function (id) { send({type: "question.hide", question: id}); },
    "poll.close": function (id) { send({type: "poll.close", poll: id}); }
  };
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-action]") : null;
    if (!button || button.disabled || button.getAttribute("aria-disabled") === "true") { return; }
    actions[button.dataset.action](Number(button.dataset.id));
  });

  function ticked(form) {
    return Array.prototype.slice.call(form.querySelectorAll("input:checked")).map(function (i) { return Number(i.value); });
  }
  // Another member's vote redraws the poll: what this member ticked must survive it, or "Vote" sends nothing.
  $("poll-list").addEventListener("change", function (event) {
    var form = event.target.closest("form.poll-form");
    if (form) { state.choices[form.dataset.poll] = ticked(form); }
  });
  $("poll-list").addEventListener("submit", function (event) {
    var form = event.target.closest("form.poll-form");
    if (!form) { return; }
    event.preventDefault();
    var chosen = ticked(form);
    if (!chosen.length) { return; }
    var poll = Number(form.dataset.poll);
    state.myVotes[poll] = chosen;
    send({type: "poll.vote", poll: poll, options: chosen});
  });

  function floatReaction(emoji) {
    var stream = $("reaction-stream");
    var bubble = el("span", {className: "reaction-bubble", text: emoji});
    stream.appendChild(bubble);
    setTimeout(function () { bubble.remove(); }, 2500);
  }

  // --- Loading and the socket --------------------------------------------------------------------------

  // Pages through the event log after ``after`` (each next page starts after the last id of the one before,
  // never after an id that arrived live meanwhile: that would skip the rest of the log).
  function loadSince(after) {
    setStatus("catching-up", t.catchingUp);
    return fetch(cfg.eventsUrl + "?after=" + after, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (body) {
        body.events.forEach(apply);
        render();
        if (body.has_more) { return loadSince(body.last_id); }
        return null;
      });
  }

  // On resync: live events that arrive while the snapshot loads are held, and applied (in id order, each
  // once) only after it, then the socket resumes after the newest id. Applying them first would move lastId
  // past the snapshot's events still to come.
  function resync() {
    if (held) { return; }  // a load is under way; it resumes when done
    held = [];
    loadSince(state.lastId).then(function () {
      var waiting = held;
      held = null;
      waiting.sort(function (a, b) { return a.id - b.id; }).forEach(apply);
      render();
      transmit({type: "resume", after: state.lastId});
    }, function () {
      held = null;
      if (socket) { socket.close(); }
    });
  }

  // Writes to the current socket only once it is open. A message that cannot go now is not lost: everything the
  // user sent stays in ``pending`` until acknowledged and goes out again when the next socket opens.
  function transmit(message) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(message)); }
  }

  function send(message) {
    message.client_msg_id = message.client_msg_id || newId();
    pending[message.client_msg_id] = message;
    transmit(message);
    return message.client_msg_id;
  }

  // A message the server refused as too frequent waits 3 s, then 6, 12, up to 30, and is sent again; a reconnect
  // sends every pending message anyway.
  var retryDelays = {};
  function retryLater(id) {
    var delay = Math.min((retryDelays[id] || 1500) * 2, 30000);
    retryDelays[id] = delay;
    setTimeout(function () {
      if (!pending[id]) { delete retryDelays[id]; return; }
      transmit(pending[id]);
    }, delay);
  }

  // One socket at a time: each one's handlers act only while it is the current socket, so a late event of a
  // socket that was replaced can neither write to its successor while that one is still connecting nor
  // schedule a second reconnect.
  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (stopped) { return; }
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) { return; }
    setStatus("connecting", t.connecting);
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + window.location.host + cfg.socketPath);
    socket = ws;
    ws.addEventListener("open", function () {
      if (ws !== socket) { ws.close(); return; }
      attempt = 0;
      lastHeard = Date.now();
      transmit({type: "resume", after: state.lastId});
      Object.keys(pending).forEach(function (id) { transmit(pending[id]); });
      clearInterval(heartbeatTimer);
      heartbeatTimer = setInterval(heartbeat, 20000);
    });
    ws.addEventListener("message", function (frame) {
      if (ws !== socket) { return; }
      lastHeard = Date.now();
      var m = JSON.parse(frame.data);
      switch (m.type) {
        case "event":
          if (held) { held.push(m); } else { apply(m); render(); }
          break;
        case "ack": delete pending[m.client_msg_id]; delete retryDelays[m.client_msg_id]; break;
        case "resumed": setStatus("online", t.online); break;
        case "resync": resync(); break;
        case "presence": renderPresence(m.users); break;
        case "heartbeat":
          // The server's newest id is ahead of ours: something was lost on the way; ask for it.
          if (m.last_id > state.lastId && !held) { transmit({type: "resume", after: state.lastId}); }
          break;
        case "error":
          if (m.code === "rate_limited" && pending[m.client_msg_id]) {
            retryLater(m.client_msg_id);  // refused for now, not for good: it is sent again, later
          } else if (m.client_msg_id) {
            delete pending[m.client_msg_id];
          }
          toast(m.message);
          break;
      }
    });
    ws.addEventListener("close", function (event) {
      if (ws !== socket) { return; }
      clearInterval(heartbeatTimer);
      if (event.code === 4401 || event.code === 4403 || event.code === 4404) {
        stopped = true;
        setStatus("closed", t["closed" + event.code]);
        return;
      }
      setStatus("offline", t.reconnecting);
      // Exponential backoff with jitter: 0.5 s, 1 s, 2 s … capped at 30 s.
      var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      clearTimeout(reconnectTimer);
      reconnectTimer = setTimeout(connect, delay);
    });
  }

  function heartbeat() {
    if (!socket || socket.readyState !== WebSocket.OPEN) { return; }
    if (Date.now() - lastHeard > 50000) { socket.close(); return; }  // half-open: no answer to two heartbeats
    transmit({type: "heartbeat"});
  }

  // Back online: reconnect now rather than at the end of the backoff (connect() cancels the pending reconnect).
  window.addEventListener("online", function () {
    if (socket && socket.readyState !== WebSocket.OPEN && socket.readyState !== WebSocket.CONNECTING) { attempt = 0; connect(); }
  });

  // --- Forms -----------------------------------------------------------------------------------------

  function onSubmit(id, build) {
    var form = $(id);
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var message = build();
      if (message) { send(message); form.reset(); }
    });
  }

  onSubmit("chat-form", function () {
    var body = $("chat-input").value.trim();
    if (!body) { return null; }
    var topic = topicId();
    return {type: "chat.send", body: body, agenda_item: topic || state.current || null};
  });
  $("chat-input").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("chat-form").requestSubmit(); }
  });
  onSubmit("question-form", function () {
    var body = $("question-input").value.trim();
    return body ? {type: "question.ask", body: body, anonymous: $("question-anonymous").checked} : null;
  });
  onSubmit("poll-form", function () {
    var options = $("poll-options").value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
    return {type: "poll.open", question: $("poll-question").value.trim(), options: options,
      kind: $("poll-multiple").checked ? "multiple" : "single", results_live: $("poll-live").checked};
  });
  onSubmit("decision-form", function () {
    var text = $("decision-input").value.trim();
    return text ? {type: "decision.record", text: text} : null;
  });
  onSubmit("action-form", function () {
    return {type: "action_item.create", title: $("action-title").value.trim(), owner: Number($("action-owner").value),
      due_date: $("action-due").value};
  });
  if ($("action-owner")) {
    cfg.people.forEach(function (p) { $("action-owner").appendChild(el("option", {value: p.id, text: p.name})); });
  }
  if ($("agenda-next")) { $("agenda-next").addEventListener("click", function () { send({type: "agenda.advance"}); }); }
  if ($("start-session")) {
    $("start-session").addEventListener("click", function () { send({type: "session.start"}); });
    $("end-session").addEventListener("click", function () { if (window.confirm(t.confirmEnd)) { send({type: "session.end"}); } });
  }
  cfg.reactions.forEach(function (emoji) {
    $("reaction-buttons").appendChild(el("button", {type: "button", className: "btn btn-ghost btn-small reaction", text: emoji,
      onclick: function () { send({type: "reaction.add", emoji: emoji}); }}));
  });

  render();
  loadSince(state.lastId).then(connect, function () { connect(); });

  // Exposed for the browser tests and for debugging from the console.
  window.cocreateLive = {state: state, pending: pending, socket: function () { return socket; }};
})();
