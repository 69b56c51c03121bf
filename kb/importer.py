"""Import Markdown and plain-text documents from files into Article rows.

Files are found recursively under the given folders (`.md`, `.markdown`, `.txt`). A file
named README.md met while walking a folder is skipped: our folders' READMEs describe the
folder, they are not articles. A README.md given by name is imported like any file.

The slug comes from front matter or the file name (or, with slug_from="title", from the
title's ASCII words), so editing a title never changes a URL unless asked; a slug that does
change is kept in SlugHistory and its URL redirects. Files are recognised by the sha256 of
their bytes: unchanged files are skipped, changed ones re-rendered. Nothing is deleted unless
prune=True, and then only within the folders given, or unless a file says `published: false`,
which takes its article down. An article edited in the admin since its last import is not
overwritten (a conflict) unless force=True. Each document is saved in its own savepoint (many
share one transaction, see _Batch); a bad file is reported and the others still import. Large
imports render in worker processes (kb/import_pool.py) and save here, in file order.

A translation (`<slug>.<lang>.md` with `translation_of: <slug>`) is its own row at its
original's slug, linked to it, and saved after every original of the run.

Only what lies inside a folder given is read: a symbolic link met while walking is followed
only when it resolves inside that folder (git carries links: `articles/passwd.txt ->
/etc/passwd` is refused, not published). Files are opened without following a link at the
last step, their size is taken with fstat before a byte is read, and anything but a regular
file (a FIFO, a device) is refused. Names are shown with control characters escaped.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import html
import logging
import multiprocessing
import os
import re
import stat
import time
import unicodedata
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, transaction

from kb import import_pool
from kb.frontmatter import (
    SLUG_MAX,
    SLUG_RE,
    FrontMatter,
    FrontMatterError,
    parse_front_matter,
    split_front_matter,
)
from kb.models import Article, SlugHistory, body_fingerprint
from kb.rendering import looks_like_markdown, render_document
from kb.textlang import detect_language
from kb.writeups import extract_symptoms, infer_tags, slug_from_title, title_from_topic_sentence

DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt")
MARKDOWN_SUFFIXES = (".md", ".markdown")
SKIPPED_IN_WALK = frozenset({"readme.md"})
SUMMARY_CHARS = 200
TITLE_CHARS = 200
# Bounds that keep one import run finite whatever a folder holds. Python-Markdown is
# quadratic in the lines of one block (measured: 4 000 lines of `---` render in 2.2 s,
# 8 000 in 9.7 s, 100 000 did not finish in 5 minutes); our longest document has 402 lines.
MAX_DOCUMENT_BYTES = 1_000_000
MAX_DOCUMENT_LINES = 5_000
# Where a document's slug comes from (import_articles --slug-from). Front matter `slug:` wins
# for "front-matter" and "title"; "stem" always takes the file name.
SLUG_SOURCES = ("front-matter", "title", "stem")

# Saving: documents share one transaction (each in its own savepoint, so a refused document
# still fails alone) until the batch holds this many or has been open this long. A commit
# per document (an fsync on SQLite) was 10 % of an import; the time bound keeps the
# database's write lock from being held for long while documents are rendered.
BATCH_DOCUMENTS = 500
BATCH_SECONDS = 1.0
# Rendering in worker processes pays from this many documents on (starting a worker costs
# about a second: an interpreter, Django, Markdown and Pygments).
PARALLEL_MIN_DOCUMENTS = 64
_CHUNK = 16  # documents per task sent to a worker

Progress = Callable[[Path, str], None]

logger = logging.getLogger(__name__)


class DocumentError(ValueError):
    """A file that cannot be imported; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Problem:
    """A file that failed, was skipped or is in conflict, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{display_name(self.path)}: {display_name(self.reason)}"


@dataclass
class ImportReport:
    """What one import run did, file by file."""

    created: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    conflicts: list[Problem] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)  # slugs
    unpublished: list[str] = field(default_factory=list)  # slugs taken down by published: false
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old slug, new slug)

    def summary_line(self) -> str:
        """One line with every count, as the command prints it."""
        line = (
            f"created {len(self.created)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, failed {len(self.failed)}, "
            f"conflicts {len(self.conflicts)}, pruned {len(self.pruned)}"
        )
        if self.skipped:
            line += f", skipped {len(self.skipped)}"
        if self.unpublished:
            line += f", unpublished {len(self.unpublished)}"
        if self.renamed:
            line += f", renamed {len(self.renamed)}"
        return line


@dataclass(frozen=True)
class Document:
    """A file read, validated and rendered, ready to be saved."""

    slug: str
    title: str
    lang: str
    kind: str
    body: str
    html: str
    toc: list[dict]
    summary: str
    tags: list[str]
    keywords: list[str]
    symptoms: list[str]
    sources: list[str]
    published: object  # datetime.date | None
    draft: bool
    content_hash: str
    body_sha256: str = ""
    translation_of: str | None = None
    translated_from: str = ""
    original_reports: list[dict] = field(default_factory=list)
    front_matter: str = ""  # the YAML between the fences, as written


# --- Reading one file -------------------------------------------------------------------------


def decode_document(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is refused."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in data:
        raise DocumentError("binary file (contains NUL bytes), not a text document")
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"not valid {encoding.upper()} (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from exc
    if "\x00" in text:
        raise DocumentError("binary file (contains NUL characters), not a text document")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def slug_from_stem(stem: str) -> str:
    """The file name as a slug: ASCII lower case joined by '-'; a short hash if nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:SLUG_MAX].rstrip("-")
    if not slug:
        slug = "doc-" + hashlib.sha256(stem.encode()).hexdigest()[:10]
    return slug


