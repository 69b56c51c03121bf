"""The troubleshooter's decision tree and error matching. Pure Python: no Django imports.

- ``tree``: the tree as data (``troubleshooter/data/*.yaml``), loaded and validated once.
- ``matching``: ``diagnose(text)`` turns pasted error text into causes, a question, or nothing.
"""

from troubleshooter.diagnosis.matching import Diagnosis, Match, NotCovered, Question, diagnose
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
)

__all__ = [
    "DEFAULT_TREE_FILES",
    "NODE_ID_RE",
    "SECTIONS",
    "CauseNode",
    "Diagnosis",
    "Match",
    "NotCovered",
    "NotCoveredNode",
    "Option",
    "Question",
    "QuestionNode",
    "Signature",
    "Tree",
    "TreeError",
    "article_slugs",
    "diagnose",
    "get_tree",
    "load_tree",
]
