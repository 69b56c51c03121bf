"""The tree's neighbours: not-covered mechanisms that say what they look like compete with the
articles, so a text that is a neighbour's is refused with the neighbour's advice.

The trees here are the real tree file plus one neighbour written in the test; the causes are
the curated articles.
"""

import textwrap
from pathlib import Path

import pytest

from troubleshooter.diagnosis import TreeError, diagnose, load_articles_dir
from troubleshooter.diagnosis.knowledge import NEIGHBOUR_PREFIX, neighbours_of
from troubleshooter.diagnosis.tree import DEFAULT_TREE_FILES, load_tree

ROOT = Path(__file__).resolve().parents[3]
KNOWLEDGE = load_articles_dir(ROOT / "articles")

# A made-up neighbour of the upload article: the web server's own body size limit.
NEIGHBOUR = textwrap.dedent(
    """\
    nodes:
      - id: proxy-body-size-limit
        kind: not-covered
        title: {en: The web server refused a request body over its size limit}
        advice: {en: Raise client_max_body_size in the server or the ingress annotation.}
        symptoms:
          - "client intended to send too large body: {n} bytes"
        reports:
          en: ["uploads over one megabyte fail with 413 Request Entity Too Large from nginx"]
          ja: ["1MB を超えるファイルのアップロードが nginx の 413 で失敗する"]
        mechanism:
          component: [nginx, ingress]
          effect: ["413", too large]
        sources: [https://nginx.org/en/docs/http/ngx_http_core_module.html#client_max_body_size]
    """
)


def tree_with(tmp_path, text=NEIGHBOUR):
    extra = tmp_path / "neighbour.yaml"
    extra.write_text(text, encoding="utf-8")
    return load_tree([*DEFAULT_TREE_FILES, extra])


def test_a_neighbour_is_read_with_its_evidence_and_needs_no_signature(tmp_path):
    tree = tree_with(tmp_path)
    node = tree.node("proxy-body-size-limit")
    assert node.looks_like and node.symptoms and node.reports["ja"]
    assert node.mechanism["component"] == ("nginx", "ingress")
    (cause,) = [c for c in neighbours_of(tree) if c.slug.endswith("proxy-body-size-limit")]
    assert cause.slug == NEIGHBOUR_PREFIX + "proxy-body-size-limit"


def test_a_neighbours_own_message_is_refused_with_its_advice(tmp_path):
    tree = tree_with(tmp_path)
    text = (
        "2024/05/02 10:11:12 [error] 31#31: *9 client intended to send too large body: "
        '2097152 bytes, client: 10.0.0.7, server: _, request: "POST /upload.php HTTP/1.1"'
    )
    diagnosis = diagnose(text, knowledge=KNOWLEDGE, tree=tree)
    assert not diagnosis.matches
    assert diagnosis.question is None
    # The real tree's own neighbour of this mechanism (nginx-body-size-limit) explains it as
    # well: either one is the answer, and only one.
    assert [n.node for n in diagnosis.not_covered] in (
        ["proxy-body-size-limit"],
        ["nginx-body-size-limit"],
    )
    # Without the neighbour, the same text is not refused with that advice.
    plain = diagnose(text, knowledge=KNOWLEDGE)
    assert "proxy-body-size-limit" not in [n.node for n in plain.not_covered]


def test_an_articles_exact_symptom_still_names_it_beside_a_neighbour(tmp_path):
    tree = tree_with(tmp_path)
    cause = KNOWLEDGE.cause("php-upload-tmp-dir")
    diagnosis = diagnose(cause.symptoms[0], knowledge=KNOWLEDGE, tree=tree)
    assert diagnosis.matches and diagnosis.matches[0].article == "php-upload-tmp-dir"


def test_neighbours_never_appear_among_the_ranked_articles(tmp_path):
    tree = tree_with(tmp_path)
    diagnosis = diagnose("nginx 413 too large body on upload", knowledge=KNOWLEDGE, tree=tree)
    assert all(not slug.startswith(NEIGHBOUR_PREFIX) for slug, _p in diagnosis.ranking)
    assert NEIGHBOUR_PREFIX + "proxy-body-size-limit" in diagnosis.features


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("reports:\n      en:", "reports:\n      fr:", "unknown key 'fr'"),
        ("component: [nginx, ingress]", "component: nginx", "must be a list of strings"),
        ("    sources:", "    origin:", "unknown key 'origin'"),
    ],
)
def test_a_malformed_neighbour_is_refused_with_file_and_line(tmp_path, old, new, message):
    assert old in NEIGHBOUR
    with pytest.raises(TreeError) as error:
        tree_with(tmp_path, NEIGHBOUR.replace(old, new))
    assert message in str(error.value)
    assert "neighbour.yaml:" in str(error.value)


def test_two_neighbours_that_both_explain_a_text_do_not_dilute_each_others_lead():
    """A neighbour's retrieval share and lead are taken against the articles only; an
    article's against every cause, so a neighbour that explains the text better still holds
    the article back."""
    from troubleshooter.diagnosis.evidence import _shares

    shares = _shares(
        {"article": 2.0, "neighbour-a": 10.0, "neighbour-b": 9.0},
        frozenset({"neighbour-a", "neighbour-b"}),
    )
    assert shares["neighbour-a"] == (10.0, 1.0, 0.8)
    assert shares["neighbour-b"] == (9.0, 1.0, pytest.approx(7.0 / 9.0))
    assert shares["article"] == (2.0, 0.2, 0.0)
    # Without neighbours, the plain share and lead of the best over the second.
    plain = _shares({"one": 4.0, "two": 1.0})
    assert plain == {"one": (4.0, 1.0, 0.75), "two": (1.0, 0.25, 0.0)}
