"""Per-address allowances for the actions that store something (feedback, shared results).

The address is kept only as a salted hash, in the cache, for the length of the window.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def over_rate_limit(request: HttpRequest, *, scope: str, limit: int, window_seconds: int) -> bool:
    """Count this action against its address in `scope`; True once `limit` is used up."""
    address = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:32]
    key = f"{scope}-rate:{digest}"
    cache.add(key, 0, window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window_seconds)
        count = 1
    return count > limit
