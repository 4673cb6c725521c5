"""The persistent scheduler's storage: one SQLite file, written with group commit.

The scheduler hands over a :class:`Changeset` (rows already serialised) at the end of every unit of work
and waits for :meth:`SchedulerStore.wait_durable` before answering the call that caused it. The first waiting
caller that finds no commit under way commits every changeset queued at that moment in one transaction, so
under load many calls share one commit; a background thread commits changes nobody waits for.
WAL with ``synchronous=NORMAL``: a committed change survives the scheduler being killed; an operating-system
crash may lose the last moments, which a local development stack can accept.

A file is opened only if it is empty or was made by this store (``application_id`` and ``user_version``
match); anything else is refused with a clear error and never written to. One scheduler at a time may
hold the file (an exclusive ``flock``).
"""

from __future__ import annotations

import fcntl
import json
import logging
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

APPLICATION_ID = 0x44545331
"""``PRAGMA application_id`` of a scheduler database ("DTS1")."""

SCHEMA_VERSION = 1

WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024
"""The write-ahead log is cut back to this size after each checkpoint, so it cannot grow without bound."""

DEFAULT_DATA_FILE = Path(".local") / "scheduler.sqlite3"
"""Where ``make run`` keeps the scheduler's state, relative to the project folder."""

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE instances (
    instance_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status INTEGER NOT NULL,
    version TEXT,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    created_at TEXT NOT NULL,
    last_updated_at TEXT NOT NULL,
    completed_at TEXT,
    failure_details BLOB,
    tags TEXT
);
CREATE TABLE history (
    instance_id TEXT NOT NULL, position INTEGER NOT NULL, event BLOB NOT NULL,
    PRIMARY KEY (instance_id, position)
) WITHOUT ROWID;
CREATE TABLE inbox (
    instance_id TEXT NOT NULL, position INTEGER NOT NULL, event BLOB NOT NULL,
    PRIMARY KEY (instance_id, position)
) WITHOUT ROWID;
CREATE TABLE entities (
    entity_id TEXT PRIMARY KEY,
    serialized_state TEXT,
    last_modified_at TEXT NOT NULL,
    locked_by TEXT
);
CREATE TABLE entity_inbox (
    entity_id TEXT NOT NULL, position INTEGER NOT NULL, event BLOB NOT NULL,
    PRIMARY KEY (entity_id, position)
) WITHOUT ROWID;
CREATE TABLE delayed_signals (
    signal_id INTEGER PRIMARY KEY, entity_id TEXT NOT NULL, event BLOB NOT NULL, fire_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class _EventTable:
    """The statements on one table of ordered events (``owner``, ``position``, ``event``), written out in full."""

    insert: str
    drop_before: str
    truncate_from: str
    select_all: str


_EVENT_TABLES = {
    "history": _EventTable(
        insert="INSERT OR REPLACE INTO history VALUES (?,?,?)",
        drop_before="DELETE FROM history WHERE instance_id = ? AND position < ?",
        truncate_from="DELETE FROM history WHERE instance_id = ? AND position >= ?",
        select_all="SELECT instance_id, position, event FROM history ORDER BY instance_id, position",
    ),
    "inbox": _EventTable(
        insert="INSERT OR REPLACE INTO inbox VALUES (?,?,?)",
        drop_before="DELETE FROM inbox WHERE instance_id = ? AND position < ?",
        truncate_from="DELETE FROM inbox WHERE instance_id = ? AND position >= ?",
        select_all="SELECT instance_id, position, event FROM inbox ORDER BY instance_id, position",
    ),
    "entity_inbox": _EventTable(
        insert="INSERT OR REPLACE INTO entity_inbox VALUES (?,?,?)",
        drop_before="DELETE FROM entity_inbox WHERE entity_id = ? AND position < ?",
        truncate_from="DELETE FROM entity_inbox WHERE entity_id = ? AND position >= ?",
        select_all="SELECT entity_id, position, event FROM entity_inbox ORDER BY entity_id, position",
    ),
}


BACKGROUND_FLUSH_SECONDS = 0.05
"""How soon changes that no call waits for are committed anyway."""


class StoreError(RuntimeError):
    """The data file cannot be used, or a write to it failed."""


@dataclass
class Changeset:
    """Row changes of one unit of work, in the order they must be applied."""

    statements: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    sequence: int = 0

    def __bool__(self) -> bool:
        return bool(self.statements)

    def add(self, sql: str, *parameters: Any) -> None:
        self.statements.append((sql, parameters))

    def put_instance(self, row: tuple[Any, ...]) -> None:
        self.add("INSERT OR REPLACE INTO instances VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", *row)

    def delete_instance(self, instance_id: str) -> None:
        self.add("DELETE FROM instances WHERE instance_id = ?", instance_id)
        self.truncate_events("history", instance_id, 0)
        self.truncate_events("inbox", instance_id, 0)

    def put_entity(self, row: tuple[Any, ...]) -> None:
        self.add("INSERT OR REPLACE INTO entities VALUES (?,?,?,?)", *row)

    def delete_entity(self, entity_id: str) -> None:
        self.add("DELETE FROM entities WHERE entity_id = ?", entity_id)
        self.truncate_events("entity_inbox", entity_id, 0)

    def append_events(self, table: str, owner: str, first_position: int, events: list[bytes]) -> None:
        sql = _EVENT_TABLES[table].insert
        for offset, event in enumerate(events):
            self.add(sql, owner, first_position + offset, event)

    def drop_events_before(self, table: str, owner: str, position: int) -> None:
        self.add(_EVENT_TABLES[table].drop_before, owner, position)

    def truncate_events(self, table: str, owner: str, position: int) -> None:
        """Delete ``owner``'s events from ``position`` on."""
        self.add(_EVENT_TABLES[table].truncate_from, owner, position)

    def put_delayed_signal(self, signal_id: int, entity_id: str, event: bytes, fire_at: str) -> None:
        self.add("INSERT INTO delayed_signals VALUES (?,?,?,?)", signal_id, entity_id, event, fire_at)

    def delete_delayed_signal(self, signal_id: int) -> None:
        self.add("DELETE FROM delayed_signals WHERE signal_id = ?", signal_id)

    def put_meta(self, key: str, value: Any) -> None:
        self.add("INSERT OR REPLACE INTO meta VALUES (?, ?)", key, json.dumps(value))


StoredEvents = dict[str, dict[str, list[tuple[int, bytes]]]]
"""Per event table, per owner (instance or entity id): ``(position, serialised event)`` in order."""


@dataclass
class StoredState:
    """Everything in the file, as rows, for the scheduler to rebuild its memory from."""

    meta: dict[str, Any]
    instances: list[sqlite3.Row]
    entities: list[sqlite3.Row]
    events: StoredEvents
    delayed_signals: list[sqlite3.Row]


class SchedulerStore:
    """An open, locked, validated data file, committed by the callers that wait for it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock_file = _lock_exclusively(self.path)
        try:
            self._connection = _open_validated(self.path)
        except BaseException:
            self._lock_file.close()
            raise
        self._condition = threading.Condition()
        self._queued: list[Changeset] = []
        self._committing = False
        self._assigned = 0
        self._durable = 0
        self._failure: BaseException | None = None
        self._stopping = threading.Event()
        self._flusher: threading.Thread | None = None

    def load(self) -> StoredState:
        """Read the whole file (before anything is submitted)."""
        try:
            return self._read_all()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} cannot be read ({error}); it is left as it is") from error

    def start(self) -> None:
        self._flusher = threading.Thread(target=self._flush_forever, name="scheduler-store", daemon=True)
        self._flusher.start()

    def submit(self, changeset: Changeset) -> int:
        """Queue ``changeset`` for the next commit; its sequence number, for :meth:`wait_durable`."""
        with self._condition:
            self._assigned += 1
            changeset.sequence = self._assigned
            self._queued.append(changeset)
        return changeset.sequence

    @property
    def assigned(self) -> int:
        """The sequence number of the latest changeset submitted."""
        return self._assigned

    def wait_durable(self, sequence: int) -> None:
        """Block until every changeset up to ``sequence`` is committed; raise if writing failed.

        A caller that finds no commit under way commits everything queued, its own changes and those of every
        caller queued behind it, in one transaction: group commit with no hand-off to another thread.
        """
        while True:
            with self._condition:
                batch = self._next_batch(sequence)
            if batch is None:
                return
            self._commit(batch)

    def close(self) -> None:
        """Commit what is queued, stop the flusher and release the file."""
        self._stopping.set()
        if self._flusher is not None:
            self._flusher.join(timeout=30)
        self._connection.close()
        self._lock_file.close()

    def _next_batch(self, sequence: int) -> list[Changeset] | None:
        """Under the condition: ``None`` once ``sequence`` is durable, else the batch this caller must commit."""
        while True:
            if self._failure is not None:
                raise StoreError(f"writing {self.path} failed: {self._failure}") from self._failure
            if self._durable >= sequence:
                return None
            if self._queued and not self._committing:
                return self._take_queued()
            self._condition.wait()

    def _take_queued(self) -> list[Changeset]:
        batch, self._queued = self._queued, []
        self._committing = True
        return batch

    def _flush_forever(self) -> None:
        """Commit changes no caller waits for (a timer firing, a delayed signal) soon after they are made."""
        while not self._stopping.wait(BACKGROUND_FLUSH_SECONDS):
            self._flush()
        with self._condition:
            self._condition.wait_for(lambda: not self._committing)
        self._flush()

    def _flush(self) -> None:
        with self._condition:
            batch = self._take_queued() if self._queued and not self._committing else None
        if batch:
            self._commit(batch)

    def _commit(self, batch: list[Changeset]) -> None:
        try:
            with self._connection:
                for changeset in batch:
                    for sql, parameters in changeset.statements:
                        self._connection.execute(sql, parameters)
        except (sqlite3.Error, OSError) as error:
            logger.critical("Writing %s failed: %s; the scheduler refuses further calls", self.path, error)
            with self._condition:
                self._failure = error
                self._committing = False
                self._condition.notify_all()
            return
        with self._condition:
            self._durable = batch[-1].sequence
            self._committing = False
            self._condition.notify_all()

    def _read_all(self) -> StoredState:
        connection = self._connection
        meta = {row["key"]: json.loads(row["value"]) for row in connection.execute("SELECT key, value FROM meta")}
        events: StoredEvents = {}
        for table, statements in _EVENT_TABLES.items():
            rows = connection.execute(statements.select_all)
            grouped: dict[str, list[tuple[int, bytes]]] = {}
            for row in rows:
                grouped.setdefault(row[0], []).append((row[1], row[2]))
            events[table] = grouped
        return StoredState(
            meta=meta,
            instances=connection.execute("SELECT * FROM instances ORDER BY created_at").fetchall(),
            entities=connection.execute("SELECT * FROM entities").fetchall(),
            events=events,
            delayed_signals=connection.execute("SELECT * FROM delayed_signals ORDER BY fire_at").fetchall(),
        )


def _lock_exclusively(path: Path) -> Any:
    """Hold an exclusive lock on ``<path>.lock`` while the scheduler runs; a second scheduler is refused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_file = open(path.with_name(path.name + ".lock"), "a+b")  # noqa: SIM115 - held for the store's lifetime
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock_file.close()
        raise StoreError(f"{path} is in use by another scheduler; stop it or pick another --data-file") from None
    return lock_file


def _open_validated(path: Path) -> sqlite3.Connection:
    """Open ``path`` if it is new, empty or ours; never write to anything else."""
    existed = path.exists() and path.stat().st_size > 0
    if existed:
        _check_format(path)
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
    connection.isolation_level = "DEFERRED"
    if not existed:
        with connection:
            connection.executescript(f"BEGIN; {SCHEMA} COMMIT;")
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        logger.info("Created scheduler data file %s", path)
    return connection


def _check_format(path: Path) -> None:
    """Refuse a file that is not a scheduler database of this version, opening it read-only."""
    try:
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            application_id = probe.execute("PRAGMA application_id").fetchone()[0]
            version = probe.execute("PRAGMA user_version").fetchone()[0]
            check = [row[0] for row in probe.execute("PRAGMA quick_check")]
        finally:
            probe.close()
    except sqlite3.DatabaseError as error:
        raise StoreError(
            f"{path} is not a readable SQLite database ({error}); it is left untouched. "
            "Move it away or pick another --data-file."
        ) from error
    if check != ["ok"]:
        raise StoreError(f"{path} is damaged ({'; '.join(check[:3])}); it is left untouched.")
    if application_id != APPLICATION_ID:
        raise StoreError(
            f"{path} is a SQLite database of another application (application_id {application_id}); "
            "it is left untouched. Move it away or pick another --data-file."
        )
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"{path} has scheduler data format {version}; this scheduler reads format {SCHEMA_VERSION}. "
            "It is left untouched."
        )
