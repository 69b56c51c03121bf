"""Middleware: refuse oversized bodies before they are read, and set security headers."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string


def too_large_response(request: HttpRequest, *, limit: int, what: str = "request") -> HttpResponse:
    """A clear 413 answer: JSON for the API, a page for people."""
    message = f"The {what} is larger than the limit of {limit:,} bytes."
    if request.path.startswith("/api/"):
        return JsonResponse({"error": message, "limit": limit}, status=413)
    html = render_to_string("413.html", {"message": message}, request=request)
    return HttpResponse(html, status=413)


class RequestSizeLimitMiddleware:
    """Answer 413 from Content-Length alone, so a 40 MB body is never read or parsed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.KB_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return too_large_response(request, limit=limit)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Add the Content-Security-Policy; the other headers come from Django's settings."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.KB_CONTENT_SECURITY_POLICY)
        return response
