"""Search on a real corpus: Whoosh against SQLite FTS5, like for like, at three corpus sizes.

What is compared (one run, one machine, the garbage collector on for both sides, nothing cached):

- **the engines on the same query**: our query shaping (`kb.search.build_query`, which weighs
  terms by document frequency) builds one Whoosh query object per text; the same object is
  translated clause for clause into an FTS5 MATCH expression over a table holding the same
  tokens (our bigram and lemma tokenizers' output, space-separated, read by `unicode61`) in the
  same fields, ranked by bm25 with the same field weights. Both return their top 10 slugs. The
  shaping itself is timed on its own row: it is our cost, not the engine's;
- **relevance** for both on the same queries: the share whose known right document is in the top 3;
- **the product path**: `search_articles` (shaping, engine, sections and snippets) and the
  `/search/` page through Django's test client, uncached (the result cache is cleared per call);
- **growth**: the same queries at 1 000, 3 000 and the whole corpus, imported incrementally.

See bench/realcorpus.py for the corpus and how queries get their known right answer.
"""

from __future__ import annotations

import gc
import io
import sqlite3
import time
from pathlib import Path

import realcorpus
from common import Results, percentile, timed

REPETITIONS = 3
LIMIT = 10
GROWTH_SIZES = (1000, 3000)


def _import(results: Results, folder: Path, docs: list, *, label: str) -> tuple[float, float]:
    """Write `docs` into `folder`, import what is new and rebuild the index; (import s, index s)."""
    from kb.importer import import_paths
    from kb.search import rebuild_index

    realcorpus.write_corpus(folder, docs)
    import_seconds, report = timed(lambda: import_paths([folder]))
    if report.failed:
        results.note(f"{label}: import failures", f"{len(report.failed)} (kept out of the corpus)")
    index_seconds, indexed = timed(lambda: rebuild_index(force=True))
    results.note(f"{label}: articles indexed", str(indexed))
    return import_seconds, index_seconds


def build_corpus(results: Results, *, workdir: Path, count: int | None) -> Path:
    """Import and index the real corpus at full size (serving uses it); returns its folder."""
    folder = workdir / "corpus"
    everything = realcorpus.collect()
    docs = realcorpus.sample(everything, count or len(everything))
    _import(results, folder, docs, label=f"{len(docs)} documents")
    return folder


# --- FTS5 with the same tokens and the same query -----------------------------------------

FIELDS = ("title_text", "symptom_text", "keyword_text", "body_text", "ja_text")
# The Whoosh schema's field boosts (kb/search/index.py), as bm25 column weights (slug first: 0).
WEIGHTS = (0.0, 3.0, 2.5, 2.0, 1.0, 1.0)


def _fts5_table(workdir: Path) -> tuple[sqlite3.Connection, float]:
    """Every indexed article in FTS5, tokens prepared by our own analyzers; (db, seconds)."""
    from kb.analysis import bigram_terms, lemma_terms
    from kb.models import Article
    from kb.search.index import document

    path = workdir / "fts5.sqlite3"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(slug UNINDEXED, "
        + ", ".join(FIELDS)
        + ', tokenize="unicode61 remove_diacritics 0")'
    )

    def rows():
        for article in Article.objects.iterator(chunk_size=500):
            d, _ = document(article)  # the fields; not the sections file's record
            yield (
                d["slug"],
                *(" ".join(bigram_terms(d[f])) for f in FIELDS[:-1]),
                " ".join(lemma_terms(d["ja_text"])) if d["ja_text"] else "",
            )

    def insert() -> None:
        with db:
            db.executemany(f"INSERT INTO docs VALUES ({', '.join('?' * 6)})", rows())

    seconds, _ = timed(insert)
    return db, seconds


def to_fts5(query) -> str:  # noqa: ANN001 - a whoosh Query
    """The FTS5 MATCH expression for a Whoosh query object built by `build_query`."""
    from whoosh.query import And, Or, Phrase, Prefix, Term

    if isinstance(query, Term):
        return f'{query.fieldname} : "{query.text}"'
    if isinstance(query, Prefix):
        return f'{query.fieldname} : "{query.text}" *'
    if isinstance(query, Phrase):
        return f'{query.fieldname} : "{" ".join(query.words)}"'
    if isinstance(query, And):
        return "(" + " AND ".join(to_fts5(q) for q in query.subqueries) + ")"
    if isinstance(query, Or):
        return "(" + " OR ".join(to_fts5(q) for q in query.subqueries) + ")"
    raise TypeError(f"no FTS5 form for {type(query).__name__}")


