"""Query shaping: from what a user typed or pasted to a Whoosh query object.

- Queries are built as query objects, never parsed, so `:`, `(`, `"` or `*` in a pasted
  error can never raise a query syntax error.
- A pasted log is first reduced to its error lines (kb/errortext.py), and every query is cut
  to MAX_QUERY_TERMS distinct terms per field: Whoosh matches and scores postings in Python,
  so the cost of a query grows with its number of terms (measured at 10 000 documents of
  about 2 KB: 0.3-96 ms per query with the CJK bigram analyzer, the longest queries slowest).
- Terms are weighed by how many documents hold them (the index reader's document
  frequencies): rare terms are OR-ed, the few rarest of the common ones AND-ed, and the
  whole sequence is matched as a phrase in the short fields (title, symptoms, keywords).
- English stop words ("the", "how": kb.analysis.QUERY_STOP_WORDS) are left to that phrase:
  in a knowledge base of tens of articles every word is "rare" by count, and a question in
  plain English matched every article by them.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from whoosh.query import And, Phrase, Prefix, Query, Term

from kb import errortext
from kb.analysis import bigram_terms, content_terms, has_cjk, has_kana, lemma_terms
from kb.search.reading import doc_frequencies
from kb.search.union import SparseUnionOr

# Queries are cut to this many distinct terms per field.
MAX_QUERY_TERMS = 40

# A term in more than this share of the documents (and more than RARE_MIN of them) is "common":
# the CJK bigrams ます, でき, 设置 are in nearly every Japanese or Chinese document. Whoosh
# scores postings in Python, so an OR over common terms costs a pass over most of the index.
RARE_SHARE = 0.02
RARE_MIN = 25
# AND over the few rarest terms finds the documents holding them all, at the cost of the
# shortest posting lists; the full sequence is matched as a phrase in the short fields.
AND_TERMS = 4
PHRASE_TERMS = 16


def prepare_query(text: str) -> str:
    """Reduce what the user typed or pasted to the words worth searching for."""
    text = errortext.plain_text(text[: settings.KB_MAX_QUERY_CHARS])
    if "\n" in text.strip() or len(text) > 300:
        return errortext.query_text(text, max_terms=MAX_QUERY_TERMS)
    return errortext.normalize(text)


def _dedupe(terms: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for term in terms:
        seen.setdefault(term, None)
    return list(seen)[:MAX_QUERY_TERMS]


def _field_clauses(reader, field: str, terms: list[str], *, phrase: bool) -> list[Query]:  # noqa: ANN001
    """Clauses for one field, shaped by how common each term is in the index (OR-ed by the
    caller)."""
    distinct = _dedupe(terms)
    if not distinct:
        return []
    if len(distinct) == 1:
        term = distinct[0]
        if len(term) == 1 and has_cjk(term):
            # A single CJK character is indexed only inside bigrams: match them by prefix.
            return [Term(field, term), Prefix(field, term)]
        return [Term(field, term)]
    # The words that find, rank and AND articles: not "the" or "how" (kb.analysis), which in a
    # knowledge base of tens of articles count as rare and matched every one. The phrase below
    # keeps every word, as written.
    words = content_terms(distinct)
    if reader is None:
        frequency = dict.fromkeys(words, 1)
        rare_limit = 1
    else:
        frequency = doc_frequencies(reader, field, words)
        rare_limit = max(RARE_MIN, int(RARE_SHARE * reader.doc_count()))
    present = sorted((t for t in words if frequency[t]), key=frequency.__getitem__)
    if not present:
        return []
    rare = [t for t in present if frequency[t] <= rare_limit]
    clauses: list[Query] = [Term(field, t) for t in rare]
    if len(present) == len(words):
        # Every word occurs in this field somewhere: reward documents holding them together.
        if phrase and len(terms) <= PHRASE_TERMS:
            # Error strings are matched as phrases.
            clauses.append(Phrase(field, terms, boost=4.0))
        else:
            clauses.append(And([Term(field, t) for t in present[:AND_TERMS]], boost=1.5))
    elif not rare:
        clauses.append(And([Term(field, t) for t in present[:AND_TERMS]]))
    return clauses


def build_query(text: str, reader=None) -> Query | None:  # noqa: ANN001
    """A Whoosh query object for prepared text, or None when it holds no searchable term.

    With the index's reader, terms are weighed by how many documents hold them.
    """
    bigrams = bigram_terms(text)
    clauses: list[Query] = []
    for field in ("title_text", "symptom_text", "keyword_text", "body_text"):
        # Titles, symptoms and keywords are short: a phrase over them is cheap and decisive.
        clauses += _field_clauses(reader, field, bigrams, phrase=field != "body_text")
    if has_kana(text):
        clauses += _field_clauses(reader, "ja_text", lemma_terms(text), phrase=False)
    if not clauses:
        return None
    # One flat OR: every clause's score is added once, as in nested ORs of boost 1, but
    # Whoosh builds one union matcher instead of one per level (each a pass over the ids).
    # That matcher always adds every clause's scores into an array of documents (Whoosh picks
    # it only below 5 000 documents): exact, and faster here than the binary tree of unions,
    # whose cut-offs by best possible score also skipped right answers. Ours visits only the
    # documents scored (kb/search/union.py).
    return SparseUnionOr(clauses)
