"""Middleware: what every request goes through before a view sees it.

(Before Django, under gunicorn, kb/isolation.py sends heavy requests to a child process,
where this same chain runs.) In the order of settings.MIDDLEWARE:

- `SecurityHeadersMiddleware` (outermost): CSP, nosniff, frame and referrer headers on every
  response, the 400/408/411/413/429 answers of the middleware below and Django's error pages
  included.
- `RequestBodyMiddleware`: refuses what a view could not read safely, before it reads it: a
  body over the limit (413, from Content-Length alone), a chunked body (411: WSGI gives Django
  no length, so it would read as empty), a charset outside a short list of text encodings
  (400: `punycode`, `unicode_escape` or `rot13` decode to lone surrogates or fail with errors
  no view expects). Then it reads the body once, so a client that stops sending gets a 408
  instead of a view failing half-way.
- `AdminLoginThrottle`: a bounded number of admin login attempts per address.
- `StaticFilesMiddleware`: whitenoise, without serving collectstatic's manifest.
- `HeadAsGetMiddleware`: HEAD is answered like GET without the body (views allow only GET).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from whitenoise.middleware import WhiteNoiseMiddleware

from kb.i18n import language_from_query

Handler = Callable[[HttpRequest], HttpResponse]


def _reader_language(request: HttpRequest) -> str:
    """The language a person reads: these answers come before LocaleMiddleware has run, so
    ``?lang=``, the switch's cookie and Accept-Language are read here the same way."""
    return language_from_query(request) or translation.get_language_from_request(request)


def refusal(
    request: HttpRequest,
    *,
    status: int,
    title: str,
    message: str,
    args: dict[str, object] | None = None,
    **extra: object,
) -> HttpResponse:
    """A clear 4xx/5xx answer: JSON under /api/ (English), a small page for people in their
    language (``title`` and ``message`` may be lazy translations, ``message`` filled with
    ``args`` once translated)."""

    def text() -> str:
        return str(message) % args if args else str(message)

    if request.path.startswith("/api/"):
        with translation.override("en"):
            return JsonResponse({"error": text(), **extra}, status=status)
    with translation.override(_reader_language(request)):
        html = render_to_string(
            "refused.html", {"title": str(title), "message": text()}, request=request
        )
    return HttpResponse(html, status=status)


TOO_LARGE = {
    "request": _("The request is larger than the limit of %(limit)s bytes."),
    "pasted text": _("The pasted text is larger than the limit of %(limit)s bytes."),
    "text": _("The text is larger than the limit of %(limit)s bytes."),
}


def too_large_response(request: HttpRequest, *, limit: int, what: str = "request") -> HttpResponse:
    """A clear 413 answer: JSON for the API (English), a page for people in their language."""
    template = TOO_LARGE[what]
    if request.path.startswith("/api/"):
        with translation.override("en"):
            message = str(template) % {"limit": f"{limit:,}"}
        return JsonResponse({"error": message, "limit": limit}, status=413)
    with translation.override(_reader_language(request)):
        message = str(template) % {"limit": f"{limit:,}"}
        html = render_to_string("413.html", {"message": message}, request=request)
    return HttpResponse(html, status=413)