_FTS5_SQL = (
    f"SELECT slug FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, {', '.join(map(str, WEIGHTS))}) "
    f"LIMIT {LIMIT}"
)


# --- measuring ----------------------------------------------------------------------------


def _samples(run, items: list, *, before=None) -> tuple[list[float], list]:  # noqa: ANN001
    """Milliseconds per call, REPETITIONS passes after one untimed warm-up pass."""
    for item in items:
        run(item)
    samples, answers = [], []
    for _ in range(REPETITIONS):
        for item in items:
            if before is not None:
                before()
            start = time.perf_counter()
            answer = run(item)
            samples.append((time.perf_counter() - start) * 1000)
            answers.append(answer)
    return samples, answers[: len(items)]


def _top3(answers: list[list[str]], right: list[str]) -> float:
    hits = sum(1 for got, want in zip(answers, right, strict=True) if want in got[:3])
    return 100.0 * hits / len(right)


def _measure(results: Results, *, workdir: Path, queries: list, size: int, full: bool) -> dict:
    """Every comparison at the current corpus size; returns the headline figures."""
    from kb.search import build_query, caches, prepare_query, search_articles
    from kb.search.lookup import top_hits

    texts = [q for _, q, _ in queries]
    right = [slug for _, _, slug in queries]
    kinds = [kind for kind, _, _ in queries]
    searcher = caches.searchers.get()
    reader = searcher.reader()
    prepared = [prepare_query(t) for t in texts]

    shaping, shaped = _samples(lambda p: build_query(p, reader), prepared)
    db, fts_seconds = _fts5_table(workdir)
    fts_queries = [to_fts5(q) if q is not None else None for q in shaped]

    def whoosh(i: int) -> list[str]:
        q = shaped[i]
        if q is None:
            return []
        return [hit["slug"] for hit in top_hits(searcher, q, limit=LIMIT)]

    def fts5(i: int) -> list[str]:
        match = fts_queries[i]
        if match is None:
            return []
        return [row[0] for row in db.execute(_FTS5_SQL, (match,))]

    indexes = list(range(len(texts)))
    assert gc.isenabled()
    w_samples, w_answers = _samples(whoosh, indexes)
    f_samples, f_answers = _samples(fts5, indexes)
    w95, f95 = percentile(w_samples, 95), percentile(f_samples, 95)
    label = f"{size} docs"
    results.figure(
        f"{label}: shaping (build_query with doc frequencies) p95",
        percentile(shaping, 95),
        "ms",
        digits=2,
    )
    results.figure(f"{label}: FTS5 table built (same tokens)", fts_seconds, "s")
    results.figure(
        f"{label}: Whoosh engine, same query, p50", percentile(w_samples, 50), "ms", digits=2
    )
    results.figure(f"{label}: Whoosh engine, same query, p95", w95, "ms", digits=2)
    results.figure(
        f"{label}: FTS5 engine, same query, p50", percentile(f_samples, 50), "ms", digits=2
    )
    results.figure(f"{label}: FTS5 engine, same query, p95", f95, "ms", digits=2)
    results.figure(f"{label}: Whoosh / FTS5 p95 (same query)", w95 / f95, "×", digits=2)
    w_rel, f_rel = _top3(w_answers, right), _top3(f_answers, right)
    results.figure(f"{label}: right document in top 3, Whoosh engine", w_rel, "%")
    results.figure(f"{label}: right document in top 3, FTS5", f_rel, "%")

    clear = caches.results.clear
    p_samples, p_answers = _samples(
        lambda t: [h.slug for h in search_articles(t, limit=LIMIT)], texts, before=clear
    )
    p95 = percentile(p_samples, 95)
    results.figure(
        f"{label}: search_articles p50 (uncached)", percentile(p_samples, 50), "ms", digits=2
    )
    results.figure(f"{label}: search_articles p95 (uncached)", p95, "ms", digits=2)
    results.figure(
        f"{label}: right document in top 3, search_articles", _top3(p_answers, right), "%"
    )
    db.close()
    if not full:
        return {"engine_p95": w95, "fts_p95": f95, "product_p95": p95}

    for kind in sorted(set(kinds)):
        mine = [t for i, t in enumerate(p_samples) if kinds[i % len(texts)] == kind]
        chosen = [i for i, k in enumerate(kinds) if k == kind]
        rel = _top3([p_answers[i] for i in chosen], [right[i] for i in chosen])
        results.figure(
            f"{label}: search_articles p95 / top-3, {kind} ({len(chosen)} queries)",
            percentile(mine, 95),
            f"ms / {rel:.0f} %",
            digits=2,
        )
    warm, _ = _samples(lambda t: search_articles(t, limit=LIMIT), texts)
    results.figure(
        f"{label}: search_articles p95, repeated query (result cache hit)",
        percentile(warm, 95),
        "ms",
        digits=2,
    )

    from django.test import Client

    client = Client()

    def page(text: str) -> int:
        response = (
            client.post("/search/", {"q": text})
            if "\n" in text
            else client.get("/search/", {"q": text})
        )
        if response.status_code != 200:
            raise SystemExit(f"/search/ answered {response.status_code}")
        return response.status_code

    h_samples, _ = _samples(page, texts, before=clear)
    results.figure(
        f"{label}: /search/ page via test client p95 (uncached)",
        percentile(h_samples, 95),
        "ms",
        digits=2,
    )
    results.target(
        f"search p95 uncached at {size} real documents (search_articles)", p95, 15.0, "ms"
    )
    results.target("Whoosh engine p95 / FTS5 p95, same query and tokens", w95 / f95, 2.0, "×")
    results.target(
        "relevance: Whoosh top-3 share minus FTS5's (same queries)",
        w_rel - f_rel,
        0.0,
        "points",
        higher_is_better=True,
    )
    return {"engine_p95": w95, "fts_p95": f95, "product_p95": p95}


