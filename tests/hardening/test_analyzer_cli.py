"""`manage.py analyze` is safe in a CI log: escaped output, distinct exit codes, no blocking.

Every test runs the real command in a subprocess (the way CI runs it), on real files,
FIFOs and devices.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ESC, BEL, RLO = "\x1b", "\x07", "\u202e"

FINDING = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{name}"
  annotations:
    kb.troubleshooter/ignore: "run-as-non-root: {reason}"
spec:
  nodeSelector: {{type: virtual-kubelet}}
  containers:
    - name: app
      image: busybox
  volumes:
    - name: data
      persistentVolumeClaim: {{claimName: data}}
"""
CLEAN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: clean}\ndata: {a: b}\n"


def analyze(*args: str, stdin: bytes | None = None, timeout: float = 60, **kwargs):
    """Run `manage.py analyze` as CI does; the completed process (bytes output)."""
    return subprocess.run(
        [sys.executable, "manage.py", "analyze", *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )


def test_it_escapes_control_and_bidi_characters_in_names_and_reasons(tmp_path):
    # A name that would clear the screen, ring, and forge a clean summary line in the log.
    name = r"web\e[2J\a\r0 objects: 0 errors\n\u202etxt.exe"
    path = tmp_path / "m.yaml"
    path.write_text(FINDING.format(name=name, reason=r"ok\e]0;title\a"))
    done = analyze(str(path))
    out = done.stdout.decode()
    assert done.returncode == 1
    for raw in (ESC, BEL, "\r", RLO):
        assert raw not in out
    assert "Pod/web\\x1b[2J\\x07\\x0d0 objects: 0 errors\\x0a\\u202etxt.exe:" in out
    # Exactly one summary line: the forged one stays inside the finding's line.
    assert sum(line.startswith("1 objects:") for line in out.splitlines()) == 1
    assert not any(line.startswith("0 objects") for line in out.splitlines())


def test_it_leaves_json_output_exact(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(FINDING.format(name=r"web\e[2J", reason="ok"))
    done = analyze(str(path), "--format", "json")
    assert json.loads(done.stdout)["findings"][0]["object"]["name"] == "web\x1b[2J"


def test_it_escapes_file_names_in_headers_and_messages(tmp_path):
    good = tmp_path / f"a{ESC}[31mred{RLO}.yaml"
    good.write_text(CLEAN)
    missing = tmp_path / f"gone{BEL}{ESC}[2K.yaml"
    done = analyze(str(good), str(good), str(missing))
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 2
    assert ESC not in out + err and BEL not in out + err and RLO not in out + err
    assert "==> " + str(tmp_path) + "/a\\x1b[31mred\\u202e.yaml <==" in out
    assert "gone\\x07\\x1b[2K.yaml" in err


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "/dev/null"])
def test_it_refuses_special_files_at_once_and_reports_the_others(tmp_path, special):
    if special == "fifo":
        path = tmp_path / "pipe.yaml"
        os.mkfifo(path)  # nobody ever writes: opening it normally would block for good
        expected = "a FIFO (named pipe)"
    else:
        path = Path(special)
        expected = "a character device"
    good = tmp_path / "good.yaml"
    good.write_text(CLEAN)
    done = analyze(str(path), str(good), timeout=30)
    err = done.stderr.decode()
    assert done.returncode == 2
    assert f"refused: it is {expected}, not a regular file" in err
    assert "==> " + str(good) + " <==" in done.stdout.decode()


def test_it_exits_3_on_an_internal_error_and_still_writes_the_other_reports(tmp_path):
    """A real fault: the address space is capped so that one big manifest runs out of memory.

    The fault must come from one large allocation (the 16 MB value, which the reader,
    the decoder and libyaml each hold a copy of), never from the many small ones a stream
    of objects makes: CPython 3.11 loops for ever when memory runs out while it unwinds to
    an exception handler (allocating the handler's `lasti` fails, and it unwinds again),
    so a cap that the small allocations reach made this test hang now and then. With the
    room at 2.5 times the value, every cap from 1 to 6 times fails in a large allocation
    (measured), and the small ones that follow still find memory.
    """
    size = 16_000_000
    small = tmp_path / "small.yaml"
    small.write_text(FINDING.format(name="first", reason="ok"))
    big = tmp_path / "big.yaml"
    big.write_text(CLEAN.replace("data: {a: b}", 'data:\n  blob: "' + "x" * size + '"'))
    last = tmp_path / "last.yaml"
    last.write_text(FINDING.format(name="last", reason="ok"))
    child = textwrap.dedent(
        f"""
        import resource, sys
        from troubleshooter.analyzer.cli import main
        main([{str(small)!r}])  # warm up: every module imported, caches filled
        with open("/proc/self/status") as status:
            used = next(int(l.split()[1]) for l in status if l.startswith("VmSize:")) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (used + {size * 5 // 2}, resource.RLIM_INFINITY))
        sys.exit(main([{str(small)!r}, {str(big)!r}, {str(last)!r}, "--max-seconds", "60"]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO), "KB_MAX_MANIFEST_BYTES": str(size + 1000)},
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 3, err
    assert f"internal error while analysing {big} (MemoryError)" in err
    assert "Pod/first" in out and "Pod/last" in out
    assert "the analyzer failed on 1 input(s)" in err


def test_it_stops_each_file_at_the_time_budget_with_a_partial_report(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text(FINDING.format(name="a", reason="ok") * 1 + "---\n" + CLEAN * 1)
    done = analyze(str(path), "--max-seconds", "0.000001", "--format", "json")
    messages = [error["message"] for error in json.loads(done.stdout)["errors"]]
    assert any("ran out of time" in message for message in messages)
    assert done.returncode == 1


def test_it_refuses_a_bad_time_budget():
    done = analyze("-", "--max-seconds", "soon", stdin=CLEAN.encode())
    assert done.returncode == 2
    assert b"not a number of seconds" in done.stderr


def test_it_exits_0_for_a_clean_manifest_with_yaml_directives():
    text = "%YAML 1.1\n%TAG !k! tag:example.com,2026:\n---\n" + CLEAN + "...\n%YAML 1.1\n---\n"
    done = analyze("-", stdin=(text + CLEAN.replace("clean", "other")).encode())
    assert done.returncode == 0, done.stdout + done.stderr
    assert b"2 objects: 0 errors" in done.stdout
