"""Troubleshooter views: the paste box, one page per tree node, and the JSON API.

The work is done by ``troubleshooter.diagnosis.diagnose``; ``answer()`` shapes its result once
for every face (this page, the search page, ``/lookup/``, ``POST /api/diagnose/``), so they
all give the same answer. Every node id is a stable URL, so a wiki can link straight to a
question or a cause.
"""

from __future__ import annotations

import json
from html import escape

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from kb import errortext
from kb.middleware import too_large_response
from kb.search import search_articles
from kb.search.hits import SearchHit
from kb.search.snippets import SNIPPET_CHARS, shorten
from troubleshooter.diagnosis import (
    NODE_ID_RE,
    CauseNode,
    Knowledge,
    NotCoveredNode,
    QuestionNode,
    diagnose,
    get_tree,
    localize,
)
from troubleshooter.diagnosis import model as diagnosis_model
from troubleshooter.diagnosis.knowledge import NEIGHBOUR_PREFIX
from troubleshooter.diagnosis.source import current_knowledge

SEARCH_LIMIT = 5
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def current_lang() -> str:
    """The page language as the tree's texts know it: en, ja or zh."""
    lang = (get_language() or "en").lower()
    if lang.startswith("zh"):
        return "zh"
    return "ja" if lang.startswith("ja") else "en"


def _node_url(node_id: str) -> str:
    return reverse("troubleshooter:node", args=[node_id])


def _article_url(slug: str, section: str) -> str:
    return reverse("kb:article_detail", args=[slug]) + "#" + section


def _too_large(text: str) -> bool:
    # Pasted text above KB_MAX_LOG_BYTES is refused with 413: a longer log is better trimmed.
    return len(text.encode("utf-8", errors="replace")) > settings.KB_MAX_LOG_BYTES


def _translated(article: str, lang: str) -> tuple[str, str] | None:
    """Title and summary of the article's imported translation into `lang`, if any.

    A translation is its own row at its original's slug (kb.models.Article).
    """
    if lang == "en":
        return None
    from django.db import DatabaseError

    from kb.models import Article

    try:
        row = Article.objects.filter(slug=article, lang=lang).only("title", "summary").first()
    except DatabaseError:
        return None
    return (row.title, row.summary) if row else None


def _cause_card(
    article: str,
    section: str,
    node_id: str | None,
    lang: str,
    knowledge: Knowledge | None = None,
) -> dict[str, object]:
    """Title, summary and fix of a cause: from the article (as imported, in the page's language
    when a translation was imported), the rest from the tree. ``knowledge``: the causes the
    diagnosis weighed, when there was one (else the imported articles')."""
    cause = (knowledge if knowledge is not None else current_knowledge()).cause(article)
    tree = get_tree()
    node = tree.nodes.get(node_id) if node_id else None
    variant = localize(node, lang).title if isinstance(node, CauseNode) else ""
    title, summary = (cause.title, cause.summary) if cause else (article, "")
    translated = _translated(article, lang)
    if translated:
        title, summary = translated
    return {
        "article": article,
        "section": section,
        "title": title,
        "variant": variant,
        "summary": summary,
        "fix": cause.fix if cause else "",
        "url": _article_url(article, section),
        "article_url": reverse("kb:article_detail", args=[article]),
        "node": node_id,
        "node_url": _node_url(node_id) if node_id else None,
    }


def _question_dict(node: QuestionNode, lang: str) -> dict[str, object]:
    tree = get_tree()
    node = localize(node, lang)
    options = []
    for option in node.options:
        target = tree.nodes.get(option.target)
        options.append(
            {
                "label": option.label,
                "node": option.target,
                "url": _node_url(option.target),
                "article": target.article if isinstance(target, CauseNode) else None,
            }
        )
    return {
        "node": node.id,
        "text": node.text,
        "help": node.help,
        "url": _node_url(node.id),
        "options": options,
    }


def _search_fallback(text: str, ranking: tuple, knowledge: Knowledge, lang: str) -> list:
    """Articles for a refused text, only when one of our causes came within reach.

    A refusal used to list search results for whatever words were left, so nearly every
    unrelated error was offered articles that merely share a word ("max", a host name). Now
    the diagnosis decides: when no article reached the model's ``related_floor``, nothing is
    offered; otherwise the articles that reached it come first (closest first), then search
    results for the text's distinctive words (generic words, dotted names and one short word
    are not searched for).
    """
    parameters = diagnosis_model.parameters()
    near = [
        slug
        for slug, confidence in ranking
        if confidence >= parameters.related_floor and not slug.startswith(NEIGHBOUR_PREFIX)
    ]
    if not near:
        return []
    generic = parameters.generic_words
    words = [
        w
        for w in errortext.query_text(text).split()
        if w not in generic and "." not in w.strip(".") and len(w) > 2
    ]
    # One short leftover word ("pull") is no reason to search.
    searched = len(words) > 1 or (len(words) == 1 and len(words[0]) >= 8)
    hits = search_articles(query=" ".join(words), limit=SEARCH_LIMIT) if searched else []
    found = {hit.slug: hit for hit in hits}
    first = [found.get(slug) or _near_hit(slug, knowledge, lang) for slug in near]
    rest = [hit for hit in hits if hit.slug not in near]  # near: a few slugs
    return (first + rest)[:SEARCH_LIMIT]


