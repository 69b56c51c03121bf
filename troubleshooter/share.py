"""Shared results: what is stored when (and only when) a user presses Share, for how long, and
who may delete it.

Analyzer results (``SharedReport``): the manifest is stored with every Secret value replaced:
`data`, `stringData` and the `kubectl.kubernetes.io/last-applied-configuration` annotation
(which repeats them) of any object of kind Secret, at any depth (a `kind: List` included). The
replacement works on the text, at the positions YAML gives for each value, so comments and
layout stay as they were. A manifest that does not parse as a whole is not shared: its Secrets
could not be found.

Troubleshooter results (``SharedDiagnosis``): a paste is a log, not a manifest, so
``redact_paste`` masks what looks like a credential wherever it is: Secret data (as above when
the paste parses, else by its indentation), private keys, Authorization headers, passwords in
URLs, ``password=``-style values, AWS access keys and tokens with a well-known prefix. Every
pattern is bounded, so the scan stays linear in the size of the paste.

Both kinds share ``create_shared``, ``load_shared`` and ``delete_shared``: a random token in the
URL, a delete key whose hash only is kept, and an expiry after which the row is deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import yaml
from django.utils import timezone

from troubleshooter.models import Shared

SHARE_DAYS = 7
# A shared paste is read by people: a crash log's interesting part is far below this, and the
# redaction's worst case stays well under a second at this size (a pasted log may be 2 MB).
SHARE_MAX_PASTE_BYTES = 256_000
# Above this, Secret data in a paste is found by indentation only (composing YAML is slower).
_YAML_REDACTION_MAX_CHARS = 100_000
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,40}$")

REDACTED = '"<redacted>"'
SECRET_FIELDS = ("data", "stringData")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class CannotRedact(Exception):
    """The manifest could not be parsed whole, so its Secret values cannot be found."""


@dataclass(frozen=True)
class Redacted:
    """The text to store and how many values were replaced."""

    text: str
    count: int


def _mapping_get(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node
    return None


def _secret_value_nodes(node: yaml.Node, seen: set[int]) -> list[yaml.Node]:
    """Every value node to hide, found by walking the composed document."""
    if id(node) in seen:  # aliases can point back; visit each node once
        return []
    seen.add(id(node))
    found: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        kind = _mapping_get(node, "kind")
        if isinstance(kind, yaml.ScalarNode) and kind.value == "Secret":
            for field in SECRET_FIELDS:
                values = _mapping_get(node, field)
                if isinstance(values, yaml.MappingNode):
                    found.extend(value for _key, value in values.value)
                elif values is not None:
                    found.append(values)
            metadata = _mapping_get(node, "metadata")
            if isinstance(metadata, yaml.MappingNode):
                annotations = _mapping_get(metadata, "annotations")
                if isinstance(annotations, yaml.MappingNode):
                    last = _mapping_get(annotations, LAST_APPLIED)
                    if last is not None:
                        found.append(last)
        for key_node, value_node in node.value:
            found.extend(_secret_value_nodes(key_node, seen))
            found.extend(_secret_value_nodes(value_node, seen))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found.extend(_secret_value_nodes(item, seen))
    return found


def redact_secrets(text: str) -> Redacted:
    """The manifest with every Secret value replaced by "<redacted>"; raises CannotRedact."""
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError as error:
        raise CannotRedact(str(error).splitlines()[0]) from None
    spans: set[tuple[int, int]] = set()
    for document in documents:
        if document is None:
            continue
        for node in _secret_value_nodes(document, set()):
            spans.add((node.start_mark.index, node.end_mark.index))
    # Outermost spans only (a value inside an already hidden one needs nothing more).
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end))
    pieces: list[str] = []
    cursor = 0
    for start, end in kept:
        original = text[start:end]
        pieces.append(text[cursor:start])
        # A block scalar's span ends after its last line break: keep the line structure.
        pieces.append(REDACTED + ("\n" if original.endswith("\n") else ""))
        cursor = end
    pieces.append(text[cursor:])
    return Redacted(text="".join(pieces), count=len(kept))


# --- Pasted logs ------------------------------------------------------------------------------

MASK = "<redacted>"
_SECRET_KIND_RE = re.compile(r"""\bkind["']?[ \t]*:[ \t]*["']?Secret\b""")
_PRIVATE_KEY_BEGIN_RE = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----")
_NON_BLANK_LINE_RE = re.compile(r"(?m)^([ \t]*)\S.*$")

# One pass over the text; each alternative is bounded or starts at a fixed prefix. Order
# matters: the first alternative that matches at a position wins.
_CREDENTIAL_RE = re.compile(
    r"""
    # Authorization: Bearer abc / "authorization": "Basic abc" (scheme kept, value masked)
    (?P<h_head>(?i:\b(?:proxy-)?authorization)["']?[ \t]{0,4}[:=][ \t]{0,4}["']?
        (?:(?i:bearer|basic|token|digest|negotiate|aws4-hmac-sha256)[ \t]{1,4})?)
    (?P<h_value>[^\s"']{1,4096})
    | (?P<b_head>(?i:\bbearer)[ \t]{1,4})(?P<b_value>[A-Za-z0-9._~+/=-]{16,4096})
    | (?P<basic_head>\bBasic[ \t]{1,4})
        (?P<basic_value>(?=[A-Za-z0-9+/]{0,4096}[0-9+/=])[A-Za-z0-9+/]{8,4096}={0,2})
    # scheme://user:password@host
    | (?P<u_head>\b[a-zA-Z][a-zA-Z0-9+.-]{0,20}://[^\s:/@]{0,200}:)(?P<u_value>[^\s/@]{1,400})(?=@)
    # Tokens whose shape says what they are.
    | (?P<token>
        \b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b
        | \beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}
        | \bgh[pousr]_[A-Za-z0-9]{30,}
        | \bgithub_pat_[A-Za-z0-9_]{40,}
        | \bglpat-[A-Za-z0-9_-]{20,}
        | \bxox[abprs]-[A-Za-z0-9-]{10,}
        | \bAIza[A-Za-z0-9_-]{35}\b
      )
    # --password hunter2
    | (?P<f_head>(?<![\w-])--?(?i:password|passwd|pass|token|secret|api-key|access-key)[ \t]{1,4})
        (?P<f_value>[^\s"'-][^\s"']{0,4095})
    # password=hunter2, DB_PASSWORD: hunter2, "token": "abc" (the key decides, see _secret_key)
    # The value is only looked at (not consumed) so that a key that names no secret leaves
    # its value to the other alternatives: proxy=http://user:password@host.
    | (?<![\w.])(?P<k_key>(?i:
        [\w.-]{0,40}?(?:password|passwd|passphrase|secret|token|api[_.-]?key|access[_.-]?key
                       |private[_.-]?key|credential)[\w.-]{0,40}
        | pwd | pass | auth | pw))
        (?P<k_sep>["']?[ \t]{0,4}[:=][ \t]{0,4})
        (?=[^\s,;&{}()\[\]])
    """,
    re.VERBOSE,
)
# The value after a key that names a secret (matched only then: keeps the scan linear).
_KEY_VALUE_RE = re.compile(
    r"""(?P<quote>["'])(?P<quoted>[^"'\r\n]{1,4096})(?P=quote)|(?P<bare>[^\s"',;&{}()\[\]]{1,4096})"""
)
_SECRET_KEY_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "credential",
)
_SECRET_KEY_EXACT = {"pwd", "pass", "auth", "pw"}
# Names of a secret, not the secret: secretName, passwordFile, tokenPath, secretKeyRef...
_NOT_SECRET_SUFFIXES = ("name", "ref", "file", "path", "type", "ttl", "url", "length", "expiry")
_HARMLESS_VALUES = {"true", "false", "null", "none", "yes", "no", "|", ">", "|-", ">-"}


