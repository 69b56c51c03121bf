"""A worker that serves searches and the API does not load the Markdown renderer or Pygments.

Python-Markdown and Pygments cost a worker about 5 MB of its own memory (10 MB imported alone);
only the admin's save, the check pages and the analyzer's listing use them, so they are
imported there, on first use. Checked in a fresh production interpreter (the test process has
long imported both), then by serving a search and a diagnosis in it.
"""

from __future__ import annotations

_SERVE = r"""
import json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)  # the pages name hashed files
from django.test import Client
client = Client(HTTP_HOST="testserver")
loaded = lambda: sorted({m.split(".")[0] for m in sys.modules} & {"markdown", "pygments"})
report = {"after_urls": None}
import kb.urls  # the whole URL conf, every view module
report["after_urls"] = loaded()
report["search"] = client.get("/search/?q=envsubst", secure=True).status_code
report["diagnose"] = client.post(
    "/api/diagnose/",
    data="0/3 nodes are available: 3 Too many pods.",
    content_type="text/plain",
    secure=True,
).status_code
report["after_requests"] = loaded()
# The pages that do use them still work, importing them on first use.
from troubleshooter.analyzer import registry
page = client.get(f"/checks/{registry.all_checks()[0].ID}/", secure=True)
report["check_page"] = page.status_code
report["check_highlighted"] = b'class="codehilite"' in page.content
manifest = "\n".join(
    ["apiVersion: v1", "kind: Pod", "metadata:", "  name: web", "spec:", "  containers:",
     "  - name: web", "    image: nginx", ""]
)
analyzed = client.post("/analyze/", {"manifest": manifest}, secure=True)
report["analyze"] = analyzed.status_code
report["analyze_highlighted"] = b'<span class="' in analyzed.content
report["at_the_end"] = loaded()
print(json.dumps(report))
"""


def test_searches_and_the_api_never_import_markdown_or_pygments(run_in_production):
    report = run_in_production(_SERVE)
    assert report["after_urls"] == []
    assert report["search"] == 200 and report["diagnose"] == 200
    assert report["after_requests"] == []
    assert report["check_page"] == 200 and report["check_highlighted"]
    assert report["analyze"] == 200 and report["analyze_highlighted"]
    assert report["at_the_end"] == ["markdown", "pygments"]
