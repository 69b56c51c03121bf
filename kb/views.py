"""Knowledge-base pages and the search API: thin faces on kb.search and the Article model."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from kb import errortext
from kb.dictionary_pages import dictionary_pages
from kb.languages import HREFLANG, requested_language
from kb.models import Article, SlugHistory
from kb.search import SearchHit, index_exists, search_articles
from kb.search.caches import diagnoses, page_turns

if TYPE_CHECKING:  # kb does not import the troubleshooter at start-up
    from troubleshooter.diagnosis import Knowledge

# Checked before any database lookup: anything else is a 404 without touching the DB.
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 120
# A redirect carries the query in its URL: Django refuses a Location over 16 384 characters
# (DisallowedRedirect, a 400) and gunicorn a request line over 4 094 bytes. A longer paste
# is replaced by its search words (errortext.query_text), cut to fit.
MAX_REDIRECT_QUERY_BYTES = 2_000


def _raw_query(request: HttpRequest) -> str:
    """?q= or a posted `q`, read as a person reads it (errortext.plain_text: no terminal
    colours, JSON's escapes decoded) once, before anything picks its error lines."""
    source = request.POST if request.method == "POST" else request.GET
    return errortext.plain_text(source.get("q") or "")


def _query_from(raw: str) -> tuple[str, bool]:
    """The query from the paste, and whether it was cut.

    A long paste is reduced to its error lines *before* it is cut to KB_MAX_QUERY_CHARS, so the
    error on the last line of a long log survives.
    """
    return errortext.reduce_to_error_lines(raw, settings.KB_MAX_QUERY_CHARS)


def _diagnosis_text(raw: str, query: str) -> str:
    """What the diagnosis reads: the whole paste up to the log limit, else the reduced query."""
    return raw if len(raw.encode("utf-8", "replace")) <= settings.KB_MAX_LOG_BYTES else query


def _answer(text: str, knowledge: Knowledge | None = None) -> dict:
    # The troubleshooter's answer; imported here so kb does not import it at start-up.
    from troubleshooter.views.diagnose import answer

    return answer(text, search=False, knowledge=knowledge)


def _cause(text: str) -> dict | None:
    """The troubleshooter's first cause for `text`, or None; cached per articles generation.

    Every search page shows the diagnosis of its query, so a repeated query (the same error
    string pasted again, a live search retyped) would otherwise run it again, even when the
    search results come from their cache. The answer depends on the text, the page language
    and the articles (a cause card quotes an article, the causes come from the articles), so
    those are the key. The articles' generation is the one the troubleshooter's causes were
    read for (one indexed aggregate query, `kb.search.index.database_generation`), asked once
    per page: the diagnosis is given the same causes. The text is kept as its digest: a
    pasted log may be a megabyte. Cards are shared: read only.
    """
    from troubleshooter.diagnosis.source import FILES_GENERATION, current_knowledge
    from troubleshooter.views.diagnose import current_lang

    knowledge = current_knowledge()
    if knowledge.generation == FILES_GENERATION:
        # No article table yet: the diagnosis reads the files, uncached.
        return next(iter(_answer(text, knowledge)["matches"]), None)
    key = (hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest(), current_lang())
    cached = diagnoses.get(knowledge.generation, key)
    if cached is None:
        matches = _answer(text, knowledge)["matches"]
        cached = (matches[0] if matches else None,)
        diagnoses.put(knowledge.generation, key, cached)
    return cached[0]


def _rank_cause_first(hits: list[SearchHit], cause: dict) -> list[SearchHit]:
    """The diagnosed article first: moved up when found, added when search missed it."""
    own = [h for h in hits if h.slug == cause["article"]]
    rest = [h for h in hits if h.slug != cause["article"]]
    if not own:
        own = [
            SearchHit(
                slug=cause["article"],
                title=cause["title"],
                url=cause["url"],
                lang="en",
                snippet=escape(cause["summary"]),
                score=0.0,
                section=cause["section"],
            )
        ]
        rest = rest[: max(0, len(hits) - 1)] if hits else rest
    return own[:1] + rest


def warm_search_page() -> None:
    """Do once what a worker's first search page would: open the index, read the causes.

    The troubleshooter's causes are built from every article (seconds at 3 000 articles) on
    the first diagnosis of a process, and Whoosh opens its reader on the first search; a
    gunicorn worker calls this before it accepts connections (gunicorn.conf.py), so no
    request waits for it, and no two threads of a worker build the causes at once.
    """
    with page_turns.turn():
        search_articles("warm", limit=1)
        _cause("warm")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The front page: one search box with live results."""
    return render(request, "kb/home.html", {"query": "", "hits": None})


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    """Search results; a pasted log may be posted. htmx requests get the results fragment.

    The troubleshooter's diagnosis runs on the same text: when it names a cause, its card is
    shown above the results and its article is ranked first (one answer on every page).
    """
    raw = _raw_query(request)
    query, cut = _query_from(raw)
    # One page at a time per worker process (kb/search/caches.py, Turns).
    with page_turns.turn():
        hits = search_articles(query, limit=10) if query.strip() else None
        cause = None
        if query.strip():
            cause = _cause(_diagnosis_text(raw, query))
            if cause is not None:
                hits = _rank_cause_first(hits or [], cause)
        # Looking at the disk is only worth it to explain an empty answer.
        index_ready = True if hits else index_exists()
        context = {
            "query": query,
            "hits": hits,
            "index_ready": index_ready,
            "cause": cause,
            "query_cut": cut,
        }
        template = "kb/search.html#results" if request.htmx else "kb/search.html"
        response = render(request, template, context)
    dictionary_pages().after_query(query)
    return response


@require_GET
@vary_on_headers("Accept-Language", "Cookie")
def article_list(request: HttpRequest) -> HttpResponse:
    """Every article once, in the reader's language where it has a translation (else as
    written), with every language it can be read in: title, languages, tags."""
    wanted = requested_language(request)
    fields = ("slug", "title", "lang", "summary", "updated_at")
    articles = list(
        Article.objects.filter(translation_of__isnull=True)
        .only(*fields, "tags")
        .order_by("lang", "title")
    )
    translations: dict[int, dict[str, Article]] = {}
    for translation in Article.objects.filter(translation_of__isnull=False).only(
        *fields, "translation_of_id"
    ):
        translations.setdefault(translation.translation_of_id, {})[translation.lang] = translation
    rows = []
    for original in articles:
        versions = {**translations.get(original.pk, {}), original.lang: original}
        shown = versions.get(wanted, original)
        rows.append(
            {
                "original": original,
                "shown": shown,
                "langs": sorted(versions),
                # The filter finds an article by its title in any of its languages.
                "titles": " ".join(v.title for v in versions.values() if v is not shown),
            }
        )
    return render(request, "kb/article_list.html", {"rows": rows})


@require_GET
@vary_on_headers("Accept-Language", "Cookie")
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One article in the reader's language (or `?lang=`), with its toc, anchors and sources.

    A slug the article had before answers with a permanent redirect to its current URL.
    """
    if len(slug) > MAX_SLUG_LENGTH or not SLUG_RE.fullmatch(slug):
        raise Http404("No such article")
    versions = list(Article.objects.filter(slug=slug).select_related("translation_of"))
    if not versions:
        moved = SlugHistory.objects.filter(old_slug=slug).select_related("article").first()
        if moved is None:
            raise Http404("No such article")
        target = moved.article.get_absolute_url()
        if request.GET.get("lang") and "?" not in target:
            target += "?" + urlencode({"lang": request.GET["lang"]})
        return redirect(target, permanent=True)
    original = next((v for v in versions if v.translation_of_id is None), versions[0])
    wanted = requested_language(request)
    article = next((v for v in versions if v.lang == wanted), original)
    title_html, body_html = _title_and_body(article.html)
    return render(
        request,
        "kb/article_detail.html",
        {
            "article": article,
            "title_html": title_html,
            "body_html": body_html,
            "original": original,
            "alternates": _alternates(original, versions),
            "original_reports": _original_reports(original),
            "curated_by": _curated_articles_citing(original),
        },
    )