def _secret_key(key: str) -> bool:
    """Whether a key names a secret value (DB_PASSWORD, apiKey, aws_secret_access_key)."""
    folded = re.sub(r"[-_.]", "", key.lower())
    if folded.endswith(_NOT_SECRET_SUFFIXES):
        return False
    return folded in _SECRET_KEY_EXACT or any(word in folded for word in _SECRET_KEY_WORDS)


def _harmless(value: str) -> bool:
    """Values that hide nothing: booleans, already masked ones, variable references."""
    return value.lower() in _HARMLESS_VALUES or value.startswith(("$", "<", "*", "{{"))


def _mask_credentials(text: str) -> tuple[str, int]:
    pieces: list[str] = []
    cursor = position = count = 0
    heads = ("h_head", "b_head", "basic_head", "u_head", "f_head")
    while match := _CREDENTIAL_RE.search(text, position):
        groups = match.groupdict()
        head = next((name for name in heads if groups[name] is not None), None)
        if head is not None:
            value = match.group(head.replace("head", "value"))
            keep, stop = groups[head], match.end()
        elif groups["token"] is not None:
            value, keep, stop = groups["token"], "", match.end()
        else:  # key and separator; the value follows
            found = _secret_key(groups["k_key"]) and _KEY_VALUE_RE.match(text, match.end())
            if not found:
                position = match.end()
                continue
            quote = found.group("quote") or ""
            value = found.group("quoted") if quote else found.group("bare")
            keep = match.group(0) + quote
            stop = found.end() - len(quote)
        if _harmless(value):
            position = stop
            continue
        pieces.append(text[cursor : match.start()])
        pieces.append(keep + MASK)
        count += 1
        cursor = position = stop
    pieces.append(text[cursor:])
    return "".join(pieces), count


