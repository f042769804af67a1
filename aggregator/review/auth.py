"""Who may change story clusters: editor accounts, the session secret, CSRF tokens and login throttling.

Accounts come from configuration, never from the search index, so whoever can write to the index
cannot make themselves an editor: ``AGGREGATOR_EDITORS`` (``name:bcrypt_hash`` pairs separated by
commas) and the TOML file ``AGGREGATOR_EDITORS_FILE`` (default ``var/editors.toml``, an ``[editors]``
table of ``name = "hash"``). They are re-read at every login attempt so ``aggregator review
--add-editor`` takes effect without a restart.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt

from aggregator import config

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MIN_PASSWORD = 8

# Compared against when the user name is unknown, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=10))


def editors_file() -> Path:
    return Path(os.environ.get("AGGREGATOR_EDITORS_FILE") or config.var_dir() / "editors.toml")


def load_editors() -> dict[str, str]:
    """``{name: bcrypt_hash}`` from the editors file, then ``AGGREGATOR_EDITORS`` (which wins on a clash)."""
    editors: dict[str, str] = {}
    path = editors_file()
    if path.is_file():
        with path.open("rb") as fh:
            table = tomllib.load(fh).get("editors") or {}
        editors.update({str(k): str(v) for k, v in table.items() if isinstance(v, str)})
    for pair in (os.environ.get("AGGREGATOR_EDITORS") or "").split(","):
        name, sep, hashed = pair.strip().partition(":")
        if sep and name and hashed:
            editors[name.strip()] = hashed.strip()
    return editors


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def verify(editors: dict[str, str], name: str, password: str) -> bool:
    """True when ``name`` is an editor and ``password`` matches; constant work whether or not the name exists."""
    hashed = editors.get(name)
    candidate = password.encode("utf-8")[:72]  # bcrypt's own limit; bcrypt 5 raises beyond it
    try:
        ok = bcrypt.checkpw(candidate, (hashed or "").encode("ascii") if hashed else _DUMMY_HASH)
    except ValueError:  # a malformed hash in the configuration must not open the door
        return False
    return ok and hashed is not None


def add_editor(name: str, password: str, path: Path | None = None) -> Path:
    """Write (or replace) ``name``'s bcrypt hash in the editors file; returns the file's path."""
    if not NAME_RE.match(name):
        raise ValueError("editor names are 1-64 letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"passwords need at least {MIN_PASSWORD} characters")
    if len(password.encode("utf-8")) > 72:
        raise ValueError("bcrypt uses at most 72 bytes of a password; choose a shorter one")
    path = path or editors_file()
    editors: dict[str, str] = {}
    if path.is_file():
        with path.open("rb") as fh:
            editors = {str(k): str(v) for k, v in (tomllib.load(fh).get("editors") or {}).items()}
    editors[name] = hash_password(password)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Review-page editors: name = bcrypt hash. Add with `aggregator review --add-editor NAME`.",
             "[editors]"]
    # names match NAME_RE and bcrypt hashes use only [./$A-Za-z0-9], so plain quoting is exact TOML
    lines += [f'"{n}" = "{h}"' for n, h in sorted(editors.items())]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


def session_secret() -> str:
    """``AGGREGATOR_REVIEW_SECRET``, or a random one generated once and kept in ``var/review-secret``.

    Persisted so sessions survive a restart; readable by the owner only.
    """
    env = os.environ.get("AGGREGATOR_REVIEW_SECRET")
    if env:
        return env
    path = config.var_dir() / "review-secret"
    if path.is_file():
        value = path.read_text(encoding="utf-8").strip()
        if len(value) >= 32:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def csrf_token(session: dict) -> str:
    """The session's CSRF token, created on first use; forms carry it in a hidden field."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(session: dict, submitted: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and submitted) and hmac.compare_digest(str(expected), str(submitted))


@dataclass
class LoginThrottle:
    """Failed sign-ins per client address and per user name in a sliding window.

    In memory on purpose: one review process, and a restart resetting counters is acceptable for a
    tool behind a handful of editor accounts. Both keys count, so spreading guesses over names or over
    addresses alone does not help.
    """

    max_failures: int = 5
    window: float = 15 * 60
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def retry_after(self, keys: list[str], now: float | None = None) -> int:
        """Seconds to wait before another attempt is allowed for any of ``keys`` (0 = go ahead)."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        with self._lock:
            for key in keys:
                q = self._recent(key, now)
                if len(q) >= self.max_failures:
                    wait = max(wait, self.window - (now - q[0]))
        return int(wait) + (1 if wait else 0)

    def failed(self, keys: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
