"""The source write-ups as first-class articles: readable slugs, real titles, tags, images,
no server paths, links both ways with the curated articles, found by their own errors; and
what an import does to an article that moves or is withdrawn."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from kb.importer import import_paths
from kb.models import Article, SlugHistory
from kb.search import rebuild_index, search_articles

# Beside the repository, or where KB_SEEDS_DIR says (as in tests/conftest.py).
SEEDS_DIR = Path(
    os.environ.get("KB_SEEDS_DIR") or Path(__file__).resolve().parents[3] / "shared" / "seeds"
).resolve()
SEED_SLUGS = {
    "000": "aks-httpd-azure-files",
    "001": "kubernetes-service-nginx",
    "002": "aci-pod-readwritemany-azure-files",
    "003": "lambda-efs",
    "004": "php-k8s",
}


def _by_prefix(seeds) -> dict[str, Article]:
    return {Path(a.source_path).name[:3]: a for a in seeds}


def test_it_gives_the_write_ups_readable_slugs_and_real_titles(seeds) -> None:
    found = _by_prefix(seeds)
    assert {prefix: a.slug for prefix, a in found.items()} == SEED_SLUGS
    # 002's scrape lost its title; a body sentence ("今回、…を記事にしました") is not one.
    title = found["002"].title
    assert not title.startswith("今回") and not title.endswith("記事にしました")
    assert "Azure Files" in title


def test_it_infers_tags_from_the_text(seeds) -> None:
    found = _by_prefix(seeds)
    assert "nginx" in found["001"].tags and "kubernetes" in found["001"].tags
    assert {"efs", "lambda"} <= set(found["003"].tags)
    assert all(a.tags for a in seeds)


def test_it_shows_the_title_once(client, seeds) -> None:
    for article in seeds:
        html = client.get(article.get_absolute_url()).content.decode()
        blocks = re.findall(r"<(h[1-6]|p)\b[^>]*>(.*?)</\1>", html, re.S)
        texts = [" ".join(re.sub(r"<[^>]+>|#$", "", inner).split()) for _, inner in blocks]
        standalone = [text for text in texts if text.rstrip("#。. ") == article.title]
        assert len(standalone) == 1, (article.slug, standalone)


def test_it_never_requests_an_image_from_anywhere(client, seeds) -> None:
    php = _by_prefix(seeds)["004"]
    html = client.get(php.get_absolute_url()).content.decode()
    # Our own icon in the header is the only image: nothing the write-up pointed at.
    assert re.findall(r'<img [^>]*src="([^"]*)"', html) == ["/static/favicon.svg"]
    assert html.count('class="image-missing"') >= 5
    assert "Image not included: meminfo" in html


def test_it_shows_no_server_path(client, seeds) -> None:
    root = str(Path(seeds[0].source_root))
    for article in seeds:
        html = client.get(article.get_absolute_url()).content.decode()
        assert root not in html and "Imported from /" not in html, article.slug


def test_it_links_curated_articles_and_write_ups_both_ways(client, seeds) -> None:
    html = client.get("/articles/nginx-envsubst-argument-list-too-long/").content.decode()
    section = html.split('id="original-reports"', 1)[1].split("</section>", 1)[0]
    assert 'href="/articles/kubernetes-service-nginx/"' in section
    assert 'title="language">ja<' in section
    back = client.get("/articles/kubernetes-service-nginx/").content.decode()
    assert 'href="/articles/nginx-envsubst-argument-list-too-long/"' in back
    php = client.get("/articles/php-k8s/").content.decode()
    assert php.count('href="/articles/php-') >= 2  # the write-up backs several articles


def test_it_lists_the_write_up_that_quotes_the_error(client, full_index) -> None:
    results = client.get("/api/search/", {"q": "envsubst: Argument list too long"}).json()
    slugs = [r["slug"] for r in results["results"]]
    assert slugs[0] == "nginx-envsubst-argument-list-too-long"
    assert "kubernetes-service-nginx" in slugs


def test_it_redirects_an_old_slug_to_the_new_one(client, tmp_path, db) -> None:
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "2019-07-19-k8s.md").write_text("# PHP on Kubernetes: what broke\n\nNotes.\n")
    import_paths([folder])
    assert Article.objects.get().slug == "2019-07-19-k8s"
    report = import_paths([folder], slug_from="title")
    assert report.renamed == [("2019-07-19-k8s", "php-on-kubernetes-what-broke")]
    response = client.get("/articles/2019-07-19-k8s/")
    assert response.status_code == 301
    assert response["Location"] == "/articles/php-on-kubernetes-what-broke/"
    assert client.get(response["Location"]).status_code == 200
    assert Article.objects.count() == 1
    # The slug is reused by a new document: the redirect gives way.
    (folder / "second.md").write_text("---\nslug: 2019-07-19-k8s\n---\n# Second\n\nText.\n")
    import_paths([folder], slug_from="title")
    assert not SlugHistory.objects.filter(old_slug="2019-07-19-k8s").exists()
    assert client.get("/articles/2019-07-19-k8s/").status_code == 200


@pytest.mark.parametrize("prune", [False, True])
def test_it_takes_down_an_article_marked_published_false(client, tmp_path, db, prune) -> None:
    folder = tmp_path / "posts"
    folder.mkdir()
    post = folder / "post.md"
    post.write_text("---\nslug: wobbly-widgets\n---\n# Wobbly widgets\n\nThey wobble.\n")
    (folder / "other.md").write_text("---\nslug: other\n---\n# Other\n\nSteady.\n")
    import_paths([folder])
    rebuild_index()
    assert client.get("/articles/wobbly-widgets/").status_code == 200
    post.write_text(
        "---\nslug: wobbly-widgets\npublished: false\n---\n# Wobbly widgets\n\nThey wobble.\n"
    )
    report = import_paths([folder], prune=prune)
    rebuild_index()
    assert report.unpublished == ["wobbly-widgets"]
    assert client.get("/articles/wobbly-widgets/").status_code == 404
    assert [h.slug for h in search_articles("wobble")] == []
    assert Article.objects.filter(slug="other").exists()
    # Published again: back.
    post.write_text("---\nslug: wobbly-widgets\n---\n# Wobbly widgets\n\nThey wobble.\n")
    import_paths([folder], prune=prune)
    assert client.get("/articles/wobbly-widgets/").status_code == 200


def test_it_takes_seeds_as_they_are(tmp_path, db) -> None:
    """A copy of a write-up folder imports the same way (nothing depends on where it lives)."""
    if not SEEDS_DIR.is_dir():
        pytest.skip("the seeds folder is not beside the repository")
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, copy)
    report = import_paths([copy], slug_from="title")
    assert report.failed == []
    assert set(Article.objects.values_list("slug", flat=True)) == set(SEED_SLUGS.values())