def _near_hit(slug: str, knowledge: Knowledge, lang: str) -> SearchHit:
    """A result for a cause the search did not find: its imported translation into the page's
    language when there is one, else the cause as the diagnosis knows it (the causes are the
    English originals)."""
    translated = _translated(slug, lang)
    if translated:
        (title, summary), written_in = translated, lang
    else:
        cause = knowledge.cause(slug)
        title, summary = (cause.title, cause.summary) if cause else (slug, "")
        written_in = "en"
    return SearchHit(
        slug=slug,
        title=title,
        url=reverse("kb:article_detail", args=[slug]),
        lang=written_in,
        snippet=escape(shorten(summary or "", SNIPPET_CHARS)),
        score=0.0,
        section=None,
    )


def answer(
    text: str, *, search: bool = True, knowledge: Knowledge | None = None
) -> dict[str, object]:
    """Diagnose ``text`` and shape the answer for templates and JSON alike.

    ``knowledge``: the causes to weigh, when the caller already read them (the search page
    keys its cache by their generation); by default the imported articles'. Read once: the
    diagnosis and the cards use the same causes (one generation query per answer).
    """
    lang = current_lang()
    if knowledge is None:
        knowledge = current_knowledge()
    diagnosis = diagnose(text, knowledge=knowledge)
    tree = get_tree()
    matches = []
    for m in diagnosis.matches:
        card = _cause_card(m.article, m.section, m.node, lang, knowledge)
        card.update(
            {
                "confidence": m.confidence,
                "percent": round(m.confidence * 100),
                "evidence": [e.as_dict() for e in m.evidence],
                "line": m.line,
                "software_note": m.software_note,
                "via_question": m.via_question,
            }
        )
        matches.append(card)
    question = None
    if diagnosis.question is not None:
        node = tree.nodes.get(diagnosis.question.node)
        if isinstance(node, QuestionNode):
            question = _question_dict(node, lang)
    not_covered = []
    for n in diagnosis.not_covered:
        node = tree.nodes.get(n.node)
        node = localize(node, lang) if isinstance(node, NotCoveredNode) else node
        not_covered.append(
            {"node": n.node, "title": node.title, "advice": node.advice, "url": _node_url(n.node)}
        )
    # Search only when nothing is named and no question is asked: the fallback for unknowns.
    hits = (
        _search_fallback(text, diagnosis.ranking, knowledge, lang)
        if search and not matches and question is None
        else []
    )
    return {
        "matches": matches,
        "question": question,
        "not_covered": not_covered,
        "hits": hits,
        "cut": diagnosis.cut,
        "lines": len(diagnosis.lines),
    }


def _chosen(node_id: str, lang: str) -> dict[str, object] | None:
    """The answer a chosen option leads to: a cause card, a further question, or not covered."""
    if len(node_id) > 80 or not NODE_ID_RE.fullmatch(node_id):
        return None
    node = get_tree().nodes.get(node_id)
    if isinstance(node, CauseNode):
        return {"kind": "cause", "card": _cause_card(node.article, node.section, node.id, lang)}
    if isinstance(node, QuestionNode):
        return {"kind": "question", "question": _question_dict(node, lang)}
    if isinstance(node, NotCoveredNode):
        node = localize(node, lang)
        return {
            "kind": "not-covered",
            "title": node.title,
            "advice": node.advice,
            "url": _node_url(node.id),
        }
    return None


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def troubleshoot(request: HttpRequest) -> HttpResponse:
    """The paste box; with text (GET or POST ``text``) it shows the diagnosis below it.

    A question's options are buttons of a form that posts the paste again with ``answer`` (the
    chosen node): the answer appears in place and the paste stays, with or without JavaScript.
    """
    data = request.POST if request.method == "POST" else request.GET
    text = data.get("text", "")
    if _too_large(text):
        return too_large_response(request, limit=settings.KB_MAX_LOG_BYTES, what="pasted text")
    tree = get_tree()
    context: dict[str, object] = {
        "text": text,
        "submitted": "text" in data,
        "empty": not text.strip(),
        "start": localize(tree.node(tree.start), current_lang()),
    }
    if text.strip():
        chosen = _chosen(data.get("answer", ""), current_lang()) if data.get("answer") else None
        if chosen is not None:
            context.update(chosen=chosen, answer=data["answer"])
        else:
            context.update(answer(text))
    template = "troubleshooter/troubleshoot.html"
    if request.htmx:
        template += "#diagnosis"
    return render(request, template, context)


