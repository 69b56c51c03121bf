"""The curated articles in articles/: schema, structure, copy-ready fixes, findability."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ARTICLES_DIR = Path(__file__).resolve().parents[2] / "articles"

CURATED_SLUGS = {
    "nginx-envsubst-argument-list-too-long",
    "httpd-network-docroot-sendfile-mmap",
    "aks-virtual-node-azure-files-pvc",
    "nfs-efs-mount-options",
    "php-opcache-hugepages",
    "php-upload-tmp-dir",
    "configmap-subpath-no-update",
    "nas-hostpath-mount-race",
    "kubelet-max-pods",
    "client-source-ip-external-traffic-policy",
    "run-as-non-root",
}
SECTIONS = ["Symptoms", "Cause", "Fix", "Confirm", "Prevent", "References"]
KANA = re.compile("[\u3040-\u30ff]")
HAN = re.compile("[\u4e00-\u9fff]")
URL = re.compile(r"^https?://[^\s/]+\.[^\s]+$")


def _split(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    assert match, f"{path.name}: no front matter"
    return yaml.load(match.group(1), Loader=yaml.CSafeLoader), match.group(2)


def _section(body: str, name: str) -> str:
    match = re.search(rf"^## {name}\s*$(.*?)(?=^## |\Z)", body, re.M | re.S)
    assert match, f"no ## {name} section"
    return match.group(1)


# Originals only: translations (<slug>.ja.md, <slug>.zh.md) have their own format.
ARTICLE_FILES = sorted(p for p in ARTICLES_DIR.glob("*.md") if "." not in p.stem)
ARTICLES = {path.stem: _split(path) for path in ARTICLE_FILES}


def test_it_has_exactly_the_curated_slugs() -> None:
    slugs = [meta["slug"] for meta, _ in ARTICLES.values()]
    assert len(slugs) == len(set(slugs))
    assert set(slugs) == CURATED_SLUGS
    for stem, (meta, _) in ARTICLES.items():
        assert meta["slug"] == stem, "the file name must be the slug"


@pytest.mark.parametrize("slug", sorted(CURATED_SLUGS))
def test_it_has_a_valid_front_matter(slug: str) -> None:
    meta, _ = ARTICLES[slug]
    assert isinstance(meta["title"], str) and 10 <= len(meta["title"]) <= 200
    assert meta["lang"] == "en"
    assert isinstance(meta["summary"], str) and 20 <= len(meta["summary"]) <= 400
    assert meta["tags"] and all(isinstance(t, str) and t == t.lower() for t in meta["tags"])
    keywords = meta["keywords"]
    assert set(keywords) == {"ja", "zh"}
    assert keywords["ja"] and all(isinstance(k, str) and k for k in keywords["ja"])
    assert keywords["zh"] and all(isinstance(k, str) and k for k in keywords["zh"])
    assert any(KANA.search(k) for k in keywords["ja"]), "Japanese keywords need kana somewhere"
    assert all(HAN.search(k) or not KANA.search(k) for k in keywords["zh"])
    assert meta["symptoms"] and all(isinstance(s, str) and s.strip() for s in meta["symptoms"])
    assert meta["sources"], "every article cites at least one source"
    for url in meta["sources"]:
        assert URL.match(url), url
    assert len(set(meta["sources"])) == len(meta["sources"]), "a source listed twice"
    allowed = {
        *("title", "slug", "lang", "summary", "tags"),
        *("keywords", "symptoms", "sources", "date"),
        # The troubleshooter's evidence (troubleshooter/diagnosis/knowledge.py validates it).
        *("reports", "near_misses", "mechanism"),
        "original_reports",
    }
    assert set(meta) <= allowed, set(meta) - allowed


@pytest.mark.parametrize("slug", sorted(CURATED_SLUGS))
def test_it_has_the_sections_in_order(slug: str) -> None:
    _, body = ARTICLES[slug]
    headings = re.findall(r"^## (.+?)\s*$", body, re.M)
    assert headings == SECTIONS
    assert "```" in _section(body, "Fix"), "Fix needs a copy-ready code block"
    assert "```" in _section(body, "Confirm"), "Confirm needs commands"


@pytest.mark.parametrize("slug", sorted(CURATED_SLUGS))
def test_it_has_fix_yaml_that_parses_into_kubernetes_objects(slug: str) -> None:
    _, body = ARTICLES[slug]
    blocks = re.findall(r"^```ya?ml\n(.*?)^```", _section(body, "Fix"), re.M | re.S)
    for block in blocks:
        documents = [d for d in yaml.load_all(block, Loader=yaml.CSafeLoader) if d is not None]
        assert documents
        for document in documents:
            if isinstance(document, dict) and ("kind" in document or "apiVersion" in document):
                assert document.get("apiVersion"), document
                assert document.get("kind"), document
                assert document.get("metadata", {}).get("name"), document


@pytest.mark.parametrize("slug", sorted(CURATED_SLUGS))
def test_it_finds_the_article_first_by_its_first_symptom(client, search_index, slug) -> None:
    meta, _ = ARTICLES[slug]
    response = client.get("/api/search/", {"q": meta["symptoms"][0]})
    results = response.json()["results"]
    assert results and results[0]["slug"] == slug, [r["slug"] for r in results[:3]]


@pytest.mark.parametrize("slug", sorted(CURATED_SLUGS))
def test_it_finds_the_article_by_japanese_and_chinese_keywords(client, search_index, slug):
    meta, _ = ARTICLES[slug]
    for keyword in (meta["keywords"]["ja"][0], meta["keywords"]["zh"][0]):
        response = client.get("/api/search/", {"q": keyword})
        top3 = [r["slug"] for r in response.json()["results"][:3]]
        assert slug in top3, (keyword, top3)


@pytest.mark.parametrize("slug", sorted(CURATED_SLUGS))
def test_it_serves_each_article_with_sources_and_code(client, articles, slug) -> None:
    response = client.get(f"/articles/{slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    for anchor in ("symptoms", "cause", "fix", "confirm", "prevent", "references"):
        assert f'id="{anchor}"' in html
    assert "<pre" in html
    meta, _ = ARTICLES[slug]
    assert f'href="{meta["sources"][0]}"' in html.replace("&amp;", "&")


@pytest.mark.parametrize("slug", sorted(CURATED_SLUGS))
def test_it_has_a_fix_that_our_own_analyzer_finds_no_error_in(slug: str) -> None:
    """A copy-ready fix must not be the next pitfall (the AKS fix once served nginx's
    `sendfile on` from Azure Files)."""
    from troubleshooter.analyzer.analyze import analyze_manifest

    _, body = ARTICLES[slug]
    blocks = re.findall(r"^```ya?ml\n(.*?)^```", _section(body, "Fix"), re.M | re.S)
    manifests = [b for b in blocks if "apiVersion:" in b]
    if not manifests:
        pytest.skip("no manifest in Fix (node configuration only)")
    report = analyze_manifest(text="\n---\n".join(manifests))
    assert report.objects > 0
    errors = [f for f in report.findings if f.severity == "error"]
    assert errors == [], [(f.check, f.message) for f in errors]


@pytest.mark.parametrize(
    ("pasted", "slug"),
    [
        # Current PHP falls back to madvise(); this is the warning it prints when that fails.
        (
            "PHP Warning:  Zend OPcache huge_code_pages: madvise(HUGEPAGE) failed: "
            "Invalid argument (22) in Unknown on line 0",
            "php-opcache-hugepages",
        ),
        (
            "AH00051: child pid 57 exit signal Segmentation fault (11), possible coredump in "
            "/usr/local/apache2",
            "httpd-network-docroot-sendfile-mmap",
        ),
        (
            'sendfile() reported that "/usr/share/nginx/html/app.js" was truncated at 65536',
            "httpd-network-docroot-sendfile-mmap",
        ),
        (
            "ERROR: failed to open error_log (/proc/self/fd/2): Permission denied (13)",
            "run-as-non-root",
        ),
        ('violates PodSecurity "restricted:latest"', "run-as-non-root"),
        ("0/3 nodes are available: 3 Insufficient pods.", "kubelet-max-pods"),
    ],
)
def test_it_finds_the_errors_users_paste_that_the_articles_once_omitted(
    client, search_index, pasted, slug
) -> None:
    results = client.get("/api/search/", {"q": pasted}).json()["results"]
    assert results and results[0]["slug"] == slug, [r["slug"] for r in results[:3]]
