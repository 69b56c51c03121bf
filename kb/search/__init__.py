"""Full-text search over the articles: Whoosh behind one small face.

Callers use only what this module exports: `search_articles` answers a query or a pasted
log, `rebuild_index` writes the index from the database (import and management commands),
`heal_index`, `index_exists` and `index_dir` look after it. Each concern has its module:

- kb/search/index.py: the schema, the index document of an article, where the index lives,
  what it was built from, rebuilds (a new folder, swapped in by one rename);
- kb/search/healing.py: a missing, damaged or stale index is rebuilt in the background;
- kb/search/caches.py: each thread's searcher and the recent answers;
- kb/search/query.py: from typed or pasted text to a Whoosh query object;
- kb/search/union.py: the query's OR, visiting only the documents it scored;
- kb/search/reading.py: a term looked up once per query, field lengths read once per reader;
- kb/search/codec.py: how a posting block is stored (Whoosh's layout, no zlib, arrays);
- kb/search/sections.py: each article's sections and a table of their words, beside the index;
- kb/search/snippets.py: the best section of a hit and the snippet shown from it;
- kb/search/languages.py: one hit per article, in the reader's language;
- kb/search/lookup.py: `search_articles`, and the database's answer when the index cannot.
"""

from kb.search.healing import heal_index
from kb.search.hits import SearchHit
from kb.search.index import index_dir, index_exists, rebuild_index
from kb.search.lookup import search_articles
from kb.search.query import build_query, prepare_query

__all__ = [
    "SearchHit",
    "build_query",
    "heal_index",
    "index_dir",
    "index_exists",
    "prepare_query",
    "rebuild_index",
    "search_articles",
]
