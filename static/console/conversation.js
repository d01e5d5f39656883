/* Conversation page: its transcript kept live over the staff inbox socket (a `watch` frame, see
   docs/websocket-protocol.md). New lines carry what the inbox shows; cost and timing appear on reload.
   Under handoff, whether the customer is in the chat too (`presence` frames). */
(function () {
  "use strict";
  var transcript = document.getElementById("transcript");
  if (!transcript || !transcript.dataset.conversation) return;
  var tenant = transcript.dataset.tenant;
  var conversation = parseInt(transcript.dataset.conversation, 10);
  var liveState = document.getElementById("live-state");
  var presence = document.getElementById("customer-presence");  // under handoff only
  var attempts = 0;

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/inbox/?tenant=" + encodeURIComponent(tenant));
    socket.onopen = function () {
      attempts = 0;
      socket.send(JSON.stringify({
        type: "watch", conversation_id: conversation, after: SupportAITranscript.lastShownId(transcript)
      }));
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "watch.ack" && liveState) { liveState.textContent = "live"; liveState.classList.add("on"); }
      else if (frame.type === "message" && frame.conversation_id === conversation) {
        SupportAITranscript.show(transcript, frame);
        if (frame.role === "customer" && presence) SupportAITranscript.customerWrote(presence);
      } else if (frame.type === "presence" && frame.conversation_id === conversation && presence) {
        SupportAITranscript.showPresence(presence, frame, transcript.dataset.timezone);
      }
    };
    socket.onclose = function (event) {
      if (liveState) { liveState.textContent = "offline"; liveState.classList.remove("on"); }
      if (event.code === 4403) return;  // no (longer any) access: don't knock again
      attempts += 1;
      setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, attempts)));
    };
  }
  connect();
})();