@vary_on_headers("HX-Request")
@require_http_methods(["GET"])
def node(request: HttpRequest, node: str) -> HttpResponse:
    """One tree node: a question with its answers, a cause with its fix, or "not covered"."""
    # The id is checked against the id grammar before any look-up.
    if len(node) > 80 or not NODE_ID_RE.fullmatch(node):
        raise Http404("No such troubleshooting step.")
    tree = get_tree()
    try:
        found = tree.node(node)
    except KeyError:
        raise Http404("No such troubleshooting step.") from None
    lang = current_lang()
    found = localize(found, lang)
    context: dict[str, object] = {"node": found, "is_start": found.id == tree.start}
    if isinstance(found, QuestionNode):
        context["options"] = _question_dict(found, lang)["options"]
        context["step_title"] = found.text
    elif isinstance(found, CauseNode):
        card = _cause_card(found.article, found.section, found.id, lang)
        context["card"] = card
        context["article_url"] = card["url"]
        context["step_title"] = card["title"]
    else:
        context["step_title"] = found.title
    template = "troubleshooter/node.html"
    if request.htmx:
        template += "#node"
    return render(request, template, context)


def api_payload(results: dict[str, object]) -> dict[str, object]:
    """The JSON shape of an answer (``POST /api/diagnose/``; also inside ``/api/search/``)."""
    question = results["question"]
    return {
        "matches": [
            {
                "article": m["article"],
                "section": m["section"],
                "title": m["title"],
                "url": m["url"],
                "confidence": m["confidence"],
                "evidence": m["evidence"],
                "node": m["node"],
                "software_note": m["software_note"],
            }
            for m in results["matches"]
        ],
        "question": question
        and {
            "node": question["node"],
            "text": question["text"],
            "help": question["help"],
            "options": [
                {"label": o["label"], "url": o["url"], "node": o["node"], "article": o["article"]}
                for o in question["options"]
            ],
        },
        # Honest "not a known cause" answers (a shell glob, an unrelated Bus error).
        "not_covered": [
            {"node": n["node"], "title": n["title"], "url": n["url"]}
            for n in results["not_covered"]
        ],
    }


def _text_from_json(body: str) -> tuple[str, str | None]:
    """The ``text`` of a JSON object body, or an error saying what the body should be.

    Only a string under ``text`` is accepted: a number, a list or a nested object is a
    client's mistake worth naming, not something to diagnose as its printed form.
    """
    try:
        data = json.loads(body)
    except RecursionError:  # "[[[[..." nested deeper than the decoder recurses
        return "", 'The body\'s JSON is nested too deeply; send {"text": "..."}.'
    except ValueError as error:
        return "", f'The body is not valid JSON ({error}); send {{"text": "..."}}.'
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return "", 'Send a JSON object with the error text as a string: {"text": "..."}.'
    return data["text"], None


@csrf_exempt
def api_diagnose(request: HttpRequest) -> JsonResponse:
    """POST the text; get the diagnosis as JSON.

    The text comes as a raw body (``text/plain`` or any other type), as the form field
    ``text``, or as a JSON object ``{"text": "..."}`` (``application/json``), the shape most
    HTTP clients send by default.
    """
    if request.method != "POST":
        response = JsonResponse({"error": "Use POST with the error text as the body."}, status=405)
        response["Allow"] = "POST"
        return response
    if len(request.body) > settings.KB_MAX_LOG_BYTES:
        return too_large_response(request, limit=settings.KB_MAX_LOG_BYTES, what="text")
    if request.content_type in _FORM_TYPES:
        text = request.POST.get("text", "")
    else:
        charset = request.content_params.get("charset", "utf-8")
        try:
            text = request.body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            return JsonResponse({"error": f"The body is not valid {charset} text."}, status=400)
        if request.content_type == "application/json":
            text, error = _text_from_json(text)
            if error:
                return JsonResponse({"error": error}, status=400)
    if not text.strip():
        return JsonResponse(
            {"error": "No text: send the error message or log to diagnose."}, status=400
        )
    results = answer(text)
    payload = api_payload(results)
    payload["search"] = [hit.as_dict() for hit in results["hits"]]
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})
