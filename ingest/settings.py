"""Settings: built once from WIREWATCH_* environment variables or a .env file, then passed down.

Every default lives here, with the reason beside it when it is not obvious.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WIREWATCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # The user contract (DESIGN.md).
    redis_url: str = "redis://localhost:6379/0"
    feeds_file: Path = Path("feeds.yaml")
    rules_dir: Path = Path("rules")
    spacy_model: str = "auto"
    allow_private_networks: bool = False
    # A source's first poll alerts only entries published this recently (older ones are recorded
    # as seen); 0 alerts them all. A day: what a person adding a feed still calls news.
    backfill_s: float = Field(default=86400.0, ge=0)

    # Polling.
    default_interval_s: float = Field(default=300.0, gt=0)
    # http(s) sources are never polled faster than this (politeness; a lower feeds.yaml value is
    # reported at load). Local files and spool folders have no floor.
    min_interval_s: float = Field(default=60.0, gt=0)
    max_interval_s: float = Field(default=6 * 3600.0, gt=0)  # ... nor slower than this
    max_backoff_s: float = Field(default=6 * 3600.0, gt=0)
    stale_after_s: float = Field(
        default=2 * 86400.0, gt=0
    )  # a source silent/failing this long is reported
    http_connect_timeout_s: float = Field(default=10.0, gt=0)
    http_read_timeout_s: float = Field(default=20.0, gt=0)
    http_total_timeout_s: float = Field(default=60.0, gt=0)  # caps a slow-drip body
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)  # also applied after decompression
    max_redirects: int = Field(default=5, ge=0)
    # Under `wirewatch run` spool folders are watched; a file whose last change is older than
    # this has landed whole (writers that pause longer should write `name.part` and rename).
    spool_settle_s: float = Field(default=0.25, ge=0)
    concurrency: int = Field(default=16, ge=1)
    per_host_concurrency: int = Field(default=2, ge=1)
    # Article pages (`full_text:` in feeds.yaml): smaller than a feed's cap, since a page is
    # parsed whole in memory; the largest real article pages measured were under 2 MB.
    page_max_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    page_timeout_s: float = Field(default=20.0, gt=0)  # one page, redirects included
    # Extraction is CPU work: this many worker processes (one per core of a small host), so
    # pages never hold the event loop.
    page_extract_concurrency: int = Field(default=2, ge=1)
    # A host that answered 429/503 gets no page requests for its Retry-After (or this long).
    page_host_pause_s: float = Field(default=60.0, ge=0)
    user_agent: str = (
        "wirewatch/0.1 (+https://pypi.org/project/wirewatch/; self-hosted news alerts)"
    )

    # Matching runs apart from fetching: finished polls wait in a bounded queue (a full queue
    # slows fetching instead of growing memory) and are matched in batches of articles.
    match_queue_polls: int = Field(default=16, ge=1)  # also bounds the leases held
    match_batch_articles: int = Field(default=256, ge=1)

    # NLP. Small batches: the model's default of 256 peaks at 2.4 GiB, 8-32 stays under 600 MB.
    ner_batch_size: int = Field(default=16, ge=1, le=256)

    # High availability. An alert counts as published once this many replicas have it (WAIT,
    # up to the timeout; kept in the outbox until then). 0: once the primary has it.
    redis_min_replicas: int = Field(default=0, ge=0)
    # Under the client's 10 s read timeout; each outbox retry may wait this long while too few
    # replicas answer.
    redis_min_replicas_timeout_s: float = Field(default=1.0, gt=0, le=5.0)

    # Redis layout and retention.
    key_prefix: str = "wirewatch:"
    stream_maxlen: int = Field(default=10_000, ge=1)  # per alert channel, approximate trim
    alert_claim_ttl_s: int = Field(
        default=90 * 86400, gt=0
    )  # (rule, article/story) never alerts twice
    seen_ttl_s: int = Field(default=30 * 86400, gt=0)  # entries already handled
    story_window_s: int = Field(
        default=3 * 86400, gt=0
    )  # syndicated copies within this window are one
    recent_articles_max: int = Field(default=5_000, ge=0)  # kept for `rules test --since`
    lease_ttl_s: int = Field(default=120, gt=0)  # a dead worker's sources are taken over after this
    handoff_claim_idle_s: float = Field(default=60.0, gt=0)  # a dead matcher's articles, likewise
    handoff_maxlen: int = Field(default=100_000, ge=1)  # articles waiting for --role match

    # Service lifecycle and operations.
    shutdown_grace_s: float = Field(default=20.0, ge=0)
    rules_reload_debounce_ms: int = Field(default=300, ge=10)
    outbox_dir: Path = Path(".wirewatch/outbox")
    outbox_max_items: int = Field(default=100_000, ge=1)
    metrics_port: int = Field(default=0, ge=0, le=65535)  # 0: no metrics/health endpoint
    log_format: str = "auto"  # auto: readable on a terminal, JSON otherwise; or "json" / "text"
    log_level: str = "INFO"

    # The web console (`wirewatch web`). Without a token it listens on loopback only.
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    web_token: str | None = None  # every path but /healthz needs it when set
    web_max_body_bytes: int = Field(default=256 * 1024, gt=0)  # a pasted article fits easily
    web_try_max_chars: int = Field(default=100_000, gt=0)  # title + text given to /try
    # Notifications (`wirewatch notify`, notify.yaml). Stale destinations use stale_after_s.
    notify_file: Path = Path("notify.yaml")
    notify_consumer: str = ""  # consumer name in the groups; "" = the host name (stable across
    # restarts, so a restarted notifier resumes its own unacknowledged alerts first)
    notify_claim_idle_s: float = Field(default=30.0, gt=0)  # a dead notifier's alerts, taken over
    # One send of an alert at a time: longer than a send may take, so a slow send is never
    # doubled; short, so an alert a killed notifier was sending goes out again soon.
    notify_lock_ttl_s: float = Field(default=30.0, gt=0)
    notify_send_timeout_s: float = Field(default=20.0, gt=0)  # Apprise's limit for one message
    notify_backoff_min_s: float = Field(default=1.0, gt=0)  # a failing destination is retried
    notify_backoff_max_s: float = Field(default=60.0, gt=0)  # ... at growing, jittered delays
    notify_mark_ttl_s: int = Field(default=30 * 86400, gt=0)  # (destination, alert) delivered
    notify_scan_interval_s: float = Field(default=10.0, gt=0)  # `alerts:*` finds new streams
    notify_backlog_s: float = Field(default=3600.0, ge=0)  # a new destination gets this much past
    notify_digest_max_alerts: int = Field(default=100, ge=1)  # lines in one digest message
    # The notifier's /metrics and /healthz: a port of its own, since it often runs on the same
    # host as `wirewatch run` and reads the same env file (WIREWATCH_METRICS_PORT); 0 = off.
    notify_metrics_port: int = Field(default=0, ge=0, le=65535)
