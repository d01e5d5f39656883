"""Whether a knowledge upload carries credentials that may upload, from its headers alone, so that
daphne reads a body larger than ``HTTP_MAX_BODY_BYTES`` only for them (``supportai/daphne_setup.py``);
for the others, what the upload's view would answer them, given instead of reading their body.

It asks what the views ask, of the database (run it on the database pool, ``supportai.db.db_submit``):

* the REST API (``/api/v1/knowledge/documents/``): a ``Bearer`` key that is active
  (``api_key_active_get``: reads only, DRF touches ``last_used_at`` once the body is in), else DRF's
  401 with its ``detail`` and challenge; without a ``Bearer`` key, a staff session whose user is an
  owner or admin of their only tenant (``staff_manager_tenant``), else 401 with no session, 403 saying
  why with one;
* the console (``/console/knowledge/``): a session whose current membership manages knowledge, else
  the log-in page (302, as ``login_required``) for a visitor not logged in, a plain-text 403 saying
  why for a member who may not upload.
"""

from __future__ import annotations

from importlib import import_module
from typing import Literal

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.cookie import parse_cookie
from rest_framework.exceptions import NotAuthenticated

from knowledge.api_access import staff_manager_tenant
from knowledge.console_access import NOT_MANAGER
from supportai.api_auth import CHALLENGE, INVALID_KEY, MISSING_KEY, bearer_key
from supportai.api_keys import api_key_active_get
from supportai.console.tenancy import NO_MEMBERSHIP, current_membership
from supportai.raw_answer import RawAnswer

UploadView = Literal["api", "console"]
UNAUTHORIZED = b"401 Unauthorized"
FORBIDDEN = b"403 Forbidden"
FOUND = b"302 Found"


def upload_refusal(view: UploadView, *, authorization: str, cookie: str, full_path: str) -> RawAnswer | None:
    """None when a request to ``view`` with these ``Authorization`` and ``Cookie`` headers may upload,
    else what the view answers it. ``full_path`` is the path and query Django will see (its ``next``)."""
    if view == "api":
        return _api_refusal(authorization, cookie)
    return _console_refusal(cookie, full_path)


def _api_refusal(authorization: str, cookie: str) -> RawAnswer | None:
    raw_key = bearer_key(authorization)
    if raw_key is not None:
        if not raw_key:
            return _unauthorized(MISSING_KEY)
        return None if api_key_active_get(raw_key) is not None else _unauthorized(INVALID_KEY)
    user = session_request(cookie).user
    if not user.is_authenticated:
        return _unauthorized(str(NotAuthenticated.default_detail))
    try:
        staff_manager_tenant(user)
    except PermissionDenied as exc:
        return RawAnswer.json(FORBIDDEN, {"detail": str(exc)})
    return None


def _unauthorized(detail: str) -> RawAnswer:
    return RawAnswer.json(UNAUTHORIZED, {"detail": detail}, ((b"WWW-Authenticate", CHALLENGE.encode()),))


def _console_refusal(cookie: str, full_path: str) -> RawAnswer | None:
    request = session_request(cookie)
    if not request.user.is_authenticated:
        log_in = redirect_to_login(full_path)["Location"]
        return RawAnswer.text(FOUND, "", ((b"Location", log_in.encode("latin-1")),))
    membership = current_membership(request)
    if membership is None:
        return RawAnswer.text(FORBIDDEN, NO_MEMBERSHIP)
    if not membership.can_manage:
        return RawAnswer.text(FORBIDDEN, NOT_MANAGER)
    return None


def session_request(cookie: str) -> HttpRequest:
    """A request holding the session a ``Cookie`` header names and its user, as Django's session and
    authentication middleware would give the view (a session of a changed password is flushed alike)."""
    request = HttpRequest()
    session_key = parse_cookie(cookie).get(settings.SESSION_COOKIE_NAME)
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    request.user = get_user(request)
    return request
