"""Error-text normalization shared by the troubleshooter and the kb search.

People paste whole logs, ``kubectl describe`` output and localized shell messages. This module
turns such text into something comparable: Unicode NFKC, lower case, and the noise that differs
from one occurrence of the same error to the next (timestamps, pod-name hashes, IP addresses,
directory parts of paths, line numbers) removed or replaced by placeholders.

Everything here runs in linear time: the regexes are precompiled, have no nested quantifiers,
and only the first ``MAX_LINE_CHARS`` characters of a line are looked at.

No Django imports: the module is used from views, management commands and plain tests alike.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "MAX_LINE_CHARS",
    "error_lines",
    "errorness",
    "normalize",
    "plain_text",
    "query_text",
    "reduce_to_error_lines",
    "words",
]

# A log line longer than this is cut before any regex sees it (base64 blobs, minified JSON).
MAX_LINE_CHARS = 2000

# Order matters: timestamps before IPs (both hold digits and dots), UUIDs and hex ids before
# pod hashes, paths before line numbers (a path can end in ": 26:"). Each pattern runs once over
# the whole text (one pass in C each); re.ASCII keeps \d, \w and \b cheap. The replacement
# follows each pattern.
_A = re.ASCII | re.MULTILINE
_SUBSTITUTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # ISO 8601 / RFC 3339 and nginx error.log: 2024-01-02T03:04:05.123Z, 2019/09/24 23:03:03
    (
        re.compile(
            r"\d{4}[-/]\d{2}[-/]\d{2}[t ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:z|[+-]\d{2}:?\d{2})?",
            _A,
        ),
        " ",
    ),
    # PHP, Apache, dmesg: [05-Apr-2017 20:21:00 UTC], [Tue Mar 05 10:00:00.1 2024], [32495.562824]
    (
        re.compile(
            r"\[\d{2}-[a-z]{3}-\d{4} \d{2}:\d{2}:\d{2}(?: [a-z_/+-]+)?\]"
            r"|\[[a-z]{3} [a-z]{3} +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4}\]"
            r"|\[ *\d+\.\d+\]",
            _A,
        ),
        " ",
    ),
    # klog header: I0721 00:56:26.239157       1 reflector.go:302]
    (re.compile(r"^[iwef]\d{4} \d{2}:\d{2}:\d{2}\.\d+ +\d+ [\w.-]+:\d+\]", _A), " "),
    # syslog month day (before a clock time), then any remaining clock time: May 10 15:16:20
    (re.compile(r"\b[a-z]{3} +\d{1,2} (?=\d\d:\d\d:)", _A), " "),
    (re.compile(r"\d\d:\d\d:\d\d(?:[.,]\d{1,9})?", _A), " "),
    # kubectl event ages and counters: 11s (x14 over 98s), 4m9s
    (re.compile(r"\(x\d+ over [\dsmhd]+\)|(?<= )(?:\d+[dhms]){1,3}(?= )", _A), " "),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", _A), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{32,64}\b", _A), "<id>"),
    # Deployment pods: <name>-<pod-template-hash (6-10)>-<5 random chars>; the hash always holds
    # a digit in practice, which keeps ordinary hyphenated words ("on-templates") intact.
    (re.compile(r"-(?=[a-z]*\d)[a-z0-9]{6,10}-[a-z0-9]{5}\b", _A), ""),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?::\d{1,5})?\b", _A), "<ip>"),
    # A directory path (two segments or more) becomes its last segment: the directory is where
    # the file happens to live, the file name is what identifies the error. "fork/exec" is not
    # a path: the leading slash must start a word.
    (re.compile(r"(?<![\w/.:])/(?:[\w.@+~-]+/)+([\w.@+~-]+)", _A), r"\1"),
    # "script.sh: 26: envsubst: ..." (dash) and "script.sh: line 53: envsubst: ..." (bash).
    (re.compile(r":[ \t]*(?:line[ \t]+)?\d+(?=[ \t]*:)", _A), ""),
    # "... in Unknown on line 0", "error on line 12".
    (re.compile(r"\b(?:on )?line \d+\b", _A), "line"),
    (re.compile(r"[\t\f\v]| {2,}", _A), " "),
    (re.compile(r"  +", _A), " "),
)
_TRIM_RE = re.compile(r"^ | $", re.MULTILINE)
# The substitutions above that can match text without an ASCII digit (``\\d`` is [0-9] under
# re.ASCII; no replacement adds a digit): hex ids and UUIDs spelt in letters, paths and
# spaces. Every other pattern needs a digit, so on a text without one it changes nothing:
# most search queries and descriptions are words only.
_NEEDS_NO_DIGIT = frozenset((6, 7, 10, 13, 14))  # indexes into _SUBSTITUTIONS
_WITHOUT_DIGITS = tuple(s for i, s in enumerate(_SUBSTITUTIONS) if i in _NEEDS_NO_DIGIT)
_DIGIT_RE = re.compile(r"[0-9]")


def normalize(text: str) -> str:
    """Return ``text`` in comparable form: NFKC, lower case, variable noise removed or replaced.

    Lines are kept (one output line per non-empty input line) so callers can match per line.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    lines = text.splitlines()
    if any(len(line) > MAX_LINE_CHARS for line in lines):
        lines = [line[:MAX_LINE_CHARS] for line in lines]
    text = "\n".join(lines)
    substitutions = _SUBSTITUTIONS if _DIGIT_RE.search(text) else _WITHOUT_DIGITS
    for pattern, replacement in substitutions:
        text = pattern.sub(replacement, text)
    text = _TRIM_RE.sub("", text)
    return "\n".join(line for line in text.split("\n") if line)


