"""Settings from JOURNEYLINE_* environment variables (nested groups with `__`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./journeyline.db"
# How deeply an event's (or a delivery's) JSON may nest: real payloads stay under ten levels.
DEFAULT_MAX_JSON_DEPTH = 64


class LimitSettings(BaseModel):
    """Request and batch size limits (DESIGN §8)."""

    max_event_bytes: int = 32 * 1024
    max_request_bytes: int = 512 * 1024
    max_sync_batch_events: int = 100
    max_native_batch_events: int = 500
    max_batch_events: int = 10_000
    max_batch_bytes: int = 16 * 1024 * 1024
    # A provider delivery (a large Shopify order runs to hundreds of KB).
    max_webhook_bytes: int = 2 * 1024 * 1024
    # Nesting an event or a delivery may have; at most 200, since storing an event wraps it a
    # few levels deeper and the JSON encoders stop at 254 (decision 39).
    max_json_depth: int = Field(default=DEFAULT_MAX_JSON_DEPTH, ge=1, le=200)


class IdentitySettings(BaseModel):
    """Identity-resolution defaults; a tenant's own settings override them."""

    default_phone_region: str = "US"
    max_emails: int = 5
    max_phones: int = 5
    max_external_ids: int = 1


class RateLimitSettings(BaseModel):
    """Budgets per key (DESIGN §8): the defaults; a tenant's `rate_limit` setting overrides the
    request and batch budgets. Kept in Redis when `redis_url` is set (every process shares
    them), in this process's memory otherwise (decision 47)."""

    enabled: bool = True
    public_requests_per_second: float = Field(default=1000.0, gt=0)
    public_burst: int = Field(default=2000, ge=1)
    secret_requests_per_second: float = Field(default=5000.0, gt=0)
    secret_burst: int = Field(default=10_000, ge=1)
    # POST /tenant/ingest/batch counts events against a budget of its own.
    batch_events_per_second: float = Field(default=10_000.0, gt=0)
    batch_burst: int = Field(default=100_000, ge=1)
    # Failed authentications (unknown or malformed keys, wrong admin tokens) per client
    # address: refused before any database work once spent.
    failed_auth_per_second: float = Field(default=10.0, gt=0)
    failed_auth_burst: int = Field(default=100, ge=1)
    # While Redis does not answer, budgets fall back to this process's memory for this long
    # before Redis is tried again (a budget is a guard, never a reason to refuse service).
    redis_retry_seconds: float = Field(default=2.0, gt=0)


class WorkerSettings(BaseModel):
    """Asynchronous batch processing (DESIGN §9)."""

    # Events per transaction: one identifier lookup and one multi-row insert each.
    batch_chunk_size: int = 1000
    # A worker holds a job this long past its last checkpoint; then anyone may take it over.
    lease_seconds: float = 60.0
    # A job still queued after this long is enqueued again (its queue message may be lost).
    stale_queued_seconds: float = 30.0
    sweep_interval_seconds: float = 15.0
    # A job claimed more often than this (it keeps killing its workers) is marked failed.
    max_attempts: int = 5
    # Jobs the embedded (in-process) worker runs at once.
    local_concurrency: int = 1


class RedisClientSettings(BaseModel):
    """Bounds on every Redis call (decision 45): a Redis that is down or frozen (SIGSTOP) costs
    a request at most these, never its answer."""

    # Connecting, and waiting for any one reply.
    connect_timeout_seconds: float = Field(default=1.0, gt=0)
    socket_timeout_seconds: float = Field(default=1.0, gt=0)
    # A pooled connection idle this long is PINGed before it is used again.
    health_check_seconds: float = Field(default=15.0, ge=0)
    # After a realtime publish fails, live messages skip Redis this long (no request waits on a
    # Redis known to be away); the clients that missed some are told to resync.
    publish_pause_seconds: float = Field(default=2.0, ge=0)
    # `journeyline worker` after losing Redis: the wait before each attempt to reconnect,
    # doubling from the first to the most.
    reconnect_first_seconds: float = Field(default=0.5, gt=0)
    reconnect_most_seconds: float = Field(default=5.0, gt=0)

    def client_options(self) -> dict[str, Any]:
        """redis-py's keyword arguments for these bounds (every client journeyline makes)."""
        return {
            "socket_connect_timeout": self.connect_timeout_seconds,
            "socket_timeout": self.socket_timeout_seconds,
            "health_check_interval": self.health_check_seconds,
        }


