"""Heuristics for plain text scraped from blogs: the scrape lost every Markdown marker, so code
blocks, headings, lists and paragraphs are recognised from the lines themselves."""

from __future__ import annotations

import html
import re

from kb.rendering.headings import UniqueIds

_CJK = re.compile(
    r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]"
)
_CJK_PUNCT = re.compile(r"[\u3000-\u303f\uff00-\uff65]")
_URL = re.compile(r"https?://[^\s<>\"'\u3000-\u303f\uff08\uff09]+")

_SHELL_COMMANDS = [
    "kubectl",
    "az",
    "aws",
    "gcloud",
    "helm",
    "docker",
    "podman",
    "crictl",
    "ctr",
    "kubeadm",
    "systemctl",
    "journalctl",
    "sudo",
    "curl",
    "wget",
    "cat",
    "echo",
    "export",
    "grep",
    "ls",
    "cd",
    "mkdir",
    "rm",
    "cp",
    "mv",
    "chmod",
    "chown",
    "mount",
    "umount",
    "df",
    "du",
    "strace",
    "sysctl",
    "apt",
    "apt-get",
    "yum",
    "dnf",
    "apk",
    "pip",
    "python",
    "php",
    "git",
    "ssh",
    "scp",
    "tar",
    "envsubst",
    "nginx",
    "httpd",
    "apachectl",
    "openssl",
    "dig",
    "nslookup",
    "ping",
    "ip",
    "iptables",
    "vi",
    "vim",
    "set",
    "unset",
    "source",
]
_STRONG_CODE = [
    re.compile(r"^\s*\$(\s|$)"),  # shell prompt
    re.compile(r"^#!"),
    re.compile(r"^\s*#\s*[\x21-\x7e][\x20-\x7e]*$"),  # ASCII shell/YAML comment
    re.compile(r"^\s*#(define|include|ifndef|ifdef|endif|if|else|pragma)\b"),
    re.compile(r"^\s*(apiVersion|kind)\s*:"),
    re.compile(r"^---+\s*$"),
    re.compile(r"^\s*[{}\[\]()]"),
    re.compile(r"^\s*</?[A-Za-z][\w-]*(\s[^>]*)?>"),  # <Directory ...>, </VirtualHost>
    re.compile(r"^\s*/[\w.-]"),  # absolute paths: /proc/meminfo, /docker-entrypoint.d/...
    re.compile(r"^\s*[A-Z_][A-Z0-9_]*=\S"),  # VAR=value
    re.compile(r"^\s*(" + "|".join(re.escape(c) for c in _SHELL_COMMANDS) + r")\s+\S"),
    re.compile(
        r"^\s*(func|package|import|static|return|type|struct|def|class|const|var)\b.*[{(:;]?\s*$"
    ),
    re.compile(r"[;{]\s*$"),
    re.compile(r"\d{4}[-/]\d{2}[-/]\d{2}[ T]\d{2}:\d{2}"),  # log timestamps
    re.compile(r"\b(error|warning|fatal|panic)\s*:", re.IGNORECASE),
    re.compile(r"^\s*[A-Z][A-Z0-9_-]+(\s+[A-Z][A-Z0-9_-]+){2,}\s*$"),  # NAME STATUS AGE headers
    re.compile(r"^\s*\[pid\s+\d+\]"),
    re.compile(r"^[-=]{3,}(\s+[-=]{3,})*\s*$"),
    re.compile(r"\S {3,}\S"),  # columns aligned with spaces (df, ls -l)
]
_YAML_KEY = re.compile(r"^\s*(-\s+)?[A-Za-z_][\w.\-/]*\s*:(\s|$)")
_ELLIPSIS = re.compile(r"^\s*(\.\.\.|…|・・・.*)\s*$")
_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\S.*)$")
_BULLET = re.compile(r"^\s*(?:[-*]\s+|[•・](?!・)\s*)(\S.*)$")
_SENTENCE_END = re.compile(r"[。．.!?！？:：、,，]$")
_FINAL_STOP = re.compile(r"[。．.!?！？]$")


def _has_cjk(line: str) -> bool:
    return bool(_CJK.search(line))


