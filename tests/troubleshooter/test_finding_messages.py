"""Finding messages in Japanese and Chinese: checks/docs/<id>.<lang>.messages.yaml on the report."""

from __future__ import annotations

import html as html_lib
import json
import re
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from troubleshooter.analyzer import analyze_manifest, messages, notices, registry, suppress

KANA = re.compile("[\u3040-\u30ff]")
HAN = re.compile("[\u4e00-\u9fff]")
BCP47 = {"ja": "ja", "zh": "zh-Hans"}
KUBELET = registry.get("kubelet-max-pods")
TRANSLATED = sorted(
    (module for module in registry.all_checks() if messages.check_messages(module)),
    key=lambda module: module.ID,
)


def _code_html(text: str) -> str:
    """A message as the page writes it: escaped, `backticks` as <code>."""
    escaped = html_lib.escape(text, quote=False)
    return re.sub(r"`([^`\n]{1,300})`", r"<code>\1</code>", escaped)


def _kubelet_finding():
    report = analyze_manifest(text=KUBELET.FAILING_EXAMPLE)
    (finding,) = [f for f in report.findings if f.check == KUBELET.ID]
    return finding


def _native(finding, lang: str) -> str:
    """The kubelet finding said from its ja or zh templates, the phrase for its range included."""
    templates = messages.load_messages(KUBELET, lang).templates
    phrase = {k[len("range.") :]: v for k, v in finding.message_args.items() if "." in k}
    args = {**finding.message_args, "range": messages.render(templates[phrase["key"]], phrase)}
    return messages.render(templates[finding.message_key], args)


def _analyze(client, lang: str) -> str:
    response = client.post(
        f"/analyze/?lang={lang}", {"manifest": KUBELET.FAILING_EXAMPLE}, HTTP_ACCEPT_LANGUAGE=lang
    )
    assert response.status_code == 200
    return response.content.decode()


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "manifests"


def test_it_builds_every_checks_messages_from_templates() -> None:
    assert sorted(registry.all_checks(), key=lambda module: module.ID) == TRANSLATED


# Manifests for the branches the checks' own fixtures do not reach.
MESSAGE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "messages"


def _fixture_reports():
    """Reports of every check's fixture manifests, failing examples and MESSAGE_FIXTURES."""
    paths = sorted(FIXTURES.glob("*/*.yaml")) + sorted(MESSAGE_FIXTURES.glob("*.yaml"))
    texts = [path.read_text() for path in paths]
    texts += [module.FAILING_EXAMPLE for module in registry.all_checks()]
    texts += [_nginx_with_long_names(count) for count in (2, 4)]
    return [analyze_manifest(text=text) for text in texts]


def _nginx_with_long_names(count: int) -> str:
    """nginx's failing example with `count` variables of 40 000-character names: two pass
    half of the kernel's argument limit, four pass the limit (too large for a fixture file)."""
    example = registry.get("nginx-envsubst-argument-list-too-long").FAILING_EXAMPLE
    env = "".join(f"        - {{name: {letter * 40_000}, value: x}}\n" for letter in "ABCD"[:count])
    return example.replace("      volumeMounts:", "      env:\n" + env + "      volumeMounts:")


def test_it_can_say_every_template_of_every_check_in_japanese_and_chinese() -> None:
    """Every key a check or a suppression note uses is reached by a fixture and said in ja
    and zh (a template with a typo, or one no test reaches, fails here)."""
    said = set()
    notes = {lang: messages.load_notes("suppress", suppress.NOTES, lang) for lang in BCP47}
    # Notes about the input itself (duplicates...): test_parse_messages.py reaches every code.
    input_notes = {lang: messages.load_notes("parse", notices.NOTES, lang) for lang in BCP47}
    for report in _fixture_reports():
        for finding in report.findings:
            module = registry.get(finding.check)
            for lang in BCP47:
                shown = messages.localized_message(
                    module,
                    key=finding.message_key,
                    args=finding.message_args,
                    english=finding.message,
                    lang=lang,
                )
                assert shown.lang == lang, (finding.check, finding.message_key, lang)
            said.update((finding.check, key) for key in finding.message_key.split())
            # Phrases said inside a message (see messages.Phrase) count as said too.
            said.update(
                (finding.check, key)
                for name, value in finding.message_args.items()
                if name.endswith(".key")
                for key in value.split()
            )
        for note in report.notes():
            owner = "suppress" if note.message_key in suppress.NOTES else "parse"
            for lang in BCP47:
                shown = messages.translated_message(
                    (notes if owner == "suppress" else input_notes)[lang],
                    key=note.message_key,
                    args=note.message_args,
                    english=note.message,
                )
                assert shown.lang == lang, (note.message_key, lang)
            said.add((owner, note.message_key))
    every = {(module.ID, key) for module in TRANSLATED for key in module.MESSAGES}
    every |= {("suppress", key) for key in suppress.NOTES}
    assert every - said == set()


