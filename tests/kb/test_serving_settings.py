"""What the serving measurements rely on is in effect in production (KB_DEBUG=0), not only in tests.

bench/RESULTS.md ("The serving floor, connection landing and memory", serve5) measured the
page with these settings: templates parsed once per process (Django's cached loader), SQLite
connections kept per thread, the page frame's fragments kept per process, and gunicorn keeping
connections alive (closing each one cost the workers 0.6-1.0 ms of CPU a request). The test
settings run with DEBUG on, so production is checked in a fresh interpreter.
"""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PRODUCTION = r"""
import json
import django
django.setup()
from django.conf import settings
from django.template import engines
engine = engines["django"].engine
chain, loaders = [], engine.template_loaders
while loaders:
    loader = loaders[0]
    chain.append(f"{type(loader).__module__}.{type(loader).__name__}")
    loaders = getattr(loader, "loaders", [])
print(json.dumps({
    "debug": engine.debug,
    "loaders": chain,
    "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
    "fragments": settings.CACHES["fragments"]["BACKEND"],
    "template_log_level": settings.LOGGING["loggers"]["django.template"]["level"],
}))
"""


def test_production_parses_each_template_once_per_process(run_in_production):
    found = run_in_production(_PRODUCTION)
    assert found["debug"] is False
    assert "django.template.loaders.cached.Loader" in found["loaders"]


def test_production_keeps_connections_and_the_page_frame(run_in_production):
    found = run_in_production(_PRODUCTION)
    assert found["conn_max_age"] is None
    assert found["fragments"] == "django.core.cache.backends.locmem.LocMemCache"
    # Template DEBUG records carry the whole context (pasted text): never logged.
    assert found["template_log_level"] == "INFO"


def test_gunicorn_keeps_connections_alive_on_one_shared_socket():
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    # Closing every connection cost the workers 0.6-1.0 ms of CPU a request (favicon row).
    assert config["keepalive"] > 0
    # One listening socket shared by the workers (gunicorn's default): SO_REUSEPORT would let a
    # second server on the same port take half the traffic silently, and breaks Unix sockets.
    assert not config.get("reuse_port", False)
    # Workers import the application themselves, so a HUP reloads the code.
    assert not config.get("preload_app", False)