_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "in",
        "on",
        "for",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "it",
        "this",
        "that",
        "with",
        "from",
        "by",
        "as",
        "at",
        "if",
        "not",
        "no",
        "you",
        "we",
        "they",
        "can",
        "will",
        "when",
        "then",
    ]
)


def _looks_like_english_prose(line: str) -> bool:
    """Wrapped English prose: mostly plain words, some of them small function words."""
    words = line.split()
    plain = [w for w in words if re.fullmatch(r"[A-Za-z][a-z'’]*[,.;:!?]?", w)]
    has_function_word = any(w.rstrip(",.;:!?") in _FUNCTION_WORDS for w in words)
    return len(words) >= 3 and len(plain) >= 0.8 * len(words) and has_function_word


def _code_strength(line: str) -> int:
    """2 = surely code, 1 = code if next to code, 0 = prose."""
    stripped = line.strip()
    if not stripped:
        return 0
    if re.match(r"^\s*[•・](?!・)|^\s*[-*]\s+https?://\S+\s*$", line) or (
        _BULLET.match(line) and _has_cjk(line) and not _YAML_KEY.match(line)
    ):
        return 0  # a bullet point in prose
    if _ELLIPSIS.match(line):
        return 1  # "..." or "・・・ 省略 ・・・" standing for cut lines
    cjk = _has_cjk(stripped)
    indented = line[:1] == "\t" or line.startswith("  ")
    if cjk:
        # Code with a CJK comment: "enableServiceLinks: false # この行を追加".
        code_part = re.split(r"\s#\s|\s//\s", stripped, maxsplit=1)[0]
        if code_part != stripped and not _has_cjk(code_part) and _YAML_KEY.match(code_part):
            return 2
        # A comment line in code ("# 以下省略") belongs to the code around it.
        return 1 if re.match(r"^(#|//)\s", stripped) else 0
    if any(p.search(line) for p in _STRONG_CODE):
        return 2
    if _looks_like_english_prose(stripped):
        return 0
    if indented or _YAML_KEY.match(line) or _ELLIPSIS.match(line):
        return 1 if not indented else 2
    return 1  # ASCII-only line: output, a table row, or a stray word from broken inline code


def _classify_code(lines: list[str]) -> list[bool]:
    strength = [_code_strength(line) for line in lines]
    is_code = [s == 2 for s in strength]
    # Weak lines join a neighbouring code line; repeat until nothing changes.
    changed = True
    while changed:
        changed = False
        for i, s in enumerate(strength):
            if s == 1 and not is_code[i]:
                before = i > 0 and is_code[i - 1]
                after = i + 1 < len(lines) and is_code[i + 1]
                if before or after:
                    is_code[i] = changed = True
    # Runs of two or more weak lines (command output, YAML without apiVersion) are code too.
    i = 0
    while i < len(lines):
        if strength[i] == 1 and not is_code[i]:
            j = i
            while j < len(lines) and strength[j] == 1:
                j += 1
            if j - i >= 2:
                for k in range(i, j):
                    is_code[k] = True
            i = max(j, i + 1)
        else:
            i += 1
    # Blank lines inside a code run stay in the block.
    for i, line in enumerate(lines):
        if not line.strip():
            prev = next((k for k in range(i - 1, -1, -1) if lines[k].strip()), None)
            nxt = next((k for k in range(i + 1, len(lines)) if lines[k].strip()), None)
            if prev is not None and nxt is not None and is_code[prev] and is_code[nxt]:
                is_code[i] = strength[nxt] == 2 or _indented(lines[nxt])
    return is_code


def _indented(line: str) -> bool:
    return line[:1] == "\t" or line.startswith("  ")


