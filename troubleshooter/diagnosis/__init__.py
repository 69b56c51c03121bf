"""The troubleshooter's diagnosis. Pure Python but ``source`` (which reads the imported articles).

- ``knowledge``: what a cause looks like, from the articles' front matter (one place);
- ``tree``: the questions and not-covered answers (``troubleshooter/data/tree.yaml``);
- ``evidence``: symptom strings, mechanism words and a BM25 score per article, linear in time;
- ``model``: the logistic confidence model (``troubleshooter/data/diagnosis.yaml``);
- ``matching``: ``diagnose(text)`` turns pasted text into causes, a question, or a refusal.
"""

from troubleshooter.diagnosis.knowledge import (
    ArticleCause,
    Knowledge,
    article_cause_from_text,
    load_articles_dir,
)
from troubleshooter.diagnosis.matching import (
    Diagnosis,
    Evidence,
    Match,
    NotCovered,
    Question,
    diagnose,
)
from troubleshooter.diagnosis.tree import (
    DEFAULT_TREE_FILES,
    NODE_ID_RE,
    SECTIONS,
    CauseNode,
    NotCoveredNode,
    Option,
    QuestionNode,
    Signature,
    Tree,
    TreeError,
    article_slugs,
    get_tree,
    load_tree,
    localize,
)

__all__ = [
    "DEFAULT_TREE_FILES",
    "NODE_ID_RE",
    "SECTIONS",
    "ArticleCause",
    "CauseNode",
    "Diagnosis",
    "Evidence",
    "Knowledge",
    "Match",
    "NotCovered",
    "NotCoveredNode",
    "Option",
    "Question",
    "QuestionNode",
    "Signature",
    "Tree",
    "TreeError",
    "article_cause_from_text",
    "article_slugs",
    "diagnose",
    "get_tree",
    "load_articles_dir",
    "load_tree",
    "localize",
]
