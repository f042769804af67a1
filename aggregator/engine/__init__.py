"""The local search engine: one OpenSearch 2.19 node in a JVM, resolved from Maven Central.

``pom.xml`` and ``EngineMain.java`` beside this file define it; :class:`LocalEngine` builds it once
(``mvn package``), starts it detached with its data under ``var/engine``, waits for a yellow or green
cluster, and stops it with SIGTERM (SIGKILL after a grace period) so no orphan JVM is left.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from aggregator import config

ENGINE_SRC = Path(__file__).resolve().parent
MAIN_CLASS = "io.evnews.engine.EngineMain"


class EngineError(RuntimeError):
    """The local engine could not be built, started or stopped; the message says why and what to do."""


@dataclass
class EngineStatus:
    running: bool
    pid: int | None
    url: str
    health: str | None
    version: str | None

    def describe(self) -> str:
        if not self.running:
            return f"engine not running ({self.url})"
        return f"engine running: OpenSearch {self.version} at {self.url}, pid {self.pid}, health {self.health}"


def _http_json(url: str, timeout: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


class LocalEngine:
    """Build, start, stop and inspect the embedded OpenSearch node.

    The node binds 127.0.0.1 only. ``port`` is the HTTP port; transport uses ``port+100..port+199``.

    A node of a multi-node cluster (``aggregator cluster``) gets ``host`` (the address it binds),
    ``settings`` (``node.name``, ``node.roles``, ``discovery.seed_hosts``,
    ``cluster.initial_cluster_manager_nodes``; lists as lists) and ``prefix`` (a command the JVM is
    started under, e.g. ``ip netns exec NAME``).
    """

    def __init__(self, home: Path | None = None, port: int | None = None, heap: str = "1g", host: str = "127.0.0.1",
                 settings: dict[str, str | list[str]] | None = None, prefix: list[str] | None = None) -> None:
        self.home = (home or config.var_dir() / "engine").resolve()
        self.port = port or config.engine_port()
        self.heap = heap
        self.host = host
        self.settings = dict(settings or {})
        self.prefix = list(prefix or [])
        self.build_dir = self.home / "build"
        self.pid_file = self.home / "engine.pid"
        self.log_file = self.home / "logs" / "launcher.log"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- build -------------------------------------------------------------------------------------
    @property
    def classpath(self) -> str:
        return f"{self.build_dir / 'classes'}{os.pathsep}{self.build_dir / 'lib'}/*"

    def is_built(self) -> bool:
        main = self.build_dir / "classes" / "io" / "evnews" / "engine" / "EngineMain.class"
        lib = self.build_dir / "lib"
        source = ENGINE_SRC / "src" / "main" / "java" / "io" / "evnews" / "engine" / "EngineMain.java"
        fresh = not source.exists() or (main.exists() and main.stat().st_mtime >= source.stat().st_mtime)
        return main.exists() and fresh and lib.is_dir() and any(lib.glob("opensearch-2.*.jar"))

    def build(self) -> None:
        """Resolve the node's jars from Maven Central and compile the launcher (once; ~1 min cold)."""
        if self.is_built():
            return
        self.build_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            "mvn", "-q", "-B", "-f", str(ENGINE_SRC / "pom.xml"), "package", "-DskipTests",
            f"-Dengine.build={self.build_dir}",
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except FileNotFoundError as exc:
            raise EngineError("Maven (mvn) is not installed: run `make setup` or `apt-get install maven`") from exc
        if proc.returncode != 0 or not self.is_built():
            tail = (proc.stdout + proc.stderr)[-2000:]
            raise EngineError(f"building the engine with Maven failed:\n{tail}")

    # -- lifecycle ---------------------------------------------------------------------------------
    def _read_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        # a recycled pid must not be taken for our JVM
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return pid
        return pid if MAIN_CLASS.encode() in cmdline else None

    def status(self) -> EngineStatus:
        pid = self._read_pid()
        root = _http_json(self.url + "/") if pid else None
        health = _http_json(self.url + "/_cluster/health") if root else None
        return EngineStatus(
            running=pid is not None and root is not None,
            pid=pid,
            url=self.url,
            health=(health or {}).get("status"),
            version=((root or {}).get("version") or {}).get("number"),
        )

    def start(self, timeout: float = 120.0) -> EngineStatus:
        """Start the node detached and wait until it answers with a yellow or green cluster.

        Returns at once if our node already runs. Refuses when another program holds the port.
        """
        if self._read_pid() is not None:
            return self.wait_ready(timeout)
        if _port_open(self.port, self.host) and not self.prefix:
            raise EngineError(
                f"port {self.port} is already taken by another program; stop it or choose another port "
                f"with AGGREGATOR_ENGINE_PORT (and AGGREGATOR_SEARCH_URL)"
            )
        self.build()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if self.host != "127.0.0.1" or self.settings:
            extra = {"network.host": self.host, **self.settings}
            env["AGGREGATOR_ENGINE_SETTINGS"] = "\n".join(
                f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in extra.items())
        cmd = [
            *self.prefix, "java", f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC",
            "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8",
            "-Dlog4j2.formatMsgNoLookups=true",
            "-cp", self.classpath, MAIN_CLASS, str(self.home), str(self.port), "aggregator",
        ]
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.home, start_new_session=True, env=env,
            )
        self.pid_file.write_text(str(proc.pid))
        try:
            return self.wait_ready(timeout, proc=proc)
        except EngineError:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> EngineStatus:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise EngineError(
                    f"the engine exited with code {proc.returncode} during start-up; see {self.log_file}"
                )
            health = _http_json(self.url + "/_cluster/health?wait_for_status=yellow&timeout=1s")
            if health and health.get("status") in ("yellow", "green"):
                return self.status()
            time.sleep(0.5)
        raise EngineError(f"the engine did not become ready within {timeout:.0f}s; see {self.log_file}")

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop our node; returns False if it was not running."""
        pid = self._read_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
            while pid_alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True


def pid_alive(pid: int) -> bool:
    """Is process ``pid`` running (not a zombie)? Reaps it first when it is our child."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process (the Elasticsearch node runs as its own user)
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        return state != "Z"
    except OSError:
        return True
