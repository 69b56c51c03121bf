"""Serving: gunicorn (2 workers, 127.0.0.1 only) under wrk; requests/s, p99 and RSS per worker.

Every search request of the main row is a query no earlier request asked (phrases drawn from
the corpus' own documents, one per article, split between wrk's threads so they never repeat),
so the per-worker result cache never answers it. A second row cycles 20 queries on purpose: that
is the cache-hit figure, reported as its own row and never as the search page's speed. wrk is a
closed loop (a new request only when an answer came back), so its p99 hides the queue a slow
answer builds; the paced row (bench/paced.py) offers the target's 150 requests a second whatever
the answers do and counts each latency from when its request was due. Memory is the peak
resident set (VmHWM) of each worker after the loads.

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
from corpus import ROOT, manifest
from paced import paced

WRK = "/usr/bin/wrk"
# The paced row: the target's rate, spread over as many keep-alive connections as a proxy in
# front of the site would hold open (each sends one request every 213 ms).
PACED_RATE = 150
PACED_CONNECTIONS = 32
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


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident (VmRSS) or peak resident (VmHWM) memory of a process in MB."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
        match = re.search(rf"^{field}:\s+(\d+) kB", handle.read(), re.MULTILINE)
    return int(match.group(1)) / 1024 if match else float("nan")


THREADS = 2


def _peaks(master: int) -> str:
    """Each worker's peak resident memory so far (VmHWM), for the row just run."""
    return ", ".join(f"{_rss_mb(pid, 'VmHWM'):.0f} MB" for pid in _workers(master))


