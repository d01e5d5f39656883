/* A console transcript (<ol> of <li data-message="id">) kept live from the inbox socket's `message`
   frames (docs/websocket-protocol.md, "Staff inbox socket"); used by the inbox and the conversation
   page. Text only through textContent. */
var SupportAITranscript = (function () {
  "use strict";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The replay starts after this id: the last message shown, or before the first answer the page drew
  // while it was still being written (it is redrawn when its final text comes).
  function lastShownId(transcript) {
    var last = 0, pending = null;
    transcript.querySelectorAll("[data-message]").forEach(function (node) {
      var id = parseInt(node.dataset.message, 10) || 0;
      last = Math.max(last, id);
      if (node.hasAttribute("data-pending") && (pending === null || id < pending)) pending = id;
    });
    return pending === null ? last : pending - 1;
  }

  // A message's time of day in the tenant's zone (the transcript's data-timezone), as the page draws
  // those it was rendered with: the frame's created_at is in UTC.
  function clock(transcript, iso) {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: transcript.dataset.timezone || "UTC", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
    }).format(new Date(iso));
  }

  function withBreaks(node, text) {
    text.split("\n").forEach(function (line, i) {
      if (i) node.appendChild(document.createElement("br"));
      node.appendChild(document.createTextNode(line));
    });
    return node;
  }

  function sourceLinks(sources) {
    var line = el("div", "meta", "Sources: ");
    sources.forEach(function (s, i) {
      if (i) line.appendChild(document.createTextNode("; "));
      line.appendChild(document.createTextNode("[" + s.index + "] "));
      var title = el("bdi", "", s.title || "");
      if (s.document_id) {
        var link = el("a");
        link.href = "/console/knowledge/documents/" + encodeURIComponent(s.document_id) + "/" +
          (s.chunk_id ? "?chunk=" + encodeURIComponent(s.chunk_id) + "#chunk-" + encodeURIComponent(s.chunk_id) : "");
        link.appendChild(title);
        line.appendChild(link);
      } else {
        line.appendChild(title);
      }
      if (/^https?:\/\//i.test(s.url || "")) {
        var out = el("a", "", "↗");
        out.href = s.url; out.rel = "noopener noreferrer";
        out.setAttribute("aria-label", (s.title || "") + " on the web");
        line.appendChild(document.createTextNode(" "));
        line.appendChild(out);
      }
    });
    return line;
  }

  // A message of the watched conversation, drawn in message order and never twice: one the page drew
  // while it was still being written is redrawn; one already shown in full (a replay overlapping a
  // live event, or the page's own richer line) is left as it is.
  function show(transcript, frame) {
    var item = el("li", "turn " + frame.role);
    item.dataset.message = frame.message_id;
    var meta = el("div", "meta");
    meta.appendChild(el("strong", "", frame.role.charAt(0).toUpperCase() + frame.role.slice(1)));
    if (frame.agent_name) meta.appendChild(document.createTextNode(" (" + frame.agent_name + ")"));
    meta.appendChild(document.createTextNode(" · " + clock(transcript, frame.created_at)));
    item.appendChild(meta);
    item.appendChild(withBreaks(el("div", "text"), frame.text));
    if (frame.sources && frame.sources.length) item.appendChild(sourceLinks(frame.sources));
    var shown = transcript.querySelector('[data-message="' + frame.message_id + '"]');
    if (shown) {
      if (shown.hasAttribute("data-pending")) transcript.replaceChild(item, shown);
      return;
    }
    var later = null;
    transcript.querySelectorAll("[data-message]").forEach(function (node) {
      if (!later && parseInt(node.dataset.message, 10) > frame.message_id) later = node;
    });
    transcript.insertBefore(item, later);
    if (!later) item.scrollIntoView({ block: "nearest" });
  }

  // A recent time in the zone `zone` as the console says it (the server's |clock): "14:02" today,
  // "2026-03-01 14:02" on another day (Swedish dates are ISO's).
  function recent(zone, iso) {
    var format = new Intl.DateTimeFormat("sv-SE", {
      timeZone: zone || "UTC", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
    var when = format.format(new Date(iso));
    return when.slice(0, 10) === format.format(new Date()).slice(0, 10) ? when.slice(11) : when;
  }

  // What the console says of a customer's presence: the page's phrases (its #presence-phrases JSON, drawn from
  // escalations/presence_phrases.py, as the server draws them), the time in the zone `zone` as |clock says it.
  // In the chat (`present` true), left at `leftAt`, connection lost at `lostAt`; "" when not known.
  var phrases = null;
  function said(zone, present, leftAt, lostAt) {
    if (phrases === null) {
      var script = document.getElementById("presence-phrases");
      phrases = script ? JSON.parse(script.textContent) : {};
    }
    if (present === true) return phrases.here || "";
    if (present === false && leftAt) return (phrases.left || "").replace("{time}", recent(zone, leftAt));
    if (present === false && lostAt) return (phrases.lost || "").replace("{time}", recent(zone, lostAt));
    return "";
  }

  // The customer of a handoff left the chat (their last tab closed), lost their connection (`lost`) or came
  // back (a `presence` frame), said in the page's live region `node` (#customer-presence, drawn by the server
  // as it stood), in the tenant's zone `zone`. data-away marks a customer said to be away.
  function showPresence(node, frame, zone) {
    node.toggleAttribute("data-away", !frame.present);
    node.textContent = said(zone, frame.present, frame.lost ? null : frame.at, frame.lost ? frame.at : null);
  }

  // A customer who writes is there, whatever their socket did (the HTTP fallback has none): a page saying
  // they left, or lost their connection, takes it back.
  function customerWrote(node) {
    if (!node.hasAttribute("data-away")) return;
    node.removeAttribute("data-away");
    node.textContent = "";
  }

  return {
    show: show, lastShownId: lastShownId, recent: recent, said: said, showPresence: showPresence, customerWrote: customerWrote
  };
})();