class SecurityHeadersMiddleware:
    """Set the security headers on every response, whoever produced it.

    Outermost, so that answers given by the middleware below it (400, 408, 411, 413, 429) and
    Django's own 400 for a bad Host header carry them too. Django's settings values are used,
    so there is one place to change them.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.headers = {
            "Content-Security-Policy": settings.KB_CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": settings.X_FRAME_OPTIONS,
            "Referrer-Policy": settings.SECURE_REFERRER_POLICY,
            "Cross-Origin-Opener-Policy": settings.SECURE_CROSS_ORIGIN_OPENER_POLICY,
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in self.headers.items():
            response.headers.setdefault(name, value)
        return response


# Charsets a client may declare: the text encodings people's tools really send. Names are
# compared after codecs.lookup(), so every alias of these is accepted too. Left out on
# purpose: codecs that are not character sets of text on the wire (punycode, idna,
# unicode_escape, raw_unicode_escape, rot_13, the bytes-to-bytes ones) and utf_7, whose
# decoder can produce lone surrogates.
ALLOWED_CHARSETS = frozenset(
    {
        "utf-8",
        "utf-8-sig",
        "utf-16",
        "utf-16-le",
        "utf-16-be",
        "utf-32",
        "utf-32-le",
        "utf-32-be",
        "ascii",
        "latin-1",
        *(f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16)),
        *(f"cp{n}" for n in (1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258)),
        "koi8-r",
        "koi8-u",
        "shift_jis",
        "cp932",
        "euc_jp",
        "iso2022_jp",
        "gb2312",
        "gbk",
        "gb18030",
        "big5",
        "big5hkscs",
        "euc_kr",
        "cp949",
    }
)


def charset_allowed(name: str) -> bool:
    """True when `name` (any alias) is one of the text encodings in ALLOWED_CHARSETS."""
    try:
        canonical = codecs.lookup(name).name
    except (LookupError, ValueError):
        return False
    return canonical in _ALLOWED_CANONICAL


_ALLOWED_CANONICAL = frozenset(codecs.lookup(name).name for name in ALLOWED_CHARSETS)


class RequestBodyMiddleware:
    """Refuse bodies a view could not read safely; read the others once (module docstring)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.KB_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return too_large_response(request, limit=limit)
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return refusal(
                request,
                status=411,
                title=_("Length required"),
                message=_(
                    "Send the body with a Content-Length header; chunked bodies are not accepted."
                ),
            )
        charset = request.content_params.get("charset")
        if charset is not None and not charset_allowed(charset):
            return refusal(
                request,
                status=400,
                title=_("Unsupported charset"),
                message=_("The declared charset %(charset)s is not supported; send UTF-8 text."),
                args={"charset": repr(charset[:40])},
            )
        if length and request.method not in ("GET", "HEAD"):
            try:
                request.body  # noqa: B018 - read once, here, with the errors answered here
            except RequestDataTooBig:
                return too_large_response(request, limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
            except UnreadablePostError:
                return refusal(
                    request,
                    status=408,
                    title=_("Request timeout"),
                    message=_("The request body did not arrive in time."),
                )
        return self.get_response(request)


class AdminLoginThrottle:
    """At most KB_ADMIN_LOGIN_ATTEMPTS login posts per client address per window.

    Counted in Django's cache (per process with the default local-memory cache, so a server
    with N workers allows at most N times as many); the address is REMOTE_ADDR, which behind
    a proxy is the proxy's: then the limit applies to everyone together, which errs on the
    safe side.
    """

    PATH = "/admin/login/"

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path == self.PATH:
            window = settings.KB_ADMIN_LOGIN_WINDOW_SECONDS
            key = "admin-login:" + request.META.get("REMOTE_ADDR", "")
            cache.add(key, 0, timeout=window)
            try:
                attempts = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=window)
                attempts = 1
            if attempts > settings.KB_ADMIN_LOGIN_ATTEMPTS:
                response = refusal(
                    request,
                    status=429,
                    title=_("Too many attempts"),
                    message=_("Too many login attempts from this address; wait and try again."),
                )
                response["Retry-After"] = str(window)
                return response
        return self.get_response(request)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """whitenoise, minus collectstatic's manifest (staticfiles.json lists every file)."""

    MANIFEST = "staticfiles.json"

    def add_file_to_dictionary(self, url: str, path: str, stat_cache=None) -> None:  # noqa: ANN001
        if url == self.static_prefix + self.MANIFEST:
            return
        super().add_file_to_dictionary(url, path, stat_cache=stat_cache)

    def find_file(self, url: str):  # noqa: ANN201
        if url == self.static_prefix + self.MANIFEST:
            return None
        return super().find_file(url)


class HeadAsGetMiddleware:
    """Answer HEAD like GET, without the body: the views are declared for GET only."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = "HEAD"
        if response.streaming:
            response.streaming_content = []
        else:
            response.headers.setdefault("Content-Length", str(len(response.content)))
            response.content = b""
        return response