def _mask_private_keys(text: str) -> tuple[str, int]:
    """The body of every PEM private key, line by line (a key cut off at the end included)."""
    pieces: list[str] = []
    cursor = count = 0
    while begin := _PRIVATE_KEY_BEGIN_RE.search(text, cursor):
        end = text.find("-----END ", begin.end())
        stop = len(text) if end == -1 else end
        pieces.append(text[cursor : begin.end()])
        body = text[begin.end() : stop]
        masked = _NON_BLANK_LINE_RE.sub(lambda m: m.group(1) + MASK, body)
        pieces.append(masked if "\n" in body else MASK)
        count += 1
        cursor = stop
    pieces.append(text[cursor:])
    return "".join(pieces), count


_DATA_BLOCK_RE = re.compile(r"""^([ \t]*)["']?(?:data|stringData)["']?[ \t]*:[ \t]*(.*)$""")
_ENTRY_RE = re.compile(r"""^([ \t]*["']?[^\s:"']{1,253}["']?[ \t]*:[ \t]*)(\S.*)$""")


def _mask_secret_blocks(text: str) -> tuple[str, int]:
    """Secret data found by indentation, for a paste that is not YAML as a whole (a log that
    quotes `kubectl get secret -o yaml`, or its JSON): every value under `data:`/`stringData:`."""
    lines = text.split("\n")
    count = 0
    block_indent: int | None = None
    for number, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" \t"))
        if block_indent is not None:
            if not stripped:
                continue
            if indent > block_indent and stripped[0] not in "}]":
                entry = _ENTRY_RE.match(line)
                if entry is None:  # a line of a block scalar (a certificate...)
                    lines[number] = line[:indent] + MASK
                    count += 1
                elif entry.group(2) not in ("|", ">", "|-", ">-", "{", "["):
                    lines[number] = entry.group(1) + MASK
                    count += 1
                continue
            block_indent = None
        block = _DATA_BLOCK_RE.match(line)
        if block:
            rest = block.group(2).strip()
            if rest in ("", "{", "|", ">"):
                block_indent = len(block.group(1))
            elif rest.startswith("{") and len(rest) > 2:
                # data: {a: b} on one line
                head = line[: len(line) - len(block.group(2))]
                lines[number] = head + "{" + MASK + "}" + ("," if rest.endswith(",") else "")
                count += 1
    return "\n".join(lines), count


def redact_paste(text: str) -> Redacted:
    """A pasted log or error with every credential we can recognise replaced by <redacted>."""
    count = 0
    if _SECRET_KIND_RE.search(text):
        redacted = Redacted(text=text, count=0)
        if len(text) <= _YAML_REDACTION_MAX_CHARS:
            with contextlib.suppress(CannotRedact):
                redacted = redact_secrets(text)
        if redacted.count:
            text, count = redacted.text, redacted.count
        else:
            text, count = _mask_secret_blocks(text)
    text, keys = _mask_private_keys(text)
    text, credentials = _mask_credentials(text)
    return Redacted(text=text, count=count + keys + credentials)


# --- Storage: the same for every kind of shared result -----------------------------------------


class ShareGone(Exception):
    """The shared result existed but has expired (it is deleted now)."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_shared(model: type[Shared], *, redacted_values: int, **fields) -> tuple[Shared, str]:
    """Store one shared result for SHARE_DAYS; return it and the key that deletes it.

    Expired results of the same kind are deleted on the way.
    """
    now = timezone.now()
    model.objects.filter(expires_at__lte=now).delete()
    delete_key = secrets.token_urlsafe(18)
    shared = model.objects.create(
        token=secrets.token_urlsafe(18),
        delete_key_hash=_hash(delete_key),
        redacted_values=redacted_values,
        expires_at=now + timedelta(days=SHARE_DAYS),
        **fields,
    )
    return shared, delete_key


def load_shared(model: type[Shared], token: str) -> Shared | None:
    """The shared result, None when the token is malformed or unknown; raises ShareGone (and
    deletes the row) when it has expired."""
    if not TOKEN_RE.fullmatch(token):
        return None
    shared = model.objects.filter(token=token).first()
    if shared is not None and shared.expires_at <= timezone.now():
        shared.delete()
        raise ShareGone(token)
    return shared


def delete_key_matches(shared: Shared, key: str) -> bool:
    """Whether `key` is the delete key given to the creator of `shared`."""
    return bool(key) and secrets.compare_digest(_hash(key[:100]), shared.delete_key_hash)
