"""The store's tables. Later stages add theirs with ``CREATE TABLE IF NOT EXISTS`` here.

``seq`` is a dense integer per document, given in insertion order, so vectorised stages
can index arrays by document without a string lookup.
"""

SCHEMA_VERSION = 1

TABLES = [
    """
    CREATE TABLE IF NOT EXISTS meta (
        key VARCHAR PRIMARY KEY,
        value VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ingest_runs (
        run_id BIGINT PRIMARY KEY,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        status VARCHAR NOT NULL,           -- running | done | failed | interrupted
        sources VARCHAR[] NOT NULL,
        options VARCHAR,                   -- JSON
        read BIGINT DEFAULT 0,
        stored BIGINT DEFAULT 0,
        duplicates BIGINT DEFAULT 0,
        rejected BIGINT DEFAULT 0,
        warnings BIGINT DEFAULT 0,
        message VARCHAR,
        version VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS documents (
        seq BIGINT NOT NULL,
        id VARCHAR NOT NULL,
        source VARCHAR,
        url VARCHAR,
        published_at TIMESTAMP,            -- UTC
        time_source VARCHAR NOT NULL,      -- header | metadata | path | feed | crawl | unknown
        time_precision VARCHAR NOT NULL,   -- second | minute | day | unknown
        title VARCHAR,
        text VARCHAR NOT NULL,
        language VARCHAR,
        links VARCHAR[],
        parent_id VARCHAR,
        content_hash VARCHAR NOT NULL,
        metadata VARCHAR,                  -- JSON object
        origin VARCHAR,
        run_id BIGINT,
        ingested_at TIMESTAMP NOT NULL,
        canonical_links VARCHAR[]          -- co-link items, see MIGRATIONS
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rejects (
        run_id BIGINT,
        origin VARCHAR NOT NULL,
        position VARCHAR,
        reason VARCHAR NOT NULL,
        raw BLOB,
        raw_size BIGINT,
        created_at TIMESTAMP NOT NULL
    )
    """,
]

