"""The note that counts dropped notes ("N more notes like '...'") quotes the first dropped note
in the page's language, from that note's own templates; JSON, SARIF and the CLI keep the English.
"""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest
from django.test import Client

from troubleshooter.analyzer import analyze_manifest, messages, notices, suppress

KANA = re.compile("[\u3040-\u30ff]")
HAN = re.compile("[\u4e00-\u9fff]")
BCP47 = {"ja": "ja", "zh": "zh-Hans"}

# 61 `a:` keys (lines 4 to 64): 60 duplicate-key notes, 50 shown (the default cap), 10 counted.
# The first one dropped is the 51st duplicate, at line 55; the `a:` before it is at line 54.
DUPLICATES = "kind: ConfigMap\nmetadata: {name: many}\ndata:\n" + "  a: x\n" * 61
# 55 comments without a reason: suppression notes (suppress.NOTES, their own templates).
NO_REASON = "kind: ConfigMap\nmetadata: {name: quiet}\ndata:\n" + "".join(
    f"  k{n}: v  # kb-ignore: run-as-non-root\n" for n in range(55)
)

# What the quoted note says, written out here rather than rendered by the code under test.
QUOTED = {
    "ja": "\u300cキー 'a' が重複しています（最初は 54 行目）。分析には後のほうを使いますが、"
    "kubectl はこのマニフェストを拒否することがあります\u300d",
    "zh": "\u201c键 'a' 重复（第一次出现在第 54 行）；"
    "分析时采用后一个，kubectl 可能会拒绝这份清单\u201d",
}
QUOTED_SUPPRESSION = {
    "ja": "\u300c理由のない kb-ignore は適用されません\u300d",
    "zh": None,  # filled from the zh suppress templates below (checked to be Chinese)
}


def _post(lang: str, text: str) -> str:
    response = Client().post(
        f"/analyze/?lang={lang}", {"manifest": text}, HTTP_ACCEPT_LANGUAGE=lang
    )
    assert response.status_code == 200
    return response.content.decode()


def _more_notes(text: str):
    (note,) = [e for e in analyze_manifest(text=text).errors if e.message_key == "more-notes"]
    return note


def _shown(lang: str, note, quoted: str) -> str:
    """The more-notes template of `lang` with the quotation in place of the English one."""
    template = messages.load_notes("parse", notices.NOTES, lang).templates["more-notes"]
    return messages.render(template, {**note.message_args, "first": quoted})


def test_it_keeps_the_english_note_word_for_word() -> None:
    note = _more_notes(DUPLICATES)
    assert note.message == (
        "10 more notes like \"duplicate key 'a' (first at line 54); the last one is analysed,"
        ' and kubectl may " (line 55) were dropped; the first 50 of that kind are shown'
    )
    # The quoted note's key and values ride along for the pages, in args only.
    assert note.message_args["first.note"] == "duplicate-key"
    assert note.message_args["first:key"] == "'a'"
    assert note.message_args["first:first_line"] == "54"


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_it_quotes_the_dropped_note_in_the_page_language(lang) -> None:
    note = _more_notes(DUPLICATES)
    page = _post(lang, DUPLICATES)
    native = html_lib.escape(_shown(lang, note, QUOTED[lang]))
    assert html_lib.escape(QUOTED[lang]) in native
    assert page.count(f'<span class="message" lang="{BCP47[lang]}">{native}</span>') == 1
    # Neither the English sentence nor its English quotation is left on the page.
    assert "more notes like" not in page
    assert "the last one is analysed" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_it_quotes_a_suppression_note_from_the_suppression_templates(lang) -> None:
    note = _more_notes(NO_REASON)
    assert note.message_args["first.note"] == "inline-without-reason"
    quoted = QUOTED_SUPPRESSION[lang]
    if quoted is None:
        template = messages.load_notes("suppress", suppress.NOTES, lang).templates[
            "inline-without-reason"
        ]
        assert HAN.search(template)
        quoted = "\u201c" + template + "\u201d"
    page = _post(lang, NO_REASON)
    native = html_lib.escape(_shown(lang, note, quoted))
    assert page.count(f'<span class="message" lang="{BCP47[lang]}">{native}</span>') == 1
    assert "kb-ignore without a reason" not in page


@pytest.mark.django_db
def test_it_quotes_a_long_note_cut_like_the_english() -> None:
    key = "k" * 300
    text = "kind: ConfigMap\nmetadata: {name: long}\ndata:\n" + f"  {key}: x\n" * 61
    note = _more_notes(text)
    # Each value is kept only as long as the quotation can show.
    assert len(note.message_args["first:key"]) == 80
    page = _post("ja", text)
    quoted = "\u300cキー '" + "k" * 76 + "\u2026\u300d"
    assert len(quoted) == 83  # the corner brackets, 80 characters and the ellipsis
    assert html_lib.escape(_shown("ja", note, quoted)) in page


@pytest.mark.django_db
def test_it_keeps_the_english_quotation_on_an_english_page() -> None:
    note = _more_notes(DUPLICATES)
    page = _post("en", DUPLICATES)
    assert f'<span class="message" lang="en">{html_lib.escape(note.message)}</span>' in page
    assert not KANA.search(note.message)


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_it_keeps_json_and_sarif_in_english(client, lang) -> None:
    note = _more_notes(DUPLICATES)
    plain = client.post(
        f"/api/analyze/?lang={lang}",
        DUPLICATES,
        content_type="application/yaml",
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    errors = json.loads(plain.content)["errors"]
    assert errors[-1]["message"] == note.message
    assert not any("first.note" in json.dumps(error) for error in errors)
    assert not KANA.search(plain.content.decode()) and not HAN.search(plain.content.decode())
    sarif = client.post(
        f"/api/analyze/?format=sarif&lang={lang}",
        DUPLICATES,
        content_type="application/yaml",
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    body = sarif.content.decode()
    assert "more notes like" in body
    assert not KANA.search(body) and not HAN.search(body)