def _title_and_body(html: str) -> tuple[str, str]:
    """The rendered article's leading ``<h1>`` (its title and anchor) and the rest, so the page
    can put the title above the contents box; ``("", html)`` when the HTML does not open with
    one. The HTML is already sanitized (kb.rendering): an ``<h1>`` holds no other, so cutting
    after its first ``</h1>`` leaves two well-formed parts."""
    stripped = html.lstrip()
    if stripped.startswith("<h1"):
        end = stripped.find("</h1>")
        if end != -1:
            end += len("</h1>")
            return stripped[:end], stripped[end:]
    return "", html


def _alternates(original: Article, versions: list[Article]) -> list[dict]:
    """Every language version of one article: its URL, hreflang and title."""
    base = reverse("kb:article_detail", args=[original.slug])
    ordered = sorted(versions, key=lambda v: (v.translation_of_id is not None, v.lang))
    return [
        {
            "lang": version.lang,
            "hreflang": HREFLANG.get(version.lang, version.lang),
            "url": f"{base}?{urlencode({'lang': version.lang})}",
            "title": version.title,
            "is_original": version.translation_of_id is None,
        }
        for version in ordered
    ]


def _original_reports(original: Article) -> list[dict]:
    """The source write-ups an article names in `original_reports`, as far as they exist."""
    wanted = [entry.get("slug") for entry in original.original_reports or [] if entry.get("slug")]
    if not wanted:
        return []
    found = {
        a.slug: a
        for a in Article.objects.filter(slug__in=wanted, translation_of__isnull=True).only(
            "slug", "title", "lang"
        )
    }
    return [
        {"slug": entry["slug"], "lang": entry.get("lang", ""), "article": found.get(entry["slug"])}
        for entry in original.original_reports
        if entry.get("slug")
    ]


