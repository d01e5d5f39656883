/* Console: after a form posts and the page comes back with a notice ("You hold escalation #7 now", an
   error), the keyboard focus goes to that notice instead of the top of the page, so keyboard and
   screen-reader users hear what happened and carry on from there. A notice tagged "then-reply" (a claim
   on the inbox page) sends the focus on to the reply box, which it then describes. Nothing moves when
   the focus is already somewhere (a field the page focuses itself, a click made before this ran). */
(function () {
  "use strict";
  var notices = document.querySelectorAll("#main > .message.notice");
  if (!notices.length) return;
  var active = document.activeElement;
  if (active && active !== document.body) return;
  var notice = document.querySelector("#main > .message.notice[role=alert]") || notices[0];
  var reply = notice.classList.contains("then-reply") && document.getElementById("reply-text");
  if (reply && reply.offsetParent !== null) {
    notice.id = notice.id || "console-notice";
    reply.setAttribute("aria-describedby", notice.id);
    reply.focus();
    return;
  }
  notice.focus();
})();
