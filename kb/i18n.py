"""Interface language: `?lang=` on any page, after the cookie and Accept-Language.

Django's LocaleMiddleware picks the language from the switch's cookie, then Accept-Language.
`?lang=en|ja|zh|zh-hans` wins for that one request, so every page has a distinct URL per language
for `<link rel="alternate" hreflang>` and for links shared in a wiki. It is not remembered: only
the language switch (Django's `set_language`, a cookie) is.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

# Our article language codes (en, ja, zh) and Django's interface codes (zh-hans) alike.
QUERY_LANGUAGES = {
    "en": "en",
    "ja": "ja",
    "zh": "zh-hans",
    "zh-hans": "zh-hans",
    "zh-cn": "zh-hans",
}


def language_from_query(request: HttpRequest) -> str | None:
    """The interface language `?lang=` asks for, or None when absent or unknown."""
    value = request.GET.get("lang")
    if not value:  # most requests: no set of the supported codes to build
        return None
    code = QUERY_LANGUAGES.get(value.strip().lower()[:16])
    supported = {code for code, _name in settings.LANGUAGES}
    return code if code in supported else None


class QueryLanguageMiddleware:
    """Activate `?lang=` for this request; goes right after LocaleMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        code = language_from_query(request)
        if code:
            translation.activate(code)
            request.LANGUAGE_CODE = code
        response = self.get_response(request)
        if code:
            response.headers["Content-Language"] = code
        return response