def document_kind(*, suffix: str, text: str) -> str:
    """Markdown for .md/.markdown and Markdown-looking text; plain for other scraped text."""
    if suffix.lower() in MARKDOWN_SUFFIXES or looks_like_markdown(text):
        return "markdown"
    return "plain"


_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_NUMBERED_SECTION = re.compile(r"^\d{1,2}(\.\d{1,2}){0,3}\.?\s+\S")
_DATE_LINE = re.compile(r"^\d{4}[-/年.]\d{1,2}[-/月.]\d{1,2}")
_CATEGORY_WORD = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def _strip_inline_markdown(line: str) -> str:
    line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"(\*\*|__|\*|`)", "", line)
    return line.strip()


# A line cut mid-sentence by the scrape ends in a particle, a comma or an opening bracket
# ("Azure Kubernetes Service (以降 AKS ) は"); a list item is not a title either.
_UNFINISHED = re.compile(r"(?:[はがをにでともの、，,:：(（]|\bthe|\band|\bof)$")
_LIST_ITEM = re.compile(r"^[-*+•・]\s")


def _is_meaningful_plain_line(line: str, counts: Counter) -> bool:
    if not re.search(r"\w", line):
        return False  # an emoji, a rule, punctuation
    if _CATEGORY_WORD.match(line):
        return False  # a category word the blog put above the title ("kubernetes")
    if _UNFINISHED.search(line) or _LIST_ITEM.match(line):
        return False  # a fragment or a bullet: the scrape lost the real title
    return not (_DATE_LINE.match(line) or _NUMBERED_SECTION.match(line))


def pick_title(*, body: str, kind: str, fallback: str) -> str:
    """The first heading, else the first meaningful line; never a category word or a date."""
    lines = [line.rstrip() for line in body.split("\n")]
    title = ""
    if kind == "markdown":
        in_fence = False
        meaningful: list[tuple[int, str]] = []
        h1 = ""
        for i, line in enumerate(lines):
            if _FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence or not line.strip():
                continue
            atx = _ATX.match(line)
            if atx and len(atx.group(1)) == 1 and not h1:
                h1 = atx.group(2)
            meaningful.append((i, line))
        if meaningful:
            i, first = meaningful[0]
            atx = _ATX.match(first)
            following = lines[i + 1] if i + 1 < len(lines) else ""
            if atx:
                title = atx.group(2)
            elif _SETEXT.match(following) and following.strip()[0] == "=":
                title = first
            elif h1:
                title = h1
            else:
                title = next(
                    (ln for _, ln in meaningful if re.search(r"\w", ln) and not _ATX.match(ln)),
                    "",
                )
        title = _strip_inline_markdown(title)
    else:
        stripped = [line.strip() for line in lines if line.strip()]
        counts = Counter(stripped)
        title = next((ln for ln in stripped if _is_meaningful_plain_line(ln, counts)), "")
        if not title or _NUMBERED_SECTION.match(stripped[0] if stripped else ""):
            # The scrape lost the title and the text opens with "0. はじめに": the topic
            # sentence ("今回、…を記事にしました") names the subject.
            topic = next((s for ln in stripped[:20] if (s := title_from_topic_sentence(ln))), None)
            title = topic or title
        # A topic sentence standing in for a lost title keeps no full stop.
        title = title.rstrip("。.")
    title = " ".join(title.split()) or fallback
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rstrip() + "…"
    return title