def run(results: Results, *, workdir: Path, count: int | None, corpus: Path | None) -> Path:
    """The search section; returns the corpus folder (reused by the serving section)."""
    from django.core.management import call_command

    missing = realcorpus.missing_packages()
    if missing:
        raise SystemExit(f"install the corpus packages first: apt-get install {' '.join(missing)}")
    seconds, everything = timed(realcorpus.collect)
    total = min(count or len(everything), len(everything))
    results.figure(f"corpus read and converted ({len(everything)} documents)", seconds, "s")
    by_origin: dict[str, int] = {}
    for doc in realcorpus.sample(everything, total):
        by_origin[doc.origin] = by_origin.get(doc.origin, 0) + 1
    results.note("corpus composition", ", ".join(f"{k} {v}" for k, v in sorted(by_origin.items())))

    sizes = [s for s in GROWTH_SIZES if s < total] + [total]
    # Queries come from the smallest sample, unique across the whole corpus: the same queries,
    # with the same right answers, at every size.
    seconds, queries = timed(
        lambda: realcorpus.queries(realcorpus.sample(everything, sizes[0]), everything)
    )
    kinds: dict[str, int] = {}
    for kind, _, _ in queries:
        kinds[kind] = kinds.get(kind, 0) + 1
    results.note("queries", ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))

    folder = workdir / "corpus"
    headline = {}
    import_total = 0.0
    for size in sizes:
        docs = realcorpus.sample(everything, size)
        imported, indexed = _import(results, folder, docs, label=f"{size} docs")
        import_total += imported
        results.figure(f"{size} docs: import (new documents only)", imported, "s")
        results.figure(f"{size} docs: index (Whoosh rebuild of all)", indexed, "s")
        headline[size] = _measure(
            results, workdir=workdir, queries=queries, size=size, full=size == total
        )
        if size == total:
            # The imports of every step add up to one import of the whole corpus.
            results.figure(f"{size} docs: import of all, summed over the steps", import_total, "s")
            results.target(f"import + index of {size} documents", import_total + indexed, 60.0, "s")

    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        growth = headline[big]["product_p95"] / headline[small]["product_p95"]
        results.figure(
            f"growth of search_articles p95, {small} → {big} docs ({big / small:.1f}× the docs)",
            growth,
            "×",
            digits=2,
        )
        results.target(
            f"search p95 growth {small} → {big} docs, relative to the corpus growth",
            growth / (big / small),
            1.0,
            "×",
        )

    out = io.StringIO()
    seconds, _ = timed(lambda: call_command("import_articles", str(folder), "--quiet", stdout=out))
    results.note("re-import summary", out.getvalue().strip().splitlines()[-1])
    results.target(
        f"re-import of {total} unchanged documents (manage.py import_articles)", seconds, 5.0, "s"
    )
    return folder
