"""Serving: gunicorn (2 workers, 127.0.0.1 only) under wrk; requests/s, p99 and RSS per worker.

Everything is bounded: gunicorn gets a fixed start-up deadline, wrk a fixed duration and a
subprocess timeout, and gunicorn's whole process group is stopped in `finally`.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from common import Results
from corpus import QUERIES, ROOT, manifest

WRK = "/usr/bin/wrk"
START_DEADLINE = 60.0
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within the start-up deadline")


def _workers(master: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8") as handle:
                status = handle.read()
        except OSError:
            continue
        match = re.search(r"^PPid:\s+(\d+)", status, re.MULTILINE)
        if match and int(match.group(1)) == master:
            children.append(int(entry))
    return sorted(children)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
        match = re.search(r"^VmRSS:\s+(\d+) kB", handle.read(), re.MULTILINE)
    return int(match.group(1)) / 1024 if match else float("nan")


def _wrk(url: str, script: Path, *, seconds: int) -> dict[str, float]:
    argv = [WRK, "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", str(script), url]
    out = subprocess.run(  # noqa: S603 - fixed binary, local URL
        argv, capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "p50": float(p50.group(1)) * _UNITS[p50.group(2)],
        "p99": float(p99.group(1)) * _UNITS[p99.group(2)],
        "non2xx": float(bad.group(1)) if bad else 0.0,
        "errors": errors.group(0) if errors else "",
    }


def _lua_string(text: str) -> str:
    return '"' + "".join(f"\\{b:03d}" for b in text.encode("utf-8")) + '"'


def _search_script(path: Path) -> None:
    """A wrk script cycling through the short queries (errors, ja, zh) as GET /search/?q=."""
    paths = [
        "/search/?" + urllib.parse.urlencode({"q": text}) for kind, text in QUERIES if kind != "log"
    ]
    items = ",\n  ".join(_lua_string(p) for p in paths)
    path.write_text(
        f"local paths = {{\n  {items}\n}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\n'
        "end\n",
        encoding="utf-8",
    )


def _analyze_script(path: Path) -> None:
    body = manifest(50)
    path.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {_lua_string(body)}\n"
        'wrk.headers["Content-Type"] = "application/yaml"\n',
        encoding="utf-8",
    )


def run(results: Results, *, workdir: Path, seconds: int) -> None:
    """The serving section: the database and index of `workdir` must be built already."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = workdir / "gunicorn.log"
    argv = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "kb.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(  # noqa: S603 - our own gunicorn
            argv, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(base, proc)
        search_lua = workdir / "search.lua"
        analyze_lua = workdir / "analyze.lua"
        _search_script(search_lua)
        _analyze_script(analyze_lua)
        # Warm every worker: the first search in a worker opens its searcher and the tagger.
        _wrk(base + "/", search_lua, seconds=2)

        figures = _wrk(base + "/", search_lua, seconds=seconds)
        results.figure(f"/search/?q= requests/s (wrk -t2 -c8 {seconds}s)", figures["rps"], "req/s")
        results.figure("/search/?q= p50", figures["p50"], "ms", digits=2)
        results.figure("/search/?q= p99", figures["p99"], "ms", digits=2)
        if figures["non2xx"] or figures["errors"]:
            results.note(
                "/search/ problems", f"{figures['non2xx']:.0f} non-2xx {figures['errors']}"
            )
        results.target(
            "search page requests/s on 2 workers",
            figures["rps"],
            300,
            "req/s",
            higher_is_better=True,
        )
        results.target("search page p99", figures["p99"], 50, "ms")

        workers = _workers(proc.pid)
        rss = [_rss_mb(pid) for pid in workers]
        results.note("RSS per worker after search load", ", ".join(f"{r:.0f} MB" for r in rss))
        results.target("RSS per worker (index open)", max(rss), 150, "MB")

        figures = _wrk(base + "/api/analyze/", analyze_lua, seconds=seconds)
        results.figure("POST /api/analyze/ (50 objects) requests/s", figures["rps"], "req/s")
        results.figure("POST /api/analyze/ p50", figures["p50"], "ms", digits=2)
        results.figure("POST /api/analyze/ p99", figures["p99"], "ms", digits=2)
        if figures["non2xx"] or figures["errors"]:
            results.note(
                "/api/analyze/ problems", f"{figures['non2xx']:.0f} non-2xx {figures['errors']}"
            )
        rss = [_rss_mb(pid) for pid in _workers(proc.pid)]
        results.note("RSS per worker after both loads", ", ".join(f"{r:.0f} MB" for r in rss))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