_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def make_summary(*, rendered_html: str, title: str) -> str:
    """About the first 200 characters of the first real paragraph of the rendered text."""
    for match in _PARAGRAPH.finditer(rendered_html):
        text = " ".join(html.unescape(_TAG.sub("", match.group(1))).split())
        if len(text) < 20 or text == title:
            continue
        if len(text) <= SUMMARY_CHARS:
            return text
        cut = text[:SUMMARY_CHARS]
        boundary = max(cut.rfind(" "), cut.rfind("。"), cut.rfind("，"), cut.rfind("、"))
        if boundary > SUMMARY_CHARS // 2:
            cut = cut[: boundary + 1]
        return cut.rstrip() + "…"
    return ""


def _without_title_line(body: str, title: str) -> str:
    """The body without the line the title was taken from, so the page shows it once."""
    lines = body.split("\n")
    seen = 0
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        seen += 1
        text = _strip_inline_markdown(re.sub(r"^\s{0,3}#{1,6}\s+", "", line)).rstrip("。.")
        if " ".join(text.split()) == title:
            return "\n".join(lines[:i] + lines[i + 1 :])
        if seen >= 8:
            break
    return body


def _slug_for(meta: FrontMatter, *, path: Path, title: str, slug_from: str) -> str:
    if meta.translation_of:
        return meta.translation_of  # a translation lives at its original's URL
    if slug_from == "stem":
        return slug_from_stem(path.stem)
    if meta.slug:
        return meta.slug
    if slug_from == "title":
        return slug_from_title(title, fallback=path.stem)
    return slug_from_stem(path.stem)


