"""Parse errors and notes about the input in Japanese and Chinese (analyzer/notices.py NOTES,
analyzer/docs/parse.<lang>.messages.yaml), while JSON, SARIF and the CLI keep the English."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from troubleshooter.analyzer import (
    Limits,
    ManifestRejected,
    analyze_manifest,
    messages,
    notices,
    registry,
    suppress,
)
from troubleshooter.analyzer.cli import too_large_notice
from troubleshooter.analyzer.parse import decode

KANA = re.compile("[\u3040-\u30ff]")
HAN = re.compile("[\u4e00-\u9fff]")
BCP47 = {"ja": "ja", "zh": "zh-Hans"}
LANGS = ["ja", "zh"]

MALFORMED = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n data: {}\n"
DEEP = "a: " + "[" * 150 + "]" * 150 + "\n"
NOT_A_MAPPING = "- apiVersion: v1\n- kind: ConfigMap\n"
DUPLICATE_KEY = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: twice\n  name: again\n"

# Every code an input can reach deterministically, with the limits that reach it.
KUBELET = registry.get("kubelet-max-pods")
REACHED = {
    "yaml-syntax": (MALFORMED, Limits()),
    "yaml-invalid-error": ("a: \x07\n", Limits()),
    "too-deep": (DEEP, Limits()),
    "too-many-aliases": ("a: &a [1]\nb: [" + ", ".join(["*a"] * 20) + "]\n", Limits(max_aliases=5)),
    "alias-bomb": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{n}: &{n} [" + ", ".join([f"*{p}"] * 10) + "]\n"
            for p, n in zip("abcde", "bcdef", strict=True)
        )
        + "g: *f\n",
        Limits(max_aliases=10**9),
    ),
    "value-too-long": ("a: " + "x" * 50 + "\n", Limits(max_scalar_bytes=10)),
    "unsupported-tag": ("a: !!python/name:os.system x\n", Limits()),
    "too-many-documents": ("---\na: 1\n" * 3, Limits(max_documents=2)),
    "duplicate-key": (DUPLICATE_KEY, Limits()),
    "not-a-mapping": (NOT_A_MAPPING, Limits()),
    "no-kind": ("apiVersion: v1\nmetadata: {name: x}\n", Limits()),
    "too-many-objects": (
        "".join(f"---\nkind: ConfigMap\nmetadata: {{name: c{n}}}\n" for n in range(3)),
        Limits(max_objects=2),
    ),
    "duplicate-object": ("kind: Namespace\nmetadata: {name: a}\n---\n" * 2, Limits()),
    "duplicate-object-in-namespace": ("kind: ConfigMap\nmetadata: {name: a}\n---\n" * 2, Limits()),
    "out-of-time-here": ("a: 1\n", Limits(max_seconds=0)),
    "checks-not-run": ("a: 1\n", Limits(max_seconds=0)),
    "more-findings": (KUBELET.FAILING_EXAMPLE, Limits(max_findings_per_check=0)),
    "more-notes": (
        "kind: ConfigMap\n" + "a: 1\n" * 4 + "metadata: {name: x}\n",
        Limits(max_notes_per_kind=1),
    ),
}
REJECTED = {
    "nul-bytes": (b"a: \x00\n", Limits()),
    "undecodable": (b"a: \xe9\n", Limits()),
    "too-large-bytes": (b"a: 1\n" * 10, Limits(max_bytes=20)),
    "too-large-text": ("a: 1\n" * 10, Limits(max_bytes=20)),
}


def _templates(lang: str) -> dict[str, str]:
    return messages.load_notes("parse", notices.NOTES, lang).templates


def _native(error, lang: str) -> str:
    """What a ja or zh page says for a parse error or note: its template with its values."""
    text = messages.render(_templates(lang)[error.message_key], error.message_args)
    assert text is not None, error
    return text


def _post(lang: str, text: str):
    """The analyzer page for `text` in `lang`, from a client of its own (LocaleMiddleware
    would carry one request's language into the next through the session or cookie)."""
    return Client().post(f"/analyze/?lang={lang}", {"manifest": text}, HTTP_ACCEPT_LANGUAGE=lang)


@pytest.mark.parametrize("lang", LANGS)
def test_it_has_a_current_native_template_for_every_code(lang) -> None:
    translation = messages.load_notes("parse", notices.NOTES, lang)
    assert translation is not None and not translation.stale, translation
    assert set(translation.templates) == set(notices.NOTES)
    for key, template in translation.templates.items():
        fields = messages.template_fields(template)
        assert fields is not None and fields == messages.template_fields(notices.NOTES[key]), key
        assert (KANA if lang == "ja" else HAN).search(template), key


def test_it_gives_every_code_a_plain_english_template_and_its_own_key() -> None:
    for key, template in notices.NOTES.items():
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", key), key
        assert messages.template_fields(template) is not None, key
    # A page picks the translation by key: no code may mean two things.
    assert not set(notices.NOTES) & set(suppress.NOTES)
    with pytest.raises(KeyError):
        notices.notice("too-deep")  # a missing value is a bug in the caller


@pytest.mark.parametrize("code", sorted(REACHED))
def test_it_says_each_reachable_code_in_japanese_and_chinese(code) -> None:
    text, limits = REACHED[code]
    report = analyze_manifest(text=text, limits=limits)
    (error,) = [error for error in report.errors if error.message_key == code][:1]
    assert error.message == notices.NOTES[code].format_map(error.message_args)
    for lang in LANGS:
        said = messages.translated_message(
            messages.load_notes("parse", notices.NOTES, lang),
            key=error.message_key,
            args=error.message_args,
            english=error.message,
        )
        assert said.lang == lang and said.text == _native(error, lang)


@pytest.mark.parametrize("code", sorted(REJECTED))
def test_it_gives_every_refusal_of_the_whole_input_a_code(code) -> None:
    data, limits = REJECTED[code]
    with pytest.raises(ManifestRejected) as refused:
        decode(data, limits=limits)
    assert refused.value.message_key == code
    assert refused.value.message == notices.NOTES[code].format_map(refused.value.message_args)
    for lang in LANGS:
        assert messages.render(_templates(lang)[code], refused.value.message_args)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("text", "code"),
    [(MALFORMED, "yaml-syntax"), (DEEP, "too-deep"), (NOT_A_MAPPING, "not-a-mapping")],
    ids=["malformed", "too-deep", "not-a-mapping"],
)
def test_it_shows_parse_errors_in_the_page_language(db, lang, text, code) -> None:
    (error,) = analyze_manifest(text=text).errors
    assert error.message_key == code
    response = _post(lang, text)
    assert response.status_code == 200
    page = response.content.decode()
    native = html_lib.escape(_native(error, lang))
    # Once in the list of errors, once pinned under its line; the English nowhere.
    assert page.count(f'<span class="message" lang="{BCP47[lang]}">{native}</span>') == 1
    assert page.count(f'<span lang="{BCP47[lang]}">{native}</span>') == 1
    if code == "yaml-syntax":
        # libyaml's own words are kept as it wrote them, quoted inside the sentence.
        problem = html_lib.escape(error.message_args["problem"])
        assert problem == html_lib.escape(error.message) and "expected key" in problem
        assert native.count(problem) == 1 and page.count(problem) == 2
    else:
        assert html_lib.escape(error.message) not in page


