"""What the importer infers for documents that do not say it themselves: blog write-ups.

A curated article states its slug, tags and symptoms in front matter. A write-up scraped from a
blog states none of them, so the importer derives them from the text: a slug from the title, tags
from a small keyword table, the error lines it quotes as symptoms (what a user pastes into the
search box), and a title from the topic sentence when the scrape lost the real one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

SLUG_WORDS = 6

# tag -> words that mark it (lower case, matched on word boundaries for ASCII words).
# Two mentions are needed: a passing reference does not make a tag.
TAG_KEYWORDS: dict[str, tuple[str, ...]] = {
    "kubernetes": ("kubernetes", "k8s", "kubectl", "kubelet"),
    "aks": ("aks", "azure kubernetes service"),
    "azure": ("azure",),
    "azure-files": ("azure files", "azurefile", "azure ファイル共有", "file.csi.azure.com"),
    "virtual-kubelet": ("virtual kubelet", "virtual-kubelet", "仮想ノード"),
    "aci": ("aci", "azure container instances"),
    "csi": ("csi",),
    "nginx": ("nginx",),
    "httpd": ("httpd", "apache"),
    "envsubst": ("envsubst",),
    "aws": ("aws",),
    "lambda": ("lambda",),
    "efs": ("efs",),
    "nfs": ("nfs", "nfs4"),
    "php": ("php",),
    "php-fpm": ("php-fpm", "fpm"),
    "opcache": ("opcache",),
    "hugepages": ("hugepage", "hugepages", "huge_code_pages"),
    "configmap": ("configmap",),
    "docker": ("docker",),
    "linux": ("linux", "execve"),
}
MIN_TAG_MENTIONS = 2
MAX_TAGS = 8

_ASCII_WORD = re.compile(r"^[a-z0-9_.-]+$")


def infer_tags(text: str) -> list[str]:
    """Tags from the keyword table, most mentioned first (at most MAX_TAGS)."""
    folded = text.lower()
    counts: dict[str, int] = {}
    for tag, words in TAG_KEYWORDS.items():
        total = 0
        for word in words:
            if _ASCII_WORD.match(word):
                total += len(re.findall(rf"(?<![a-z0-9_]){re.escape(word)}(?![a-z0-9_])", folded))
            else:
                total += folded.count(word)
        if total >= MIN_TAG_MENTIONS:
            counts[tag] = total
    ranked = sorted(counts, key=lambda tag: (-counts[tag], tag))
    return ranked[:MAX_TAGS]


# A line quoted from a program's output: an error, a warning, a failure.
_ERROR_LINE = re.compile(
    r"(?:\berror\b|\bfailed\b|\bfailure\b|too long|denied|unsupported type|cannot |"
    r"\bnot found\b|bus error|segmentation fault|\bwarning\b|timed out|\bforbidden\b)",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
MAX_SYMPTOMS = 12
# Every line _ERROR_LINE matches holds one of these, lower-cased ("bus error" holds "error",
# "failed" and "failure" hold "fail"). Looking for them case-sensitively is cheap; the regex, with
# its case folding and word boundaries, is not: cProfile of importing 1 004 real documents put
# 1.6 s of 26 s in running it on every line. Case folding also matches three letters that
# lower() does not turn into ASCII (U+0130 and U+0131 for "i", U+017F for "s"): a line with
# one of them always goes to the regex.
_ERROR_WORDS = (
    "error",
    "fail",
    "too long",
    "denied",
    "unsupported type",
    "cannot ",
    "not found",
    "segmentation fault",
    "warning",
    "timed out",
    "forbidden",
)
_ERROR_WORD = re.compile("|".join(re.escape(word) for word in _ERROR_WORDS))
_FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f]")


_CJK_OR_WIDE_PUNCT = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]+")
_SHELL_CODE = re.compile(r"^(?:echo|printf|if|then|fi|local)\b|\$\{?[A-Za-z_]")


def extract_symptoms(text: str) -> list[str]:
    """Error lines a write-up quotes (program output, not prose), in order, de-duplicated.

    In a Chinese or Japanese sentence that quotes an error ("运行时报错：Zend OPcache …"),
    the quoted ASCII part is taken.
    """
    found: list[str] = []
    odd_letters = _FOLDS_TO_ASCII.search(text) is not None
    for raw in text.split("\n"):
        if not odd_letters and _ERROR_WORD.search(raw.lower()) is None:
            continue  # _ERROR_LINE matches no part of this line
        for part in _CJK_OR_WIDE_PUNCT.split(raw):
            line = part.strip().strip("`").strip().rstrip(".")
            if not 12 <= len(line) <= 240 or not _ERROR_LINE.search(line):
                continue
            if line.startswith(("#", "//", "-", "*", ">")) or _SHELL_CODE.search(line):
                continue  # a comment, a list item or a line of a script, not output
            if not any(line in earlier for earlier in found):
                found.append(line)
        if len(found) >= MAX_SYMPTOMS:
            break
    return found[:MAX_SYMPTOMS]


# "今回、X を記事にしました。": the topic sentence of a Japanese write-up names its subject.
_TOPIC_SENTENCE = re.compile(
    r"^今回(?:は)?[、,]?\s*(?P<subject>.+?)(?:など)?(?:を|について)"
    r"(?:記事に|まとめ|紹介|解説|整理)(?:しました|します|てみました)[。.]?$"
)


def title_from_topic_sentence(line: str) -> str | None:
    """The subject of a "今回、…を記事にしました" sentence, or None."""
    match = _TOPIC_SENTENCE.match(line.strip())
    if not match:
        return None
    subject = match.group("subject").strip(" 、,")
    return subject or None


def slug_from_title(title: str, *, fallback: str) -> str:
    """A readable slug from the ASCII words of a title (at most SLUG_WORDS of them).

    Japanese and Chinese titles keep their product names ("AKS", "Azure Files", "PHP"),
    which is what a reader recognises in a URL. With no ASCII word, a short hash of the
    fallback keeps the slug stable.
    """
    # NFKC first: full-width letters become ASCII; then every other character separates words
    # ("Kubernetesクラスタ内にServiceが" -> "kubernetes", "service").
    folded = unicodedata.normalize("NFKC", title)
    ascii_text = "".join(c if c.isascii() else " " for c in folded)
    words = [w for w in re.split(r"[^a-z0-9]+", ascii_text.lower()) if w]
    deduped = list(dict.fromkeys(words))[:SLUG_WORDS]
    slug = "-".join(deduped)[:80].strip("-")
    if not slug:
        slug = "doc-" + hashlib.sha256(fallback.encode()).hexdigest()[:10]
    return slug
