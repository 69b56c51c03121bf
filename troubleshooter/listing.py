"""The manifest as the analyze page shows it: highlighted lines with findings pinned under them.

Presentation only: it takes the analyzer's `Report` and builds what the template iterates over.
Every piece of manifest text is escaped here; the result holds only our own markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from troubleshooter.analyzer import (
    Finding,
    ManifestRejected,
    Report,
    check_docs,
    messages,
    notices,
    registry,
    suppress,
)


def _css_class(token_type, standard_types: dict) -> str:
    """Pygments' short CSS class for a token type (as in static/css/pygments.css)."""
    while token_type not in standard_types:
        token_type = token_type.parent
    return standard_types[token_type]


def highlight_lines(lines: list[str]) -> list[SafeString]:
    """Highlight YAML as a whole (block scalars need context) and cut it back into lines.

    Every piece of text is escaped here; the result holds only our own <span class> tags.
    Pygments is imported here, when a manifest is shown: a worker that serves only searches
    and the API is spared its modules.
    """
    from pygments import lex
    from pygments.lexers import YamlLexer
    from pygments.token import STANDARD_TYPES

    lexer = YamlLexer(stripnl=False, ensurenl=False, stripall=False)
    out: list[list[str]] = [[]]
    for token_type, value in lex("\n".join(lines), lexer):
        css = _css_class(token_type, STANDARD_TYPES)
        for index, piece in enumerate(value.split("\n")):
            if index:
                out.append([])
            if not piece:
                continue
            escaped = html.escape(piece, quote=False)
            out[-1].append(f'<span class="{css}">{escaped}</span>' if css else escaped)
    # The lexer never drops text, but stay aligned with the report's lines whatever happens.
    out.extend([] for _ in range(len(lines) - len(out)))
    return [mark_safe("".join(parts)) for parts in out[: len(lines)]]


# Up to these sizes the whole manifest is shown. Past them, only the lines around findings
# and errors are, within the same caps: highlighting and rendering cost about 0.35 ms a line
# (measured: 64 000 lines took 8 s to highlight and 14 s to render), one 2 MB line of JSON
# became 23 MB of HTML in 15 s, and a page of tens of megabytes helps nobody.
MAX_LISTING_LINES = 3_000
MAX_LISTING_CHARS = 400_000
MAX_LINE_CHARS = 1_000  # longer lines are cut on screen; the analysis sees them whole
CONTEXT_LINES = 3


SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
_BACKTICKS = re.compile(r"`([^`\n]{1,300})`")


@dataclass
class ShownFinding:
    """A finding as the page shows it: its number (for element ids) and its links.

    `fix_first_line` is set when the same object already showed the same fix on an earlier
    line: the page then links there instead of repeating the block.
    """

    number: int
    finding: Finding
    article_url: str
    in_listing: bool = False
    fix_first_line: int | None = None
    title: check_docs.CheckTitle | None = None
    localized: messages.ShownMessage | None = None

    @property
    def fix_id(self) -> str:
        return f"fix-{self.number}"

    @property
    def severity_key(self) -> str:
        """What the severity filter goes by: the severity, or "suppressed"."""
        return "suppressed" if self.finding.suppressed else self.finding.severity

    @property
    def check_title(self) -> check_docs.CheckTitle:
        """The check's title in the page's language (English where it has no translation)."""
        return self.title or title_of_check(self.finding.check)

    @property
    def message_lang(self) -> str:
        """The language the message is shown in: the page's when translated, else en."""
        return self.localized.lang if self.localized is not None else "en"

    @property
    def message_html(self) -> SafeString:
        """The message, escaped, with `backticks` as code and without the object's own name."""
        if self.localized is not None and self.localized.lang != "en":
            return _code_html(self.localized.text)
        return message_html(self.finding)


@dataclass
class ObjectGroup:
    """The findings about one object, worst first: what the report's summary lists."""

    object_label: str
    findings: list[ShownFinding]

    @property
    def worst(self) -> str:
        return self.findings[0].severity_key if self.findings else "info"


@dataclass(frozen=True)
class ShownError:
    """A parse error with a line that exists in the listing (never past the last line)."""

    line: int
    column: int | None
    message: str
    past_end: bool = False
    message_lang: str = "en"


