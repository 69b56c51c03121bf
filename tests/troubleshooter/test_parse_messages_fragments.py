"""English fragments inside translated messages (where a setting came from, what backs a
volume, how an NFS volume is mounted) are said in ja and zh too, and stay English in JSON."""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

import pytest
from django.test import Client

from troubleshooter.analyzer import analyze_manifest, messages, registry
from troubleshooter.analyzer.model import LOCAL_STORAGE_PHRASES, NETWORK_STORAGE_PHRASES

HTTPD = registry.get("httpd-network-docroot-sendfile-mmap")
NFS = registry.get("nfs-efs-mount-options")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEXTS = [
    path.read_text()
    for folder in (HTTPD.ID, NFS.ID)
    for path in sorted((FIXTURES / "manifests" / folder).glob("fail_*.yaml"))
] + [
    (FIXTURES / "messages" / name).read_text()
    for name in ("httpd-directory-block-on-azure-file.yaml", "nfs-csi-volumes.yaml")
]
# Words of the fragments' English templates that are not names: none may reach a ja/zh page.
ENGLISH = re.compile(
    r"\b(?:via|default|key|line|built-in|claim template|ephemeral volume|looks like|stock"
    r"|in ConfigMap|provisioner|server|driver)\b"
)
BCP47 = {"ja": "ja", "zh": "zh-Hans"}


def _findings():
    for text in TEXTS:
        for finding in analyze_manifest(text=text).findings:
            if finding.check in (HTTPD.ID, NFS.ID):
                yield finding


def test_it_keeps_every_fragment_of_the_english_message_in_a_phrase() -> None:
    phrases = 0
    for finding in _findings():
        keys = [v for n, v in finding.message_args.items() if n.endswith(".key")]
        # The storage, origin or target is always a phrase (an inline volume has none).
        assert keys or finding.message_key == "inline-efs", finding.message
        phrases += len(keys)
    assert phrases >= 10
    # One storage phrase can be any network one; the local ones are never said by a check.
    assert not set(LOCAL_STORAGE_PHRASES) & set(HTTPD.MESSAGES)
    assert set(NETWORK_STORAGE_PHRASES) <= set(HTTPD.MESSAGES)


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_it_says_storage_origins_and_targets_in_the_page_language(lang) -> None:
    said = 0
    for finding in _findings():
        shown = messages.localized_message(
            registry.get(finding.check),
            key=finding.message_key,
            args=finding.message_args,
            english=finding.message,
            lang=lang,
        )
        assert shown.lang == lang, finding.message
        # Values (names, paths: no spaces) stay; the fragments' English words do not.
        rest = shown.text
        for name, value in sorted(finding.message_args.items(), key=lambda item: -len(item[1])):
            if not name.endswith(".key") and ("." in name or " " not in value):
                rest = rest.replace(value, "")
        assert not ENGLISH.search(rest), shown.text
        said += 1
    assert said >= 6


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_it_shows_the_translated_fragments_on_the_analyzer_page(lang) -> None:
    text = (FIXTURES / "messages" / "httpd-directory-block-on-azure-file.yaml").read_text()
    (finding,) = [f for f in analyze_manifest(text=text).findings if f.check == HTTPD.ID]
    native = messages.localized_message(
        HTTPD,
        key=finding.message_key,
        args=finding.message_args,
        english=finding.message,
        lang=lang,
    ).text
    assert "<Directory /usr/local/apache2/htdocs>" in native and "azureFile" in native
    page = (
        Client()
        .post(f"/analyze/?lang={lang}", {"manifest": text}, HTTP_ACCEPT_LANGUAGE=lang)
        .content.decode()
    )
    assert f'lang="{BCP47[lang]}">{html_lib.escape(native, quote=False)}<' in page
    assert "in ConfigMap brochure-httpd" not in page
    api = Client().post("/api/analyze/", text, content_type="application/yaml")
    (item,) = [f for f in json.loads(api.content)["findings"] if f["check"] == HTTPD.ID]
    assert item["message"] == (
        "httpd serves DocumentRoot /usr/local/apache2/htdocs from volume 'pages' on Azure Files"
        " (azureFile) with EnableMMAP On (<Directory /usr/local/apache2/htdocs> in ConfigMap"
        " brochure-httpd, line 40) and EnableSendfile On (<Directory /usr/local/apache2/htdocs>"
        " in ConfigMap brochure-httpd, line 41). mmap can crash httpd (SIGBUS) when a mapped file"
        " changes. sendfile can send stale or mangled content."
    )