def read_file_bytes(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_DOCUMENT_BYTES; DocumentError otherwise.

    The last path component is opened without following a link (the walk already resolved
    and checked links), non-blocking so that a FIFO cannot hang the run, and the size comes
    from fstat before anything is read: a sparse 4 GB file costs nothing.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DocumentError("a symbolic link, not a file: not followed") from exc
        raise DocumentError(f"cannot read the file: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError("not a regular file (a FIFO, a device or a socket)")
        if info.st_size > MAX_DOCUMENT_BYTES:
            raise DocumentError(
                f"the file is {info.st_size:,} bytes; the limit is {MAX_DOCUMENT_BYTES:,}: split it"
            )
        os.set_blocking(handle.fileno(), True)
        data = handle.read(MAX_DOCUMENT_BYTES + 1)  # a file growing meanwhile is still capped
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"the file grew past the limit of {MAX_DOCUMENT_BYTES:,} bytes")
    return data


def read_document(path: Path, *, slug_from: str = "front-matter") -> Document:
    """Read, validate and render one file; raises DocumentError with the reason."""
    if slug_from not in SLUG_SOURCES:
        raise ValueError(f"slug_from must be one of {SLUG_SOURCES}, not {slug_from!r}")
    data = read_file_bytes(path)
    text = decode_document(data)
    lines = text.count("\n") + 1
    if lines > MAX_DOCUMENT_LINES:
        raise DocumentError(
            f"the document has {lines:,} lines; the limit is {MAX_DOCUMENT_LINES:,}: split it"
        )
    if not text.strip():
        raise DocumentError("the document is empty")
    try:
        yaml_text, body, _ = split_front_matter(text)
        meta = parse_front_matter(yaml_text) if yaml_text is not None else FrontMatter()
    except FrontMatterError as exc:
        where = f"line {exc.line}: " if exc.line else ""
        raise DocumentError(f"front matter: {where}{exc}") from exc
    except RecursionError:
        raise DocumentError("front matter: nested too deeply to read") from None
    if not body.strip():
        raise DocumentError("the document has front matter but no text")
    if meta.translation_of and meta.lang not in ("ja", "zh"):
        raise DocumentError("a translation (translation_of) needs lang: ja or lang: zh")

    kind = "markdown" if yaml_text is not None else document_kind(suffix=path.suffix, text=body)
    title = meta.title or pick_title(body=body, kind=kind, fallback=path.stem)
    slug = _slug_for(meta, path=path, title=title, slug_from=slug_from)
    if not SLUG_RE.match(slug) or len(slug) > SLUG_MAX:  # a stem can only yield valid slugs
        raise DocumentError(f"invalid slug {slug!r}")
    shown = body if meta.title else _without_title_line(body, title)
    try:
        rendered = render_document(text=shown, kind=kind)
    except RecursionError:
        # Python-Markdown recurses once per level of nested lists or quotes.
        raise DocumentError("nested too deeply to render (lists or quotes)") from None
    translation = meta.translation_of is not None
    return Document(
        slug=slug,
        title=title,
        lang=meta.lang or detect_language(body),
        kind=kind,
        body=body,
        html=rendered.html,
        toc=rendered.toc,
        summary=meta.summary or make_summary(rendered_html=rendered.html, title=title),
        # A write-up without tags or symptoms gets them from its text; a translation has
        # none of its own (they live once, in the original).
        tags=meta.tags or ([] if translation else infer_tags(body)),
        keywords=meta.keywords,
        symptoms=meta.symptoms or ([] if translation else extract_symptoms(body)),
        sources=meta.sources,
        published=meta.published,
        draft=meta.draft,
        content_hash=hashlib.sha256(data).hexdigest(),
        body_sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        translation_of=meta.translation_of,
        translated_from=meta.translated_from or "",
        original_reports=meta.original_reports,
        front_matter=yaml_text or "",
    )


# --- Finding files ----------------------------------------------------------------------------


def display_name(path: Path | str) -> str:
    """A file name as it may be printed: control characters (ESC, BEL, CR...) escaped."""
    return "".join(
        char if char.isprintable() or char == " " else char.encode("unicode_escape").decode()
        for char in str(path)
    )


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _walk(root: Path, report: ImportReport) -> list[Path]:
    """Documents under `root`; links are followed only to files inside it (module docstring).

    Names are handled as strings and the directory entries' types come from `os.scandir`
    (no stat per file): an unchanged re-import of 10 011 files spent 3.4 of its 7.0 s here,
    a third of it in comparing Path objects to sort them. The order is Path's (by
    components), so files are imported, and rows numbered, in the same order as before.
    """
    found: set[str] = set()
    folders = [str(root)]
    while folders:
        folder = folders.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue  # as os.walk: an unreadable folder is skipped
        subfolders = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()  # follows links, as os.walk sorts names
            except OSError:
                is_dir = False
            if is_dir:
                # Hidden folders (.git, editor backups) are skipped; links to folders are not
                # walked.
                if not name.startswith(".") and not entry.is_symlink():
                    subfolders.append(entry.path)
                continue
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in DOCUMENT_SUFFIXES:
                continue
            if name.lower() in SKIPPED_IN_WALK:
                continue
            path = entry.path
            if entry.is_symlink():
                link = Path(path)
                target = link.resolve()
                if not _inside(target, root):
                    report.failed.append(
                        Problem(link, "a symbolic link to outside the folder: not imported")
                    )
                    continue
                if not target.is_file():
                    continue
                # A link inside the folder is imported under its own name, read from its target.
                if target.suffix.lower() in DOCUMENT_SUFFIXES:
                    path = str(target)
                elif link.is_symlink():
                    report.failed.append(Problem(link, "a symbolic link to a non-document"))
                    continue
            found.add(path)
        folders.extend(reversed(subfolders))  # walked in name order, as os.walk does
    return [Path(path) for path in sorted(found, key=lambda path: path.split("/"))]


# --- Saving -----------------------------------------------------------------------------------


def _apply(
    article: Article,
    doc: Document,
    *,
    path: Path,
    root: Path,
    original: Article | None,
    save: bool = True,
) -> None:
    article.slug = doc.slug
    article.title = doc.title
    article.lang = doc.lang
    article.markdown = doc.body
    article.html = doc.html
    article.toc = doc.toc
    article.summary = doc.summary
    article.tags = doc.tags
    article.keywords = doc.keywords
    article.symptoms = doc.symptoms
    article.sources = doc.sources
    article.published = doc.published
    article.source_path = str(path)
    article.source_root = str(root)
    article.content_hash = doc.content_hash
    article.body_sha256 = doc.body_sha256
    article.translation_of = original
    article.translated_from = doc.translated_from
    article.original_reports = doc.original_reports
    article.front_matter = doc.front_matter
    article.imported_fingerprint = body_fingerprint(title=doc.title, markdown=doc.body)
    if save:
        article.save()


class _KnownRows:
    """Which slugs, (slug, language) pairs and source paths rows have: one query at the start
    of a run, kept up to date with what the run saves.

    A lookup whose key is not here cannot find a row, so it is not sent: a first import of
    10 000 files made 20 000 queries that found nothing, one of them a scan of the whole
    table (source_path has no index). The sets only grow during a run (a deleted row stays),
    so a key present means "ask the database", exactly the query that was always sent.
    """

    def __init__(self) -> None:
        self.originals: set[str] = set()
        self.slug_langs: set[tuple[str, str]] = set()
        self.sources: set[tuple[str, bool]] = set()
        rows = Article.objects.values_list("slug", "lang", "translation_of_id", "source_path")
        for slug, lang, original, source in rows.iterator(chunk_size=2000):
            self.add(slug=slug, lang=lang, original=original is None, source=source)
        self.old_slugs = set(SlugHistory.objects.values_list("old_slug", flat=True))

    def add(self, *, slug: str, lang: str, original: bool, source: str) -> None:
        if original:
            self.originals.add(slug)
        self.slug_langs.add((slug, lang))
        self.sources.add((source, original))


def _existing(doc: Document, path: Path, known: _KnownRows) -> Article | None:
    """The row this document updates: same slug and language, else the one from this file."""
    rows = Article.objects.select_for_update()
    original = doc.translation_of is None
    if original and doc.slug in known.originals:
        found = rows.filter(slug=doc.slug, translation_of__isnull=True).first()
    elif not original and (doc.slug, doc.lang) in known.slug_langs:
        found = rows.filter(slug=doc.slug, lang=doc.lang).first()
    else:
        found = None
    if found is not None:
        return found
    # A file whose slug changed (a new --slug-from, an edited `slug:`): the same row, renamed.
    if (str(path), original) not in known.sources:
        return None
    return rows.filter(source_path=str(path), translation_of__isnull=original).first()


def _rename(article: Article, new_slug: str, report: ImportReport, known: _KnownRows) -> None:
    """Record the old slug, so that its URL keeps working as a redirect."""
    old = article.slug
    SlugHistory.objects.filter(old_slug=new_slug).delete()  # the slug is live again
    if not article.is_translation:
        SlugHistory.objects.update_or_create(old_slug=old, defaults={"article": article})
        known.old_slugs.add(old)
        report.renamed.append((old, new_slug))


def _import_one(
    path: Path,
    root: Path,
    doc: Document,
    *,
    force: bool,
    report: ImportReport,
    known: _KnownRows,
    batch: _Batch,
) -> str:
    """Save one document in its own savepoint (of the batch's transaction); returns the
    status word."""
    with transaction.atomic():
        original = None
        if doc.translation_of is not None:
            original = Article.objects.filter(
                slug=doc.translation_of, translation_of__isnull=True
            ).first()
            if original is None:
                report.failed.append(
                    Problem(path, f"translation_of: no article with slug '{doc.translation_of}'")
                )
                return "failed"
        existing = _existing(doc, path, known)
        if existing is None:
            if doc.slug in known.old_slugs:
                SlugHistory.objects.filter(old_slug=doc.slug).delete()
            article = Article()
            _apply(article, doc, path=path, root=root, original=original, save=False)
            batch.insert(article, path)  # with the batch's other new rows, in one statement
            known.add(slug=doc.slug, lang=doc.lang, original=original is None, source=str(path))
            report.created.append(path)
            return "created"
        moved = existing.source_path and existing.source_path != str(path)
        if moved and Path(existing.source_path).exists():
            report.failed.append(
                Problem(path, f"slug '{doc.slug}' already belongs to {existing.source_path}")
            )
            return "failed"
        renamed = existing.slug != doc.slug
        if (
            not force
            and not moved
            and not renamed
            and existing.content_hash == doc.content_hash
            and existing.translation_of_id == (original.pk if original else None)
        ):
            report.unchanged.append(path)
            return "unchanged"
        if existing.edited_locally and not force:
            report.conflicts.append(
                Problem(path, "edited in the admin since the last import; use --force to overwrite")
            )
            return "conflict"
        if renamed:
            _rename(existing, doc.slug, report, known)
        _apply(existing, doc, path=path, root=root, original=original)
        known.add(slug=doc.slug, lang=doc.lang, original=original is None, source=str(path))
        report.updated.append(path)
        return "updated"


def _unpublish(path: Path, doc: Document, report: ImportReport) -> bool:
    """`published: false` on a file imported before: take its article down (and its
    translations with it). True when something was removed."""
    with transaction.atomic():
        rows = Article.objects.filter(source_path=str(path))
        slugs = list(rows.values_list("slug", flat=True))
        if not slugs:
            return False
        rows.delete()
    report.unpublished.extend(slugs)
    return True


def _prune(
    roots: list[Path],
    seen: dict[str, str | None],
    *,
    force: bool,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    """Delete articles of these roots whose file is gone or now carries another slug."""
    for root in roots:
        for article in Article.objects.filter(source_root=str(root)).order_by("slug"):
            if article.source_path in seen:
                slug_now = seen[article.source_path]
                if slug_now is None or slug_now == article.slug:
                    continue  # still there (or unreadable this time: keep it)
            path = Path(article.source_path)
            if article.edited_locally and not force:
                report.conflicts.append(
                    Problem(path, "file is gone but the article was edited in the admin; kept")
                )
                if progress:
                    progress(path, "conflict")
                continue
            with transaction.atomic():
                article.delete()
            report.pruned.append(article.slug)
            if progress:
                progress(path, "pruned")


def _unchanged_slug(path: Path, known: dict[str, tuple[str, str, str]]) -> tuple[str, str] | None:
    """(slug, translation language or "") of the article imported from exactly these bytes at
    this path, else None.

    Same path and same sha256 as the last import means the same slug and nothing to save
    (what `_import_one` would decide after rendering, without the rendering).
    """
    entry = known.get(str(path))
    if entry is None:
        return None
    try:
        data = read_file_bytes(path)
    except DocumentError:
        return None  # read_document reports it
    return (entry[0], entry[2]) if hashlib.sha256(data).hexdigest() == entry[1] else None


def default_workers() -> int:
    """Worker processes for rendering: one per core, at most four."""
    return max(1, min(os.cpu_count() or 1, 4))


def _read_serially(paths: Sequence[Path], slug_from: str) -> Iterator[Document | DocumentError]:
    for path in paths:
        try:
            yield read_document(path, slug_from=slug_from)
        except DocumentError as exc:
            yield exc


def _read_documents(
    paths: Sequence[Path], *, slug_from: str, workers: int
) -> Iterator[Document | DocumentError]:
    """`read_document` of each path, in order: in `workers` processes when there are enough
    documents to pay for starting them, else here. At most a few chunks per worker are in
    flight, so rendered documents never pile up in memory ahead of the saves. A pool that
    breaks (a worker killed) is logged and the rest are read here."""
    if workers <= 1 or len(paths) < PARALLEL_MIN_DOCUMENTS:
        yield from _read_serially(paths, slug_from)
        return
    chunks = [paths[i : i + _CHUNK] for i in range(0, len(paths), _CHUNK)]
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=import_pool.setup,
        initargs=(os.getpid(),),
    )
    done = 0  # chunks yielded
    try:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.submit(import_pool.read_many, [str(p) for p in chunk], slug_from))
            if len(pending) >= 4 * workers:
                yield from pending.popleft().result()
                done += 1
        while pending:
            yield from pending.popleft().result()
            done += 1
    except BrokenProcessPool:
        logger.warning("import: a rendering worker died; rendering the rest in this process")
        for chunk in chunks[done:]:
            yield from _read_serially(chunk, slug_from)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _Batch:
    """One transaction around many saves, committed every BATCH_DOCUMENTS documents or
    BATCH_SECONDS seconds (see there), and at the end of the run.

    New rows wait and go in with one INSERT (`bulk_create`), in file order (so they get the
    same ids): Django compiling one INSERT per row was half of what remained of saving. If
    the database refuses that statement, the rows are inserted one by one, each in its own
    savepoint, and only those refused fail. Progress is reported when a batch is committed,
    so a refused row is never first announced as created.
    """

    def __init__(self, report: ImportReport, note: Progress) -> None:
        self.report = report
        self.note = note
        self.atomic = None
        self.opened = 0.0
        self.new: list[tuple[Article, Path]] = []
        self.notes: list[tuple[Path, str]] = []

    def enter(self) -> None:
        if self.atomic is None:
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            self.opened = time.monotonic()

    def insert(self, article: Article, path: Path) -> None:
        self.new.append((article, path))

    def done(self, path: Path, status: str) -> None:
        self.notes.append((path, status))
        if len(self.notes) >= BATCH_DOCUMENTS or time.monotonic() - self.opened >= BATCH_SECONDS:
            self.commit()

    def _refused(self, path: Path, exc: Exception) -> None:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        for listed in (self.report.created, self.report.updated):
            if path in listed:
                listed.remove(path)
        self.report.failed.append(Problem(path, f"the database refused it: {first_line}"))
        self.notes = [(p, "failed" if p == path else s) for p, s in self.notes]

    def flush(self) -> None:
        """Insert the waiting new rows (inside the open transaction)."""
        new, self.new = self.new, []
        if not new:
            return
        try:
            with transaction.atomic():
                Article.objects.bulk_create([article for article, _ in new])
            return
        except (DatabaseError, ValueError):
            pass  # find which row it was
        for article, path in new:
            article.pk = None
            try:
                with transaction.atomic():
                    article.save(force_insert=True)
            except (DatabaseError, ValueError) as exc:
                self._refused(path, exc)

    def commit(self) -> None:
        if self.atomic is None:
            return
        try:
            self.flush()
        except BaseException as exc:
            self.abort(exc)
            raise
        atomic, self.atomic = self.atomic, None
        try:
            atomic.__exit__(None, None, None)
        except DatabaseError as exc:
            # The commit itself was refused: nothing of this batch was saved.
            for path, status in self.notes:
                if status in ("created", "updated"):
                    self._refused(path, exc)
        notes, self.notes = self.notes, []
        for path, status in notes:
            self.note(path, status)

    def abort(self, exc: BaseException) -> None:
        self.new = []
        if self.atomic is not None:
            atomic, self.atomic = self.atomic, None
            atomic.__exit__(type(exc), exc, exc.__traceback__)


