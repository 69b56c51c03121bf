"""A real corpus for the search benchmark: documents Debian ships, read offline.

Sources (Debian 12 packages, installed by `make bench`):

- `linux-doc`: the kernel's Documentation/ tree (reStructuredText, plain text and the device-tree
  binding schemas in YAML, English);
- `manpages`, `manpages-dev`: the Linux man pages (English), listed with `dpkg -L`;
- `manpages-ja`: Japanese man pages (`/usr/share/man/ja`);
- `manpages-zh`: Chinese man pages (`/usr/share/man/zh_CN`, `/usr/share/man/zh_TW`).

Each document becomes one Markdown file with front matter, imported by our own importer. The
roff and reStructuredText conversions are deliberately small: they keep the words, headings and
literal blocks a reader searches for, and drop layout. A generated corpus shares one small
vocabulary across every document; these do not, which is what a real knowledge base looks like.

Queries come from the documents themselves (a phrase that occurs in exactly one document, so the
right answer is known), from our curated articles' symptoms, and as pasted logs that end in such
a line. Everything is deterministic: sampling and query choice use hashes, not a random state.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus import ROOT

KERNEL_DOCS = Path("/usr/share/doc/linux-doc/Documentation")
MAN_ROOTS = {
    "ja": [Path("/usr/share/man/ja")],
    "zh": [Path("/usr/share/man/zh_CN"), Path("/usr/share/man/zh_TW")],
}
EN_MAN_PACKAGES = ("manpages", "manpages-dev")
DEBIAN_PACKAGES = ("linux-doc", "manpages", "manpages-dev", "manpages-ja", "manpages-zh")

# The importer refuses documents over 5 000 lines or 1 MB; a corpus document stays well under.
MAX_LINES = 3000
MAX_CHARS = 400_000


@dataclass(frozen=True)
class Doc:
    """One corpus document, ready to be written as Markdown."""

    slug: str
    title: str
    lang: str
    origin: str  # kernel | man-en | man-ja | man-zh | article
    markdown: str

    def text(self) -> str:
        """The file the importer reads."""
        title = self.title.replace("\\", "\\\\").replace('"', '\\"')
        return (
            f'---\ntitle: "{title}"\nslug: {self.slug}\nlang: {self.lang}\n'
            f"tags: [{self.origin}]\n---\n\n{self.markdown}\n"
        )


def missing_packages() -> list[str]:
    """The Debian packages of the corpus that are not installed."""
    missing = []
    for package in DEBIAN_PACKAGES:
        status = subprocess.run(  # noqa: S603 - fixed argv
            ["dpkg-query", "-W", "-f=${Status}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        if "install ok installed" not in status.stdout:
            missing.append(package)
    return missing


def _read(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    for encoding in ("utf-8", "gb18030", "euc-jp"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _slug(*parts: str) -> str:
    text = "-".join(parts).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()[:6]
    return f"{text[:70].strip('-')}-{digest}"


# --- roff (man pages) ---------------------------------------------------------------------

_FONT = re.compile(r"\\f(?:\[[^\]]*\]|\(..|.)")
_SIZE = re.compile(r"\\s[+-]?\d+")
_NAMED = {
    r"\-": "-",
    r"\(em": "—",
    r"\(en": "–",
    r"\(bu": "•",
    r"\(aq": "'",
    r"\(dq": '"',
    r"\(lq": '"',
    r"\(rq": '"',
    r"\e": "\\",
    r"\&": "",
    r"\ ": " ",
    r"\~": " ",
    r"\|": "",
    r"\^": "",
    r"\c": "",
    r"\%": "",
}
_ESCAPE = re.compile(r"\\\([a-z]{2}|\\\*\(..|\\\*.|\\[-&e ~|^c%]")


def _roff_inline(line: str) -> str:
    line = _FONT.sub("", line)
    line = _SIZE.sub("", line)
    return _ESCAPE.sub(lambda m: _NAMED.get(m.group(0), ""), line)


def roff_to_markdown(source: str) -> tuple[str, str]:
    """(title, Markdown) of a man page: headings, paragraphs and example blocks, no layout."""
    title = ""
    out: list[str] = []
    literal = False
    for raw in source.splitlines():
        if raw.startswith(('.\\"', "'\\\"", '\\"')):
            continue
        if raw.startswith((".", "'")):
            parts = raw[1:].split(None, 1)
            if not parts:
                continue
            macro, rest = parts[0], (parts[1] if len(parts) > 1 else "")
            rest = _roff_inline(rest).replace('"', "").strip()
            if macro == "TH" and not title:
                words = rest.split()
                title = f"{words[0].lower()}({words[1]})" if len(words) > 1 else rest.lower()
            elif macro in ("SH", "SS"):
                if literal:
                    out.append("```")
                    literal = False
                out.append("")
                out.append(("## " if macro == "SH" else "### ") + (rest or "Section"))
                out.append("")
            elif macro in ("PP", "P", "LP", "TP", "IP", "sp", "br"):
                if not literal:
                    out.append("")
                if macro == "IP" and rest:
                    out.append(rest.split()[0])
            elif macro in ("nf", "EX"):
                if not literal:
                    out.append("")
                    out.append("```")
                    literal = True
            elif macro in ("fi", "EE"):
                if literal:
                    out.append("```")
                    out.append("")
                    literal = False
            elif macro in ("B", "I", "BR", "BI", "IR", "RB", "RI", "IB", "SM", "SB"):
                out.append(rest)
            # Other requests (.if, .ds, .de, .so, .in, ...) carry layout, not words.
            continue
        out.append(_roff_inline(raw))
    if literal:
        out.append("```")
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
    return title, text


# --- reStructuredText (kernel docs) -------------------------------------------------------

_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.:])\1{2,}\s*$")
_ROLE = re.compile(r":[a-z:]+:`([^`<]*?)(?:\s*<[^>]*>)?`")
_DIRECTIVE = re.compile(r"^\s*\.\. ")


def rst_to_markdown(source: str, *, fallback_title: str) -> tuple[str, str]:
    """(title, Markdown) of a reStructuredText or plain-text kernel document."""
    lines = source.splitlines()
    out: list[str] = []
    levels: list[str] = []
    title = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        # Over- and underlined titles: skip the overline.
        if _UNDERLINE.match(line) and i + 2 < len(lines) and _UNDERLINE.match(lines[i + 2]):
            i += 1
            continue
        if line.strip() and _UNDERLINE.match(nxt) and len(nxt.strip()) >= len(line.strip()) - 2:
            char = nxt.strip()[0]
            if char not in levels:
                levels.append(char)
            level = min(levels.index(char) + 1, 4)
            heading = _ROLE.sub(r"\1", line.strip())
            if not title:
                title = heading
            out.append("")
            out.append("#" * level + " " + heading)
            out.append("")
            i += 2
            continue
        if _DIRECTIVE.match(line):
            i += 1
            continue
        out.append(_ROLE.sub(r"\1", line).replace("``", "`"))
        i += 1
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
    return (title or fallback_title), text


# --- collecting ---------------------------------------------------------------------------


def _trim(markdown: str) -> str:
    lines = markdown.splitlines()[:MAX_LINES]
    text = "\n".join(lines)[:MAX_CHARS]
    if text.count("```") % 2:
        text += "\n```"
    return text


_YAML_TITLE = re.compile(r"^title:\s*(.+)$", re.M)


def _kernel_docs() -> Iterator[Doc]:
    for path in sorted(KERNEL_DOCS.rglob("*.gz")):
        name = path.name[:-3]
        relative = str(path.relative_to(KERNEL_DOCS))[:-3]
        if name.endswith((".rst", ".txt")):
            title, markdown = rst_to_markdown(_read(path), fallback_title=relative)
        elif name.endswith(".yaml"):
            # Device-tree binding schemas: a title, a description, properties and examples.
            source = _read(path)
            found = _YAML_TITLE.search(source)
            title = found.group(1).strip().strip("'\"") if found else relative
            markdown = f"# {title}\n\n```yaml\n{source.strip()}\n```"
        else:
            continue
        if len(markdown) < 200:
            continue
        yield Doc(_slug("kernel", relative), title[:200], "en", "kernel", _trim(markdown))


def _en_man_paths() -> Iterator[Path]:
    for package in EN_MAN_PACKAGES:
        listed = subprocess.run(  # noqa: S603 - fixed argv
            ["dpkg", "-L", package], capture_output=True, text=True, check=False
        ).stdout.splitlines()
        for line in sorted(listed):
            path = Path(line)
            if "/man/man" in line and path.suffix == ".gz" and not path.is_symlink():
                yield path


def _man_docs(lang: str, paths: Iterable[Path]) -> Iterator[Doc]:
    for path in paths:
        source = _read(path)
        if source.lstrip().startswith(".so "):
            continue  # a redirect to another page
        title, markdown = roff_to_markdown(source)
        if len(markdown) < 200:
            continue
        name = path.name[:-3]
        yield Doc(
            _slug(f"man-{lang}", path.parent.parent.name, path.parent.name, name),
            title or name,
            lang,
            f"man-{lang}",
            _trim(markdown),
        )


def collect() -> list[Doc]:
    """Every document of the corpus sources, in a stable order."""
    docs = list(_kernel_docs())
    docs += _man_docs("en", _en_man_paths())
    for lang, roots in MAN_ROOTS.items():
        paths = sorted(p for root in roots for p in root.rglob("*.gz") if not p.is_symlink())
        docs += _man_docs(lang, paths)
    return docs


def _rank(doc: Doc) -> int:
    return int(hashlib.sha256(doc.slug.encode()).hexdigest()[:12], 16)


def sample(docs: list[Doc], count: int) -> list[Doc]:
    """`count` documents, the same share of each origin at every size, nested across sizes."""
    by_origin: dict[str, list[Doc]] = {}
    for doc in docs:
        by_origin.setdefault(doc.origin, []).append(doc)
    total = len(docs)
    chosen: list[Doc] = []
    for _origin, group in sorted(by_origin.items()):
        group.sort(key=_rank)
        chosen += group[: max(1, round(count * len(group) / total))]
    return sorted(chosen, key=_rank)[:count]


def write_corpus(folder: Path, docs: list[Doc]) -> int:
    """Write the sampled documents and our articles into `folder`; returns the bytes written."""
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for doc in docs:
        data = doc.text().encode("utf-8")
        (folder / f"{doc.slug}.md").write_bytes(data)
        size += len(data)
    for path in sorted((ROOT / "articles").glob("*.md")):
        if path.name.count(".") == 1:
            data = path.read_bytes()
            (folder / path.name).write_bytes(data)
            size += len(data)
    return size


# --- queries with a known right answer ----------------------------------------------------

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_SENTENCE = re.compile(r"[^.。!?！？\n]{20,160}[.。!?！？]")


def _plain(markdown: str) -> str:
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"^#+ .*$", " ", text, flags=re.M)
    return re.sub(r"[`*_\[\]()]", " ", text)


def _phrases(doc: Doc) -> Iterator[str]:
    """Candidate query phrases from a document: a few words of one of its sentences."""
    plain = _plain(doc.markdown)
    if doc.lang == "en":
        for sentence in _SENTENCE.findall(plain):
            words = sentence.split()
            if len(words) >= 7:
                yield " ".join(words[:7])
    else:
        for run in re.findall(r"[\u3040-\u30ff\u3400-\u9fff、・ー]{10,}", plain):
            yield run[:12]


def queries(
    docs: list[Doc], universe: list[Doc], *, per_kind: int = 30
) -> list[tuple[str, str, str]]:
    """(kind, query, right slug): phrases of `docs` found in no other document of `universe`,
    our articles' symptoms, and logs ending in one."""
    haystacks = [re.sub(r"\s+", " ", _plain(doc.markdown)).lower() for doc in universe]
    picked: list[tuple[str, str, str]] = []
    kinds = {"en": "en phrase", "ja": "ja phrase", "zh": "zh phrase"}
    wanted = {"kernel": per_kind, "man-en": per_kind, "man-ja": per_kind, "man-zh": per_kind}
    for doc in sorted(docs, key=lambda d: _rank(d) ^ 0x5A5A5A):
        if wanted.get(doc.origin, 0) <= 0:
            continue
        for phrase in _phrases(doc):
            needle = re.sub(r"\s+", " ", phrase).lower()
            holders = 0
            for text in haystacks:
                if needle in text:
                    holders += 1
                    if holders > 1:
                        break
            if holders == 1:
                kind = "kernel phrase" if doc.origin == "kernel" else kinds[doc.lang]
                picked.append((kind, phrase, doc.slug))
                wanted[doc.origin] -= 1
                break
    picked += article_queries()
    return picked