class OrderSettings(BaseModel):
    """Orders (DESIGN §5); a tenant's `abandon_after_seconds` setting overrides the default."""

    # An incomplete order idle this long emits `purchase_abandoned` (once).
    abandon_after_seconds: float = 3600.0
    # How often the worker (or the embedded one) looks for such orders.
    abandon_sweep_interval_seconds: float = 60.0


class RealtimeSettings(BaseModel):
    """The live stream (`/v1/stream`, DESIGN §10)."""

    # A keepalive every this many seconds of silence (proxies close idle sockets at 60 s).
    ping_seconds: float = 20.0
    # Messages a client may fall behind by before it is told to resync.
    client_queue: int = 1024


class DashboardSettings(BaseModel):
    """The dashboard under /app: its signed session cookie."""

    # Signs session cookies. Unset: a random secret per serve (its `--workers` processes share
    # it), so sessions end on restart and do not carry to another serve; set it in production.
    session_secret: str | None = None
    session_max_age_seconds: float = 7 * 24 * 3600.0
    # Origins (`https://host[:port]`) besides the server's own whose pages may open the live
    # stream with the session cookie: the dashboard's public origin when a proxy in front
    # rewrites the Host or the scheme. Key-authenticated streams are not checked.
    allowed_origins: list[str] = Field(default_factory=list)


class DatabaseSettings(BaseModel):
    """Each process's PostgreSQL connections (SQLite ignores these): `JOURNEYLINE_DATABASE__*`."""

    # "transaction": connected through PgBouncer (or another pooler) in transaction mode, where
    # a connection's next transaction may run on another server connection. asyncpg's and
    # SQLAlchemy's prepared-statement caches are then off and every statement is an unnamed
    # one (a named one may be missing, or another client's, on the next server connection).
    # "none": connected to PostgreSQL itself; statements are prepared once per connection.
    pooler: Literal["none", "transaction"] = "none"
    # Connections each process keeps open, and how many more it may open under a burst: a
    # process holds at most pool_size + max_overflow (30 by default) server connections when
    # connected directly; behind a pooler these are the pooler's clients, which are cheap.
    pool_size: int = Field(default=10, ge=1, le=1000)
    max_overflow: int = Field(default=20, ge=0, le=1000)
    # The log hash-partitioned by tenant into this many partitions (PostgreSQL; applied by
    # `journeyline db upgrade`, store/partitions.py); 0 keeps one table.
    event_partitions: int = Field(default=0, ge=0, le=1024)


class LogSettings(BaseModel):
    """`journeyline serve` and `journeyline worker`'s log lines on stderr (decision 54)."""

    # `text` for a person at a terminal (`make run`), `json` (one object per line) for a
    # collector.
    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # One line per request (method, route, status, duration) on `journeyline.access`; off by
    # default, as uvicorn's was: a line per request costs. `serve --access-log` turns it on.
    access: bool = False


class Settings(BaseSettings):
    """Every setting journeyline reads. `.env.example` lists them all."""

    model_config = SettingsConfigDict(
        env_prefix="JOURNEYLINE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    database_url: str = DEFAULT_DATABASE_URL
    admin_token: str | None = None
    # Encrypts what must be stored but read back in clear (webhook signing secrets) at rest
    # (store/encryption.py). Unset: a public development key. Rotating it: move the old one to
    # previous_secret_keys (a JSON list), which still decrypt.
    secret_key: str | None = None
    previous_secret_keys: list[str] = Field(default_factory=list)
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Seconds an authenticated key stays cached in a process before it is looked up again: a
    # key revoked by another process answers 401 here within this bound (API.md: 5 s).
    key_cache_seconds: float = Field(default=5.0, ge=0, le=5)
    # A key's `last_used_at` is written at most once per this many seconds and process.
    key_usage_seconds: float = Field(default=60.0, gt=0)
    # What every 503 asks the client to wait before sending again (`Retry-After`, seconds).
    retry_after_seconds: int = Field(default=2, ge=1)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    orders: OrderSettings = Field(default_factory=OrderSettings)
    realtime: RealtimeSettings = Field(default_factory=RealtimeSettings)
    redis: RedisClientSettings = Field(default_factory=RedisClientSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