# detect/reuse: the persistent index (so later documents are compared with earlier ones
# without recomputing old pairs) and the results.
TABLES += [
    "CREATE TABLE IF NOT EXISTS reuse_state (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """
    CREATE TABLE IF NOT EXISTS reuse_docs (
        seq BIGINT NOT NULL, set_hash UBIGINT, n_tokens INTEGER, n_shingles INTEGER
    )
    """,
    "CREATE TABLE IF NOT EXISTS reuse_bands (band SMALLINT, key UBIGINT, seq BIGINT)",
    "CREATE TABLE IF NOT EXISTS reuse_shingles (hash UBIGINT, seq BIGINT)",
    """
    CREATE TABLE IF NOT EXISTS reuse_links (
        link_id BIGINT NOT NULL,
        seq_a BIGINT NOT NULL,             -- the earlier document (the possible source)
        seq_b BIGINT NOT NULL,             -- the later document (the possible copy)
        kind VARCHAR NOT NULL,             -- verbatim | near-verbatim | partial
        method VARCHAR NOT NULL,           -- exact | minhash | containment (how it was found)
        passages INTEGER, matched INTEGER, identity DOUBLE,
        coverage_a DOUBLE, coverage_b DOUBLE, shared_shingles INTEGER,
        boilerplate BOOLEAN DEFAULT false
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS reuse_passages (
        link_id BIGINT NOT NULL,
        seq_a BIGINT, a_begin INTEGER, a_end INTEGER,
        seq_b BIGINT, b_begin INTEGER, b_end INTEGER,
        matched INTEGER, identity DOUBLE
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS reuse_clusters (
        cluster_id BIGINT NOT NULL, seq BIGINT NOT NULL, "begin" INTEGER, "end" INTEGER
    )
    """,
]

# trace: propagation trees (one row per cluster member; parent NULL for a root).
TABLES += [
    """
    CREATE TABLE IF NOT EXISTS cascade_edges (
        cluster_id BIGINT NOT NULL,
        child_seq BIGINT NOT NULL,
        parent_seq BIGINT,                 -- NULL: a root (first appearance)
        confidence DOUBLE,
        time_relation VARCHAR,             -- before | overlap | tie | unknown
        strength DOUBLE,                   -- share of the child explained by the parent
        attributed BOOLEAN,
        credit_kind VARCHAR, credit_begin INTEGER, credit_end INTEGER, credit_text VARCHAR,
        evidence VARCHAR                   -- JSON: link, gap, alternatives, credits
    )
    """,
    # the same, for claim clusters: who first stated a claim and who repeated it, in any
    # words (cluster_id is a claim cluster; strength is the claim match score)
    """
    CREATE TABLE IF NOT EXISTS claim_cascade_edges (
        cluster_id BIGINT NOT NULL,
        child_seq BIGINT NOT NULL,
        parent_seq BIGINT,
        confidence DOUBLE,
        time_relation VARCHAR,
        strength DOUBLE,
        attributed BOOLEAN,
        credit_kind VARCHAR, credit_begin INTEGER, credit_end INTEGER, credit_text VARCHAR,
        evidence VARCHAR                   -- JSON: sentences, score, reuse link, gap, credits
    )
    """,
]

# trace: the credit scorer's sentence scores (start, end and probability per sentence),
# by text digest and scorer, so each document is read by the model once, not every run.
TABLES += [
    """
    CREATE TABLE IF NOT EXISTS credit_scores (
        digest BLOB NOT NULL, scorer VARCHAR NOT NULL,
        starts INTEGER[], ends INTEGER[], probs FLOAT[],
        PRIMARY KEY (digest, scorer)
    )
    """,
]

# detect/claims: sentences, one row per distinct sentence text (embedded once), the vector
# cache, and the matches between rows. The ANN and BM25 indexes are files beside the store.
TABLES += [
    "CREATE TABLE IF NOT EXISTS claim_state (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS claim_docs (seq BIGINT NOT NULL, sentences INTEGER)",
    """
    CREATE TABLE IF NOT EXISTS claim_sentences (
        seq BIGINT NOT NULL, idx INTEGER NOT NULL, "begin" INTEGER, "end" INTEGER,
        row BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS claim_texts (
        row BIGINT NOT NULL, hash UBIGINT NOT NULL, text VARCHAR NOT NULL
    )
    """,
    "CREATE TABLE IF NOT EXISTS claim_vectors (row BIGINT NOT NULL, vector FLOAT[])",
    """
    CREATE TABLE IF NOT EXISTS claim_links (
        row_a BIGINT NOT NULL, row_b BIGINT NOT NULL,
        semantic DOUBLE, lexical DOUBLE, score DOUBLE, status VARCHAR   -- same | review
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS claim_clusters (
        cluster_id BIGINT NOT NULL, row BIGINT NOT NULL, score DOUBLE
    )
    """,
]

# Columns added after stores already existed: run on every writable open, so an older
# store gains them in place (then ``Store`` fills what they derive from earlier columns).
# ``canonical_links`` is ``echoscope.urls.canonical_links(links)``: the canonical form of
# each link, each once, in first-seen order ([] for a document without links, so NULL
# always means "not computed yet": a store or rows from an older echoscope). It is
# computed in Python when a document is written, so co-link networks need no per-link
# work; it is last in ``documents`` so new and migrated stores have one column order.
MIGRATIONS = [
    "ALTER TABLE documents ADD COLUMN IF NOT EXISTS canonical_links VARCHAR[]",
]

DOCUMENT_COLUMNS = [
    "seq",
    "id",
    "source",
    "url",
    "published_at",
    "time_source",
    "time_precision",
    "title",
    "text",
    "language",
    "links",
    "parent_id",
    "content_hash",
    "metadata",
    "origin",
    "run_id",
    "ingested_at",
    "canonical_links",
]
