"""Evidence for each cause in a pasted text: symptom strings, mechanism words, retrieval score.

Everything here is linear in the size of the text: the paste is first reduced to at most
``MAX_LINES`` lines (its error lines, found with one pass of precompiled regexes without nested
quantifiers), each cut to ``MAX_LINE_CHARS``; tokens come from one ``findall`` per line; the
symptom and retrieval indexes are inverted (token -> postings), so the cost per line is its
number of tokens. Mechanism terms are found with ``str.find`` on the reduced text.

No Django imports.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from kb.errortext import MAX_LINE_CHARS, candidate_lines, errorness, normalize, plain_text
from troubleshooter.diagnosis.knowledge import FACETS, ArticleCause, Knowledge
from troubleshooter.diagnosis.spelling import reading

__all__ = [
    "MAX_LINES",
    "CauseEvidence",
    "Index",
    "PreparedText",
    "prepare",
    "tokens",
]

# A line this long (in characters) may be the first part of a message wrapped onto the next
# line; a longer one was not wrapped (no terminal or editor wraps wider), so it ends a message.
WRAPPED = 40
WRAP_WIDTH = 300
JOINS_READ = 12  # windows of lines read together per paste, at most (Index._wrapped_messages)
# A paste longer than this many lines is reduced to its error lines before anything else.
MAX_LINES = 60
# A paste up to this many lines is taken whole (a description, a short excerpt).
_WHOLE_LINES = 40

_TOKEN_RE = re.compile(r"[a-z][a-z0-9_]*|[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")
_NUMBER_RE = re.compile(r"(?<![\w.])\d{1,6}(?![\w.])", re.ASCII)
_HIRAGANA_RE = re.compile(r"^[\u3040-\u309f]+$")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_STOP = frozenset(
    """
    a an and are as at be by for from has have i in is it its of on or so that the this to
    was were with we our my me you your after when but
    """.split()  # noqa: SIM905 (a word list reads best as words)
    # Function words and the conversation around a report (a greeting, a plea, thanks):
    # they say nothing about a mechanism, and in a knowledge base of a few dozen causes
    # the one cause whose reports happen to use "help" or "anyone" would gain by them.
    + """
    about advance all also am any anybody anyone appreciate appreciated been being can
    could dear did do does doing everyone folks guys had he hello help helps her here hey
    hi him his hope how idea ideas if into just kindly know let might mine much must
    please regards she should some somebody someone suggestion suggestions than thank
    thanks their them then there these they those thx us very what which who whom why will
    would
    """.split()  # noqa: SIM905
    # What is left of a contraction once its apostrophe splits it ("doesn't" -> doesn, "we've"
    # -> ve): a negation or a pronoun's verb, never a mechanism; a few reports that happened to
    # use "doesn't" gave the word the weight of a rare term.
    + """
    ain aren couldn didn doesn don hadn hasn haven isn ll mustn needn re shan shouldn ve
    wasn weren won wouldn
    """.split()  # noqa: SIM905
    # How a bug report or a forum question is written around its content: an issue
    # template's headings and filler ("Steps to reproduce", "Expected behavior", "A clear
    # and concise description of what you expected to happen") and a question's frame
    # ("Title: ...", "I searched everywhere", "What am I doing wrong?").
    + """
    actual additional answer anything behavior behaviour bug clear concise else everywhere
    expect expected happen happened happening happens question reproduce reproduced
    reproducing searched steps title wrong
    """.split()  # noqa: SIM905
    # Counting words: "three workers", "two replicas" say how much, never which mechanism
    # (in documents of a few dozen reports, "three" was the client-address article's).
    + ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
)


def _stem(word: str) -> str:
    """A light English stemmer: truncated/truncating/truncate -> truncat; pods -> pod."""
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    elif len(word) > 4 and word.endswith("es") and not word.endswith("ses"):
        # boxes, matches, pushes -> box, match, push; nodes, files, images -> node, file, image
        word = word[:-2] if word.endswith(("xes", "zes", "ches", "shes")) else word[:-1]
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


# What varies between two occurrences of the same message: quoted names (no spaces) and the
# "(pod: ..., container: ...)" tail the kubelet appends. Left out of a symptom's words.
# The tail may hold one level of nested parentheses (``_shop(<uid>)``); each step of the
# repetition is decided by one character, so a failed match costs at most its 300 steps.
# An article may also mark a varying part of a symptom itself with a placeholder: ``<pod>``,
# ``<volume>``, ``<server>``.
_VARIABLE_RE = re.compile(
    r'"[^"\s]{1,200}"|\((?:pod|container|uid)(?:[^()\n]|\([^()\n]{0,100}\)){0,300}\)'
    r"|<[a-z][a-z0-9 _.-]{0,30}>"
)


# A log level in front of a message depends on the tool that shows it ("Error: ..." from the
# kubelet, the bare message in kubectl describe): not part of the message.
_LEVEL_RE = re.compile(r"^\s*(?:error|warning|warn|fatal|notice)\s*:\s*", re.IGNORECASE)
# The program's name in front of a bracketed level ("nginx: [emerg] ...") is printed on the
# terminal, not in the error log ("2018/02/16 04:13:43 [emerg] 19#0: ..."): not part of it.
_PROGRAM_RE = re.compile(r"^\s*[a-z][\w.-]{0,40}:\s+(?=\[[a-z]{2,8}\])", re.IGNORECASE)
# The bracketed level itself ("[emerg]", "[alert]") is the logger's too: the same message is
# logged at another level by another version or setting.
_BRACKET_LEVEL_RE = re.compile(
    r"\[(?:emerg|alert|crit|error|warn|warning|notice|info|debug)\]", re.IGNORECASE
)


# The suffixes Kubernetes generates for names (a ReplicaSet's pod-template hash, a pod's five
# random characters) are drawn from an alphabet without vowels and without 0, 1 and 3
# (k8s.io/apimachinery/pkg/util/rand): such a token with a digit is an example, not a word.
_GENERATED_RE = re.compile(r"[bcdfghjklmnpqrstvwxz2456789]{5,10}")


def _generated_name(token: str) -> bool:
    return bool(_GENERATED_RE.fullmatch(token)) and not token.isalpha()


def constant_part(text: str) -> str:
    """A symptom without its log level (bare or bracketed), program-name prefix, quoted
    names, ``<placeholders>`` and kubelet (pod: ...) tail, when words remain."""
    stripped = _PROGRAM_RE.sub("", _LEVEL_RE.sub("", text))
    stripped = _VARIABLE_RE.sub(" ", _BRACKET_LEVEL_RE.sub(" ", stripped))
    return stripped if len(stripped.split()) >= 3 else text


def number_tokens(lowered: str) -> set[str]:
    """Stand-alone numbers as tokens (``#0``): they only count for phrases of one or two words
    (``HugePages_Total: 0``), where the number is the message; elsewhere numbers vary."""
    return {"#" + n for n in _NUMBER_RE.findall(lowered)}


def tokens(lowered: str) -> list[str]:
    """Tokens of lower-cased text: stemmed Latin words, and CJK bigrams (not pure hiragana)."""
    out: list[str] = []
    for word in _TOKEN_RE.findall(lowered):
        if word[0] < "\u3000":
            if len(word) > 1 and word not in _STOP:
                out.append(_stem(word))
        elif len(word) == 1:
            continue
        else:
            for i in range(len(word) - 1):
                pair = word[i : i + 2]
                if not _HIRAGANA_RE.match(pair):
                    out.append(pair)
    return out


# A report's environment block: "Kubernetes version: v1.28.3", "- OS: Ubuntu 22.04",
# "**Kernel**: 5.15.0-91-generic", "環境: ...", or a header ("Environment:", "Versions:") and
# the bullets or "label: value" lines under it. The label says the line describes where the
# problem happened (the issue templates of most projects ask for it), not what happened: its
# words are not evidence for any cause. One anchored match per line, linear: the bullets and
# bold marks in front are taken atomically (never given back), the label is at most 40
# characters, and what may stand between it and its colon (a few spaces, bold marks) is taken
# possessively. The label holds no punctuation a name would not: not a Kubernetes label key
# (beta.kubernetes.io/os: linux), not a clause ("init db, db version:13"); a value opening with
# "[" is a log line's timestamp ("kernel: [16068.48] mount.nfs ...").
_SETTING_RE = re.compile(
    r"(?>[-*•>\s]*)([^:：\n*.,/=]{1,40}?)\s{0,3}+\**+\s{0,3}+[:：](?!\s*\[)\s*(.*)"
)
_LIST_ITEM_RE = re.compile(r"^\s*[-*•]\s")
# A bullet of an environment block: "- Install tools: kubeadm", "- Others:" (a label and its
# colon), not a container's variable ("- DATABASE_URL=...", "- 8000:8000").
_SETTING_ITEM_RE = re.compile(r"\s*[-*•]\s+[^:：=\n]{1,80}[:：](?:\s|$)")
_SETTING_LABEL_WORDS = frozenset(
    """
    environment os kernel version versions runtime provider platform setup distro
    distribution install tools plugin cni hardware 環境 环境 系统 版本 バージョン 运行环境
    """.split()  # noqa: SIM905
)
_LABEL_SPLIT_RE = re.compile(r"[\s_/()（）-]+")


def _setting_value(line: str) -> str | None:
    """The value when ``line`` (lower case) is "label: value" with a setting label."""
    match = _SETTING_RE.match(line)
    if match is None:
        return None
    label, value = match.group(1), match.group(2)
    words = [w for w in _LABEL_SPLIT_RE.split(label) if w]
    if not 0 < len(words) <= 4:
        return None
    # A CJK label is one run of characters: 運用環境, 系统版本.
    if not any(w in _SETTING_LABEL_WORDS for w in words) and not any(
        key in label for key in _SETTING_LABEL_WORDS if key[0] >= "\u3000"
    ):
        return None
    return value


def setting_lines(
    lowered_lines: Sequence[str], numbers: Sequence[int] = (), originals: Sequence[str] = ()
) -> set[int]:
    """Indexes of the lines that describe the environment (``_SETTING_RE``), never a line
    with an error word: "OS: ... fails to mount" reports, it does not describe. A header's
    block is its labelled bullets ("- Install tools: kubeadm"), up to a blank line
    (``numbers``: the lines' numbers in the paste, a gap is a blank line) or any other line.

    Only a header written as a person writes one opens a block (``originals``: capitalised,
    in bold, a Markdown heading, or CJK): a manifest's ``env:`` or a compose file's
    ``environment:`` key heads the variables of a container, which are read."""
    found: set[int] = set()
    in_block = False
    for index, line in enumerate(lowered_lines):
        if index and numbers and numbers[index] != numbers[index - 1] + 1:
            in_block = False
        if errorness(line) > 0:
            in_block = False
            continue
        value = _setting_value(line)
        if value is not None:
            found.add(index)
            # A header opens a block; a labelled line inside one keeps it open.
            in_block = in_block or (
                not value.strip() and (not originals or _written_header(originals[index]))
            )
        elif in_block and _SETTING_ITEM_RE.match(line):
            found.add(index)
        else:
            in_block = False
    return found


def _written_header(original: str) -> bool:
    start = original.lstrip("#*>-• \t")
    return bool(start) and (start[0].isupper() or start[0] >= "\u3000" or original[0] in "#*")


# The shapes of pasted structure: a manifest or `kubectl describe` line ("key: value", a key
# of up to three words, or "- key: value"), a table of `kubectl get` (a header of capitalised
# column names), a command after a shell prompt, a Dockerfile's instructions. Anchored, no
# nested quantifiers.
_KEY_LINE_RE = re.compile(r"(?:- )?[a-z][\w.-]{0,60}(?: [a-z][\w.-]{0,30}){0,2}:(?: |$)")
_PROMPT_RE = re.compile(
    r"(?:[\w@.~:/-]{0,60}[$#%>] )(?:sudo )?(?:kubectl|docker|helm|oc|k|podman|crictl) "
)
_CELL_SPLIT_RE = re.compile(r" {2,}")
_HEADER_CELL_RE = re.compile(r"[A-Z][A-Z0-9()/ -]*")  # NAME, EXTERNAL-IP, PORT(S), NOMINATED NODE
_TABLE_GAP_RE = re.compile(r"\S {2,}(?=\S)")  # a row's cells are apart by two spaces or more
# A Dockerfile's instruction, as written (upper case): a line of a build, not of a report.
_DOCKERFILE_RE = re.compile(
    r"(?:FROM|RUN|COPY|ADD|WORKDIR|ENV|ARG|EXPOSE|CMD|ENTRYPOINT|USER|VOLUME|LABEL|HEALTHCHECK"
    r"|SHELL|STOPSIGNAL|ONBUILD) \S"
)
STRUCTURE_BLOCK = 3  # key lines in a row: fewer is a sentence with a colon
_URL_RE = re.compile(r"[a-z][a-z0-9+.-]{0,20}://\S{0,2000}")


def _table_header(line: str) -> bool:
    """Three or more capitalised column names, two spaces or more apart."""
    cells = _CELL_SPLIT_RE.split(line)
    return len(cells) >= 3 and all(_HEADER_CELL_RE.fullmatch(cell) for cell in cells)


def structure_lines(
    originals: Sequence[str], lowered_lines: Sequence[str], numbers: Sequence[int] = ()
) -> set[int]:
    """Indexes of the lines that are pasted structure rather than what went wrong: a run of
    at least ``STRUCTURE_BLOCK`` manifest or describe lines, the rows under a table header,
    a command after a prompt; never a line with an error word."""
    found: set[int] = set()
    run: list[int] = []  # the lines of the current block
    keys = 0  # how many of them are key lines (a list item alone makes no block)
    table = False
    for index, line in enumerate(lowered_lines):
        if index and numbers and numbers[index] != numbers[index - 1] + 1:
            table = False  # a blank line ends a table and a block
            if keys >= STRUCTURE_BLOCK:
                found.update(run)
            run, keys = [], 0
        if errorness(line) > 0:
            continue  # inside a block, an error line is read and does not end the block
        original = originals[index]
        if _table_header(original):
            found.add(index)
            table = True
            continue
        if table and len(_TABLE_GAP_RE.findall(original)) >= 2:
            found.add(index)
            continue
        table = False
        if _PROMPT_RE.match(line):
            found.add(index)
            continue
        if _KEY_LINE_RE.match(line) or _DOCKERFILE_RE.match(original):
            run.append(index)
            keys += 1
            continue
        if run and _LIST_ITEM_RE.match(line):
            run.append(index)  # a manifest's list ("- 8000:8000") goes on with its block
            continue
        if keys >= STRUCTURE_BLOCK:
            found.update(run)
        run, keys = [], 0
    if keys >= STRUCTURE_BLOCK:
        found.update(run)
    return found


def table_names(originals: Sequence[str], numbers: Sequence[int] = ()) -> dict[int, int]:
    """The rows of a ``kubectl get`` table whose first cells are names, and how many: 1
    under a header opening with NAME, 2 under NAMESPACE NAME (``kubectl get pods -A``). A
    table ends at a blank line or at a line that is not a row."""
    found: dict[int, int] = {}
    names = 0
    for index, original in enumerate(originals):
        if index and numbers and numbers[index] != numbers[index - 1] + 1:
            names = 0
        if _table_header(original):
            cells = _CELL_SPLIT_RE.split(original)
            names = 1 if cells[0] == "NAME" else 2 if cells[:2] == ["NAMESPACE", "NAME"] else 0
        elif names and len(_TABLE_GAP_RE.findall(original)) >= 2:
            found[index] = names
        else:
            names = 0
    return found


@dataclass(frozen=True)
class PreparedText:
    """The paste reduced to the lines worth reading, with their line numbers in the paste."""

    numbers: tuple[int, ...]  # 1-based line numbers in the paste
    originals: tuple[str, ...]  # the user's lines as pasted (stripped, cut to MAX_LINE_CHARS)
    normalized: tuple[str, ...]  # kb.errortext.normalize of each
    line_tokens: tuple[frozenset[str], ...]
    lowered: str  # the kept lines, NFKC and lower case, joined by newlines
    cut: bool  # True when lines were left out
    lowered_lines: tuple[str, ...] = ()  # the same lines, one by one
    # Two or three lines, each but the last as long as a wrapped line, that may be one message
    # cut by a terminal or an editor: (the first line's index, how many lines).
    joins: tuple[tuple[int, int], ...] = ()
    # The words found only in sentences that tell the setup (``setup_only_tokens``).
    setup_tokens: frozenset[str] = frozenset()


def _joined(lowered: Sequence[str], first: int, size: int) -> tuple[str, ...]:
    """Lines ``first`` to ``first + size - 1`` read as one (the last only its first
    ``WRAP_WIDTH`` characters), with a space at each break and without (a terminal cuts
    inside a word), each as written and normalized."""
    window = [*lowered[first : first + size - 1], lowered[first + size - 1][:WRAP_WIDTH]]
    texts = []
    for joined in (" ".join(window), "".join(window)):
        texts += [normalize(joined) or joined, joined]
    return tuple(dict.fromkeys(texts))


# A sentence ends at . ! ? ; and a space (not inside "1.28" or "e.g.nginx"), or at the CJK
# marks. One character of look-behind per position: linear.
_SENTENCE_END_RE = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])")
# What a sentence about a problem says besides its error words (``errorness``): a negation,
# a contrast, a question, a time of change ("after the upgrade"). Whole words, or a CJK
# negation or question mark. Alternatives of literals, no nested quantifiers.
_PROBLEM_RE = re.compile(
    r"\b(?:not|no|never|nothing|only|instead|still|but|however|although|though|cannot|"
    r"fails?|failed|failing|stuck|hangs?|broken|wrong|issue|problem|why|how|what|when|"
    r"crash\w*|restarts?|restarting|dies|died|stops?|stopped|missing|empty|lost|loses|"
    r"whenever|after|since|until)\b|n't\b|[?？]|[不没無无未吗嗎]|ない|ません"
    r"|失敗|失败|問題|问题|エラー|错误|錯誤|クラッシュ|落ち|止ま|崩溃|重启|挂了|卡住|报错"
)
# A log line, a table row or a config line rather than a sentence a person wrote: cells
# apart by two spaces, brackets, braces, "=", "<", ">", "|", or a timestamp or number first.
_LOGLIKE_RE = re.compile(r" {2}|[\[\]{}=<>|]|^\W*\d")


# A report told in prose has a few dozen sentences; a paste of more is a log or a dump, and
# reading each of its sentences for a setup would cost more than the rest of the diagnosis.
MAX_SETUP_SENTENCES = 100


def setup_only_tokens(lines: Sequence[str], is_setup: Callable[[str], bool]) -> frozenset[str]:
    """The tokens of the sentences of ``lines`` (lower case) that tell the setup
    (``is_setup``) and of no other sentence. Nothing when every sentence tells the setup
    (then the setup is all there is to read), or when there are more than
    ``MAX_SETUP_SENTENCES``."""
    sentences = [s for line in lines if line for s in _SENTENCE_END_RE.split(line) if s]
    if len(sentences) > MAX_SETUP_SENTENCES:
        return frozenset()
    inside: set[str] = set()
    outside: set[str] = set()
    for sentence in sentences:
        (inside if is_setup(sentence) else outside).update(tokens(sentence))
    return frozenset(inside - outside) if outside else frozenset()


def prepare(
    text: str,
    keep: Callable[[str], bool] | None = None,
    setup: Callable[[str], bool] | None = None,
) -> PreparedText:
    """Keep the lines worth reading: all of a short paste, the error lines of a long one.

    The paste is read as a person reads it (``plain_text``: no terminal colours, JSON's
    escapes of non-ASCII characters decoded); its line numbers are the paste's. Lines that
    describe the setup (``setting_lines``) are kept but read as empty, and so are lines of
    pasted structure (``structure_lines``) for which ``keep`` (given the lower-cased line)
    is false; without ``keep`` structure is read like any line. ``setup``, when given, tells
    a sentence that describes the setup in prose ("We run MicroK8s with Traefik."): its
    words are kept, and listed in ``setup_tokens`` for the index to weigh less."""
    text = plain_text(text)
    raw_lines = text.splitlines() if text.count("\n") <= _WHOLE_LINES else None
    if raw_lines is not None:
        candidates = [(i + 1, line.strip()[:MAX_LINE_CHARS]) for i, line in enumerate(raw_lines)]
        candidates = [(n, line) for n, line in candidates if line]
    else:
        candidates = []
    cut = False
    if raw_lines is None:
        scored = []
        seen: set[str] = set()
        found = [(i + 1, line.strip()[:MAX_LINE_CHARS]) for i, line in candidate_lines(text)]
        for number, line in found:
            lowered = line.lower()
            score = errorness(lowered)
            if score <= 0:
                continue
            key = re.sub(r"\d+", "", lowered)
            if key in seen:
                continue
            seen.add(key)
            scored.append((score, number, line))
        scored.sort(key=lambda item: (-item[0], item[1]))
        kept = sorted(scored[:MAX_LINES], key=lambda item: item[1])
        cut = True
        candidates = [(number, line) for _score, number, line in kept]
        if not candidates:  # nothing looks like an error: the last lines are the likeliest
            tail = text[-MAX_LINES * MAX_LINE_CHARS :]
            offset = text.count("\n", 0, len(text) - len(tail))
            candidates = [
                (offset + n, line.strip()[:MAX_LINE_CHARS])
                for n, line in enumerate(tail.splitlines(), 1)
                if line.strip()
            ][-MAX_LINES:]
    numbers = tuple(n for n, _line in candidates)
    originals = tuple(line for _n, line in candidates)
    lowered_lines = [reading(line) for line in originals]
    # The environment block is shown and numbered like any line, but read as nothing. Both
    # kinds of line are found in the paste as it is (a compose file's "environment:" key is
    # a setting's label and a line of its block).
    setting = setting_lines(lowered_lines, numbers, originals)
    structure = structure_lines(originals, lowered_lines, numbers) if keep is not None else set()
    for index in setting:
        lowered_lines[index] = ""
    # Pasted structure (a manifest, describe output, a table) is read only where it names a
    # mechanism (``keep``: subPath, externalTrafficPolicy, an NFS server): "replicas: 2",
    # "cpu: 500m", a pod's name, a database URL are in every paste and point nowhere. Such a
    # line is read whole: on the tuning part, reading only its mechanism terms named 8 fewer
    # items right and refused 5 fewer over five fold seeds.
    # A paste that is nothing but structure (a manifest alone) is the report: read whole.
    structure -= setting
    if keep is not None and len(structure) < sum(1 for line in lowered_lines if line):
        for index in structure:
            if not keep(lowered_lines[index]):
                lowered_lines[index] = ""
    # A table's rows are read (a status of CrashLoopBackOff or ProviderFailed is what went
    # wrong), but not their names ("billing-api-7f9c6d8b4-kq2zt", "shop"): the user's own,
    # in every paste, unless one names a mechanism (a pod called postgres-0 or php-fpm).
    if keep is not None:
        for index, count in table_names(originals, numbers).items():
            cells = _CELL_SPLIT_RE.split(lowered_lines[index].strip())
            if len(cells) > count and not keep(" ".join(cells[:count])):
                lowered_lines[index] = "  ".join(cells[count:])
    setup_tokens = setup_only_tokens(lowered_lines, setup) if setup is not None else frozenset()
    normalized = tuple(normalize(line) or line for line in lowered_lines)
    # A line normalize() left as it was is tokenized once: the second copy's tokens are the
    # first's again, and a frozenset built from a list ignores a repeat (same set, same order).
    line_tokens = tuple(
        frozenset(tokens(low) if n == low else tokens(n + " " + low)) | number_tokens(low)
        for n, low in zip(normalized, lowered_lines, strict=True)
    )
    joins = tuple(
        (index, size)
        for size in (2, 3)
        for index in range(len(originals) - size + 1)
        if all(WRAPPED <= len(originals[index + k]) <= WRAP_WIDTH for k in range(size - 1))
        and numbers[index + size - 1] == numbers[index] + size - 1
        and all(lowered_lines[index : index + size])
    )
    return PreparedText(
        numbers=numbers,
        originals=originals,
        normalized=normalized,
        line_tokens=line_tokens,
        lowered="\n".join(lowered_lines),
        cut=cut,
        lowered_lines=tuple(lowered_lines),
        joins=joins,
        setup_tokens=setup_tokens,
    )


# --- Term look-ups (mechanism words, software names) -----------------------------------------


def _is_word_char(char: str) -> bool:
    return bool(char) and (char.isalnum() or char == "_") and not _CJK_RE.match(char)


def find_term(text: str, term: str) -> int:
    """Position of ``term`` in ``text`` as a whole word (Latin) or substring (CJK), else -1.

    A term ending in ``*`` matches as a prefix (``truncat*``). Linear: ``str.find`` per hit.
    """
    prefix = term.endswith("*")
    needle = term[:-1] if prefix else term
    if not needle:
        return -1
    check_before = _is_word_char(needle[0])
    check_after = not prefix and _is_word_char(needle[-1])
    position = text.find(needle)
    while position != -1:
        end = position + len(needle)
        before_ok = not check_before or position == 0 or not _is_word_char(text[position - 1])
        after_ok = not check_after or end == len(text) or not _is_word_char(text[end])
        if before_ok and after_ok:
            return position
        position = text.find(needle, position + 1)
    return -1


# The runs of word characters exactly as ``_is_word_char`` sees them (``\\w`` is
# ``str.isalnum()`` or "_"; the CJK ranges of ``_CJK_RE`` break a run), and runs of CJK.
_WORD_RUN_RE = re.compile(r"[^\W\u3040-\u30ff\u3400-\u9fff]+")
_CJK_RUN_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]+")


class _TermKeys:
    """For each term, one key that every text ``find_term`` finds the term in must hold.

    ``find_term`` wants a term's first and last characters at word boundaries when they are
    word characters, so each run of word characters inside a term is a whole run of the
    text wherever the term occurs; only the last run of a prefix term (``truncat*``) may
    continue in the text. A term with no word characters has its CJK pairs in the text.
    The key is the longest whole run, else the prefix run, else a CJK pair (or the single
    CJK character of a one-character term); a term with none of these is always looked up.
    A text's keys are gathered in one pass, so a request pays for its own length and the
    few terms it can hold rather than a scan of the text per term.
    """

    def __init__(self, terms: Collection[str]):
        self.runs: dict[str, list[str]] = defaultdict(list)
        self.prefixes: dict[str, list[str]] = defaultdict(list)
        self.cjk: dict[str, list[str]] = defaultdict(list)
        self.always: list[str] = []
        for term in terms:
            prefix = term.endswith("*")
            needle = term[:-1] if prefix else term
            if not needle:
                continue  # find_term finds nothing for it
            runs = list(_WORD_RUN_RE.finditer(needle))
            whole = [m.group() for m in runs if not (prefix and m.end() == len(needle))]
            if whole:
                self.runs[max(whole, key=len)].append(term)
            elif runs:
                self.prefixes[runs[-1].group()].append(term)
            elif cjk := _CJK_RUN_RE.findall(needle):
                self.cjk[max(cjk, key=len)[:2]].append(term)
            else:
                self.always.append(term)
        self._prefix_lengths = sorted({len(p) for p in self.prefixes})
        self._pair_lengths = sorted({len(k) for k in self.cjk})

    def candidates(self, text: str) -> list[str]:
        """The terms that may occur in ``text`` (lower case, NFKC), each once."""
        words = set(_WORD_RUN_RE.findall(text))
        out = list(self.always)
        for word in words & self.runs.keys():
            out.extend(self.runs[word])
        if self.prefixes:
            starts = {w[:n] for w in words for n in self._prefix_lengths if len(w) >= n}
            for start in starts & self.prefixes.keys():
                out.extend(self.prefixes[start])
        if self.cjk:
            pairs = set()
            for run in _CJK_RUN_RE.findall(text):
                for n in self._pair_lengths:
                    pairs.update(run[i : i + n] for i in range(len(run) - n + 1))
            for pair in pairs & self.cjk.keys():
                out.extend(self.cjk[pair])
        return out


# --- The index over the causes -----------------------------------------------------------------


# The facets whose words are the cause's own vocabulary (its BM25 document, its evidence).
_VOCABULARY = ("component", "storage", "effect")


@dataclass
class CauseEvidence:
    """What the text shows for one cause; ``features`` feed the confidence model."""

    slug: str
    symptom: float = 0.0  # best idf-weighted coverage of one symptom by one line (0..1)
    symptom_text: str = ""
    symptom_line: int = -1  # index into PreparedText lines
    near_miss: float = 0.0
    bm25: float = 0.0
    bm25_share: float = 0.0
    bm25_top: float = 0.0
    prose_share: float = 0.0  # BM25 over the article's own text in every language, / the best
    facets: dict[str, list[str]] = field(default_factory=dict)  # facet -> matched terms
    off_context: bool = False  # the cause names its context words and the text holds none
    best_line: int = -1  # the line with most of this cause's words (when no symptom matched)
    line_words: list[str] = field(default_factory=list)

    def features(self) -> dict[str, float]:
        exact = 1.0 if self.symptom >= 0.999 else 0.0
        return {
            "symptom": self.symptom if self.symptom >= 0.6 else 0.0,
            "exact": exact,
            "near_miss": 1.0 if self.near_miss >= 0.9 and self.near_miss > self.symptom else 0.0,
            "bm25": (absolute := 1.0 - math.exp(-self.bm25 / 6.0)),
            "bm25_share": self.bm25_share * absolute,
            "bm25_top": self.bm25_top * absolute,
            "prose_share": self.prose_share * absolute,
            "component": 1.0 if self.facets.get("component") else 0.0,
            "storage": 1.0 if self.facets.get("storage") else 0.0,
            "effect": 1.0 if self.facets.get("effect") else 0.0,
            "off_context": 1.0 if self.off_context else 0.0,
            "fix_applied": 1.0 if self.facets.get("applied") else 0.0,
        }


@dataclass(frozen=True)
class _Phrase:
    slug: str
    text: str
    size: int
    near_miss: bool
    weight: float = 1.0  # the sum of its tokens' phrase idf
    # For a short phrase, its words in order, each with whether it must follow the one
    # before closely (they are neighbours in the message, with no variable part between).
    order: tuple[tuple[str, bool], ...] | None = None
    # The words the message holds more than once, with how often ("pod" twice in "Pod Node
    # didn't have enough resource: pods"): an exact match holds each as often.
    repeated: tuple[tuple[str, int], ...] = ()
    # The same order for any length: what a message read across a line break must keep.
    whole_order: tuple[tuple[str, bool], ...] | None = None


class Index:
    """Symptom phrases and a BM25 index over the causes, built once per knowledge generation."""

    K1 = 1.2
    B = 0.5
    WEAK = 0.35  # BM25 weight of a word every kind of error uses

    def __init__(
        self,
        knowledge: Knowledge,
        *,
        neighbours: Sequence[ArticleCause] = (),
        weak_words: Collection[str] = (),
        setup_words: Collection[str] = (),
        platforms: Collection[str] = (),
        software: Collection[str] = (),
    ):
        self.knowledge = knowledge
        self.neighbours = tuple(neighbours)
        causes = (*knowledge.causes, *self.neighbours)
        self.slugs = tuple(c.slug for c in causes)
        self.neighbour_slugs = frozenset(c.slug for c in self.neighbours)
        self.article_slugs = tuple(
            dict.fromkeys(s for s in self.slugs if s not in self.neighbour_slugs)
        )
        # (slug, whether it is a neighbour), in the order of ``slugs``.
        self.kinds = tuple((s, s in self.neighbour_slugs) for s in self.slugs)
        # Greatest first: the best of the neighbours that tie is the greatest slug.
        self.neighbours_descending = tuple(sorted(self.neighbour_slugs, reverse=True))
        # Symptom and near-miss phrases: token -> [(phrase id)], each phrase's token count.
        self._phrases: list[_Phrase] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        for cause in causes:
            for text, near in [(s, False) for s in cause.symptoms] + [
                (n, True) for n in cause.near_misses
            ]:
                lowered = reading(constant_part(text))
                sequence = [
                    t for t in tokens(normalize(lowered) or lowered) if not _generated_name(t)
                ]
                phrase_tokens = set(sequence)
                repeated = tuple(sorted((t, n) for t, n in Counter(sequence).items() if n > 1))
                if not phrase_tokens:
                    continue
                if len(phrase_tokens) <= 2:
                    phrase_tokens |= number_tokens(lowered)
                index = len(self._phrases)
                order = _phrase_order(text, phrase_tokens)
                whole = order or _phrase_order(text, phrase_tokens, longest=len(phrase_tokens))
                self._phrases.append(
                    _Phrase(cause.slug, text, len(phrase_tokens), near, 1.0, order, repeated, whole)
                )
                for token in phrase_tokens:
                    self._postings[token].append(index)
        # A phrase's tokens weigh by how few groups of phrases (one article's symptoms, one
        # article's near misses) hold them: "nodes are available" opens the scheduler's
        # messages on both sides, "too many pods" only the symptoms. Within a group the names
        # that vary between examples (a pod, a volume) weigh as much as the message's words.
        groups = {(p.slug, p.near_miss) for p in self._phrases}
        group_count = max(1, len(groups))
        self._phrase_idf = {}
        for token, ids in self._postings.items():
            holders = len({(self._phrases[i].slug, self._phrases[i].near_miss) for i in ids})
            self._phrase_idf[token] = math.log(1 + (group_count - holders + 0.5) / (holders + 0.5))
        weights = [0.0] * len(self._phrases)
        for token, ids in self._postings.items():
            for phrase_id in ids:
                weights[phrase_id] += self._phrase_idf[token]
        self._phrases = [
            _Phrase(
                p.slug,
                p.text,
                p.size,
                p.near_miss,
                weights[i] or 1.0,
                p.order,
                p.repeated,
                p.whole_order,
            )
            for i, p in enumerate(self._phrases)
        ]
        # BM25 documents: each cause's own words.
        self._doc_tf: dict[str, Counter] = {}
        lengths = {}
        df: Counter = Counter()
        for cause in causes:
            parts = [cause.title, cause.summary, *cause.symptoms, *cause.keywords]
            for lang_reports in cause.reports.values():
                parts.extend(lang_reports)
            for facet, terms in cause.mechanism.items():
                if facet in _VOCABULARY:  # not the setting (Kubernetes), not the fix
                    parts.extend(t.rstrip("*") for t in terms)
            lowered = reading("\n".join(parts))
            tf = Counter(tokens(lowered))
            self._doc_tf[cause.slug] = tf
            lengths[cause.slug] = sum(tf.values())
            df.update(tf.keys())
        count = max(1, len(causes))
        self._avg = (sum(lengths.values()) / count) if lengths else 1.0
        self._lengths = lengths
        # A setup's names weigh like the weak words: "Ubuntu 22.04, containerd 1.7, Helm" in
        # front of a report says where it happened, not what happened.
        weak = set(tokens(" ".join((*weak_words, *setup_words))))
        self._idf = {
            t: math.log(1 + (count - n + 0.5) / (n + 0.5)) * (self.WEAK if t in weak else 1.0)
            for t, n in df.items()
        }
        # A second BM25 over each article's own text (body and translations): written from
        # the sources, not from the reports, so it knows words the front matter does not.
        self._prose_tf: dict[str, Counter] = {}
        prose_df: Counter = Counter()
        for cause in causes:
            lowered = reading("\n".join(cause.prose))
            tf = Counter(tokens(lowered))
            self._prose_tf[cause.slug] = tf
            prose_df.update(tf.keys())
        self._prose_lengths = {s: sum(tf.values()) for s, tf in self._prose_tf.items()}
        self._prose_avg = max(1.0, sum(self._prose_lengths.values()) / count)
        self._prose_idf = {
            t: math.log(1 + (count - n + 0.5) / (n + 0.5)) * (self.WEAK if t in weak else 1.0)
            for t, n in prose_df.items()
        }
        # Mechanism terms per cause and facet (lower case, NFKC). A setup's name is not one:
        # containerd runs every node, so it cannot tell an image pull from anything else.
        setup = {reading(w) for w in setup_words}
        self._facets = {
            cause.slug: {
                facet: tuple(
                    dict.fromkeys(
                        reading(t)
                        for t in cause.mechanism.get(facet, ())
                        if facet == "context" or reading(t) not in setup
                    )
                )
                for facet in FACETS
            }
            for cause in causes
        }

        self._with_context = tuple(s for s, facets in self._facets.items() if facets["context"])
        # Which (cause, facet) each distinct mechanism term belongs to, and the one key that
        # any text holding the term must hold (``_TermKeys``): a request looks up only the
        # terms whose key its text has, instead of scanning the text once per term.
        self._term_places: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for slug, facets in self._facets.items():
            for facet, terms in facets.items():
                for term in dict.fromkeys(terms):
                    self._term_places[term].append((slug, facet))
        self._term_keys = _TermKeys(self._term_places)
        # The articles' own mechanism terms: what a line of pasted structure must name to be
        # read (``names_mechanism``).
        self._article_terms = _TermKeys(
            {
                term
                for slug in self.article_slugs
                for facet in ("component", "storage", "effect", "applied")
                for term in self._facets[slug][facet]
            }
        )

        # A sentence that tells the setup (``setup_sentence``) names one of these: a setup
        # word, a platform (AKS, OpenShift), which may be a cause's mechanism term too, or a
        # program that is no article's component ("a Spring Boot service with PostgreSQL";
        # not nginx or PHP, whose sentences are the reports, and not "node", a weak word).
        components = {t for slug in self.article_slugs for t in self._facets[slug]["component"]}
        programs = {reading(w) for w in software} - components - {reading(w) for w in weak_words}
        self._setup_markers = _TermKeys({reading(w) for w in (*setup_words, *platforms)} | programs)
        # What such a sentence must not name: an effect or an applied fix of any cause, the
        # storage of an article ("EKS 1.18 on Fargate with an EFS access point" is the NFS
        # article's setting, not only the environment's).
        self._problem_terms = _TermKeys(
            {
                term
                for slug in self.slugs
                for facet in ("effect", "applied")
                for term in self._facets[slug][facet]
            }
            | {term for slug in self.article_slugs for term in self._facets[slug]["storage"]}
        )
        # The words of such a sentence that weigh less in BM25: the names, of a mechanism or
        # of a setup (the markers above). Its other words (built, print, time) stay as they
        # are: they take a little share from every cause, as any word of a report does.
        self._named_tokens = frozenset(
            token
            for facets in self._facets.values()
            for facet in _VOCABULARY
            for term in facets[facet]
            for token in tokens(term.rstrip("*"))
        ) | frozenset(tokens(" ".join((*setup_words, *platforms, *programs))))
        # Both BM25 document sets as inverted lists, built here rather than in a request.
        self._inverted = self._invert(self._doc_tf, self._lengths, self._avg, self._idf)
        self._prose_inverted = self._invert(
            self._prose_tf, self._prose_lengths, self._prose_avg, self._prose_idf
        )

    def setup_sentence(self, sentence: str) -> bool:
        """Whether a sentence (lower case) only tells where the problem happened: written by
        a person (not a log line), without an error word, a negation, a contrast or a
        question, naming a setup word, a platform or a program that is no article's
        component, and no effect, applied fix or article storage. "Deployed via Argo CD,
        Istio service mesh enabled." is one; "Service is a NodePort" (no setup named) and
        "after the upgrade to 1.28 the pods hang" are not."""
        if _LOGLIKE_RE.search(sentence.strip()) or _PROBLEM_RE.search(sentence):
            return False
        if errorness(sentence) > 0:
            return False
        if not any(
            find_term(sentence, term) != -1 for term in self._setup_markers.candidates(sentence)
        ):
            return False
        return all(
            find_term(sentence, term) == -1 for term in self._problem_terms.candidates(sentence)
        )

    def names_mechanism(self, line: str) -> bool:
        """Whether a lower-cased line holds one of the articles' mechanism terms outside a
        URL (a database URL with "secret" as its password names no Secret)."""
        line = _URL_RE.sub(" ", line)
        return any(find_term(line, term) != -1 for term in self._article_terms.candidates(line))

    def idf(self, token: str) -> float:
        return self._idf.get(token, 0.0)

    def doc_has(self, slug: str, token: str) -> bool:
        return token in self._doc_tf.get(slug, ())

    def component_terms(self, slug: str) -> tuple[str, ...]:
        return self._facets.get(slug, {}).get("component", ())

    def evidence(self, prepared: PreparedText) -> dict[str, CauseEvidence]:
        """Every cause's evidence, in the order of ``slugs``."""
        shown = self.shown(prepared)
        return {slug: shown.get(slug) or CauseEvidence(slug) for slug in self.slugs}

    def shown(self, prepared: PreparedText) -> dict[str, CauseEvidence]:
        """The evidence of the causes the text shows anything of (a phrase word, a retrieval
        word, a mechanism term); every other cause's is ``CauseEvidence(slug)``, all zero.

        A short query touches a few of the causes: the others cost nothing here.
        """
        result: dict[str, CauseEvidence] = {}
        line_sequences: dict[int, _Sequences] = {}  # _line_sequences' cache
        # 1. Symptom phrases, line by line: coverage of the phrase's tokens by the line.
        for line_index, line_tokens in enumerate(prepared.line_tokens):
            counts: Counter = Counter()
            weighed: dict[int, float] = defaultdict(float)
            for token in line_tokens:
                ids = self._postings.get(token, ())
                for phrase_id in ids:
                    counts[phrase_id] += 1
                    weighed[phrase_id] += self._phrase_idf[token]
            for phrase_id, hits in counts.items():
                phrase = self._phrases[phrase_id]
                # Weighted by the phrase idf; only every token found makes it exact, and for
                # a short phrase only in the phrase's order ("too many pods", not "too many
                # open files ... more pods").
                if hits >= phrase.size:
                    coverage = 1.0
                    if phrase.order is not None or phrase.repeated:
                        sequences = _line_sequences(prepared, line_index, line_sequences)
                        if (
                            phrase.order is not None and not _in_order(phrase.order, sequences)
                        ) or (phrase.repeated and not _repeats_hold(phrase.repeated, sequences)):
                            coverage = OUT_OF_ORDER  # every word, but not the message
                elif phrase.order is not None:
                    # Every word of a short message is the message: "nodes are available:
                    # Insufficient" without "pods" is the scheduler's template, not max pods.
                    coverage = min(SHORT_PARTIAL, weighed[phrase_id] / phrase.weight)
                else:
                    coverage = min(0.999, weighed[phrase_id] / phrase.weight)
                evidence = result.get(phrase.slug)
                if evidence is None:
                    evidence = result[phrase.slug] = CauseEvidence(phrase.slug)
                if phrase.near_miss:
                    evidence.near_miss = max(evidence.near_miss, coverage)
                elif coverage > evidence.symptom:
                    evidence.symptom = coverage
                    evidence.symptom_text = phrase.text
                    evidence.symptom_line = line_index
        self._wrapped_messages(prepared, result)
        # 2. BM25 of each cause for the text's distinct tokens, every kept line: the context
        # around an error (the image, the volume, the node) names the mechanism as often as
        # the error line does. (A long paste was already cut to its error lines.)
        lines = prepared.line_tokens
        query = set().union(*lines) if lines else set()
        # A name in a sentence that only tells the setup weighs like a weak word: "Istio
        # service mesh enabled" in front of a report is where it happened, not what.
        damped = prepared.setup_tokens & self._named_tokens
        scores = self._bm25(query, self._inverted, damped)
        # Only the causes with a score: every other cause's score, share and lead are 0.0.
        for slug, (score, share, top) in _shares(scores, self.neighbour_slugs).items():
            evidence = result.get(slug)
            if evidence is None:
                evidence = result[slug] = CauseEvidence(slug)
            evidence.bm25, evidence.bm25_share, evidence.bm25_top = score, share, top
        prose = self._bm25(query, self._prose_inverted, damped)
        for slug, (_score, share, _top) in _shares(prose, self.neighbour_slugs).items():
            evidence = result.get(slug)
            if evidence is None:
                evidence = result[slug] = CauseEvidence(slug)
            evidence.prose_share = share
        # 3. Mechanism facets: only the terms whose key the text holds can occur in it.
        text = prepared.lowered
        if "_" in text:
            # An identifier's parts are words: MAP_HUGETLB holds hugetlb, php_admin_value php.
            # Terms are looked for in the text as written, then in a copy with the underscores
            # read as spaces (a term written with one, upload_tmp_dir, is found in the first).
            text = text + "\n" + text.replace("_", " ")
        positions: dict[str, int] = {}  # one look-up per distinct term: causes share many
        places: dict[str, set[str]] = {}  # cause -> facets with a term in the text
        for term in self._term_keys.candidates(text):
            positions[term] = position = find_term(text, term)
            if position != -1:
                for slug, facet in self._term_places[term]:
                    places.setdefault(slug, set()).add(facet)
        for slug, facets_found in places.items():
            found = {}
            for facet, terms in self._facets[slug].items():  # in FACETS order
                if facet not in facets_found:
                    continue
                hits = _words_found(text, terms, positions, missing=-1)
                if hits:
                    found[facet] = hits
            if found:
                evidence = result.get(slug)
                if evidence is None:
                    evidence = result[slug] = CauseEvidence(slug)
                evidence.facets = found
        # A CJK pair is about half a word: a Japanese sentence has twice the tokens.
        words = sum(1.0 if token < "\u3000" else 0.5 for token in query)
        if words >= CONTEXT_WORDS:
            for slug in self._with_context:
                # A cause that names the setting it needs: the text holds none of those words.
                evidence = result.get(slug)
                if evidence is not None and "context" not in evidence.facets:
                    evidence.off_context = True
        return result

    def _wrapped_messages(self, prepared: PreparedText, result: dict[str, CauseEvidence]) -> None:
        """A message wrapped onto the next line or two: only a whole message counts from the
        lines read together (every word, in order), never a part of one.

        The words of the lines, and of each break read without a space, are gathered first: a
        phrase can only be whole across a break if all its words are there, and only then
        are the lines read together (``_joined``), for at most ``JOINS_READ`` windows: a
        paste whose every line holds the words of a message out of order costs that many.
        """
        read = 0
        for first, size in prepared.joins:
            joined = set().union(*prepared.line_tokens[first : first + size])
            for k in range(first, first + size - 1):
                seam = prepared.lowered_lines[k][-60:] + prepared.lowered_lines[k + 1][:60]
                joined.update(tokens(seam))
                joined |= number_tokens(seam)
            counts = Counter(pid for token in joined for pid in self._postings.get(token, ()))
            sequences: _Sequences | None = None
            for phrase_id, hits in counts.items():
                phrase = self._phrases[phrase_id]
                if hits < phrase.size:
                    continue
                evidence = result.get(phrase.slug)
                if evidence is not None and (
                    evidence.near_miss >= 1.0 if phrase.near_miss else evidence.symptom >= 1.0
                ):
                    continue  # already whole on one line
                if sequences is None:
                    if read == JOINS_READ:
                        return
                    read += 1
                    sequences = _sequences_of(_joined(prepared.lowered_lines, first, size))
                # Every phrase keeps its order here, however long: two messages on two
                # lines hold many words of a third between them, seldom in its order.
                order = phrase.whole_order
                if (order is not None and not _in_order(order, sequences)) or (
                    phrase.repeated and not _repeats_hold(phrase.repeated, sequences)
                ):
                    continue
                if evidence is None:
                    evidence = result[phrase.slug] = CauseEvidence(phrase.slug)
                if phrase.near_miss:
                    evidence.near_miss = 1.0
                else:
                    evidence.symptom = 1.0
                    evidence.symptom_text = phrase.text
                    evidence.symptom_line = first

    def _invert(
        self, docs: dict[str, Counter], lengths: dict[str, int], average: float, idf: dict
    ) -> dict[str, list[tuple[str, float]]]:
        """token -> [(slug, the token's BM25 term: idf x term weight)] over one document set;
        a token without idf is left out (it adds nothing)."""
        inverted: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for slug in self.slugs:
            norm = self.K1 * (1 - self.B + self.B * lengths[slug] / average)
            for token, tf in docs[slug].items():
                weight = idf.get(token)
                if weight:
                    inverted[token].append((slug, weight * (tf * (self.K1 + 1) / (tf + norm))))
        return dict(inverted)

    def _bm25(
        self,
        query: set[str],
        inverted: dict[str, list[tuple[str, float]]],
        damped: Collection[str] = frozenset(),
    ) -> dict[str, float]:
        """The causes that hold a word of ``query`` and their scores (any other scores 0.0);
        a word of ``damped`` counts ``WEAK`` times its weight."""
        scores: dict[str, float] = {}
        get = scores.get
        for token in query:
            postings = inverted.get(token)
            if postings is None:
                continue
            # 0.0 + x is x: the same sums, in the same order, as from a table of zeros.
            if token in damped:
                for slug, term in postings:
                    scores[slug] = get(slug, 0.0) + term * self.WEAK
                continue
            for slug, term in postings:
                scores[slug] = get(slug, 0.0) + term
        return scores

    def best_line(self, prepared: PreparedText, slug: str) -> tuple[int, list[str]]:
        """The line that holds most of ``slug``'s distinctive words, and those words."""
        best, best_score, best_words = -1, 0.0, []
        for index, line_tokens in enumerate(prepared.line_tokens):
            words = [t for t in line_tokens if self.doc_has(slug, t) and self.idf(t) > 0.3]
            score = sum(self.idf(t) for t in words)
            if score > best_score:
                best, best_score, best_words = index, score, words
        return best, sorted(best_words)


# A text of fewer distinct words than this (a search-box query, one sentence) is not expected
# to name its setting: only a longer description that names none of a cause's context words
# counts against the cause.
CONTEXT_WORDS = 16
SHORT_PHRASE = 4  # distinct words: a phrase this short can be met by chance in a long line
CLOSE = 2  # neighbouring words of a message may be this many tokens apart in a line
# The most the words of a phrase whose order is checked (two to four words, _phrase_order) count
# when some are missing: below the 0.6 a symptom needs.
SHORT_PARTIAL = 0.5
OUT_OF_ORDER = 0.99  # a short phrase's words all in a line, not in its order: not exact (0.999)


def _phrase_order(
    text: str, kept: set[str], longest: int = SHORT_PHRASE
) -> tuple[tuple[str, bool], ...] | None:
    """The order of a short phrase's kept words in the whole message, each with whether it
    directly follows the previous kept word there; None for a phrase of more than
    ``longest`` words."""
    words = [t for t in kept if not t.isdigit()]
    if not words or len(kept) > longest:
        return None
    lowered = reading(text)
    sequence = tokens(normalize(lowered) or lowered)
    first = {}
    for position, token in enumerate(sequence):
        if token in kept:
            first.setdefault(token, position)
    placed = sorted((position, token) for token, position in first.items())
    if len(placed) < 2:
        return None
    order = [(placed[0][1], False)]
    for (before, _), (position, token) in zip(placed, placed[1:], strict=False):
        order.append((token, position - before == 1))
    return tuple(order)


# A line's token sequences, each with its token counts and each token's positions in it
# (built once per sequence, however many phrases are checked against it).
_Sequences = list[tuple[Counter, dict[str, list[int]]]]


def _sequences_of(texts: Iterable[str]) -> _Sequences:
    result = []
    for text in texts:
        sequence = tokens(text)
        result.append((Counter(sequence), _positions(sequence)))
    return result


def _positions(sequence: Sequence[str]) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = defaultdict(list)
    for position, token in enumerate(sequence):
        positions[token].append(position)
    return positions


def _line_sequences(prepared: PreparedText, line: int, cache: dict[int, _Sequences]) -> _Sequences:
    """The line's two token sequences (normalized, as written; one when they are the same)
    with their token counts, made once per line however many phrases the line covers."""
    sequences = cache.get(line)
    if sequences is None:
        texts = dict.fromkeys((prepared.normalized[line], prepared.lowered_lines[line]))
        sequences = cache[line] = _sequences_of(texts)
    return sequences


def _in_order(order: tuple[tuple[str, bool], ...], sequences: _Sequences) -> bool:
    """Whether one of the line's token sequences holds the phrase's words in order,
    neighbours of the message close together."""
    return any(_sequence_holds(order, positions) for _counts, positions in sequences)


def _repeats_hold(repeated: tuple[tuple[str, int], ...], sequences: _Sequences) -> bool:
    """Whether one of the line's token sequences holds each repeated word of a message as
    often as the message does (its first "pod" is the pod, its second the resource)."""
    return any(
        all(counts[token] >= times for token, times in repeated) for counts, _positions in sequences
    )


def _sequence_holds(order: tuple[tuple[str, bool], ...], positions: dict[str, list[int]]) -> bool:
    """Each start is tried once and each step looks forward once (a bisection): linear in
    the line. ``positions``: each token's positions in the line's sequence."""
    for start in positions.get(order[0][0], ()):
        at = start
        for token, close in order[1:]:
            following = positions.get(token, ())
            index = bisect.bisect_right(following, at)
            if index == len(following) or (close and following[index] - at > CLOSE):
                break
            at = following[index]
        else:
            return True
    return False


def _shares(
    scores: dict[str, float], neighbours: frozenset[str] = frozenset()
) -> dict[str, tuple[float, float, float]]:
    """slug -> (score, score / best, margin of the best over the second, for the best only).

    An article is measured against every cause, neighbours included: a neighbour that
    explains the text better is what keeps an article from being named. A neighbour is
    measured against the articles only: two neighbours that both explain the text (a mesh
    sidecar and a reverse proxy, for a lost client address) agree that it is not ours, and
    must not dilute each other's lead over the articles.

    A cause left out of ``scores`` scores 0.0 (scores are never negative): only the two
    best matter, and the missing zeros are the padding's.
    """

    def best_two(values: list[float]) -> tuple[float, float]:
        ordered = sorted(values, reverse=True)[:2] + [0.0, 0.0]
        return ordered[0], ordered[1]

    best, second = best_two(list(scores.values()))
    # A neighbour's best two among the articles and itself: among the articles' best two
    # and itself (the same values sorted() would give, ties included).
    first, runner_up = best_two([score for slug, score in scores.items() if slug not in neighbours])
    result = {}
    for slug, score in scores.items():
        if slug not in neighbours:
            top, runner = best, second
        elif score > first:
            top, runner = score, first
        elif score > runner_up:
            top, runner = first, score
        else:
            top, runner = first, runner_up
        result[slug] = (
            score,
            score / top if top > 0 else 0.0,
            (top - runner) / top if top > 0 and score == top else 0.0,
        )
    return result


def _words_found(
    text: str,
    terms: Sequence[str],
    positions: dict[str, int] | None = None,
    *,
    missing: int | None = None,
) -> list[str]:
    """The words of ``text`` that the terms found, as written there (a prefix term gives the
    whole word: ``truncat*`` -> ``truncated``); a word inside a longer one found is dropped.

    ``positions`` caches ``find_term`` per term; with ``missing=-1`` a term absent from it is
    known not to occur (``_TermKeys`` ruled it out) and is not looked for."""
    found: list[str] = []
    for term in terms:
        position = positions.get(term, missing) if positions is not None else None
        if position is None:
            position = find_term(text, term)
            if positions is not None:
                positions[term] = position
        if position == -1:
            continue
        end = position + len(term.rstrip("*"))
        if term.endswith("*"):
            while end < len(text) and _is_word_char(text[end]) and end - position < 60:
                end += 1
        found.append(text[position:end])
    unique = list(dict.fromkeys(found))
    return [w for w in unique if not any(w != other and w in other for other in unique)]


def matched_terms(text: str, terms: Sequence[str]) -> list[str]:
    """The terms of ``terms`` that occur in ``text`` (see ``find_term``)."""
    return [t.rstrip("*") for t in terms if find_term(text, t) != -1]