def import_paths(
    paths: Sequence[Path],
    *,
    prune: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    slug_from: str = "front-matter",
    workers: int | None = None,
) -> ImportReport:
    """Import every document under the given files and folders; see the module docstring.

    Translations (`translation_of` in front matter) are saved after every original of the
    run, so that a translation and its original can be imported together in any order.
    Documents are rendered in `workers` processes (default: one per core) when there are
    many, and saved here in file order, several per transaction (class _Batch): the rows are
    the same as when each was rendered and saved on its own.
    """
    if slug_from not in SLUG_SOURCES:
        raise ValueError(f"slug_from must be one of {SLUG_SOURCES}, not {slug_from!r}")
    workers = default_workers() if workers is None else workers
    report = ImportReport()

    def note(path: Path, status: str) -> None:
        if progress:
            progress(path, status)

    jobs: list[tuple[Path, Path]] = []  # (file, root)
    prune_roots: list[Path] = []
    for given in paths:
        root = Path(given).expanduser().resolve()
        if root.is_dir():
            files = _walk(root, report)
            if files:
                prune_roots.append(root)
            elif prune:
                report.failed.append(Problem(root, "no documents found; nothing pruned here"))
                note(root, "failed")
            jobs.extend((f, root) for f in files)
        elif root.is_file():
            jobs.append((root, root))
        else:
            report.failed.append(Problem(root, "no such file or directory"))
            note(root, "failed")

    seen: dict[str, str | None] = {}  # file path -> slug it carries (None if unreadable)
    slug_owner: dict[tuple[str, str], Path] = {}  # (slug, "" or translation language) -> file
    # One query for what earlier imports saved, so that an unchanged file (same path, same
    # bytes) is recognised from its hash alone: it is neither parsed nor rendered again.
    # Only when slugs come from front matter or file names: another --slug-from may rename.
    known: dict[str, tuple[str, str, str]] = {}
    if not force and slug_from == "front-matter":
        rows = Article.objects.exclude(source_path="").values_list(
            "source_path", "slug", "content_hash", "lang", "translation_of_id"
        )
        known = {
            source: (slug, digest, lang if original else "")
            for source, slug, digest, lang, original in rows.iterator()
        }
    # Read at the first save: a re-import where every file is unchanged never needs it.
    known_rows: list[_KnownRows] = []
    translations: list[tuple[Path, Path, Document]] = []
    unpublished_originals: set[str] = set()
    unchanged_translations: list[tuple[Path, str]] = []
    batch = _Batch(report, note)

    def save(path: Path, root: Path, doc: Document) -> None:
        batch.enter()
        if not known_rows:
            known_rows.append(_KnownRows())
        try:
            status = _import_one(
                path, root, doc, force=force, report=report, known=known_rows[0], batch=batch
            )
        except (DatabaseError, ValueError) as exc:
            # The document's own savepoint was rolled back; the run goes on with the next.
            # (psycopg raises ValueError for text the server could never store.)
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            report.failed.append(Problem(path, f"the database refused it: {first_line}"))
            status = "failed"
        batch.done(path, status)

    def claim(path: Path, key: tuple[str, str]) -> bool:
        if key in slug_owner:
            report.failed.append(
                Problem(path, f"duplicate slug '{key[0]}': already used by {slug_owner[key]}")
            )
            note(path, "failed")
            return False
        slug_owner[key] = path
        return True

    # First the files that are the same as at the last import (no rendering), so that the
    # others can be rendered ahead, in parallel, while they are saved in order below.
    steps: list[tuple[Path, Path, tuple[str, str] | None]] = []  # (file, root, unchanged)
    for path, root in jobs:
        if str(path) in seen:
            continue  # the same file reached through two given paths
        seen[str(path)] = None
        if path.suffix.lower() not in DOCUMENT_SUFFIXES:
            report.failed.append(Problem(path, "not a .md, .markdown or .txt file"))
            note(path, "failed")
            continue
        steps.append((path, root, _unchanged_slug(path, known)))
    documents = _read_documents(
        [path for path, _, unchanged in steps if unchanged is None],
        slug_from=slug_from,
        workers=workers,
    )
    try:
        for path, root, unchanged in steps:
            if unchanged is not None:
                seen[str(path)] = unchanged[0]
                if claim(path, unchanged):
                    if unchanged[1]:  # a translation: its original may yet be unpublished
                        unchanged_translations.append((path, unchanged[0]))
                    else:
                        report.unchanged.append(path)
                        note(path, "unchanged")
                continue
            doc = next(documents)
            if isinstance(doc, DocumentError):
                report.failed.append(Problem(path, str(doc)))
                note(path, "failed")
                continue
            seen[str(path)] = doc.slug
            if doc.draft:
                # published: false takes down what an earlier import published from this file.
                seen[str(path)] = ""
                if not doc.translation_of:
                    unpublished_originals.add(doc.slug)
                batch.commit()  # in its own transaction, as before
                if _unpublish(path, doc, report):
                    note(path, "unpublished")
                else:
                    report.skipped.append(Problem(path, "draft (published: false)"))
                    note(path, "skipped")
                continue
            key = (doc.slug, doc.lang if doc.translation_of else "")
            if not claim(path, key):
                continue
            if doc.translation_of:
                translations.append((path, root, doc))
            else:
                save(path, root, doc)
        batch.commit()  # translations look their originals up in the database
        for path, slug in unchanged_translations:
            if slug in unpublished_originals:
                report.skipped.append(
                    Problem(path, "its original is not published (published: false)")
                )
                note(path, "skipped")
            else:
                report.unchanged.append(path)
                note(path, "unchanged")
        for path, root, doc in translations:
            if doc.translation_of in unpublished_originals:
                report.skipped.append(
                    Problem(path, "its original is not published (published: false)")
                )
                note(path, "skipped")
                continue
            save(path, root, doc)
    except BaseException as exc:
        batch.abort(exc)
        raise
    finally:
        documents.close()  # stops the workers if the run ended early
    batch.commit()

    if prune:
        _prune(prune_roots, seen, force=force, report=report, progress=progress)
    return report