def title_of_check(check_id: str) -> check_docs.CheckTitle:
    """A check's title in the active language; its id, as English, for an unknown check."""
    try:
        module = registry.get(check_id)
    except registry.UnknownCheck:
        return check_docs.CheckTitle(text=check_id, lang="en")
    return check_docs.check_title(module, check_docs.language_for(get_language()))


def _object_label(finding: Finding) -> str:
    ref = finding.object
    label = f"{ref.kind}/{ref.name or '?'}"
    return f"{label} in {ref.namespace}" if ref.namespace else label


def message_html(finding: Finding) -> SafeString:
    """The message escaped, `code` rendered, without a leading "Kind name" the header shows."""
    text = finding.message
    ref = finding.object
    if ref.name:
        for prefix in (f"{ref.kind} {ref.name} ", f"{ref.kind}/{ref.name} "):
            if text.startswith(prefix):
                rest = text[len(prefix) :]
                text = rest[:1].upper() + rest[1:] if not rest.startswith("(") else rest
                break
    return _code_html(text)


def _code_html(text: str) -> SafeString:
    """Text escaped, with `backticks` rendered as code."""
    escaped = html.escape(text, quote=False)
    return mark_safe(_BACKTICKS.sub(r"<code>\1</code>", escaped))


def _message_templates(check_id: str, lang: str) -> messages.MessagesTranslation | None:
    """A check's message templates in `lang`, None for English or an unknown check."""
    try:
        module = registry.get(check_id)
    except registry.UnknownCheck:
        return None
    return messages.load_messages(module, lang)


def localized_message(finding: Finding, lang: str) -> messages.ShownMessage:
    """A finding's message in `lang` (ja or zh) where its check translated it, else English."""
    try:
        module = registry.get(finding.check)
    except registry.UnknownCheck:
        module = None
    return messages.localized_message(
        module,
        key=finding.message_key,
        args=finding.message_args,
        english=finding.message,
        lang=lang,
    )


def _finding_order(shown: ShownFinding) -> tuple:
    finding = shown.finding
    return (finding.suppressed, SEVERITY_RANK.get(finding.severity, 3), finding.line, shown.number)


def group_by_object(findings: list[ShownFinding]) -> list[ObjectGroup]:
    """Findings grouped by object; objects with the worst findings first, then by position."""
    groups: dict[str, list[ShownFinding]] = {}
    for shown in findings:
        groups.setdefault(_object_label(shown.finding), []).append(shown)
    result = [
        ObjectGroup(object_label=label, findings=sorted(items, key=_finding_order))
        for label, items in groups.items()
    ]
    result.sort(key=lambda group: _finding_order(group.findings[0]))
    return result


def shown_errors(report: Report) -> list[ShownError]:
    """Parse errors with their line clamped to the manifest (a YAML error at EOF says line n+1)."""
    lines = report.lines
    total = len(lines) - 1 if lines and not lines[-1] else len(lines)
    total = max(total, 1)
    lang = check_docs.language_for(get_language())
    notes = messages.load_notes("suppress", suppress.NOTES, lang)
    parse_notes = messages.load_notes("parse", notices.NOTES, lang)
    shown = []
    for error in report.errors:
        line = error.line or 1
        said = messages.translated_note(
            lambda key: notes if key in suppress.NOTES else parse_notes,
            key=error.message_key,
            args=error.message_args,
            english=error.message,
        )
        shown.append(
            ShownError(
                line=min(max(line, 1), total),
                column=error.column if line <= total else None,
                message=said.text,
                past_end=line > total,
                message_lang=said.lang,
            )
        )
    return shown


def localized_rejection(rejected: ManifestRejected) -> messages.ShownMessage:
    """Why the whole input was refused (too large, binary...), in the page's language."""
    return localized_notice(
        key=rejected.message_key, args=rejected.message_args, english=rejected.message
    )


def localized_notice(
    *, key: str | None, args: Mapping[str, str], english: str
) -> messages.ShownMessage:
    """A notice about the input (notices.NOTES) in the page's language, else its English."""
    lang = check_docs.language_for(get_language())
    return messages.translated_message(
        messages.load_notes("parse", notices.NOTES, lang), key=key, args=args, english=english
    )


@dataclass
class ListingLine:
    """One manifest line with the findings and parse errors pinned under it."""

    number: int
    code: SafeString
    hidden_before: int = 0
    cut: int = 0
    findings: list[ShownFinding] = field(default_factory=list)
    errors: list[ShownError] = field(default_factory=list)

    @property
    def pinned(self) -> bool:
        """Whether anything is pinned under this line (compact mode shows only these)."""
        return bool(self.findings or self.errors)