def _curated_articles_citing(write_up: Article) -> list[Article]:
    """The articles that list this write-up in their `original_reports`."""
    citing = Article.objects.filter(translation_of__isnull=True).exclude(original_reports=[])
    return [
        article
        for article in citing.only("slug", "title", "lang", "original_reports")
        if any(entry.get("slug") == write_up.slug for entry in article.original_reports)
    ]


@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    """Redirect an error message to the article section that explains it, else to search.

    The troubleshooter decides (the same answer as on every page): a named cause goes to its
    article section, a question to the troubleshooter, anything else to the search page.
    """
    raw = errortext.plain_text(request.GET.get("error") or "")
    error, _cut = _query_from(raw)
    if error.strip():
        found = _answer(_diagnosis_text(raw, error))
        if found["matches"]:
            return redirect(found["matches"][0]["url"])
        if found["question"] and len(urlencode({"text": error})) <= MAX_REDIRECT_QUERY_BYTES:
            return redirect(
                f"{reverse('troubleshooter:troubleshoot')}?{urlencode({'text': error})}"
            )
    return redirect(f"{reverse('kb:search')}?{urlencode({'q': _redirect_query(error)})}")


def _redirect_query(error: str) -> str:
    """The error as it fits in a redirect URL: whole when short, else its search words."""
    if len(urlencode({"q": error})) <= MAX_REDIRECT_QUERY_BYTES:
        return error
    # Percent-encoding turns one character into at most 12 bytes (4 UTF-8 bytes, "%XX" each).
    return errortext.query_text(error)[: MAX_REDIRECT_QUERY_BYTES // 12]


@require_GET
def api_search(request: HttpRequest) -> JsonResponse:
    """JSON search: ?q=...&limit=N (1–50, default 10), with the troubleshooter's diagnosis.

    When the diagnosis names a cause, its article comes first in ``results`` too.
    """
    raw = _raw_query(request)
    query, cut = _query_from(raw)
    raw_limit = request.GET.get("limit", "10")
    try:
        limit = int(raw_limit)
    except ValueError:
        return JsonResponse({"error": "limit must be an integer from 1 to 50"}, status=400)
    if not 1 <= limit <= 50:
        return JsonResponse({"error": "limit must be an integer from 1 to 50"}, status=400)
    diagnosis = None
    # The same turns as the search page (kb/search/caches.py, Turns): one search at a time per
    # worker, on the turn's searcher, whichever of the two asked.
    with page_turns.turn():
        hits = search_articles(query, limit=limit) if query.strip() else []
        if query.strip():
            from troubleshooter.views.diagnose import api_payload

            found = _answer(_diagnosis_text(raw, query))
            diagnosis = api_payload(found)
            if found["matches"]:
                hits = _rank_cause_first(hits, found["matches"][0])[:limit]
    dictionary_pages().after_query(query)
    return JsonResponse(
        {
            "query": query,
            "query_cut": cut,
            "results": [hit.as_dict() for hit in hits],
            "diagnosis": diagnosis,
        }
    )


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