# Terminal control sequences, as a log copied from a coloured terminal or a CI page's raw log
# holds them ("\x1b[31mERROR\x1b[0m"): ECMA-48 CSI (colours, cursor moves), OSC (window
# titles, links; ended by BEL or ST, else by the line's end) and the short escapes ("\x1b(B",
# which tput sgr0 writes). No pattern runs past the next escape or line end: linear.
_ESCAPE_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[ -/]*[0-~])")
# The same colours with the escape character lost on the way (a web page, `cat -v`'s "^["):
# "[31mERROR[0m". Only removed from a text that holds the reset "[0m", which no message does.
_BARE_COLOUR_RE = re.compile(r"(?:\^\[)?\[(?:[0-9]{1,3};){0,4}[0-9]{0,3}m")
# JSON's escapes of characters beyond ASCII (Python's json.dumps writes "\u5f15\u6570" for
# 引数 by default; Docker's json-file log writes the escape character as "\u001b"). Surrogate
# halves, ASCII controls other than ESC and the characters str.splitlines() breaks at stay as
# written: decoding "\u000a" or "\u2028" would add a line and move every line after it.
_JSON_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
_LINE_BREAKS = frozenset((0x85, 0x2028, 0x2029))


def _json_character(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    if code == 0x1B or (code >= 0x80 and not 0xD800 <= code <= 0xDFFF and code not in _LINE_BREAKS):
        return chr(code)
    return match.group(0)


def plain_text(text: str) -> str:
    """``text`` as a person reads it: JSON's ``\\uXXXX`` escapes of non-ASCII characters
    decoded, terminal colour and control sequences removed. Lines stay where they were (no
    line break is added or removed), so a line number in the result is one in ``text``.

    Linear; a text without a backslash, an escape character or "[0m" is returned as it is.
    """
    if "\\u" in text:
        text = _JSON_ESCAPE_RE.sub(_json_character, text)
    if "\x1b" in text:
        text = _ESCAPE_RE.sub("", text)
    if "[0m" in text:
        text = _BARE_COLOUR_RE.sub("", text)
    return text


# How error-like a line is. Weights are rough: a strong word (failed, denied, ...) outranks a
# weak one (warning, exit), a Warning row in an Events table outranks a Normal one. Chinese
# words are listed in both scripts (错误 and 錯誤): lines are scored before kb/hanzi.py folds them.
_STRONG_RE = re.compile(
    r"error|fail|fatal|panic|denied|forbidden|refused|cannot|can't|unable|unsupported"
    r"|too long|too many|insufficient|not responding|timed out|stale file handle|no space"
    r"|bus error|segmentation fault|core dumped|sigbus|sigsegv|killed|crashloop|backoff"
    r"|not a directory|no such file|violates|requires|emerg|crit|outofpods|hugepages_total"
    r"|providerfailed|providercreatefailed|e2big"
    r"|エラー|失敗|できません|長すぎ|不足|拒否|バス|错误|失败|无法|过长|不足|拒绝|总线"
    r"|錯誤|無法|過長|拒絕|總線",
)

_WEAK_RE = re.compile(r"warn|exit|not |invalid|missing|unknown|timeout|pending|empty|警告|告警")
_EVENT_WARNING_RE = re.compile(r"^\s*warning\s{1,}[a-z]+\s")
_EVENT_NORMAL_RE = re.compile(r"^\s*normal\s{1,}[a-z]+\s")
_DIGITS_RE = re.compile(r"\d+")


def _errorness(lowered: str) -> int:
    score = 3 * len(_STRONG_RE.findall(lowered)) + len(_WEAK_RE.findall(lowered))
    if score and _EVENT_WARNING_RE.match(lowered):
        score += 3
    elif _EVENT_NORMAL_RE.match(lowered):
        score = 0
    return score


# A long text is first narrowed to the lines with a strong error word: one regex pass over the
# whole text (in C), then at most this many lines are scored one by one in Python. Logs put
# the crash last, so the last lines are kept when there are more.
MAX_CANDIDATE_LINES = 2000


# The words a candidate line must hold (the strong words, as plain strings). Each is looked
# up with str.find, which scans in C; Python only loops once per line found, at most
# MAX_CANDIDATE_LINES times per word from each end.
_SCAN_WORDS = (
    "error", "fail", "fatal", "panic", "denied", "forbidden", "refused", "cannot", "can't",
    "unable", "unsupported", "too long", "too many", "insufficient", "not responding",
    "timed out", "stale file handle", "no space", "segmentation fault", "core dumped",
    "sigbus", "sigsegv", "killed", "crashloop", "backoff", "not a directory", "no such file",
    "violates", "requires", "emerg", "crit", "outofpods", "hugepages_total", "e2big",
    "エラー", "失敗", "できません", "長すぎ", "不足", "拒否", "バス",
    "错误", "失败", "无法", "过长", "拒绝", "总线",
)  # fmt: skip


def _line_starts(lowered: str, *, forward: bool, cap: int) -> tuple[set[int], bool]:
    """Start offsets of lines holding a scan word, from one end; (starts, complete)."""
    starts: set[int] = set()
    complete = True
    for word in _SCAN_WORDS:
        found = 0
        if forward:
            position = lowered.find(word)
            while position != -1:
                begin = lowered.rfind("\n", 0, position) + 1
                starts.add(begin)
                found += 1
                if found >= cap:
                    complete = False
                    break
                end = lowered.find("\n", position)
                if end == -1:
                    break
                position = lowered.find(word, end + 1)
        else:
            position = lowered.rfind(word)
            while position != -1:
                begin = lowered.rfind("\n", 0, position) + 1
                starts.add(begin)
                found += 1
                if found >= cap or begin == 0:
                    complete = complete and found < cap
                    break
                position = lowered.rfind(word, 0, begin - 1)
    return starts, complete


def candidate_lines(text: str) -> list[tuple[int, str]]:
    """(0-based line index, line) of the lines of ``text`` that hold a strong error word.

    Linear, and bounded for texts full of errors: at most ``MAX_CANDIDATE_LINES`` lines, the
    first quarter from the start and the rest from the end (logs put the crash last).
    """
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters change length when lower-cased
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    head_cap = MAX_CANDIDATE_LINES // 4
    starts, complete = _line_starts(lowered, forward=True, cap=MAX_CANDIDATE_LINES + 1)
    if not complete or len(starts) > MAX_CANDIDATE_LINES:
        head = sorted(starts)[:head_cap]
        tail, _ = _line_starts(lowered, forward=False, cap=MAX_CANDIDATE_LINES - head_cap)
        chosen = sorted(set(head) | set(sorted(tail)[-(MAX_CANDIDATE_LINES - head_cap) :]))
    else:
        chosen = sorted(starts)
    result = []
    line, counted = 0, 0
    for begin in chosen:
        line += lowered.count("\n", counted, begin)
        counted = begin
        end = lowered.find("\n", begin)
        result.append((line, text[begin : len(text) if end == -1 else end]))
    return result


def errorness(lowered: str) -> int:
    """How error-like one lower-cased line is (0: not at all)."""
    return _errorness(lowered)


def _ranked_error_lines(lines) -> list[tuple[int, int, str]]:  # noqa: ANN001 - (position, line) pairs
    """(score, position, line) of the error-like lines, most error-like first, then log order.

    Each line is stripped and cut to MAX_LINE_CHARS; lines that differ only by their digits
    count once (the first is kept): a cheap key, the full normalization is left to callers.
    """
    scored: dict[str, tuple[int, int, str]] = {}
    for position, raw in lines:
        line = raw.strip()[:MAX_LINE_CHARS]
        if not line:
            continue
        lowered = line.lower()
        score = _errorness(lowered)
        if score <= 0:
            continue
        key = _DIGITS_RE.sub("", lowered)
        if key not in scored:
            scored[key] = (score, position, line)
    return sorted(scored.values(), key=lambda item: (-item[0], item[1]))


def reduce_to_error_lines(text: str, max_chars: int) -> tuple[str, bool]:
    """``text`` cut to ``max_chars`` without losing its errors: (text, True when cut).

    A text that fits is returned whole. A longer one keeps its error-like lines in log order
    (most error-like first when even they do not fit), so an error on the last line of a long
    log survives the cut. One pass over the lines; each line is cut to ``MAX_LINE_CHARS``.
    """
    if len(text) <= max_chars:
        return text, False
    kept, size = [], 0
    for _score, position, line in _ranked_error_lines(candidate_lines(text)):
        if size + len(line) + 1 > max_chars:
            continue
        kept.append((position, line))
        size += len(line) + 1
    if not kept:  # nothing error-like: the end of a log is where crashes are
        return text[-max_chars:], True
    return "\n".join(line for _position, line in sorted(kept)), True


def error_lines(text: str, *, limit: int = 20) -> list[str]:
    """Return up to ``limit`` original lines of ``text``, most error-like first, deduplicated.

    Two lines that differ only by noise (timestamps, hashes, addresses, counters) count once;
    the first occurrence is kept. Ties keep the order of the log.
    """
    lines = enumerate(text.splitlines()) if len(text) < 20_000 else iter(candidate_lines(text))
    ranked = _ranked_error_lines(lines)
    result: list[str] = []
    seen: set[str] = set()
    for _score, _position, line in ranked:
        normalized = normalize(line)
        if normalized in seen:
            continue
        seen.add(normalized)
        result.append(line)
        if len(result) >= limit:
            break
    return result


# Query words: Latin words with inner ._- kept whole (huge_code_pages, 20-envsubst-on-templates.sh),
# CJK runs whole (the search analyzer splits them into bigrams itself).
_WORD_RE = re.compile(
    r"[a-z0-9][a-z0-9_.+-]*[a-z0-9]|[a-z]|[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+"
)
_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "was",
        "were",
        "with",
        "warning",
        "normal",
        "error",
        "line",
        "unknown",
        "ip",
        "id",
        "uuid",
    ]
)


def words(text: str) -> list[str]:
    """Return the words of normalized ``text`` in order, without placeholders or numbers."""
    return [
        word
        for word in _WORD_RE.findall(text)
        if not word.isdigit() and word not in _STOP_WORDS and not _DIGITS_RE.fullmatch(word[1:])
    ]


def query_text(text: str, *, max_terms: int = 32) -> str:
    """Return a compact search query for a pasted log: its best error lines' distinct words.

    When no line looks like an error (a one-line symptom description), the whole text is used.
    """
    lines = error_lines(text, limit=5) or text.splitlines()[:5]
    terms: list[str] = []
    seen: set[str] = set()
    for line in lines:
        for word in words(normalize(line)):
            if word in seen:
                continue
            seen.add(word)
            terms.append(word)
            if len(terms) >= max_terms:
                return " ".join(terms)
    return " ".join(terms)