def article_queries() -> list[tuple[str, str, str]]:
    """Each curated article's first two symptoms, and a noisy log ending in the first."""
    import yaml

    out = []
    for path in sorted((ROOT / "articles").glob("*.md")):
        if path.name.count(".") > 1:
            continue
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---", 2)[1])
        symptoms = [str(s) for s in front.get("symptoms") or []]
        for symptom in symptoms[:2]:
            out.append(("symptom", symptom, path.stem))
        if symptoms:
            out.append(("log", _log_around(symptoms[0], seed=path.stem), path.stem))
    return out


def _log_around(line: str, *, seed: str) -> str:
    """Thirty lines of ordinary container start-up noise, then the error line."""
    digest = hashlib.sha256(seed.encode()).digest()
    noise = [
        "{t} INFO  starting worker pid={p}",
        "{t} INFO  loaded configuration from /etc/app/config.yaml",
        "{t} DEBUG connection pool size=10 idle=2",
        "{t} INFO  listening on 0.0.0.0:8080",
        "{t} WARN  slow request GET /healthz took 1203ms",
        '{t} INFO  10.244.1.{p} - - "GET /metrics HTTP/1.1" 200 512',
    ]
    lines = []
    for i in range(30):
        t = f"2026-11-30T08:{i:02d}:{digest[i % 32] % 60:02d}Z"
        lines.append(noise[(digest[i % 32] + i) % len(noise)].format(t=t, p=100 + i))
    lines.append(line)
    return "\n".join(lines)
