/*
 * SupportAI chat widget. Embed with one tag:
 *   <script src="https://HOST/static/widget/supportai.js" data-key="pk_..." defer></script>
 * No framework needed; styles live in a shadow root so the host page and the widget never clash.
 * Protocol: docs/websocket-protocol.md.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__supportaiWidget) return;
  window.__supportaiWidget = true;

  var KEY = script.getAttribute("data-key") || "";
  var SERVER = new URL(script.getAttribute("data-server") || script.src, location.href);
  var WS_URL = (SERVER.protocol === "https:" ? "wss://" : "ws://") + SERVER.host + "/ws/chat/?key=" + encodeURIComponent(KEY);
  var STORE = "supportai:" + KEY + ":resume";
  // Questions sent but not answered yet, kept for this tab so a dropped socket loses none of them.
  var UNANSWERED = "supportai:" + KEY + ":unanswered";
  // The server's limits, in characters as it counts them: code points, so an emoji is one (String.length
  // counts two UTF-16 units for it). A textarea's maxlength counts units, so it is set to twice the
  // limit, which never refuses a text the server takes (a booking's name field likewise); the count
  // itself is ``chars``.
  var MAX_CHARS = 2000, MAX_COMMENT_CHARS = 1000, MAX_NAME_CHARS = 200;
  function chars(text) { return Array.from(text); }
  // Identity verification (docs/identity-verification.md): a token the host site signed for its
  // logged-in customer, from data-user-token or window.SupportAI.identify(token).
  var identityToken = script.getAttribute("data-user-token") || "";
  var identifying = false;

  // ---------- the widget's own words, in its customer's language (docs/websocket-protocol.md, "The widget's words") ----------
  // English as chat/widget_phrases/ has it (a test holds the two equal): said until the page's language
  // has arrived, when it cannot be fetched, and for a key its row lacks.
  var ENGLISH = /* BEGIN ENGLISH */{
    "open_chat": "Open chat",
    "close_chat": "Close chat",
    "chat_title": "Chat with us",
    "conversation": "Conversation",
    "talk_to_human": "Talk to a human",
    "rate_chat": "Rate this chat",
    "your_message": "Your message",
    "message_placeholder": "Type your question…",
    "send": "Send",
    "message_too_long": "Messages are limited to {limit} characters.",
    "rating_question": "How was this conversation?",
    "rating_comment": "Tell us more (optional)",
    "send_rating": "Send rating",
    "stars_1": "1 star",
    "stars_2": "2 stars",
    "stars_3": "3 stars",
    "stars_4": "4 stars",
    "stars_5": "5 stars",
    "choose_stars": "Choose 1 to 5 stars first.",
    "rating_thanks": "Thanks for rating this conversation!",
    "source_link": "Source {n}: {title}",
    "sources": "Sources",
    "answer_cut_off": "This answer was cut off.",
    "question_not_answered": "This question was not answered.",
    "try_again": "Try again",
    "helpful": "Helpful",
    "not_helpful": "Not helpful",
    "was_it_helpful": "Was this answer helpful?",
    "feedback_thanks": "Thanks for the feedback!",
    "offline": "You are offline. We'll reconnect when you're back.",
    "connecting": "Connecting…",
    "reconnecting": "Reconnecting…",
    "connection_lost": "Connection lost. Reconnecting…",
    "too_many_messages": "Too many messages. Reconnecting shortly…",
    "unknown_key": "This chat is not configured correctly (unknown key).",
    "not_enabled": "This chat is not enabled on this website.",
    "with_team": "You're chatting with our team.",
    "waiting_for_team": "Waiting for a team member…",
    "waiting_in_line": "Waiting for a team member · you're number {position} in line",
    "team_typing": "A team member is typing…",
    "support_team": "Support team",
    "book": "Book",
    "manage_booking": "Manage my booking",
    "booking": "Booking",
    "close_booking": "Close booking",
    "book_appointment": "Book an appointment",
    "loading_services": "Loading services…",
    "what_to_book": "What would you like to book?",
    "nothing_to_book": "Nothing can be booked online right now.",
    "service_choice": "{name} · {minutes} min · {price}",
    "from_date": "From",
    "show_free_times": "Show free times",
    "times_in_zone": "Times are in {timezone}.",
    "no_free_times": "No free times in these days; try another date.",
    "pick_time": "Pick a time",
    "pick_new_time": "Pick a new time",
    "your_name": "Your name",
    "confirmation_email": "Email for the confirmation",
    "name_too_long": "Names are limited to {limit} characters.",
    "continue": "Continue",
    "confirmation_code": "Confirmation code",
    "booking_email": "Email used for the booking",
    "find_booking": "Find my booking",
    "your_booking": "Your booking",
    "state_pending": "Held until paid",
    "state_confirmed": "Confirmed",
    "state_canceled": "Canceled",
    "state_completed": "Completed",
    "state_no_show": "Missed",
    "state_unknown": "Ask us about this booking",
    "hold_expired": "Not paid in time: this time was released",
    "state_line": "{state} · code {code}",
    "paid": "Paid: {price}",
    "refunded": "Refunded: {price}",
    "pay_at_venue": "Pay at the venue: {price}",
    "awaiting_payment": "Awaiting payment: {price}",
    "not_paid": "Not paid: {price}",
    "partly_refunded": "Paid — {refunded} of {price} refunded",
    "pay_now": "Pay now",
    "reschedule": "Reschedule",
    "reschedule_service": "Reschedule {service}",
    "cancel_booking": "Cancel booking",
    "book_again": "Book again",
    "book_service": "Book {service}",
    "pay_online": "Pay online after you confirm.",
    "check_before_paying": "Please check the details: payment follows right after you confirm.",
    "check_change": "Please check: this changes your booking.",
    "confirm": "Confirm",
    "dont_do_it": "Don't do it",
    "request_status": "This request is {status}.",
    "result_booked": "Booked! Your confirmation code is {code}. We've emailed you the details.",
    "result_held": "Almost done! Your booking {code} is held until you pay.",
    "result_canceled": "Your booking is canceled.",
    "result_moved": "Your booking has been moved to {when}."
  }/* END ENGLISH */;
  var words = ENGLISH;
  // ``key``'s words, each {name} filled from ``params`` (their values taken as they are, never read again).
  function t(key, params) {
    var text = typeof words[key] === "string" ? words[key] : ENGLISH[key];
    return String(text).replace(/\{(\w+)\}/g, function (whole, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }
  // The language tags the page asks for: data-lang on the script tag, else <html lang>, else the browser's.
  function pageTags() {
    var chosen = (script.getAttribute("data-lang") || document.documentElement.getAttribute("lang") || "").trim();
    if (chosen) return [chosen];
    var browser = navigator.languages && navigator.languages.length ? Array.prototype.slice.call(navigator.languages) : [navigator.language];
    return browser.filter(function (tag) { return typeof tag === "string" && tag; });
  }
  // Languages written right to left: the panel is laid out so for them, even while its words are English.
  var RTL = /^(ar|ckb|dv|fa|he|iw|ps|sd|ug|ur|yi)(-|$)/i;
  var STRINGS_URL = SERVER.origin + "/api/v1/public/widget/strings/";
  // How long the widget waits for its words before it shows itself in English (they apply when they come).
  var STRINGS_WAIT_MS = 3000;
  var fetchedWords = {}, askedWords = null;
  // Says the widget in the first of ``tags`` (most wanted first) the server has words for (English when
  // none, or when they cannot be fetched); ``ready`` is called once there are words to show.
  function chooseWords(tags, ready) {
    var asked = tags.join(",");
    askedWords = asked;
    function use(language, row) {
      if (askedWords !== asked) return;  // another choice came after this one
      words = row;
      panel.setAttribute("lang", language);
      panel.setAttribute("dir", RTL.test(tags[0] || "") ? "rtl" : "ltr");
      relabel();
      show();
    }
    function show() { if (ready) { var then = ready; ready = null; then(); } }
    if (!asked || /^en(-|$)/i.test(tags[0])) { use("en", ENGLISH); return; }
    if (fetchedWords[asked]) { use(fetchedWords[asked].language, fetchedWords[asked].strings); return; }
    if (typeof fetch !== "function") { use("en", ENGLISH); return; }
    var timer = setTimeout(show, STRINGS_WAIT_MS);
    fetch(STRINGS_URL + encodeURIComponent(asked), { credentials: "omit" })
      .then(function (response) { if (!response.ok) throw new Error("HTTP " + response.status); return response.json(); })
      .then(function (body) {
        if (!body || typeof body.language !== "string" || !body.strings || typeof body.strings !== "object") throw new Error("no words");
        fetchedWords[asked] = body;
        clearTimeout(timer); use(body.language, body.strings);
      })
      .catch(function () { clearTimeout(timer); use("en", ENGLISH); });
  }
  // The words of every node made with a key (``el``'s ``t`` and ``t-<attribute>``), said again.
  function relabel() {
    Array.prototype.forEach.call(root.querySelectorAll("[data-t]"), function (node) { node.textContent = t(node.getAttribute("data-t")); });
    ["aria-label", "placeholder"].forEach(function (name) {
      Array.prototype.forEach.call(root.querySelectorAll("[data-t-" + name + "]"), function (node) {
        node.setAttribute(name, t(node.getAttribute("data-t-" + name)));
      });
    });
  }

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:var(--brand);color:#fff;font-size:24px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:88px;width:370px;max-width:calc(100vw - 24px);height:560px;max-height:calc(100vh - 110px);background:#fff;color:#1f2933;border-radius:12px;box-shadow:0 10px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000;font-size:15px;line-height:1.45}",
    ".panel[hidden]{display:none}",
    "header{background:var(--brand);color:#fff;padding:12px 14px;display:flex;align-items:center;gap:10px}",
    "header h2{font-size:16px;margin:0;flex:1}",
    "header img{width:28px;height:28px;border-radius:6px;background:#fff}",
    "header button{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer}",
    ".status{font-size:13px;padding:6px 14px;background:#fff3bf;color:#5c4400}",
    ".status[hidden]{display:none}",
    ".status.error{background:#ffe3e3;color:#7a1010}",
    ".handoff{font-size:13px;padding:6px 14px;background:#e7f5ff;color:#1864ab}.handoff[hidden]{display:none}",
    ".log{flex:1;overflow-y:auto;padding:12px 14px;display:flex;flex-direction:column;gap:10px}",
    ".msg{max-width:88%;padding:8px 11px;border-radius:12px;white-space:normal;word-wrap:break-word}",
    ".msg p{margin:0 0 6px}.msg p:last-child{margin:0}.msg ul,.msg ol{margin:4px 0;padding-inline-start:20px}",
    ".customer{align-self:flex-end;background:var(--brand);color:#fff;border-bottom-right-radius:4px}",
    ".assistant,.agent,.system{align-self:flex-start;background:#f1f3f5;border-bottom-left-radius:4px}",
    ".agent{background:#e7f5ff}.agent .who{font-size:12px;color:#1864ab;font-weight:600}",
    ".streaming::after{content:'▍';animation:blink 1s steps(1) infinite}@keyframes blink{50%{opacity:0}}",
    ".sources{margin-top:6px;font-size:13px;border-top:1px solid #dee2e6;padding-top:5px}",
    ".sources ol{margin:0;padding-inline-start:18px}",
    "a{color:#1864ab}",
    "sup a{text-decoration:none;font-size:11px}",
    ".msg.failed{border-left:3px solid #c92a2a}",
    ".cut{display:flex;gap:8px;align-items:center;margin-top:6px;font-size:12px;color:#7a1010}",
    ".customer .cut{color:#fff}",
    ".cut button{border:1px solid #ced4da;background:#fff;border-radius:6px;cursor:pointer;padding:2px 8px;font-size:12px}",
    ".feedback{display:flex;gap:6px;margin-top:6px;align-items:center;font-size:12px;color:#616e7c}",
    ".feedback button{border:1px solid #ced4da;background:#fff;border-radius:6px;cursor:pointer;padding:2px 8px;font-size:12px}",
    ".feedback button[aria-pressed=true]{background:var(--brand);color:#fff;border-color:var(--brand)}",
    ".rating{padding:10px 14px;border-top:1px solid #e9ecef;background:#f8f9fa}",
    ".rating[hidden]{display:none}",
    ".stars{display:flex;gap:4px;border:0;padding:0;margin:0 0 6px}",
    ".stars legend{font-size:13px;margin-bottom:4px}",
    ".stars button{font-size:22px;background:none;border:0;cursor:pointer;color:#adb5bd;padding:0 2px}",
    ".stars button.on{color:#f59f00}",
    ".rating textarea{width:100%;height:44px;font-size:13px}",
    ".actions{display:flex;gap:8px;padding:6px 14px;border-top:1px solid #e9ecef}",
    ".actions button{font-size:13px;background:#fff;border:1px solid #ced4da;border-radius:14px;padding:4px 10px;cursor:pointer}",
    "form.compose{display:flex;gap:8px;padding:10px 14px;border-top:1px solid #e9ecef}",
    "form.compose textarea{flex:1;resize:none;height:42px;border:1px solid #ced4da;border-radius:8px;padding:8px;font-size:15px}",
    "form.compose button,.rating .send{background:var(--brand);color:#fff;border:0;border-radius:8px;padding:0 14px;cursor:pointer;font-size:14px}",
    "form.compose button:disabled{opacity:.5;cursor:default}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100vh;max-height:100vh;border-radius:0}}"
  ].join("\n");

  // ---------- safe rendering: text nodes only, a small Markdown subset, http(s) links only ----------
  // ``t: key`` gives the node the words of ``key`` as its text, ``"t-<attribute>": key`` as that attribute
  // (aria-label, placeholder); both are said again when the widget's language changes (``relabel``).
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "t") { node.textContent = t(attrs[k]); node.setAttribute("data-t", attrs[k]); }
      else if (k.indexOf("t-") === 0) { node.setAttribute(k.slice(2), t(attrs[k])); node.setAttribute("data-" + k, attrs[k]); }
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  // No address (an uploaded file's source has url "") is no link: resolved, it would be the host page.
  function safeUrl(url) {
    if (typeof url !== "string" || !url.trim()) return null;
    try {
      var parsed = new URL(url, location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) { return null; }
  }

  function renderInline(text, sourcesByIndex, into) {
    var pattern = /(\*\*[^*]+\*\*|`[^`]+`|\[[^\]]+\]\([^)\s]+\)|\[\d+\]|\*[^*\s][^*]*\*)/g;
    var last = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) into.appendChild(document.createTextNode(text.slice(last, match.index)));
      var token = match[0];
      if (token.indexOf("**") === 0) into.appendChild(el("strong", { text: token.slice(2, -2) }));
      else if (token[0] === "`") into.appendChild(el("code", { text: token.slice(1, -1) }));
      else if (/^\[\d+\]$/.test(token)) {
        var n = token.slice(1, -1), src = sourcesByIndex[n], href = src && safeUrl(src.url);
        into.appendChild(el("sup", {}, [href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", "aria-label": t("source_link", { n: n, title: src.title }), text: "[" + n + "]" }) : "[" + n + "]"]));
      } else if (token[0] === "[") {
        var parts = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(token), link = parts && safeUrl(parts[2]);
        into.appendChild(link ? el("a", { href: link, target: "_blank", rel: "noopener noreferrer", text: parts[1] }) : document.createTextNode(token));
      } else into.appendChild(el("em", { text: token.slice(1, -1) }));
      last = match.index + token.length;
    }
    if (last < text.length) into.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderMarkdown(text, sources) {
    var byIndex = {};
    (sources || []).forEach(function (s) { byIndex[String(s.index)] = s; });
    var frag = document.createDocumentFragment(), list = null;
    String(text || "").split(/\n/).forEach(function (line) {
      var item = /^\s*(?:[-*]|\d+\.)\s+(.*)$/.exec(line);
      if (item) {
        if (!list) { list = el(/^\s*\d/.test(line) ? "ol" : "ul"); frag.appendChild(list); }
        var li = el("li"); renderInline(item[1], byIndex, li); list.appendChild(li);
        return;
      }
      list = null;
      if (!line.trim()) return;
      var p = el("p"); renderInline(line, byIndex, p); frag.appendChild(p);
    });
    return frag;
  }

  // ---------- UI ----------
  // Added to the page once the widget has its words (``chooseWords`` at the end), so it is never drawn in
  // English first on a page in another language.
  var host = el("div", { id: "supportai-widget" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", { text: CSS }));
  host.style.setProperty("--brand", "#0f766e");

  var launcher = el("button", { class: "launcher", type: "button", "t-aria-label": "open_chat", "aria-expanded": "false" });
  var SVG = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(SVG, "svg");
  icon.setAttribute("viewBox", "0 0 24 24"); icon.setAttribute("width", "26"); icon.setAttribute("height", "26"); icon.setAttribute("aria-hidden", "true");
  var bubblePath = document.createElementNS(SVG, "path");
  bubblePath.setAttribute("fill", "currentColor");
  bubblePath.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
  icon.appendChild(bubblePath);
  launcher.appendChild(icon);
  var title = el("h2", { id: "sai-title", t: "chat_title" });
  var closeBtn = el("button", { type: "button", "t-aria-label": "close_chat", text: "×" });
  var status = el("div", { class: "status", role: "status", hidden: "" });
  var handoff = el("div", { class: "handoff", role: "status", hidden: "" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions text", "t-aria-label": "conversation" });
  var humanBtn = el("button", { type: "button", t: "talk_to_human" });
  var endBtn = el("button", { type: "button", t: "rate_chat" });
  var stars = el("fieldset", { class: "stars" }, [el("legend", { t: "rating_question" })]);
  var ratingComment = el("textarea", { "t-aria-label": "rating_comment", "t-placeholder": "rating_comment", maxlength: String(2 * MAX_COMMENT_CHARS) });
  var ratingSend = el("button", { type: "button", class: "send", t: "send_rating" });
  var rating = el("div", { class: "rating", hidden: "" }, [stars, ratingComment, ratingSend]);
  var input = el("textarea", { "t-aria-label": "your_message", "t-placeholder": "message_placeholder", maxlength: String(2 * MAX_CHARS) });
  var sendBtn = el("button", { type: "submit", t: "send" });
  var compose = el("form", { class: "compose" }, [input, sendBtn]);
  var panel = el("section", { class: "panel", role: "dialog", "aria-labelledby": "sai-title", hidden: "" }, [
    el("header", {}, [title, closeBtn]), status, handoff, log, el("div", { class: "actions" }, [humanBtn, endBtn]), rating, compose
  ]);
  root.appendChild(launcher);
  root.appendChild(panel);

  var chosenRating = 0, STARS = ["stars_1", "stars_2", "stars_3", "stars_4", "stars_5"];
  for (var i = 1; i <= 5; i++) {
    (function (value) {
      var star = el("button", { type: "button", "t-aria-label": STARS[value - 1], "aria-pressed": "false", "data-value": String(value), text: "★" });
      star.addEventListener("click", function () {
        chosenRating = value;
        Array.prototype.forEach.call(stars.querySelectorAll("button"), function (b) {
          var on = Number(b.getAttribute("data-value")) <= value;
          b.classList.toggle("on", on);
          b.setAttribute("aria-pressed", String(Number(b.getAttribute("data-value")) === value));
        });
      });
      stars.appendChild(star);
    })(i);
  }

  function setStatus(text, isError) {
    if (!text) { status.hidden = true; status.textContent = ""; return; }
    status.hidden = false; status.textContent = text; status.classList.toggle("error", !!isError);
  }
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function open() { panel.hidden = false; launcher.setAttribute("aria-expanded", "true"); input.focus(); connect(); }
  function close() { panel.hidden = true; launcher.setAttribute("aria-expanded", "false"); launcher.focus(); }
  launcher.addEventListener("click", function () { panel.hidden ? open() : close(); });
  closeBtn.addEventListener("click", close);
  // Escape closes the booking pane when pressed in it, else the chat; an Escape that ends an input
  // method's composition is the input method's (Safari flags it by keyCode 229 only).
  panel.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || e.isComposing || e.keyCode === 229) return;
    if (!pane.hidden && pane.contains(e.target)) closePane(); else close();
  });

  // ---------- messages ----------
  var bubbles = {};  // message_id -> {node, body, text}

  // ``opts.focus``: the bubble is a card the focus moves to (the caller focuses it once it is built): a
  // group named by its text, out of the log's announcements, so a screen reader says it once, on focus.
  var cardIds = 0;
  function addBubble(role, text, opts) {
    opts = opts || {};
    var body = el("div", { class: "body" });
    var node = el("div", { class: "msg " + role, "data-role": role }, opts.who ? [el("div", { class: "who", text: opts.who }), body] : [body]);
    if (role === "customer") body.textContent = text;
    else body.appendChild(renderMarkdown(text, opts.sources));
    if (opts.focus) {
      body.id = "sai-card-" + (++cardIds);
      node.setAttribute("role", "group"); node.setAttribute("aria-labelledby", body.id);
      node.setAttribute("aria-live", "off"); node.setAttribute("tabindex", "-1");
    }
    log.appendChild(node);
    scrollDown();
    return { node: node, body: body, text: text };
  }

  // A final answer (message.end or history); drawn again when a resend repeats its message.end.
  // ``question`` ({text}) is the one it answers, when known: a cut-off answer can then be tried again.
  function finishAssistant(frame, question) {
    var b = bubbles[frame.message_id];
    if (!b) { b = addBubble("assistant", ""); bubbles[frame.message_id] = b; }
    var status = frame.status || "complete";
    b.node.classList.remove("streaming");
    b.node.classList.toggle("failed", status === "failed");
    b.node.setAttribute("data-message-id", String(frame.message_id));
    b.node.setAttribute("data-status", status);
    Array.prototype.forEach.call(b.node.querySelectorAll(".sources,.cut,.feedback"), function (n) { n.remove(); });
    b.body.textContent = "";
    b.body.appendChild(renderMarkdown(frame.text, frame.sources));
    if (frame.sources && frame.sources.length) {
      var list = el("ol");
      frame.sources.forEach(function (s) {
        var href = safeUrl(s.url);
        list.appendChild(el("li", { value: String(s.index) }, [href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", class: "source-link", text: s.title }) : s.title]));
      });
      b.node.appendChild(el("div", { class: "sources" }, [el("div", { class: "sr", t: "sources" }), list]));
    }
    if (status === "interrupted") b.node.appendChild(cutNote(question));
    if (status !== "failed") addFeedback(b.node, frame.message_id);  // the apology of a failed answer is no answer
    scrollDown();
  }

  // Resending the original client_id would only repeat the cut-off answer (the server answers a
  // client_id once), so "Try again" asks the question anew.
  function cutNote(question) {
    var note = el("div", { class: "cut" }, [el("span", { t: "answer_cut_off" })]);
    if (question) {
      var again = el("button", { type: "button", t: "try_again" });
      again.addEventListener("click", function () { again.remove(); ask(question.text); sendBtn.disabled = true; });
      note.appendChild(again);
    }
    return note;
  }

  function addFeedback(node, messageId) {
    if (node.querySelector(".feedback")) return;
    var up = el("button", { type: "button", "aria-pressed": "false", "data-value": "up", t: "helpful" });
    var down = el("button", { type: "button", "aria-pressed": "false", "data-value": "down", t: "not_helpful" });
    var note = el("span", { class: "ack", "aria-live": "polite" });
    [up, down].forEach(function (btn) {
      btn.addEventListener("click", function () {
        send({ type: "feedback", message_id: messageId, value: btn.getAttribute("data-value") });
        up.setAttribute("aria-pressed", String(btn === up));
        down.setAttribute("aria-pressed", String(btn === down));
      });
    });
    node.appendChild(el("div", { class: "feedback", role: "group", "t-aria-label": "was_it_helpful", "data-message-id": String(messageId) }, [up, down, note]));
  }

  // ---------- unanswered questions: [{client_id, text, message_id?}] in the order they were asked ----------
  // The server answers a client_id once and repeats the stored answer on a resend, so every question
  // stays here until its answer's message.end (or an error refusing it) arrives, and is resent with
  // the same client_id after each session.ready. Answers come in the order the questions were acked.
  function loadUnanswered() {
    var list;
    try { list = JSON.parse(sessionStorage.getItem(UNANSWERED) || "[]"); } catch (e) { list = []; }
    return Array.isArray(list) ? list.filter(function (q) { return q && typeof q.client_id === "string" && typeof q.text === "string"; }) : [];
  }
  var unanswered = loadUnanswered();
  // The customer's last action awaiting its answer, which an error answers instead: a question
  // ({clientId}, until its message.ack), a proposal decision ({buttons}, until its proposal.result) or
  // a booking pane's request ({buttons, pane: true}, until the booking frame answering it).
  var awaiting = null;
  function saveUnanswered() {
    try { sessionStorage.setItem(UNANSWERED, JSON.stringify(unanswered)); } catch (e) { /* private mode */ }
  }
  function forget(question) {
    unanswered = unanswered.filter(function (q) { return q !== question; });
    saveUnanswered();
  }
  function unansweredById(clientId) {
    return unanswered.filter(function (q) { return q.client_id === clientId; })[0] || null;
  }
  // The question an answer (message.end or history) belongs to: the one its reply_to names (the
  // question's client_id; null: not one of ours), else the oldest acked one stored before it.
  function questionAnsweredBy(frame) {
    if (frame.reply_to !== undefined) return frame.reply_to ? unansweredById(frame.reply_to) : null;
    return unanswered.filter(function (q) { return q.message_id && q.message_id < frame.message_id; })[0] || null;
  }
  function sendQuestion(question) {
    if (!connected) return;  // sent after the next session.ready
    awaiting = { clientId: question.client_id };
    send({ type: "message.send", client_id: question.client_id, text: question.text });
  }
  function ask(text) {
    var clientId = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
    var question = { client_id: clientId, text: text };
    unanswered.push(question);
    saveUnanswered();
    if (connected) drawQuestion(question);
    sendQuestion(question);
  }
  function drawQuestion(question) {
    addBubble("customer", question.text).node.setAttribute("data-client-id", question.client_id);
  }
  // After session.ready: draw the questions the history does not have (never stored, or stored but
  // never acked), then resend them all.
  function resendUnanswered(history) {
    var drawn = {};
    history.forEach(function (m) { if (m.role === "customer") drawn[m.message_id] = m.text; });
    var claimed = {};
    unanswered.forEach(function (q) { if (q.message_id && q.message_id in drawn) claimed[q.message_id] = true; });
    unanswered.forEach(function (q) {
      var id = q.message_id && q.message_id in drawn ? q.message_id :
        Object.keys(drawn).reverse().filter(function (i) { return !claimed[i] && drawn[i] === q.text; })[0];
      if (!id) { drawQuestion(q); return; }
      claimed[id] = true;
      var shown = log.querySelector('.msg.customer[data-message-id="' + Number(id) + '"]');
      if (shown) shown.setAttribute("data-client-id", q.client_id);
    });
    unanswered.forEach(sendQuestion);
  }
  // An error naming a question's client_id (its turn failed, or it could not be stored) settles that
  // question, whichever was sent last: it is marked failed, and "Try again" resends it with its client_id
  // (the server answers it then, or repeats its answer).
  function questionFailed(clientId) {
    if (awaiting && awaiting.clientId === clientId) awaiting = null;
    var question = unansweredById(clientId);
    if (!question) return;
    forget(question);
    var bubble = Array.prototype.filter.call(log.querySelectorAll(".msg.customer"), function (n) {
      return n.getAttribute("data-client-id") === clientId;
    })[0];
    if (!bubble) return;
    var again = el("button", { type: "button", t: "try_again" });
    var note = el("div", { class: "cut" }, [el("span", { t: "question_not_answered" }), again]);
    again.addEventListener("click", function () {
      note.remove(); bubble.classList.remove("failed");
      unanswered.push(question); saveUnanswered();
      sendQuestion(question); sendBtn.disabled = true;
    });
    bubble.classList.add("failed");
    bubble.appendChild(note);
  }

  // A turn that fails after its message.start ends with an error naming its question (the client_id
  // its start's reply_to names; none, when that names none) instead of its message.end: the answer keeps
  // what streamed and is marked cut off, with the "Try again" that asks anew (a resend would only get
  // the ack, as its reply is still stored as streaming). Its question is settled so, not marked failed.
  function cutFailedAnswers(error) {
    Object.keys(bubbles).forEach(function (id) {
      var start = bubbles[id].start;
      if (!start || !bubbles[id].node.classList.contains("streaming")) return;
      if ((start.reply_to || null) !== (error.client_id || null)) return;
      var question = questionAnsweredBy(start);
      if (question) forget(question);
      finishAssistant({ message_id: start.message_id, text: bubbles[id].text, status: "interrupted" }, question);
    });
  }

  // ---------- connection ----------
  var ws = null, attempts = 0, pending = [], reconnectTimer = null, connected = false, greetingBubble = null;
  // The widget pings every PING_INTERVAL_MS. A socket that says nothing, not even a pong, for the two
  // intervals after a ping is half dead (a browser may keep one open for minutes): it is dropped for a
  // new one. Counted in ticks, not time, so a background tab whose timers are throttled drops none.
  var PING_INTERVAL_MS = 25000, SILENT_TICKS = 2, silentTicks = 0;
  // A socket not ready (session.ready) within CONNECT_TIMEOUT_MS of its creation is stuck connecting
  // (a proxy or a TLS handshake that accepted it and stalled): the browser's own timeout can take minutes,
  // so it is dropped for a new one. One timer, for the socket in ws, stopped by its session.ready or close.
  var CONNECT_TIMEOUT_MS = 15000, connectTimer = null;

  function startOver() {
    try { localStorage.removeItem(STORE); } catch (e) { /* private mode */ }
    unanswered = []; saveUnanswered();  // they belong to the conversation being left
    abandonSocket();
    connected = false; connect();
  }

  function send(frame) {
    // Until session.ready arrives, frames wait (the server is still setting up the conversation).
    if (connected && ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
    else pending.push(frame);
  }

  function connect() {
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
    if (!navigator.onLine) { setStatus(t("offline")); return; }
    var resume = null;
    try { resume = localStorage.getItem(STORE); } catch (e) { resume = null; }
    setStatus(t(attempts ? "reconnecting" : "connecting"));
    // A socket still closing (the browser back online before its close came) is dropped for good: its
    // close would otherwise stop the new socket's connect timer and take the new socket for lost.
    abandonSocket(); disconnected();
    ws = new WebSocket(WS_URL + (resume ? "&resume=" + encodeURIComponent(resume) : ""));
    connectTimer = setTimeout(dropSocket, CONNECT_TIMEOUT_MS);
    var lastFrame = null;  // this socket's: an error frame just before a 4429 close says why it came
    ws.onmessage = function (event) {
      silentTicks = 0;
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      lastFrame = frame;
      handle(frame);
    };
    ws.onclose = function (event) {
      clearTimeout(connectTimer);
      disconnected();
      if (event.code === 4404) { setStatus(t("unknown_key"), true); return; }
      if (event.code === 4403) { setStatus(t("not_enabled"), true); return; }
      if (event.code !== 4429) { scheduleReconnect(); return; }
      // the server's reason (too many new chats from this network, a frame flood), else ours
      var said = lastFrame && lastFrame.type === "error" && typeof lastFrame.message === "string" && lastFrame.message;
      scheduleReconnect(said || t("too_many_messages"));
    };
  }

  // Closes the socket without waiting for its close, which then does nothing.
  function abandonSocket() {
    if (!ws) return;
    ws.onmessage = ws.onclose = null;
    ws.close();
    ws = null;
    clearTimeout(connectTimer);
  }
  // A silent or stuck socket's close would wait for a closing handshake that never comes, so the widget
  // does not wait for it: it reconnects with its resume token at once, as after a close (kept questions
  // are resent).
  function dropSocket() {
    abandonSocket();
    disconnected();
    scheduleReconnect();
  }
  // What awaited its answer on the lost socket gets none there: a question is resent after the next
  // session.ready, and awaits its ack anew.
  // Buttons waiting on a decision or a booking request are enabled again: their answer is lost with the socket.
  function disconnected() {
    if (awaiting && awaiting.buttons) awaiting.buttons.forEach(function (b) { b.disabled = false; });
    connected = false; awaiting = null; sendBtn.disabled = false;
  }
  function pingOrDrop() {
    if (!connected) return;
    if (silentTicks >= SILENT_TICKS) { dropSocket(); return; }
    silentTicks++;
    send({ type: "ping" });
  }

  // ``why``: the error shown until the reconnect, instead of "Connection lost".
  function scheduleReconnect(why) {
    if (reconnectTimer) return;
    var delay = Math.min(30000, 500 * Math.pow(2, attempts++)) * (0.75 + Math.random() * 0.5);
    if (!navigator.onLine) setStatus(t("offline"));
    else if (why) setStatus(why, true);
    else setStatus(t("connection_lost"));
    reconnectTimer = setTimeout(function () { reconnectTimer = null; connect(); }, delay);
  }
  window.addEventListener("online", function () { if (!panel.hidden) connect(); });
  window.addEventListener("offline", function () { setStatus(t("offline")); });

  // ---------- human handoff: one bubble per step; the banner shows the waiting state and place in line ----------
  var handoffSteps = {}, handoffLive = false;
  function onEscalation(frame) {
    var step = frame.escalation_id + ":" + frame.status;
    var said = Object.keys(bubbles).some(function (id) { return bubbles[id].body.textContent === frame.message; });
    if (!handoffSteps[step] && !said) addBubble("system", frame.message);
    handoffSteps[step] = true;
    var waiting = frame.status === "pending" && frame.mode === "live";
    var withTeam = frame.status === "acknowledged";
    humanBtn.disabled = waiting || withTeam;
    handoffLive = frame.mode === "live" && (waiting || withTeam);
    handoff.hidden = !(waiting || withTeam);
    handoff.textContent = withTeam ? t("with_team") :
      frame.position ? t("waiting_in_line", { position: frame.position }) : t("waiting_for_team");
  }

  var typingTimer = null;
  function handle(frame) {
    switch (frame.type) {
      case "session.ready":
        // The back-off starts over only now: a server that opens sockets and fails them before
        // session.ready (or never sends it) is retried less and less often.
        clearTimeout(connectTimer); connected = true; attempts = 0; setStatus("");
        try { localStorage.setItem(STORE, frame.resume_token); } catch (e) { /* private mode */ }
        // The language the customer writes in (none before they have written): the widget speaks it too.
        var spoken = typeof frame.language === "string" && frame.language ? [frame.language] : pageTags();
        if (spoken.join(",") !== askedWords) chooseWords(spoken);
        if (frame.branding) {
          if (frame.branding.colour) host.style.setProperty("--brand", frame.branding.colour);
          if (frame.branding.name) { title.removeAttribute("data-t"); title.textContent = frame.branding.name; }
          var logo = frame.branding.logo_url && safeUrl(frame.branding.logo_url);
          if (logo && !panel.querySelector("header img")) panel.querySelector("header").insertBefore(el("img", { src: logo, alt: "" }), title);
        }
        log.textContent = ""; bubbles = {}; proposalCards = {}; handoffSteps = {}; handoffLive = false;
        // A resumed conversation's open handoff and open proposals follow as escalation / proposal frames;
        // until then nothing is waiting (a handoff closed while we were away must not keep its banner).
        handoff.hidden = true; humanBtn.disabled = false;
        greetingBubble = addBubble("system", frame.greeting);
        (frame.history || []).forEach(function (m) {
          if (m.role !== "assistant") {
            addBubble(m.role, m.text, m.role === "agent" ? { who: t("support_team") } : {}).node.setAttribute("data-message-id", String(m.message_id));
            return;
          }
          // A kept question answered while we were away is settled by its answer: no resend.
          var settled = m.reply_to ? unansweredById(m.reply_to) : null;
          if (settled) forget(settled);
          finishAssistant({ message_id: m.message_id, text: m.text, sources: m.sources, status: m.status }, settled);
        });
        if (identityToken) { identifying = true; send({ type: "identify", token: identityToken }); }
        pending.splice(0).forEach(send);
        resendUnanswered(frame.history || []);
        break;
      case "message.ack":  // the server queues messages and answers them in order: the next may go now
        sendBtn.disabled = false;
        var acked = unansweredById(frame.client_id);
        if (awaiting && awaiting.clientId === frame.client_id) awaiting = null;
        if (acked) { acked.message_id = frame.message_id; saveUnanswered(); }
        // In a live handoff the ack is all a message gets (staff answer it); a resend would reach the assistant later.
        if (acked && handoffLive) forget(acked);
        break;
      case "message.start":
        var b = addBubble("assistant", "");
        b.node.classList.add("streaming");
        b.start = frame;
        bubbles[frame.message_id] = b;
        break;
      case "message.delta":
        var target = bubbles[frame.message_id];
        if (target) { target.text += frame.text; target.body.textContent = target.text; scrollDown(); }
        break;
      case "message.end":
        var answered = questionAnsweredBy(frame);
        if (answered) forget(answered);
        finishAssistant(frame, answered); sendBtn.disabled = false;
        break;
      case "agent.message":
        addBubble("agent", frame.text, { who: frame.agent_name || t("support_team") }); sendBtn.disabled = false;
        break;
      case "agent.typing":  // shown for 3 s after the last one, unless something else took the status line
        var typing = t("team_typing");
        setStatus(typing);
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { if (status.textContent === typing) setStatus(""); }, 3000);
        break;
      case "escalation": onEscalation(frame); sendBtn.disabled = false; break;
      case "identify.ack":
        identifying = false;
        if (greetingBubble) greetingBubble.body.textContent = frame.greeting;
        break;
      case "feedback.ack":
        var fb = log.querySelector('.feedback[data-message-id="' + frame.message_id + '"] .ack');
        if (fb) fb.textContent = t("feedback_thanks");
        break;
      case "rating.ack":
        rating.hidden = true; addBubble("system", t("rating_thanks"));
        break;
      case "error":
        // Before session.ready an error is the socket's setup failing (unavailable, then its close):
        // it answers nothing the customer sent, so it refuses no question kept for resending.
        if (!connected) { setStatus(frame.message, true); break; }
        var paneRequest = awaiting && awaiting.pane && !pane.hidden ? awaiting : null;
        sendBtn.disabled = false;
        cutFailedAnswers(frame);
        if (frame.client_id) {
          questionFailed(frame.client_id);
        } else if (identifying && frame.code === "forbidden") {
          // The stored conversation belongs to someone else (shared device) or the token was refused:
          // start a fresh conversation; a refused token leaves the visitor anonymous.
          identifying = false;
          if (frame.reason === "identity_conflict") { startOver(); return; }
        } else if (awaiting && awaiting.buttons) {  // the decision was not taken: let the customer try again
          awaiting.buttons.forEach(function (b) { b.disabled = false; });
        } else if (awaiting) {  // the question sent last was refused (rate limit, too long): not stored
          var refused = unansweredById(awaiting.clientId);
          if (refused) forget(refused);
        }
        if (!frame.client_id) awaiting = null;
        // in the customer's language (chat/error_phrases.py); a pane request's error shows by its fields
        if (paneRequest) showPaneError(frame.message, paneRequest.inputs, frame.field);
        else setStatus(frame.message, true);
        break;
      case "proposal.result": awaiting = null; onBooking(frame); break;
      case "booking.services": case "booking.slots": case "booking.detail": case "proposal":
        if (awaiting && awaiting.pane) awaiting = null;
        onBooking(frame);
        break;
      default: break;
    }
  }

  // ---------- bookings: "Book" and "Manage my booking" quick actions (protocol: booking.* and proposal frames) ----------
  var BOOKING_CSS = [
    ".booking{border-top:1px solid #e9ecef;padding:8px 14px;max-height:45%;overflow-y:auto;font-size:14px;background:#f8f9fa}",
    ".booking[hidden]{display:none}",
    ".booking h3{font-size:14px;margin:0 0 6px}",
    ".booking .choices{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0}",
    ".booking button,.proposal button{font-size:13px;border:1px solid #ced4da;background:#fff;border-radius:8px;padding:4px 9px;cursor:pointer}",
    ".booking .primary,.proposal .primary{background:var(--brand);color:#fff;border-color:var(--brand)}",
    ".booking label{display:block;margin:4px 0;font-size:13px}",
    ".booking input{width:100%;font-size:14px;padding:5px;border:1px solid #ced4da;border-radius:6px}",
    ".proposal .warn{font-size:12px;color:#7a1010}.proposal .row{display:flex;gap:6px;margin-top:6px}",
    ".pay-terms,.pay-state{font-size:13px;font-weight:600;margin:4px 0}",
    ".pane-error{font-size:13px;color:#7a1010;margin:4px 0}.booking input[aria-invalid=true]{border-color:#c92a2a}",
    ".booking h3:focus,.msg[tabindex]:focus{outline:2px solid #1d4ed8;outline-offset:2px}"
  ].join("\n");
  root.appendChild(el("style", { text: BOOKING_CSS }));
  var bookBtn = el("button", { type: "button", t: "book" });
  var manageBtn = el("button", { type: "button", t: "manage_booking" });
  var actionsBar = panel.querySelector(".actions");
  actionsBar.insertBefore(manageBtn, actionsBar.firstChild);
  actionsBar.insertBefore(bookBtn, actionsBar.firstChild);
  var pane = el("div", { class: "booking", role: "region", "t-aria-label": "booking", hidden: "" });
  panel.insertBefore(pane, compose);
  var flow = {};  // what the pane is doing: {mode: "book"|"reschedule", service, code, email}
  var paneOpener = bookBtn;  // the quick action that opened the pane: focus goes back to it when the pane closes

  // Whether the keyboard focus is on the booking flow (the pane, the quick action that opened it) or
  // was lost with a control the flow removed or disabled: the flow's next step then takes it.
  function focusInFlow() {
    var active = root.activeElement;
    if (!active) return document.activeElement === document.body;
    return pane.contains(active) || active === bookBtn || active === manageBtn;
  }
  function closePane() { pane.hidden = true; paneOpener.focus(); }
  function showPane(heading, children) {
    var moveFocus = focusInFlow();
    pane.textContent = "";
    pane.hidden = false;
    var close = el("button", { type: "button", "t-aria-label": "close_booking", text: "×", style: "float:right" });
    close.addEventListener("click", closePane);
    var title = el("h3", { text: heading, tabindex: "-1" });
    pane.appendChild(close);
    pane.appendChild(title);
    (children || []).forEach(function (c) { pane.appendChild(c); });
    if (moveFocus) title.focus();
  }
  // A pane button's request: the button waits (disabled) for its answer, so a double click sends one;
  // an error answering it enables it again and shows in the pane, marked on the ``inputs`` sent.
  function request(button, frame, inputs) {
    clearPaneError();
    button.disabled = true;
    awaiting = { buttons: [button], pane: true, inputs: inputs || [] };
    send(frame);
  }
  // An error naming a field (its frame's ``field``) is tied to the step's input of that name, or to none
  // when the step has no input for it (the time, picked from a list); one naming none, to all it sent.
  var PANE_ERROR_ID = "sai-pane-error";
  function showPaneError(message, inputs, fieldName) {
    var note = pane.querySelector(".pane-error") || pane.appendChild(el("p", { class: "pane-error", id: PANE_ERROR_ID, role: "alert" }));
    note.textContent = message;
    var marked = fieldName ? inputs.filter(function (i) { return i.name === fieldName; }) : inputs;
    marked.forEach(function (i) { i.setAttribute("aria-invalid", "true"); i.setAttribute("aria-describedby", PANE_ERROR_ID); });
  }
  function clearPaneError() {
    var note = pane.querySelector(".pane-error");
    if (note) note.remove();
    Array.prototype.forEach.call(pane.querySelectorAll("input[aria-invalid]"), function (i) { i.removeAttribute("aria-invalid"); i.removeAttribute("aria-describedby"); });
  }
  function field(label, attrs) {
    var input = el("input", attrs);
    return { input: input, node: el("label", {}, [el("span", { t: label }), input]) };
  }
  // A step's fields and its button in a form: Enter in a field sends the step as the button does, once
  // the browser's own checks (required, email) pass; not while the button waits for its answer.
  function stepForm(fields, button, onSubmit) {
    button.type = "submit";
    var form = el("form", {}, fields.map(function (f) { return f.node; }).concat([button]));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!button.disabled) onSubmit();
    });
    return form;
  }
  function isoDate(offsetDays) {
    var d = new Date(Date.now() + offsetDays * 86400000);
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }
  function askSlots(serviceId, heading) {
    var day = field("from_date", { type: "date", name: "date", value: isoDate(1), min: isoDate(0), required: "" });
    var go = el("button", { class: "primary", t: "show_free_times" });
    showPane(heading, [stepForm([day], go, function () {
      request(go, { type: "booking.slots", service_id: serviceId, date: day.input.value, days: 7 }, [day.input]);
    })]);
  }

  bookBtn.addEventListener("click", function () {
    flow = { mode: "book" }; paneOpener = bookBtn;
    showPane(t("book_appointment"), [el("p", { t: "loading_services" })]);
    send({ type: "booking.services" });
  });
  manageBtn.addEventListener("click", function () {
    paneOpener = manageBtn;
    var code = field("confirmation_code", { name: "code", placeholder: "BK-XXXXXX", maxlength: "16", autocomplete: "off", required: "" });
    var email = field("booking_email", { type: "email", name: "email", maxlength: "254", autocomplete: "email", required: "" });
    var find = el("button", { class: "primary", t: "find_booking" });
    showPane(t("manage_booking"), [stepForm([code, email], find, function () {
      flow = { mode: "manage", code: code.input.value.trim(), email: email.input.value.trim() };
      request(find, { type: "booking.lookup", code: flow.code, email: flow.email }, [code.input, email.input]);
    })]);
  });

  function onServices(frame) {
    var list = el("div", { class: "choices" });
    (frame.services || []).forEach(function (s) {
      var b = el("button", { type: "button", "data-service-id": String(s.id), text: t("service_choice", { name: s.name, minutes: s.duration_minutes, price: s.price }) });
      b.addEventListener("click", function () { flow.service = s; askSlots(s.id, s.name); });
      list.appendChild(b);
    });
    showPane(t("what_to_book"), [frame.services && frame.services.length ? list : el("p", { t: "nothing_to_book" })]);
  }

  function onSlots(frame) {
    var list = el("div", { class: "choices" });
    (frame.slots || []).slice(0, 40).forEach(function (slot) {
      var b = el("button", { type: "button", class: "slot", "data-start": slot.start, text: slot.label });
      b.addEventListener("click", function () { chooseSlot(frame.service_id, slot, b); });
      list.appendChild(b);
    });
    var note = el("p", { text: frame.slots && frame.slots.length ? t("times_in_zone", { timezone: frame.timezone }) : t("no_free_times") });
    showPane(t(flow.mode === "reschedule" ? "pick_new_time" : "pick_time"), [note, list]);
  }

  // ``button``: the slot's own; a new time is asked for at once, so the button waits for its answer.
  function chooseSlot(serviceId, slot, button) {
    if (flow.mode === "reschedule") {
      request(button, { type: "booking.reschedule", code: flow.code, email: flow.email, start: slot.start });
      return;
    }
    var name = field("your_name", { name: "name", maxlength: String(2 * MAX_NAME_CHARS), autocomplete: "name", required: "" });
    var email = field("confirmation_email", { type: "email", name: "email", maxlength: "254", autocomplete: "email", required: "" });
    var ask = el("button", { class: "primary", t: "continue" });
    showPane(slot.label, [stepForm([name, email], ask, function () {
      if (chars(name.input.value).length > MAX_NAME_CHARS) {
        clearPaneError();
        showPaneError(t("name_too_long", { limit: MAX_NAME_CHARS }), [name.input], "name");
        return;
      }
      request(ask, { type: "booking.propose", service_id: serviceId, start: slot.start, name: name.input.value, email: email.input.value }, [name.input, email.input]);
    })]);
  }

  // How a booking stands on paying (booking.detail's payment_status; nothing for a free one).
  var PAYMENT_STATES = { paid: "paid", refunded: "refunded", on_arrival: "pay_at_venue", awaiting_payment: "awaiting_payment", unpaid: "not_paid" };
  // A paid booking part of whose payment was refunded since (booking.detail's ``refunded``) says both.
  function paymentState(b) {
    if (b.payment_status === "paid" && b.refunded) return t("partly_refunded", { refunded: b.refunded, price: b.price });
    var state = Object.prototype.hasOwnProperty.call(PAYMENT_STATES, b.payment_status) && PAYMENT_STATES[b.payment_status];
    return state ? t(state, { price: b.price }) : "";
  }
  // A booking's status (bookings.models.BookingStatus) in the customer's words; one added later reads neutrally.
  var BOOKING_STATES = { pending: "state_pending", confirmed: "state_confirmed", canceled: "state_canceled", completed: "state_completed", no_show: "state_no_show" };
  function bookingState(status) {
    return t(Object.prototype.hasOwnProperty.call(BOOKING_STATES, status) ? BOOKING_STATES[status] : "state_unknown");
  }
  // A booking released because it was not paid in time (booking.detail's hold_expired): say so, and offer the service again.
  function onDetail(frame) {
    var b = frame.booking;
    var lines = [el("p", { text: b.service + " — " + b.label + " (" + b.timezone + ")" }), el("p", { class: "booking-status", text: t("state_line", { state: b.hold_expired ? t("hold_expired") : bookingState(b.status), code: b.confirmation_code }) })];
    var state = paymentState(b);
    if (state) lines.push(el("p", { class: "pay-state", text: state }));
    // A booking held until paid: its customer may have closed the payment tab, so the link is offered again.
    var pay = b.status === "pending" && safeUrl(b.checkout_url);
    if (pay) lines.push(el("div", { class: "choices" }, [el("a", { href: pay, target: "_blank", rel: "noopener noreferrer", class: "pay-link", t: "pay_now" })]));
    if (b.status === "confirmed" || b.status === "pending") {
      var move = el("button", { type: "button", t: "reschedule" });
      move.addEventListener("click", function () { flow.mode = "reschedule"; askSlots(b.service_id, t("reschedule_service", { service: b.service })); });
      var cancel = el("button", { type: "button", t: "cancel_booking" });
      cancel.addEventListener("click", function () { request(cancel, { type: "booking.cancel", code: flow.code, email: flow.email }); });
      lines.push(el("div", { class: "choices" }, [move, cancel]));
    }
    if (b.hold_expired) {
      var again = el("button", { type: "button", class: "primary", t: "book_again" });
      again.addEventListener("click", function () { flow = { mode: "book" }; askSlots(b.service_id, t("book_service", { service: b.service })); });
      lines.push(el("div", { class: "choices" }, [again]));
    }
    showPane(t("your_booking"), lines);
  }

  // How a proposed booking is paid: "" for a free one, or one proposed before its price was recorded.
  function payTerms(details) {
    if (!details || !(details.price_cents > 0)) return "";
    return details.payment === "on_arrival" ? t("pay_at_venue", { price: details.price }) : t("pay_online");
  }

  var proposalCards = {};
  function focusCard(node) { node.setAttribute("tabindex", "-1"); node.focus(); }
  function onProposal(frame) {
    var moveFocus = !pane.hidden && focusInFlow();
    var known = proposalCards[frame.proposal_id];
    // The same proposal again (a repeated request, the assistant proposing it anew) keeps its one card;
    // a pane that asked for it gives way to that card, as it did the first time.
    if (known) {
      if (!pane.hidden) { pane.hidden = true; known.parentNode.scrollIntoView({ block: "nearest" }); }
      if (moveFocus) focusCard(known.parentNode);
      return;
    }
    pane.hidden = true;
    var card = addBubble("system", frame.summary, { focus: moveFocus });
    card.node.classList.add("proposal");
    card.node.setAttribute("data-proposal-id", frame.proposal_id);
    var terms = payTerms(frame.details);
    if (terms) card.node.appendChild(el("p", { class: "pay-terms", text: terms }));
    if (frame.details && frame.details.level === "T3") {
      card.node.appendChild(el("div", { class: "warn", text: t(frame.action === "book" ? "check_before_paying" : "check_change") }));
    }
    var yes = el("button", { type: "button", class: "primary", t: "confirm" });
    var no = el("button", { type: "button", t: "dont_do_it" });
    function decide(type) {
      yes.disabled = no.disabled = true;
      awaiting = { buttons: [yes, no] };
      send({ type: type, proposal_id: frame.proposal_id });
    }
    yes.addEventListener("click", function () { decide("proposal.confirm"); });
    no.addEventListener("click", function () { decide("proposal.reject"); });
    var row = el("div", { class: "row" }, [yes, no]);
    card.node.appendChild(row);
    proposalCards[frame.proposal_id] = row;
    scrollDown();
    if (moveFocus) card.node.focus();
  }

  function onProposalResult(frame) {
    var row = proposalCards[frame.proposal_id];
    // The decision's buttons go: focus on them (or lost when they were disabled) moves to the result.
    var moveFocus = row ? row.contains(root.activeElement) || document.activeElement === document.body : false;
    if (row) row.textContent = "";
    var text;
    // A server's message is in the customer's language; older servers send none for an executed result.
    if (frame.status === "executed" && frame.message) {
      text = frame.message;
    } else if (frame.status === "executed" && frame.action === "book") {
      text = t(frame.booking_status === "pending" ? "result_held" : "result_booked", { code: frame.confirmation_code });
    } else if (frame.status === "executed") {
      text = frame.action === "cancel" ? t("result_canceled") : t("result_moved", { when: frame.start_local });
    } else {
      text = frame.message || t("request_status", { status: frame.status });
    }
    var bubble = addBubble("system", text, { focus: moveFocus });
    bubble.node.setAttribute("data-proposal-result", frame.status);
    if (frame.status === "executed" && frame.action === "book" && frame.payment === "on_arrival" && frame.price_cents > 0) {
      bubble.node.appendChild(el("p", { class: "pay-terms", text: frame.pay_terms || t("pay_at_venue", { price: frame.price }) }));
    }
    var pay = frame.checkout_url && frame.booking_status === "pending" && safeUrl(frame.checkout_url);
    if (pay) bubble.node.appendChild(el("div", { class: "row" }, [el("a", { href: pay, target: "_blank", rel: "noopener noreferrer", class: "pay-link", t: "pay_now" })]));
    if (moveFocus) bubble.node.focus();
  }

  function onBooking(frame) {
    if (frame.type === "booking.services") onServices(frame);
    else if (frame.type === "booking.slots") onSlots(frame);
    else if (frame.type === "booking.detail") onDetail(frame);
    else if (frame.type === "proposal") onProposal(frame);
    else if (frame.type === "proposal.result") onProposalResult(frame);
  }

  compose.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    if (chars(text).length > MAX_CHARS) { setStatus(t("message_too_long", { limit: MAX_CHARS }), true); return; }
    ask(text);
    input.value = ""; sendBtn.disabled = true; setStatus("");
  });
  // Enter sends, Shift+Enter breaks the line; an Enter that confirms an input method's composition
  // (Japanese, Chinese, Korean…) is the input method's, not a send (Safari flags it by keyCode 229 only).
  input.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault(); compose.requestSubmit ? compose.requestSubmit() : compose.dispatchEvent(new Event("submit"));
  });
  humanBtn.addEventListener("click", function () { send({ type: "escalate", reason: "Customer pressed 'Talk to a human'" }); });
  endBtn.addEventListener("click", function () { rating.hidden = false; stars.querySelector("button").focus(); });
  ratingSend.addEventListener("click", function () {
    if (!chosenRating) { setStatus(t("choose_stars"), true); return; }
    send({ type: "rating", rating: chosenRating, comment: chars(ratingComment.value).slice(0, MAX_COMMENT_CHARS).join("") });
  });
  setInterval(pingOrDrop, PING_INTERVAL_MS);
  chooseWords(pageTags(), function () { document.body.appendChild(host); });
  window.SupportAI = {
    identify: function (token) {
      identityToken = String(token || "");
      if (connected && identityToken) { identifying = true; send({ type: "identify", token: identityToken }); }
    },
    logout: function () { identityToken = ""; startOver(); }
  };
})();
