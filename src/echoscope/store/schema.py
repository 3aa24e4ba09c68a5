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
        ingested_at TIMESTAMP NOT NULL
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
]
