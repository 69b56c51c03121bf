"""Troubleshooter views: the paste box, one page per tree node, and the JSON API.

The work is done by ``troubleshooter.diagnosis.diagnose``; these views parse input, call it and
render. Every node id is a stable URL, so a wiki can link straight to a question or a cause.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from kb import errortext
from kb.middleware import too_large_response
from kb.search import search_articles
from troubleshooter.diagnosis import NODE_ID_RE, CauseNode, Diagnosis, diagnose, get_tree

SEARCH_LIMIT = 5
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _node_url(node_id: str) -> str:
    return reverse("troubleshooter:node", args=[node_id])


def _article_url(slug: str, section: str) -> str:
    return reverse("kb:article_detail", args=[slug]) + "#" + section


def _too_large(text: str) -> bool:
    # Pasted text above KB_MAX_LOG_BYTES is refused with 413: a longer log is better trimmed.
    return len(text.encode("utf-8", errors="replace")) > settings.KB_MAX_LOG_BYTES


def _results(text: str) -> dict[str, object]:
    """Diagnose ``text`` and shape the answer for templates and JSON alike."""
    diagnosis: Diagnosis = diagnose(text)
    matches = [
        {
            "node": m.node,
            "article": m.article,
            "section": m.section,
            "title": m.title,
            "url": _article_url(m.article, m.section),
            "node_url": _node_url(m.node),
            "confidence": m.confidence,
            "percent": round(m.confidence * 100),
            "signature": m.signature_text,
            "signature_id": m.signature,
            "line": m.line,
        }
        for m in diagnosis.matches
    ]
    question = None
    if diagnosis.question is not None:
        question = {
            "node": diagnosis.question.node,
            "text": diagnosis.question.text,
            "url": _node_url(diagnosis.question.node),
            "options": [
                {"label": label, "node": target, "url": _node_url(target)}
                for label, target in diagnosis.question.options
            ],
        }
    not_covered = [
        {"node": n.node, "title": n.title, "advice": n.advice, "url": _node_url(n.node)}
        for n in diagnosis.not_covered
    ]
    # Search only when the tree has nothing certain to say: the fallback for unknown errors.
    hits = [] if matches else search_articles(query=errortext.query_text(text), limit=SEARCH_LIMIT)
    return {"matches": matches, "question": question, "not_covered": not_covered, "hits": hits}


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def troubleshoot(request: HttpRequest) -> HttpResponse:
    """The paste box; with text (GET or POST ``text``) it shows the diagnosis below it."""
    data = request.POST if request.method == "POST" else request.GET
    text = data.get("text", "")
    if _too_large(text):
        return too_large_response(request, limit=settings.KB_MAX_LOG_BYTES, what="pasted text")
    context: dict[str, object] = {
        "text": text,
        "submitted": "text" in data,
        "empty": not text.strip(),
        "start": get_tree().node(get_tree().start),
    }
    if text.strip():
        context.update(_results(text))
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
    context: dict[str, object] = {"node": found, "is_start": found.id == tree.start}
    if found.kind == "question":
        context["options"] = [
            {"label": o.label, "node": o.target, "url": _node_url(o.target)} for o in found.options
        ]
    elif isinstance(found, CauseNode):
        context["article_url"] = _article_url(found.article, found.section)
    template = "troubleshooter/node.html"
    if request.htmx:
        template += "#node"
    return render(request, template, context)


@csrf_exempt
def api_diagnose(request: HttpRequest) -> JsonResponse:
    """POST the text (raw text/plain body, or form field ``text``); get the diagnosis as JSON."""
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
    if not text.strip():
        return JsonResponse(
            {"error": "No text: send the error message or log to diagnose."}, status=400
        )
    results = _results(text)
    return JsonResponse(
        {
            "matches": [
                {
                    "article": m["article"],
                    "title": m["title"],
                    "url": m["url"],
                    "confidence": m["confidence"],
                    "signature": m["signature"],
                    "node": m["node"],
                }
                for m in results["matches"]
            ],
            "question": results["question"]
            and {
                "node": results["question"]["node"],
                "text": results["question"]["text"],
                "options": [
                    {"label": o["label"], "url": o["url"]} for o in results["question"]["options"]
                ],
            },
            # Honest "not a known cause" answers (a shell glob, an unrelated Bus error).
            "not_covered": [
                {"node": n["node"], "title": n["title"], "url": n["url"]}
                for n in results["not_covered"]
            ],
            "search": [hit.as_dict() for hit in results["hits"]],
        },
        json_dumps_params={"ensure_ascii": False},
    )