def test_it_keeps_the_english_of_the_rarer_branches_word_for_word() -> None:
    texts = {path.stem: path.read_text() for path in MESSAGE_FIXTURES.glob("*.yaml")}
    (finding,) = analyze_manifest(text=texts["hugepages-volume-size-not-requested"]).findings
    assert finding.message == (
        "Volume 'huge' uses medium HugePages-1Gi, but the pod only requests hugepages-2Mi: the"
        " kubelet cannot set up the volume and the pod stays in ContainerCreating."
    )
    (finding,) = analyze_manifest(text=texts["seven-web-pods-behind-a-load-balancer"]).findings
    assert "Deployment/web3, Deployment/web4 and 2 more) see node or bridge IPs" in finding.message
    notes = analyze_manifest(text=texts["suppression-notes"]).notes()
    assert [note.message for note in notes[:2]] == [
        "kb-ignore needs `# kb-ignore: check-id reason`",
        "kb.troubleshooter/ignore: unknown check 'a1'",
    ]
    assert "kb.troubleshooter/ignore: 2 more unknown check ids" in [n.message for n in notes]


@pytest.mark.parametrize("lang", ["ja", "zh"])
@pytest.mark.parametrize("module", TRANSLATED, ids=lambda module: module.ID)
def test_it_has_a_current_native_template_for_every_message_key(module, lang) -> None:
    translation = messages.load_messages(module, lang)
    assert translation is not None, f"checks/docs/{module.ID}.{lang}.messages.yaml is missing"
    assert not translation.stale, (
        f"{module.ID}.{lang}.messages.yaml: translated_from should be {translation.current}"
    )
    english = messages.check_messages(module)
    assert set(translation.templates) == set(english)
    for key, template in translation.templates.items():
        # The same values, each used: a translation never drops a number or a name.
        assert messages.template_fields(template) == messages.template_fields(english[key]), key
        if lang == "ja":
            assert KANA.search(template), (module.ID, key)
        else:
            assert HAN.search(template) and not KANA.search(template), (module.ID, key)


@pytest.mark.parametrize("module", TRANSLATED, ids=lambda module: module.ID)
def test_it_builds_the_example_findings_from_the_checks_templates(module) -> None:
    report = analyze_manifest(text=module.FAILING_EXAMPLE)
    findings = [f for f in report.findings if f.check == module.ID]
    assert findings
    english = messages.check_messages(module)
    for finding in findings:
        keys = (finding.message_key or "").split()
        assert keys and set(keys) <= set(english), finding.message_key
        rebuilt = " ".join(messages.render(english[key], finding.message_args) for key in keys)
        assert rebuilt == finding.message


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_it_shows_the_report_messages_in_the_page_language(client, lang) -> None:
    finding = _kubelet_finding()
    native = _native(finding, lang)
    assert "maxPods: 400" in native and "{" not in native
    page = _analyze(client, lang)
    tag = BCP47[lang]
    # Once in the summary by object, once pinned under the line.
    assert page.count(f'<span class="message" lang="{tag}">{_code_html(native)}</span>') == 1
    assert page.count(f'<p class="message" lang="{tag}">{_code_html(native)}</p>') == 1
    assert _code_html(finding.message) not in page


def test_it_shows_english_messages_on_an_english_report(client) -> None:
    finding = _kubelet_finding()
    page = _analyze(client, "en")
    assert page.count(f'<p class="message" lang="en">{_code_html(finding.message)}</p>') == 1
    assert not KANA.search(page.split('class="finding-list"', 1)[1])


@pytest.mark.parametrize(
    "template",
    [
        None,  # no template for the key
        "maxPods: {max_pods} と {missing}",  # a value the finding does not have
        "maxPods: {max_pods.__class__}",  # attribute access
        "maxPods: {max_pods!r}",  # conversion
        "maxPods: {max_pods:>10}",  # format spec
        "maxPods: {0}",  # positional
        "maxPods: {max_pods",  # unbalanced
    ],
)
def test_it_falls_back_to_english_when_a_template_is_missing_or_unusable(
    client, monkeypatch, tmp_path, template
) -> None:
    finding = _kubelet_finding()
    lines = [f"translated_from: {messages.english_messages_sha256(KUBELET)}", "messages:"]
    lines.append('  above-default: "既定値を超えています。"')
    if template is not None:
        lines.append(f"  {finding.message_key}: {json.dumps(template, ensure_ascii=False)}")
    (tmp_path / f"{KUBELET.ID}.ja.messages.yaml").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(messages, "DOCS_DIR", tmp_path)
    page = _analyze(client, "ja")
    english = _code_html(finding.message)
    assert page.count(f'<span class="message" lang="en">{english}</span>') == 1
    assert page.count(f'<p class="message" lang="en">{english}</p>') == 1
    assert "__class__" not in page and "{missing}" not in page


