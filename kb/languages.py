"""The site's content languages and how a request picks one.

Interface language comes from Django's i18n (LocaleMiddleware: the language cookie, then
Accept-Language); articles follow it unless `?lang=` names one explicitly. Django calls
Simplified Chinese `zh-hans`; articles call it `zh`.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import get_language

CONTENT_LANGUAGES = ("en", "ja", "zh")
# The value of hreflang (BCP 47) for each content language.
HREFLANG = {"en": "en", "ja": "ja", "zh": "zh-Hans"}


def content_language(code: str | None) -> str | None:
    """Our content language for a Django or BCP 47 code ("zh-hans" -> "zh"), else None."""
    if not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0]
    return base if base in CONTENT_LANGUAGES else None


def active_language() -> str:
    """The content language of the interface language active for this request ("en" if none)."""
    return content_language(get_language()) or "en"


def requested_language(request: HttpRequest) -> str:
    """`?lang=ja|zh|en` when given, else the active interface language."""
    return content_language(request.GET.get("lang")) or active_language()
