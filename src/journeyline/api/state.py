"""What one process keeps for its lifetime: settings, the database, the group committer, the
key cache and the realtime hub."""

from __future__ import annotations

from dataclasses import dataclass

from journeyline.config import Settings
from journeyline.ingest.batches import JobQueue
from journeyline.ingest.group_commit import GroupCommitter
from journeyline.realtime.hub import Hub
from journeyline.store.db import Database
from journeyline.tenancy.cache import KeyCache


@dataclass
class AppState:
    settings: Settings
    database: Database
    committer: GroupCommitter
    queue: JobQueue
    keys: KeyCache
    hub: Hub
    # Signs dashboard session cookies (tenancy/sessions.py).
    session_secret: bytes
