"""YAML tags never construct anything, a 40 MB body is refused from its length by the live
server, and the heaviest inputs stay within time and memory bounds in a fresh process."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hostile_corpus import case, with_marker

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"

CODE_TAGS = ["python-object-apply", "python-object-new-and-name", "tag-directive-to-python"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", CODE_TAGS)
def test_no_yaml_tag_constructs_anything_on_any_surface(client, tmp_path, run_manage, name):
    marker = tmp_path / "pwned"
    data = with_marker(case(name), str(marker))
    assert str(marker).encode() in data
    client.post("/api/analyze/", data, content_type="application/yaml")
    client.post("/analyze/", {"manifest": data.decode()})
    client.post("/analyze/", {"file": SimpleUploadedFile("x.yaml", data)})
    client.post("/api/diagnose/", data, content_type="text/plain")
    front_matter = tmp_path / "doc.md"
    front_matter.write_bytes(b"---\n" + data + b"\n---\n# T\n\ntext\n")
    from kb.importer import import_paths

    report = import_paths([front_matter])
    assert report.failed
    result = run_manage("analyze", "-", stdin=data)
    assert result.returncode == 1, result.stderr
    assert "tag" in result.stdout
    assert not marker.exists()


@pytest.mark.django_db(transaction=True)
def test_the_live_server_refuses_a_40_mb_body_from_its_length(live_server):
    """The whole 40 MB is sent (Django's development server drains a body before it answers;
    gunicorn answers at once, see test_production_server); the middleware refuses it from
    Content-Length, before any view parses it."""
    url = urlsplit(live_server.url)
    chunk = b"kind: Pod\n" * 104_858  # about 1 MiB
    for path in ("/api/analyze/", "/analyze/", "/api/diagnose/", "/troubleshoot/", "/search/"):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            connection.putrequest("POST", path)
            connection.putheader("Content-Type", "application/yaml")
            connection.putheader("Content-Length", str(len(chunk) * 40))
            connection.endheaders()
            for _ in range(40):
                connection.send(chunk)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        assert response.status == 413, path
        assert b"3,145,728" in body


# The heaviest cases, each analysed, diagnosed and searched in a fresh interpreter that
# reports its own peak memory before and after (ru_maxrss, kB on Linux).
MEASURE = """
import json, os, resource, sys, time
import django
django.setup()
from kb import errortext
from kb.search import build_query
from troubleshooter.analyzer import ManifestRejected, analyze_manifest
from troubleshooter.diagnosis import diagnose
from troubleshooter.forms import manifest_limits
data = sys.stdin.buffer.read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    analyze_manifest(text=data, limits=manifest_limits())
except ManifestRejected:
    pass
analysed = time.perf_counter() - started
text = data.decode("utf-8", "replace")
diagnose(text)
build_query(errortext.query_text(text))
elapsed = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"analyse_s": analysed, "all_s": elapsed, "extra_mb": (after - before) / 1024}))
"""

HEAVIEST = [
    "100000-keys",
    "100000-empty-documents",
    "20000-objects-in-a-list",
    "20000-documents",
    "100k-scalar-aliases",
    "deep-flow-seq-20000",
    "deep-block-indented-1500",
    "billion-laughs-in-configmap",
    "merge-key-bomb",
    "huge-scalar",
    "long-single-line",
    "binary-random",
]


@pytest.mark.parametrize("name", HEAVIEST)
def test_the_heaviest_inputs_stay_within_time_and_memory(tmp_path, name):
    started = time.perf_counter()
    done = subprocess.run(
        [str(PYTHON), "-c", MEASURE],
        input=case(name).data,
        capture_output=True,
        timeout=120,
        cwd=REPO,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "kb.settings",
            "PYTHONPATH": str(REPO),
            "KB_VAR_DIR": str(tmp_path),
        },
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    figures = json.loads(done.stdout)
    print(f"{name}: {json.dumps(figures)} ({time.perf_counter() - started:.1f} s with start-up)")
    # Loose bounds (the strict 2 s belongs to bench/): no hang, no blow-up.
    assert figures["all_s"] < 20
    assert figures["extra_mb"] < 256
