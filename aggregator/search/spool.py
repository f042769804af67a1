"""A durable on-disk queue for documents the engine could not take, so an outage loses nothing.

Layout under ``var/spool`` (``config.var_dir() / "spool"``)::

    00000001734000000123-4711-0001.jsonl   segments: one per failed batch, JSON lines {"kind", "doc"}
    dead-letter/articles.jsonl             documents the engine rejected for good, with the reason

A segment is written to a temporary name, fsync'd, then renamed (and the directory fsync'd): a crash
leaves either the whole batch or nothing, never half a line. Segment names sort by creation time, so
:meth:`Spool.segments` returns them oldest first and a replay applies writes in their original order.
A segment is deleted (:meth:`Spool.ack`) only after the engine acknowledged every document in it; a
replay that dies half-way simply sends the segment again, which is harmless because document ids are
stable and the article update script ignores unchanged or older content.

Dead letters are not replayed automatically (the same mapping would reject them again); fix the cause
(usually ``aggregator index migrate`` after a schema change) and run ``aggregator index replay
--dead-letters``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from aggregator import config

SEGMENT_SUFFIX = ".jsonl"
DEAD_LETTER_DIR = "dead-letter"


def default_spool_dir() -> Path:
    return config.var_dir() / "spool"


def to_json(value: Any) -> str:
    """JSON for documents: dates become ISO 8601 (the engines' default date format), not ``str()``."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in the spool")


@dataclass(frozen=True)
class SpoolSize:
    segments: int
    documents: int
    bytes: int
    dead_letters: int

    def describe(self) -> str:
        return (f"{self.documents} documents in {self.segments} segments ({self.bytes} bytes), "
                f"{self.dead_letters} dead letters")


class Spool:
    """Append-only JSON-lines segments of ``(kind, document)`` waiting for the engine."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_spool_dir()
        self._seq = 0

    # -- writing ------------------------------------------------------------------------------------------
    def append(self, kind: str, docs: Iterable[dict[str, Any]]) -> Path | None:
        """Durably store ``docs`` as one new segment; returns its path (None when ``docs`` is empty)."""
        lines = [to_json({"kind": kind, "doc": doc}) + "\n" for doc in docs]
        if not lines:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        name = f"{time.time_ns():020d}-{os.getpid()}-{self._seq:04d}{SEGMENT_SUFFIX}"
        final = self.directory / name
        tmp = self.directory / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.writelines(lines)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        self._fsync_dir(self.directory)
        return final

    def dead_letter(self, kind: str, doc: dict[str, Any], reason: str) -> None:
        """Keep a document the engine rejected, with why, for a human (or a later replay) to deal with."""
        folder = self.directory / DEAD_LETTER_DIR
        folder.mkdir(parents=True, exist_ok=True)
        line = to_json({"kind": kind, "reason": reason, "at": datetime.now().astimezone().isoformat(),
                        "doc": doc}) + "\n"
        with open(folder / f"{kind}{SEGMENT_SUFFIX}", "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    # -- reading ------------------------------------------------------------------------------------------
    def segments(self) -> list[Path]:
        """Segments waiting for the engine, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir()
                      if p.suffix == SEGMENT_SUFFIX and not p.name.startswith(".") and p.is_file())

    @staticmethod
    def read(segment: Path) -> list[tuple[str, dict[str, Any]]]:
        """The ``(kind, doc)`` pairs of a segment; a torn last line (crash mid-write) is skipped."""
        out = []
        with open(segment, encoding="utf-8") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                out.append((entry["kind"], entry["doc"]))
        return out

    def ack(self, segment: Path) -> None:
        """The engine has every document of ``segment``: forget it."""
        segment.unlink(missing_ok=True)
        self._fsync_dir(self.directory)

    def dead_letter_files(self) -> list[Path]:
        folder = self.directory / DEAD_LETTER_DIR
        return sorted(folder.glob(f"*{SEGMENT_SUFFIX}")) if folder.is_dir() else []

    def read_dead_letters(self, path: Path) -> list[tuple[str, dict[str, Any], str]]:
        out = []
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    out.append((entry["kind"], entry["doc"], entry.get("reason", "")))
        return out

    def size(self) -> SpoolSize:
        segments = self.segments()
        documents = 0
        size = 0
        for seg in segments:
            with contextlib.suppress(OSError):
                size += seg.stat().st_size
                with open(seg, "rb") as fh:
                    documents += sum(1 for _ in fh)
        dead = 0
        for path in self.dead_letter_files():
            with open(path, "rb") as fh:
                dead += sum(1 for _ in fh)
        return SpoolSize(len(segments), documents, size, dead)

    # -- exclusive draining -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def draining(self) -> Iterator[bool]:
        """Hold the spool's drain lock; yields False when another process is draining right now.

        Two replays at once would be harmless (idempotent) but wasteful; appends never take the lock.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".drain.lock", "a") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        # the rename/unlink itself must survive a power cut, not only the file's bytes
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
