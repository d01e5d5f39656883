/* Staff inbox: live queue and the selected conversation's transcript (a `watch` frame) over
   /ws/inbox/, replies and typing over the socket.
   Every action also works as a plain POST form (this script only upgrades them). */
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  if (!root) return;
  var tenant = root.dataset.tenant;
  var selected = parseInt(root.dataset.selected || "0", 10);
  var conversation = parseInt(root.dataset.conversation || "0", 10);
  var canAct = root.dataset.canAct === "1";
  var me = parseInt(root.dataset.user || "0", 10);
  var manager = root.dataset.manager === "1";
  // "YYYY-MM-DD HH:MM" in the tenant's zone, as the page draws a row's SLA (Swedish dates are ISO's)
  var dueFormat = new Intl.DateTimeFormat("sv-SE", {
    timeZone: root.dataset.timezone || "UTC", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23"
  });
  var liveState = document.getElementById("live-state");
  var list = document.getElementById("queue-list");
  var more = document.getElementById("queue-more");
  var backlogTitle = document.getElementById("backlog-title");
  var transcript = document.getElementById("transcript");
  var statusLine = document.getElementById("agent-status");
  var presence = document.getElementById("customer-presence");
  var news = document.getElementById("queue-news");
  var replyForm = document.querySelector("form.reply");
  var claimForm = document.querySelector('form[data-action="claim"]');
  var assigned = document.getElementById("assigned");
  var heldBy = document.getElementById("held-by");
  var closeActions = document.getElementById("close-actions");
  var moveActions = document.getElementById("move-actions");
  var socket = null;
  var attempts = 0;
  var lastTyping = 0;
  var unconfirmed = "";  // the reply sent over the socket, not yet acknowledged (or refused)
  var known = {};  // escalation id -> true for every live row shown, to tell arrivals apart
  list.querySelectorAll(".queue-item").forEach(function (item) { known[item.dataset.escalation] = true; });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The row whose link has the keyboard focus (0: none): the queue is redrawn under the agent's
  // hands, and the focus must not fall back to the top of the page each time a customer arrives.
  function focusedRow() {
    var row = list.contains(document.activeElement) && document.activeElement.closest(".queue-item");
    return row ? parseInt(row.dataset.escalation, 10) : 0;
  }

  // Arrivals are read out (the queue itself is redrawn whole, so it can't be a live region).
  function announceArrivals(items) {
    var said = [];
    items.forEach(function (row) {
      if (known[row.escalation_id]) return;
      said.push("New in the queue: #" + row.escalation_id + ", " + row.priority + " priority" +
        (row.position ? ", number " + row.position + " in line." : "."));
    });
    known = {};
    items.forEach(function (row) { known[row.escalation_id] = true; });
    if (said.length) news.textContent = said.join(" ");
  }

  // The open escalation's holder, as the queue says: once another agent holds it, the page offers what
  // it would after a reload — no claim and no reply form (one with a reply begun stays: sent, it is
  // refused and kept), and to agents no hand-back or resolve (only the holder, owners and admins close it).
  function showHolder(row) {
    if (!assigned) return;
    assigned.textContent = row.assigned_to || "nobody yet";
    if (row.assigned_to_id === null || row.assigned_to_id === me || !heldBy) return;
    heldBy.textContent = row.assigned_to + " holds this escalation: only they reply to the customer.";
    heldBy.hidden = false;
    if (claimForm) claimForm.hidden = true;
    if (closeActions && !manager) closeActions.hidden = true;
    if (replyForm && !replyForm.querySelector("textarea").value.trim()) replyForm.hidden = true;
  }

  // The open escalation was closed (resolved or handed back) from another page, as its watched
  // conversation's `status` frame says (live or ticket, however long the queue): the page says so and
  // takes off what the server would refuse (a reply begun stays, as above).
  function showClosed(frame) {
    if (!selected || frame.escalation_id !== selected) return;
    say("This escalation was closed meanwhile: reload the page to see how.");
    [claimForm, moveActions, closeActions, heldBy].forEach(function (node) { if (node) node.hidden = true; });
    if (replyForm && !replyForm.querySelector("textarea").value.trim()) replyForm.hidden = true;
  }

  // The frame is bounded like the page: the most urgent live rows, the rest and the ticket backlog
  // only counted (the backlog's rows are the page's own; a reload shows new ones).
  function renderQueue(frame) {
    var items = frame.items;
    var focused = focusedRow();
    announceArrivals(items);
    items.forEach(function (row) { if (row.escalation_id === selected) showHolder(row); });
    more.textContent = frame.more ? "and " + frame.more + " more" : "";
    backlogTitle.textContent = "Ticket backlog (" + frame.tickets + ")";
    list.textContent = "";
    if (!items.length) { list.appendChild(el("li", "empty", "Nobody is waiting.")); return; }
    items.forEach(function (row) {
      var item = el("li", "queue-item prio-" + row.priority + (row.escalation_id === selected ? " current" : ""));
      item.dataset.escalation = row.escalation_id;
      var link = el("a");
      link.href = "/console/inbox/" + row.escalation_id + "/";
      var head = el("span");
      head.appendChild(el("span", "prio", row.priority));
      head.appendChild(document.createTextNode(" #" + row.escalation_id + " · " + row.status +
        (row.position ? " · #" + row.position + " in line" : "")));
      link.appendChild(head);
      link.appendChild(el("span", "codes", row.reason_codes.join(", ")));
      var preview = link.appendChild(el("span", "preview", row.preview));
      preview.dir = "auto";  // the customer's words in their own direction, isolated from the row's
      link.appendChild(el("span", "sla", "due " + dueFormat.format(new Date(row.sla_due_at)) + (row.assigned_to ? " · " + row.assigned_to : "")));
      // in words, not colour alone, in the page's own phrases (null: not known, nothing said)
      var words = SupportAITranscript.said(
        root.dataset.timezone, row.customer_present, row.customer_left_at, row.customer_lost_at);
      if (words) link.appendChild(el("span", "presence " + (row.customer_present ? "here" : "away"), words));
      item.appendChild(link);
      list.appendChild(item);
      if (row.escalation_id === focused) link.focus();
    });
  }

  function lastShownId() { return transcript ? SupportAITranscript.lastShownId(transcript) : 0; }

  function showMessage(frame) {
    if (!transcript || frame.conversation_id !== conversation) return;
    SupportAITranscript.show(transcript, frame);
    if (frame.role === "customer" && presence) SupportAITranscript.customerWrote(presence);
  }

  // The customer closed the chat (their last tab) or came back: said in a live region, so an agent
  // doesn't write on to nobody. Nothing is said of a customer without a socket.
  function showPresence(frame) {
    if (!presence || frame.conversation_id !== conversation) return;
    SupportAITranscript.showPresence(presence, frame, root.dataset.timezone);
  }

  function say(text) { if (statusLine) statusLine.textContent = text; }

  // A refused reply goes back into the box, before whatever the agent has written since.
  function giveBackUnconfirmed() {
    if (!unconfirmed) return;
    var textarea = replyForm.querySelector("textarea");
    textarea.value = unconfirmed + (textarea.value ? "\n" + textarea.value : "");
    unconfirmed = "";
  }

  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/inbox/?tenant=" + encodeURIComponent(tenant));
    socket.onopen = function () {
      attempts = 0; liveState.textContent = "live"; liveState.classList.add("on");
      // follow this conversation; first get what was written since the page (or the last socket) drew it
      // (and be told if its escalation was closed meanwhile)
      if (conversation) {
        var watch = { type: "watch", conversation_id: conversation, after: lastShownId() };
        if (selected) watch.escalation_id = selected;
        send(watch);
      }
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "queue") renderQueue(frame);
      else if (frame.type === "message") showMessage(frame);
      else if (frame.type === "presence") showPresence(frame);
      else if (frame.type === "status") showClosed(frame);
      else if (frame.type === "reply.ack") { unconfirmed = ""; say("Sent."); }
      else if (frame.type === "error") { giveBackUnconfirmed(); say(frame.message); }
    };
    socket.onclose = function (event) {
      liveState.textContent = "offline"; liveState.classList.remove("on");
      if (event.code === 4403) { say("You no longer have access to this inbox."); return; }
      attempts += 1;
      setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, attempts)));
    };
  }

  if (replyForm && canAct) {
    var textarea = replyForm.querySelector("textarea");
    replyForm.addEventListener("submit", function (event) {
      var text = textarea.value.trim();
      if (!text) return;
      if (!send({ type: "reply", escalation_id: selected, text: text })) return;  // the form posts it
      event.preventDefault();
      // emptied now, not on the acknowledgement, which would wipe the next reply begun meanwhile
      unconfirmed = text;
      textarea.value = "";
    });
    textarea.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTyping > 2000) { lastTyping = now; send({ type: "typing", escalation_id: selected }); }
    });
    // Enter sends, Shift+Enter breaks the line; an Enter that confirms an input method's composition
    // (Japanese, Chinese, Korean…) is the input method's, not a send (Safari flags it by keyCode 229 only).
    textarea.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      replyForm.requestSubmit();
    });
  }
  connect();
})();
