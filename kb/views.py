"""Knowledge-base pages and the search API: thin faces on kb.search and the Article model."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from kb import errortext
from kb.models import Article
from kb.search import index_exists, lookup_best, search_articles

# Checked before any database lookup: anything else is a 404 without touching the DB.
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 120
# A redirect carries the query in its URL: Django refuses a Location over 16 384 characters
# (DisallowedRedirect, a 400) and gunicorn a request line over 4 094 bytes. A longer paste
# is replaced by its search words (errortext.query_text), cut to fit.
MAX_REDIRECT_QUERY_BYTES = 2_000


def _query_from(request: HttpRequest) -> str:
    """The query text from ?q= or a posted `q`, cut to the configured maximum."""
    source = request.POST if request.method == "POST" else request.GET
    return (source.get("q") or "")[: settings.KB_MAX_QUERY_CHARS]


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The front page: one search box with live results."""
    return render(request, "kb/home.html", {"query": "", "hits": None})


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    """Search results; a pasted log may be posted. htmx requests get the results fragment."""
    query = _query_from(request)
    hits = search_articles(query, limit=10) if query.strip() else None
    # Looking at the disk is only worth it to explain an empty answer.
    index_ready = True if hits else index_exists()
    context = {"query": query, "hits": hits, "index_ready": index_ready}
    template = "kb/search.html#results" if request.htmx else "kb/search.html"
    return render(request, template, context)


@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    """Every article: title, language, tags."""
    articles = Article.objects.only("slug", "title", "lang", "tags", "summary").order_by(
        "lang", "title"
    )
    return render(request, "kb/article_list.html", {"articles": articles})


@require_GET
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One article with its table of contents, section anchors and sources."""
    if len(slug) > MAX_SLUG_LENGTH or not SLUG_RE.fullmatch(slug):
        raise Http404("No such article")
    try:
        article = Article.objects.get(slug=slug)
    except Article.DoesNotExist:
        raise Http404("No such article") from None
    return render(request, "kb/article_detail.html", {"article": article})


@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    """Redirect an error message to the article section that explains it, else to search."""
    error = (request.GET.get("error") or "")[: settings.KB_MAX_QUERY_CHARS]
    if error.strip():
        best = lookup_best(error)
        if best is not None:
            return redirect(best.url)
    return redirect(f"{reverse('kb:search')}?{urlencode({'q': _redirect_query(error)})}")


def _redirect_query(error: str) -> str:
    """The error as it fits in a redirect URL: whole when short, else its search words."""
    if len(urlencode({"q": error})) <= MAX_REDIRECT_QUERY_BYTES:
        return error
    # Percent-encoding turns one character into at most 12 bytes (4 UTF-8 bytes, "%XX" each).
    return errortext.query_text(error)[: MAX_REDIRECT_QUERY_BYTES // 12]


@require_GET
def api_search(request: HttpRequest) -> JsonResponse:
    """JSON search: ?q=...&limit=N (1–50, default 10)."""
    query = _query_from(request)
    raw_limit = request.GET.get("limit", "10")
    try:
        limit = int(raw_limit)
    except ValueError:
        return JsonResponse({"error": "limit must be an integer from 1 to 50"}, status=400)
    if not 1 <= limit <= 50:
        return JsonResponse({"error": "limit must be an integer from 1 to 50"}, status=400)
    hits = search_articles(query, limit=limit) if query.strip() else []
    return JsonResponse({"query": query, "results": [hit.as_dict() for hit in hits]})


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico: a permanent redirect to the icon.

    Resolved per request, not when urls.py is imported: in production the hashed name exists
    only after collectstatic, and every manage.py command (collectstatic too) imports the URLs.
    """
    return redirect(static("favicon.svg"), permanent=True)


# --- error pages ----------------------------------------------------------------------------


def _error(request: HttpRequest, *, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"error": message}, status=status)
    html = render_to_string(f"{status}.html", {"message": message}, request=request)
    return HttpResponse(html, status=status)


# A 404 suggests articles for the words of the missing address (an old or mistyped slug).
MAX_SUGGESTION_WORDS = 8
NOT_A_WORD = re.compile(r"[^a-z0-9]+")
STOP_WORDS = frozenset(
    {"articles", "checks", "troubleshoot", "search", "api", "www", "html", "index"}
)


def _suggestions(path: str) -> tuple[str, list]:
    """The search words found in a missing page's address, and up to five articles for them."""
    words = [
        word
        for word in NOT_A_WORD.split(path[:300].lower())
        if len(word) > 1 and word not in STOP_WORDS and not word.isdigit()
    ][:MAX_SUGGESTION_WORDS]
    query = " ".join(words)
    if not query:
        return "", []
    try:
        return query, search_articles(query, limit=5)
    except Exception:  # noqa: BLE001 - a broken index must not turn a 404 into a 500
        return query, []


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: JSON under /api/, a page elsewhere with a search box and suggested articles."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "There is no page at this address."}, status=404)
    query, suggestions = _suggestions(request.path)
    context = {
        "message": _("There is no page at this address."),
        "query": query,
        "suggestions": suggestions,
    }
    return HttpResponse(render_to_string("404.html", context, request=request), status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: JSON under /api/, a page elsewhere."""
    return _error(request, status=400, message=_("The request could not be understood."))


def server_error(request: HttpRequest) -> HttpResponse:
    """500: a static page that cannot fail in turn."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "Internal error; it was logged."}, status=500)
    return HttpResponse(render_to_string("500.html"), status=500)
