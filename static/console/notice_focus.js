/* Console: after a form posts and the page comes back with a notice ("You hold escalation #7 now", an
   error), the keyboard focus goes to that notice instead of the top of the page, so keyboard and
   screen-reader users hear what happened and carry on from there. A notice tagged "then-reply" (a claim
   on the inbox page) sends the focus on to the reply box, which it then describes. A form drawn again
   with its errors (a block marked .form-error, a field's .field-error, Django's ul.errorlist) gets the
   focus on its first error the same way, the next Tab reaching the fields. Nothing moves when the focus
   is already somewhere (a field the page focuses itself, a click made before this ran). */
(function () {
  "use strict";
  var active = document.activeElement;
  if (active && active !== document.body) return;
  var notices = document.querySelectorAll("#main > .message.notice");
  if (!notices.length) {
    var error = document.querySelector("#main .form-error, #main .field-error, #main ul.errorlist");
    if (!error) return;
    if (!error.hasAttribute("tabindex")) error.setAttribute("tabindex", "-1");
    error.focus();
    return;
  }
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
