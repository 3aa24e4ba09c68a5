"""Social-media export layouts, recognised from their header so no --map is needed.

- Twitter's information-operations archive (``tweetid, userid, user_screen_name,
  tweet_text, tweet_time, is_retweet, retweet_tweetid, hashtags, urls ...``).
- The Clemson/FiveThirtyEight IRA layout (``author, account_category, publish_date,
  language, post_type, retweet, content``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from echoscope.model import Document


@dataclass(frozen=True)
class Layout:
    name: str
    required: frozenset[str]
    mapping: dict[str, str]
    finish: Callable[[Document, dict[str, Any]], None]


def _list_field(value: Any) -> list[str]:
    """Twitter IO lists look like ``[a, b]`` or ``['a', 'b']``; accept both."""
    if not value or not isinstance(value, str):
        return []
    value = value.strip()
    if value.startswith("["):
        try:
            parsed = json.loads(value)
            if isinstance(parsed, list):
                return [str(v) for v in parsed if str(v).strip()]
        except ValueError:
            pass
        value = value.strip("[]")
    return [v.strip().strip("'\"") for v in value.split(",") if v.strip().strip("'\"")]


def _finish_twitter_io(doc: Document, row: dict[str, Any]) -> None:
    tweet_id = (row.get("tweetid") or "").strip()
    if tweet_id:
        doc.url = doc.url or f"https://twitter.com/i/web/status/{tweet_id}"
    for column, kind in (
        ("retweet_tweetid", "retweet"),
        ("in_reply_to_tweetid", "reply"),
        ("quoted_tweet_tweetid", "quote"),
    ):
        parent = (row.get(column) or "").strip()
        if parent:
            doc.parent_id = parent
            doc.metadata["parent_kind"] = kind
            break
    urls = _list_field(row.get("urls"))
    if urls:
        doc.links = urls
    tags = _list_field(row.get("hashtags"))
    if tags:
        doc.metadata["hashtags"] = tags
    if str(row.get("is_retweet", "")).strip().lower() in ("true", "1"):
        doc.metadata["is_repost"] = True


def _finish_ira(doc: Document, row: dict[str, Any]) -> None:
    # retweet=1 also marks quote tweets (post_type Q), which carry their own words
    post_type = str(row.get("post_type", "")).strip().upper()
    if post_type == "Q":
        doc.metadata["is_quote"] = True
    elif str(row.get("retweet", "")).strip() == "1" or post_type == "R":
        doc.metadata["is_repost"] = True


LAYOUTS = (
    Layout(
        name="twitter-io",
        required=frozenset({"tweetid", "tweet_text", "tweet_time"}),
        mapping={
            "id": "tweetid",
            "text": "tweet_text",
            "published_at": "tweet_time",
            "source": "user_screen_name",
            "language": "tweet_language",
        },
        finish=_finish_twitter_io,
    ),
    Layout(
        name="ira-tweets",
        required=frozenset({"author", "content", "publish_date", "account_category"}),
        mapping={
            "text": "content",
            "source": "author",
            "published_at": "publish_date",
            "language": "language",
        },
        finish=_finish_ira,
    ),
)


def detect_layout(columns: list[str]) -> Layout | None:
    names = {c.strip().lower() for c in columns}
    for layout in LAYOUTS:
        if layout.required <= names:
            return layout
    return None