@dataclass
class Listing:
    """The lines shown, and how many lines of the manifest are left out after the last."""

    lines: list[ListingLine]
    total: int
    hidden_after: int = 0

    @property
    def partial(self) -> bool:
        return len(self.lines) < self.total


def _article_url(finding: Finding) -> str:
    url = reverse("kb:article_detail", args=[finding.article])
    return f"{url}#{finding.section}" if finding.section else url


def shown_findings(report: Report) -> list[ShownFinding]:
    """The report's findings, numbered in order, with their article links.

    A fix already shown for the same object (same text) is not repeated: later findings point
    to the line where it is.
    """
    # Looked up once per check, not per finding: a report can hold thousands of findings.
    checks = {f.check for f in report.findings}
    titles = {check: title_of_check(check) for check in checks}
    lang = check_docs.language_for(get_language())
    templates = {check: _message_templates(check, lang) for check in checks}
    shown = [
        ShownFinding(
            number=number,
            finding=finding,
            article_url=_article_url(finding),
            title=titles[finding.check],
            localized=messages.translated_message(
                templates[finding.check],
                key=finding.message_key,
                args=finding.message_args,
                english=finding.message,
            ),
        )
        for number, finding in enumerate(report.findings, start=1)
    ]
    first_fix: dict[tuple[str, str], int] = {}
    for item in shown:
        fix = item.finding.fix.strip()
        if not fix:
            continue
        key = (_object_label(item.finding), fix)
        if key in first_fix:
            item.fix_first_line = first_fix[key]
        else:
            first_fix[key] = item.finding.line
    return shown


def _clamp(line: int | None, total: int) -> int:
    return min(max(line or 1, 1), total)


def _lines_to_show(pinned: list[int], widths: list[int]) -> list[int]:
    """Every line of a small manifest; else the lines around pinned ones, within the caps."""
    total = len(widths)
    if total <= MAX_LISTING_LINES and sum(widths) <= MAX_LISTING_CHARS:
        return list(range(1, total + 1))
    wanted: set[int] = set()
    chars = 0
    for line in sorted(set(pinned)):
        window = range(max(line - CONTEXT_LINES, 1), min(line + CONTEXT_LINES, total) + 1)
        new = [number for number in window if number not in wanted]
        more = sum(widths[number - 1] for number in new)
        if len(wanted) + len(new) > MAX_LISTING_LINES or chars + more > MAX_LISTING_CHARS:
            break
        wanted.update(new)
        chars += more
    return sorted(wanted)


def _runs(numbers: list[int]) -> list[list[int]]:
    """Split sorted line numbers into runs of consecutive lines."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return runs


def build_listing(report: Report, findings: list[ShownFinding]) -> Listing:
    """The manifest's lines, highlighted, with findings and errors pinned under their lines."""
    lines = report.lines
    # A trailing newline leaves one empty "line" after the last; do not show it.
    total = len(lines) - 1 if lines and not lines[-1] else len(lines)
    if not total:
        return Listing(lines=[], total=0)
    pinned = [_clamp(shown.finding.line, total) for shown in findings]
    pinned += [_clamp(error.line, total) for error in report.errors]
    widths = [min(len(line), MAX_LINE_CHARS) for line in lines[:total]]
    rows: dict[int, ListingLine] = {}
    previous = 0
    for run in _runs(_lines_to_show(pinned, widths)):
        # Each run is highlighted on its own; for a whole manifest that is one run.
        shown_text = [line[:MAX_LINE_CHARS] for line in lines[run[0] - 1 : run[-1]]]
        codes = highlight_lines(shown_text)
        for number, code in zip(run, codes, strict=True):
            rows[number] = ListingLine(
                number=number,
                code=code,
                hidden_before=number - previous - 1,
                cut=len(lines[number - 1]) - widths[number - 1],
            )
            previous = number
    for shown in findings:
        row = rows.get(_clamp(shown.finding.line, total))
        if row is not None:
            row.findings.append(shown)
            shown.in_listing = True
    for error in shown_errors(report):
        row = rows.get(error.line)
        if row is not None:
            row.errors.append(error)
    for row in rows.values():
        row.findings.sort(key=_finding_order)
    return Listing(lines=list(rows.values()), total=total, hidden_after=total - previous)