@pytest.mark.parametrize(
    "text",
    [
        "",
        "- a list\n",
        "messages: [1, 2]\n",
        "messages:\n  over-range: [not, text]\n",
        "{{{{ not yaml\n",
        "messages:\n  over-range: " + '"' + "x" * 3000 + '"\n',
    ],
)
def test_it_reads_a_malformed_messages_file_as_no_templates(tmp_path, text) -> None:
    (tmp_path / f"{KUBELET.ID}.zh.messages.yaml").write_text(text)
    translation = messages.load_messages(KUBELET, "zh", docs_dir=tmp_path)
    assert translation is not None
    assert translation.templates == {} and translation.stale


def test_it_keeps_english_messages_and_the_schema_in_json_and_sarif(client) -> None:
    finding = _kubelet_finding()
    plain = client.post(
        "/api/analyze/?lang=ja",
        KUBELET.FAILING_EXAMPLE,
        content_type="application/yaml",
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    (item,) = [f for f in json.loads(plain.content)["findings"] if f["check"] == KUBELET.ID]
    assert item["message"] == finding.message
    assert not any(key.startswith("message_") for key in item)
    assert not KANA.search(plain.content.decode())
    sarif = client.post(
        "/api/analyze/?format=sarif&lang=zh",
        KUBELET.FAILING_EXAMPLE,
        content_type="application/yaml",
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    results = json.loads(sarif.content)["runs"][0]["results"]
    assert {"text": finding.message} in [result["message"] for result in results]
    assert not HAN.search(sarif.content.decode())


@pytest.fixture
def changed_template(monkeypatch):
    """kubelet-max-pods after a writer reworded one English template."""
    changed = dict(KUBELET.MESSAGES)
    changed["above-default"] = changed["above-default"].replace("load-test", "stress-test")
    monkeypatch.setattr(KUBELET, "MESSAGES", changed)
    return KUBELET


def test_it_makes_the_translations_stale_when_an_english_template_changes(
    changed_template,
) -> None:
    for lang in ("ja", "zh"):
        translation = messages.load_messages(changed_template, lang)
        assert translation.stale
        assert translation.current == messages.english_messages_sha256(changed_template)


@pytest.mark.django_db
def test_it_lists_stale_message_translations_with_the_digest_to_update_to(
    changed_template,
) -> None:
    out = StringIO()
    call_command("translation_status", "--stale", stdout=out)
    lines = out.getvalue().splitlines()
    current = messages.english_messages_sha256(changed_template)
    assert f"stale  checks/{KUBELET.ID}.ja.messages  {current}" in lines
    assert f"stale  checks/{KUBELET.ID}.zh.messages  {current}" in lines
    assert lines[-1] == f"{2 * (len(TRANSLATED) + 2)} message translation(s), 2 stale"


@pytest.mark.django_db
def test_it_lists_every_message_translation_fresh_as_committed() -> None:
    out = StringIO()
    call_command("translation_status", "--stale", stdout=out)
    assert out.getvalue().splitlines()[-1].endswith(" message translation(s), 0 stale")


def test_it_refuses_a_check_whose_template_is_not_plain() -> None:
    bad = SimpleNamespace(MESSAGES={"too-many": "{count.real} pods", "Bad_Key": "x"})
    problems = messages.validate_messages(bad)
    assert len(problems) == 2
    good = SimpleNamespace(MESSAGES={"too-many": "{count} pods, {{literal}}"})
    assert messages.validate_messages(good) == []
    assert messages.render("{count} pods, {{literal}}", {"count": "3"}) == "3 pods, {literal}"


def test_it_joins_a_multi_line_template_as_each_script_wants() -> None:
    text = "maxPods: {max_pods} は\n`podCIDR` を超えています。\nhost-local は\n範囲を使います。"
    assert messages._join_lines(text) == (
        "maxPods: {max_pods} は `podCIDR` を超えています。host-local は範囲を使います。"
    )


@pytest.mark.parametrize("lang", ["ja", "zh"])
@pytest.mark.parametrize("module", TRANSLATED, ids=lambda module: module.ID)
def test_it_shows_a_check_pages_example_findings_in_the_page_language(client, module, lang):
    page = client.get(f"/checks/{module.ID}/", {"lang": lang}).content.decode()
    findings = page.split('class="example-findings"', 1)[1].split("</ul>", 1)[0]
    assert findings.count(f'<span class="message" lang="{BCP47[lang]}">') >= 1
    assert 'class="message" lang="en"' not in findings
    english = client.get(f"/checks/{module.ID}/", {"lang": "en"}).content.decode()
    findings = english.split('class="example-findings"', 1)[1].split("</ul>", 1)[0]
    assert 'class="message" lang="en"' in findings and not KANA.search(findings)


@pytest.mark.django_db
def test_it_shows_a_shared_report_in_each_readers_language(client) -> None:
    response = client.post("/analyze/share/", {"manifest": KUBELET.FAILING_EXAMPLE})
    assert response.status_code == 302
    url = response["Location"]
    finding = _kubelet_finding()
    for lang, accept in (("ja", "ja"), ("zh", "zh-CN,zh;q=0.9"), ("en", "en")):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=accept).content.decode()
        native = finding.message if lang == "en" else _native(finding, lang)
        tag = BCP47.get(lang, "en")
        assert page.count(f'<p class="message" lang="{tag}">{_code_html(native)}</p>') == 1, lang


NOTED = """apiVersion: v1
kind: ConfigMap
metadata:
  name: settings  # kb-ignore: no-such-check because
  annotations:
    kb.troubleshooter/ignore: "no reason given"
data: {}
"""


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_it_has_a_current_native_template_for_every_suppression_note(lang) -> None:
    translation = messages.load_notes("suppress", suppress.NOTES, lang)
    assert translation is not None and not translation.stale, translation
    assert set(translation.templates) == set(suppress.NOTES)
    for key, template in translation.templates.items():
        assert messages.template_fields(template) == messages.template_fields(suppress.NOTES[key])
        assert (KANA if lang == "ja" else HAN).search(template), key


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_it_shows_notes_about_suppressions_in_the_page_language(client, lang) -> None:
    report = analyze_manifest(text=NOTED)
    assert [note.message_key for note in report.notes()] == ["unknown-check", "annotation-form"]
    templates = messages.load_notes("suppress", suppress.NOTES, lang).templates
    response = client.post(f"/analyze/?lang={lang}", {"manifest": NOTED}, HTTP_ACCEPT_LANGUAGE=lang)
    page = response.content.decode()
    for note in report.notes():
        native = messages.render(templates[note.message_key], note.message_args)
        escaped = html_lib.escape(native)
        assert page.count(f'<span class="message" lang="{BCP47[lang]}">{escaped}</span>') == 1
        assert page.count(f'<span lang="{BCP47[lang]}">{escaped}</span>') == 1
        assert html_lib.escape(note.message) not in page
    plain = client.post("/api/analyze/", NOTED, content_type="application/yaml")
    errors = json.loads(plain.content)["errors"]
    assert [error["message"] for error in errors] == [note.message for note in report.notes()]


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_it_says_a_phrase_inside_a_message_in_the_page_language(lang) -> None:
    finding = _kubelet_finding()
    assert finding.message_args["range.key"] == "range-from-node"
    english = finding.message_args["range"]
    assert (
        english == "10.244.1.0/24, from Node worker-1 spec.podCIDR" and english in finding.message
    )
    shown = messages.localized_message(
        KUBELET,
        key=finding.message_key,
        args=finding.message_args,
        english=finding.message,
        lang=lang,
    )
    assert shown == messages.ShownMessage(text=_native(finding, lang), lang=lang)
    assert english not in shown.text and "10.244.1.0/24" in shown.text and "worker-1" in shown.text


def test_it_falls_back_to_english_when_a_phrase_has_no_template(monkeypatch, tmp_path) -> None:
    finding = _kubelet_finding()
    source = messages.messages_path(KUBELET.ID, "ja").read_text()
    (tmp_path / f"{KUBELET.ID}.ja.messages.yaml").write_text(
        source.replace("  range-from-node: |-", "  range-something-else: |-")
    )
    shown = messages.localized_message(
        KUBELET,
        key=finding.message_key,
        args=finding.message_args,
        english=finding.message,
        lang="ja",
        docs_dir=tmp_path,
    )
    assert shown == messages.ShownMessage(text=finding.message, lang="en")
