"""``GET /api/v1/public/widget/strings/<tags>``: the widget's own words in the language its page asks for.

``tags`` are the language tags the widget read on its page (``data-lang``, else ``<html lang>``, else
``navigator.languages``), comma-separated in order of preference (``de-AT``, ``fr-CH,fr,en-US``). They
are read as an ``Accept-Language`` header is (``accepted_language``): a tag, else its base language,
``zh-TW``/``zh-HK``/``zh-Hant-*`` as traditional Chinese, the first one of ours winning; anything else,
malformed or not, is English. So every request is answered ``200`` with one row of the table, and the
answer says which (``language``).

The words are the same for every tenant and every visitor: no widget key, no cookie, nothing read from
the database. The answer may be cached by browsers and shared caches (``Cache-Control: public``) and read
from any page (``Access-Control-Allow-Origin: *``; the chat's own endpoints, which carry a tenant's key
and a conversation, check the tenant's origins instead).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from chat.public_language import accepted_language
from chat.widget_phrases import widget_strings
from routing.language import DEFAULT

# An hour: a release that changes the words reaches a returning visitor within it (a key the cached
# row lacks is said in the widget's own English meanwhile).
MAX_AGE_S = 3600
# Far more than a page's tags; a longer path is no page's and is answered in English unread.
MAX_TAGS_CHARS = 200


@require_safe
def strings(request: HttpRequest, tags: str) -> JsonResponse:
    """``{"language": ..., "strings": {key: sentence}}`` for the first of ``tags`` we speak, else English."""
    language = accepted_language(tags) if len(tags) <= MAX_TAGS_CHARS else DEFAULT
    response = JsonResponse(
        {"language": language, "strings": widget_strings(language)}, json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = f"public, max-age={MAX_AGE_S}"
    response["Access-Control-Allow-Origin"] = "*"
    return response