def test_it_keeps_parse_errors_in_english_on_an_english_page(db) -> None:
    (error,) = analyze_manifest(text=DEEP).errors
    page = _post("en", DEEP).content.decode()
    escaped = html_lib.escape(error.message)
    assert page.count(f'<span class="message" lang="en">{escaped}</span>') == 1
    assert not KANA.search(escaped) and not HAN.search(escaped)


@pytest.mark.parametrize("lang", LANGS)
def test_it_shows_a_refused_input_in_the_page_language(db, lang) -> None:
    with pytest.raises(ManifestRejected) as refused:
        decode(b"a: \x00\n", limits=Limits())
    native = messages.render(_templates(lang)["nul-bytes"], refused.value.message_args)
    upload = SimpleUploadedFile("binary.yaml", b"a: \x00\n")
    response = Client().post(f"/analyze/?lang={lang}", {"file": upload}, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'<p lang="{BCP47[lang]}">{html_lib.escape(native)}</p>' in page
    assert "NUL bytes" not in page


@pytest.mark.django_db
def test_it_shows_a_shared_reports_notes_in_each_readers_language() -> None:
    response = Client().post("/analyze/share/", {"manifest": DUPLICATE_KEY})
    assert response.status_code == 302
    url = response["Location"]
    (note,) = analyze_manifest(text=DUPLICATE_KEY).errors
    assert note.message_key == "duplicate-key"
    for lang, accept in (("ja", "ja"), ("zh", "zh-CN,zh;q=0.9"), ("en", "en")):
        page = Client().get(url, HTTP_ACCEPT_LANGUAGE=accept).content.decode()
        text = note.message if lang == "en" else _native(note, lang)
        tag = BCP47.get(lang, "en")
        assert f'<span class="message" lang="{tag}">{html_lib.escape(text)}</span>' in page, lang


@pytest.mark.parametrize("lang", LANGS)
def test_it_keeps_json_and_sarif_errors_in_english_word_for_word(client, lang) -> None:
    stream = "---\n".join((MALFORMED, DEEP, NOT_A_MAPPING, DUPLICATE_KEY))
    plain = client.post(
        f"/api/analyze/?lang={lang}",
        stream,
        content_type="application/yaml",
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    errors = json.loads(plain.content)["errors"]
    # Pinned as the analyzer printed them before they had codes.
    assert [error["message"] for error in errors] == [
        "while parsing a block mapping; did not find expected key",
        "nesting deeper than 100 levels; document skipped",
        "not a Kubernetes object (no mapping); skipped",
        "duplicate key 'name' (first at line 15); the last one is analysed, and kubectl may"
        " refuse the manifest",
    ]
    assert not any(key.startswith("message_") for error in errors for key in error)
    assert not KANA.search(plain.content.decode()) and not HAN.search(plain.content.decode())
    sarif = client.post(
        f"/api/analyze/?format=sarif&lang={lang}",
        stream,
        content_type="application/yaml",
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    body = sarif.content.decode()
    assert "nesting deeper than 100 levels; document skipped" in body
    assert not KANA.search(body) and not HAN.search(body)
    refused = client.post(
        f"/api/analyze/?lang={lang}", "a: \x00\n", content_type="application/yaml"
    )
    assert refused.json()["error"] == (
        "The file contains NUL bytes: it looks binary, not YAML or JSON."
    )


@pytest.mark.django_db
def test_it_lists_a_stale_or_missing_parse_translation(monkeypatch, tmp_path) -> None:
    for name in ("suppress.ja", "suppress.zh", "parse.zh"):
        shutil.copy(messages.NOTES_DIR / f"{name}.messages.yaml", tmp_path)
    monkeypatch.setattr(messages, "NOTES_DIR", tmp_path)
    monkeypatch.setitem(notices.NOTES, "nul-bytes", "The file holds NUL bytes: not YAML.")
    out = StringIO()
    call_command("translation_status", "--stale", stdout=out)
    lines = out.getvalue().splitlines()
    current = messages.templates_sha256(notices.NOTES)
    assert f"stale  analyzer/parse.ja.messages (missing)  {current}" in lines
    assert f"stale  analyzer/parse.zh.messages  {current}" in lines
    assert lines[-1].endswith(" message translation(s), 2 stale")


@pytest.mark.django_db
def test_it_lists_the_parse_translations_fresh_as_committed() -> None:
    out = StringIO()
    call_command("translation_status", stdout=out)
    lines = out.getvalue().splitlines()
    current = messages.templates_sha256(notices.NOTES)
    for lang in LANGS:
        assert f"fresh  analyzer/parse.{lang}.messages  {current}" in lines
    assert lines[-1].endswith(" message translation(s), 0 stale")


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_it_refuses_an_oversized_paste_in_the_page_language(settings, lang) -> None:
    settings.KB_MAX_MANIFEST_BYTES = 1_024
    text = "a: 1\n" + "#" * 2_000 + "\n"
    said = too_large_notice(size=len(text), limit=1_024)
    native = messages.render(_templates(lang)["too-large-input"], said["message_args"])
    response = _post(lang, text)
    assert response.status_code == 413
    page = response.content.decode()
    assert f"<p>{html_lib.escape(native)}</p>" in page
    assert "the limit is 1,024 bytes" not in page
    empty = _post(lang, "  \n").content.decode()
    assert "Paste a manifest or choose a file" not in empty
    assert (KANA if lang == "ja" else HAN).search(empty.split('role="alert"', 1)[1][:300])
    api = Client().post("/api/analyze/", text, content_type="application/yaml")
    assert api.status_code == 413
    assert api.json()["error"] == (
        "The manifest is 2,006 bytes; the limit is 1,024 bytes (1.024 kB). Split it into smaller"
        " files and analyse them one by one."
    )