def _memory_split(pid: int) -> str:
    """What a worker's resident memory is made of: its own (anonymous) pages, and pages of
    mapped files (shared with every process mapping them; the MeCab dictionary of unidic-lite
    is mmapped, and only the pages its look-ups touched are resident). PSS beside it: each
    shared page divided by the number of processes mapping it (the worker's fair share)."""
    with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
        rollup = {
            parts[0].rstrip(":"): int(parts[1]) // 1024
            for parts in (line.split() for line in handle)
            if parts and parts[-1] == "kB"
        }
    dictionary = 0
    mapping = ""
    with open(f"/proc/{pid}/smaps", encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                mapping = parts[5] if len(parts) > 5 else ""
            elif parts and parts[0] == "Rss:" and "unidic" in mapping:
                dictionary += int(parts[1])
    return (
        f"RSS {rollup['Rss']} MB = anonymous {rollup['Anonymous']} + files "
        f"{rollup['Rss'] - rollup['Anonymous']} (MeCab dictionary {dictionary // 1024}); "
        f"PSS {rollup['Pss']} MB (anonymous {rollup.get('Pss_Anon', '?')})"
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class WorkerShares:
    """What each worker did during one row: requests answered (access log) and CPU time.

    wrk's keep-alive connections stay with the worker that accepted them; when a burst of
    connections lands on one worker, the other idles and the row's requests/s halves whatever
    the code. Printing each worker's share shows such a row. The workers' CPU time per
    request is the cost of a page under gunicorn; unlike requests/s it barely moves with the
    load of other processes, so it is the figure to compare old and new code by, and
    2 000 / (CPU ms per request) is what two idle cores could serve at most.
    """

    def __init__(self, master: int) -> None:
        self.workers = _workers(master)
        self.started = {pid: _cpu_seconds(pid) for pid in self.workers}

    def summary(self, lines: list[str]) -> str:
        spent = {pid: _cpu_seconds(pid) - self.started[pid] for pid in self.workers}
        answered = dict.fromkeys(self.workers, 0)
        for line in lines:
            parts = line.split(" ", 2)
            if len(parts) > 1 and parts[1].strip("<>").isdigit():
                pid = int(parts[1].strip("<>"))
                answered[pid] = answered.get(pid, 0) + 1
        total = sum(answered.values())
        shares = ", ".join(f"{answered.get(p, 0)} ({spent[p]:.1f} s CPU)" for p in self.workers)
        if not total:
            return f"requests per worker: {shares}"
        per_request = sum(spent.values()) * 1000 / total
        lopsided = min(answered.get(p, 0) for p in self.workers) < total / 8
        # CPU time is counted in clock ticks (10 ms): a short row may show none at all.
        ceiling = (
            f"at most {2000 / per_request:.0f} req/s on two idle cores"
            if per_request
            else "no CPU counted"
        )
        return (
            f"requests per worker: {shares}; workers' CPU {per_request:.2f} ms per request "
            f"({ceiling})"
            + (" LOPSIDED: one worker got (almost) no connection" if lopsided else "")
        )


# Microseconds, the worker's pid (as <pid>), the path.
_ACCESS_FORMAT = "%(D)s %(p)s %(U)s"


def _access_lines(log_path: Path, offset: int) -> tuple[list[str], int]:
    """The access log's lines past `offset`, and the new offset."""
    with open(log_path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    return data.decode("utf-8", "replace").splitlines(), offset + len(data)


def _times(lines: list[str]) -> list[float]:
    """Milliseconds of each logged request."""
    times = []
    for line in lines:
        micros = line.split(" ", 1)[0]
        if micros.isdigit():
            times.append(int(micros) / 1000)
    return times


def _slowest(times: list[float]) -> str:
    if not times:
        return "none logged"
    times = sorted(times)
    over = sum(t > 1000 for t in times)
    return f"{times[-1]:.0f} ms (of {len(times)} logged; {over} over 1 s)"


def _load() -> str:
    """The 1-minute load average, printed beside each row: a busy machine inflates every row."""
    return f"{os.getloadavg()[0]:.1f}"


def _wrk(url: str, script: Path, *, seconds: int, connections: int = 8) -> dict[str, float]:
    argv = [WRK, f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    argv += ["-s", str(script), url]
    load_before = _load()
    out = subprocess.run(  # noqa: S603 - fixed binary, local URL
        argv, capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    # No answer at all: wrk prints 0 for the percentiles, which must not read as fast.
    never = float("inf") if requests == 0 else None
    return {
        "rps": rps,
        "requests": requests,
        "p50": never or float(p50.group(1)) * _UNITS[p50.group(2)],
        "p99": never or float(p99.group(1)) * _UNITS[p99.group(2)],
        "non2xx": float(bad.group(1)) if bad else 0.0,
        "errors": errors.group(0) if errors else "",
        "load": f"{load_before} -> {_load()}",
    }


def _lua_string(text: str) -> str:
    return '"' + "".join(f"\\{b:03d}" for b in text.encode("utf-8")) + '"'


_WORDS = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def distinct_queries(limit: int = 20000) -> list[str]:
    """One short query per article: three to five words from one of its sentences.

    The offset into the text comes from a hash of the slug, so the list is the same every run.
    """
    import hashlib

    from kb.models import Article

    seen: set[str] = set()
    out: list[str] = []
    for slug, summary, markdown in Article.objects.values_list("slug", "summary", "markdown"):
        words = _WORDS.findall(f"{summary} {markdown[:4000]}")
        if len(words) < 6:
            continue
        digest = int(hashlib.sha256(slug.encode()).hexdigest()[:8], 16)
        start = digest % (len(words) - 5)
        query = " ".join(words[start : start + 3 + digest % 3])
        if query.lower() not in seen:
            seen.add(query.lower())
            out.append(query)
        if len(out) >= limit:
            break
    return out


def _search_script(
    path: Path, queries: list[str], *, threads: int, path_prefix: str = "/search/"
) -> None:
    """A wrk script sending GET /search/?q= for each query once, the threads interleaved."""
    paths = [f"{path_prefix}?" + urllib.parse.urlencode({"q": text}) for text in queries]
    items = ",\n  ".join(_lua_string(p) for p in paths)
    path.write_text(
        f"local paths = {{\n  {items}\n}}\n"
        "local counter = 0\n"
        "function setup(thread)\n"
        '  thread:set("tid", counter)\n'
        "  counter = counter + 1\n"
        "end\n"
        "local i = -1\n"
        "request = function()\n"
        "  i = i + 1\n"
        f"  local k = (i * {threads} + tid) % #paths + 1\n"
        '  return wrk.format("GET", paths[k])\n'
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
    # Each request's time as gunicorn measured it (from reading the request to the last byte
    # sent): the slowest request of a row, which wrk's percentiles and timeouts only hint at.
    access_path = workdir / "access.log"
    argv = [str(ROOT / ".venv" / "bin" / "gunicorn")]
    config = ROOT / "gunicorn.conf.py"
    if config.exists():  # what `make serve` runs: the same worker class, timeouts and limits
        argv += ["--config", str(config)]
    argv += [
        "kb.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--no-control-socket",
        "--log-level",
        "warning",
        "--access-logfile",
        str(access_path),
        "--access-logformat",
        _ACCESS_FORMAT,
    ]
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(  # noqa: S603 - our own gunicorn
            argv, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(base, proc)
        queries = distinct_queries()
        # The page and the JSON API share the result cache (same query, same limit): each row
        # gets queries of its own.
        third = (len(queries) - 220) // 3
        warm, hot = queries[:200], queries[200:220]
        fresh = queries[220 : 220 + third]
        paced_queries = queries[220 + third : 220 + 2 * third]
        api = queries[220 + 2 * third :]
        warm_lua, hot_lua, search_lua = (workdir / f"{n}.lua" for n in ("warm", "hot", "search"))
        _search_script(warm_lua, warm, threads=THREADS)
        _search_script(hot_lua, hot, threads=THREADS)
        _search_script(search_lua, fresh, threads=THREADS)
        api_lua = workdir / "api.lua"
        _search_script(api_lua, api, threads=THREADS, path_prefix="/api/search/")
        analyze_lua = workdir / "analyze.lua"
        _analyze_script(analyze_lua)
        # Warm every worker on queries the measured rows never ask: the first search in a
        # worker opens its searcher and the tagger.
        _wrk(base + "/", warm_lua, seconds=2)
        _, logged = _access_lines(access_path, 0)

        shares = WorkerShares(proc.pid)
        figures = _wrk(base + "/", search_lua, seconds=seconds)
        lines, logged = _access_lines(access_path, logged)
        times = _times(lines)
        results.note(
            "distinct queries",
            f"{len(fresh)} available, {figures['requests']} sent"
            + (
                " (some repeated: raise the corpus size)"
                if figures["requests"] > len(fresh)
                else ""
            ),
        )
        results.note("load average during the new-query row", figures["load"])
        name = f"/search/?q=, every query new (wrk -t{THREADS} -c8 {seconds}s)"
        results.figure(f"{name} requests/s", figures["rps"], "req/s")
        results.figure("/search/ new queries p50", figures["p50"], "ms", digits=2)
        results.figure("/search/ new queries p99", figures["p99"], "ms", digits=2)
        if figures["non2xx"] or figures["errors"]:
            results.note(
                "/search/ problems", f"{figures['non2xx']:.0f} non-2xx {figures['errors']}"
            )
        results.target(
            "uncached search page requests/s on 2 workers",
            figures["rps"],
            150,
            "req/s",
            higher_is_better=True,
        )
        results.target("uncached search page p99", figures["p99"], 100, "ms")
        results.note("/search/ new queries: slowest request (access log)", _slowest(times))
        results.note("/search/ new queries: the workers", shares.summary(lines))
        results.note("peak RSS per worker after the new-query row", _peaks(proc.pid))

        # The target's own load: 150 requests a second offered, whatever the answers do, each
        # latency counted from when its request was due (bench/paced.py).
        shares = WorkerShares(proc.pid)
        load_before = _load()
        offered = paced(
            "127.0.0.1",
            port,
            ["/search/?" + urllib.parse.urlencode({"q": text}) for text in paced_queries],
            rate=PACED_RATE,
            seconds=seconds,
            connections=PACED_CONNECTIONS,
        )
        lines, logged = _access_lines(access_path, logged)
        name = (
            f"/search/?q=, every query new, {PACED_RATE} req/s offered ({PACED_CONNECTIONS} conn.)"
        )
        results.figure(f"{name} achieved", offered.achieved, "req/s")
        results.figure(
            "/search/ paced p50 (from due time)", offered.percentile(0.50), "ms", digits=2
        )
        results.figure(
            "/search/ paced p99 (from due time)", offered.percentile(0.99), "ms", digits=2
        )
        results.note(
            "/search/ paced: answers",
            f"{len(offered.latencies)} of {len(paced_queries)} queries available; statuses "
            f"{dict(sorted(offered.statuses.items()))}, {offered.errors} failed; latest send "
            f"{offered.latest_send_ms:.1f} ms after its due time; load {load_before} -> {_load()}",
        )
        results.note("/search/ paced: the workers", shares.summary(lines))
        results.target(
            "uncached search page p99 at 150 req/s offered", offered.percentile(0.99), 100, "ms"
        )

        shares = WorkerShares(proc.pid)
        figures = _wrk(base + "/", hot_lua, seconds=seconds)
        lines, logged = _access_lines(access_path, logged)
        results.figure(
            "/search/?q=, 20 queries cycled (cache hits) requests/s", figures["rps"], "req/s"
        )
        results.figure("/search/ cache hits p99", figures["p99"], "ms", digits=2)
        results.note("load average during the cache-hit row", figures["load"])
        results.note("/search/ cache hits: the workers", shares.summary(lines))
        results.note("peak RSS per worker after the cache-hit row", _peaks(proc.pid))

        shares = WorkerShares(proc.pid)
        figures = _wrk(base + "/", api_lua, seconds=seconds)
        lines, logged = _access_lines(access_path, logged)
        times = _times(lines)
        results.note(
            "distinct API queries",
            f"{len(api)} available, {figures['requests']} sent"
            + (" (some repeated)" if figures["requests"] > len(api) else ""),
        )
        results.figure(
            f"/api/search/?q=, every query new (wrk -t{THREADS} -c8 {seconds}s) requests/s",
            figures["rps"],
            "req/s",
        )
        results.figure("/api/search/ new queries p50", figures["p50"], "ms", digits=2)
        results.figure("/api/search/ new queries p99", figures["p99"], "ms", digits=2)
        results.note("load average during the API row", figures["load"])
        results.note("/api/search/ new queries: slowest request (access log)", _slowest(times))
        results.note("/api/search/ new queries: the workers", shares.summary(lines))
        results.note("peak RSS per worker after the API row", _peaks(proc.pid))
        for pid in _workers(proc.pid):
            results.note(f"memory of worker {pid} after the API row", _memory_split(pid))
        if figures["non2xx"] or figures["errors"]:
            results.note(
                "/api/search/ problems", f"{figures['non2xx']:.0f} non-2xx {figures['errors']}"
            )

        workers = _workers(proc.pid)
        peak = [_rss_mb(pid, "VmHWM") for pid in workers]
        results.note(
            "peak RSS per worker after search load", ", ".join(f"{r:.0f} MB" for r in peak)
        )
        results.target("peak RSS per worker (index open, after load)", max(peak), 150, "MB")

        # An analysis runs in the worker's child process, one at a time (kb/serving.py); more
        # are answered 429 at once. With eight connections most answers were those 429s, and
        # the row's requests/s counted them as if analysed. Two connections, one a worker, is
        # the load the design serves; the answered rate counts only 2xx responses.
        # Each worker spawns its child process on its first analysis: warm both first, as
        # the search rows are warmed.
        _wrk(base + "/api/analyze/", analyze_lua, seconds=2, connections=2)
        figures = _wrk(base + "/api/analyze/", analyze_lua, seconds=seconds, connections=2)
        answered = figures["requests"] - figures["non2xx"]
        results.figure(
            "POST /api/analyze/ (50 objects, wrk -c2) answered (2xx) requests/s",
            figures["rps"] * answered / figures["requests"] if figures["requests"] else 0.0,
            "req/s",
        )
        results.figure("POST /api/analyze/ p50", figures["p50"], "ms", digits=2)
        results.figure("POST /api/analyze/ p99", figures["p99"], "ms", digits=2)
        results.note("load average during the analysis row", figures["load"])
        if figures["non2xx"] or figures["errors"]:
            results.note(
                "/api/analyze/ turned away or failed",
                f"{figures['non2xx']:.0f} non-2xx of {figures['requests']} "
                f"(429 when a worker's analysis is busy) {figures['errors']}",
            )
        peak = [_rss_mb(pid, "VmHWM") for pid in _workers(proc.pid)]
        results.note("peak RSS per worker after both loads", ", ".join(f"{r:.0f} MB" for r in peak))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