def _join_prose(lines: list[str]) -> str:
    """Join wrapped lines: CJK text without a space, other text with one."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not out:
            out = line
        elif (_CJK.search(out[-1]) or _CJK_PUNCT.search(out[-1])) and (
            _CJK.search(line[0]) or _CJK_PUNCT.search(line[0])
        ):
            out += line
        else:
            out += " " + line
    return out


def _inline(text: str) -> str:
    """Escape prose and turn bare http(s) URLs into links."""
    parts, last = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;)")
        parts.append(html.escape(text[last : match.start()]))
        parts.append(f'<a href="{html.escape(url)}">{html.escape(url)}</a>')
        last = match.start() + len(url)
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def _heading_level(line: str, *, alone: bool) -> int | None:
    """Level (2-4) if the prose line reads as a section title, else None."""
    stripped = line.strip()
    if _indented(line) or len(stripped) > 100 or not re.search(r"\w", stripped):
        return None
    numbered = _NUMBERED_HEADING.match(stripped)
    if numbered and not _SENTENCE_END.search(stripped) and "。" not in stripped:
        return min(2 + numbered.group(1).rstrip(".").count("."), 4)
    if len(stripped) > 60:
        return None
    if not alone or _SENTENCE_END.search(stripped) or re.search(r"[。、,，:：#]", stripped):
        return None
    if re.match(r"^\d{4}[-/年]\d", stripped):
        return None  # a date line ("2022/04/29に公開")
    if _has_cjk(stripped):
        return 2
    if re.fullmatch(r"[A-Z][\w.&/+-]*(\s+[\w.&/+()-]+){0,5}", stripped):
        return 2
    return None


def plain_to_html(text: str) -> tuple[str, list[dict]]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    is_code = _classify_code(lines)
    ids = UniqueIds()
    toc: list[dict] = []
    out: list[str] = []
    prose: list[str] = []  # the current paragraph's lines
    after_blank = True  # whether the current paragraph started after a blank line
    items: list[list[str]] = []  # the current list's items
    ordered = False  # whether the current list is numbered

    def emit_heading(title: str, level: int) -> None:
        anchor = ids.take(title)
        toc.append({"id": anchor, "title": title, "level": level})
        out.append(
            f'<h{level} id="{anchor}">{html.escape(title)}'
            f'<a class="anchor" href="#{anchor}">#</a></h{level}>'
        )

    def flush_prose(*, at_blank: bool = False) -> None:
        if not prose:
            return
        alone = len(prose) == 1 and after_blank and at_blank
        level = _heading_level(prose[0], alone=True) if alone else None
        if level:
            emit_heading(prose[0].strip(), level)
        else:
            out.append(f"<p>{_inline(_join_prose(prose))}</p>")
        prose.clear()

    def flush_items() -> None:
        if items:
            lis = "".join(f"<li>{_inline(_join_prose(item))}</li>" for item in items)
            tag = "ol" if ordered else "ul"
            out.append(f"<{tag}>{lis}</{tag}>")
            items.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if is_code[i]:
            flush_prose()
            flush_items()
            j = i
            while j < len(lines) and is_code[j]:
                j += 1
            block = "\n".join(lines[i:j]).strip("\n")
            out.append(f'<pre class="plain-code"><code>{html.escape(block)}</code></pre>')
            i = j
            continue
        stripped = line.strip()
        if not stripped:
            flush_prose(at_blank=True)
            flush_items()
        else:
            bullet = _BULLET.match(line)
            numbered = _NUMBERED_HEADING.match(stripped)
            neighbours_numbered = any(
                0 <= k < len(lines) and _NUMBERED_HEADING.match(lines[k].strip())
                for k in (i - 1, i + 1)
            )
            if bullet or (numbered and neighbours_numbered):
                flush_prose()
                if items and ordered != (not bullet):
                    flush_items()
                ordered = not bullet
                items.append([bullet.group(1) if bullet else numbered.group(2)])
            elif (
                numbered
                and not neighbours_numbered
                and (level := _heading_level(line, alone=False))
            ):
                flush_prose()
                flush_items()
                emit_heading(stripped, level)
            elif items and not _FINAL_STOP.search(items[-1][-1].strip()):
                items[-1].append(stripped)  # a wrapped list item
            else:
                flush_items()
                if not prose:
                    after_blank = i == 0 or not lines[i - 1].strip()
                prose.append(line)
        i += 1
    flush_prose(at_blank=True)
    flush_items()
    return "\n".join(out), toc
