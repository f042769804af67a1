"""A real Elasticsearch node for the test suite: Elastic's integration-test distribution from Maven Central.

``org.elasticsearch.distribution.integ-test-zip:elasticsearch`` is the smallest build Elastic publishes
(modules ``transport-netty4``, ``x-pack-core``, ``x-pack-security`` and ``apm``; no ``analysis-common``,
no ``reindex``, no painless, no ``GET /``). It is the real server, so the suite runs the same code
against it that production runs against an Elastic Cloud or self-managed cluster, with security on:

* the distribution is fetched once with ``mvn dependency:unpack`` (cached in ``~/.m2`` like the
  OpenSearch engine's jars) and unpacked read-only under ``var/elasticsearch``;
* Elasticsearch refuses to run as root, so as root the node runs as the system user
  ``aggregator-es`` (created with ``useradd`` on first use); any other user runs it as themselves;
* HTTP is TLS with a CA made here (``cryptography``); users are in the file realm (``config/users``): a
  superuser for the fixture and ``aggregator``, with only the privileges of :data:`APP_ROLE`, for the
  code under test. An API key is asked for through the REST API, but this build cannot make one: keys
  live in the ``.security`` index, whose mapping needs ``analysis-common`` (the ``pattern_capture``
  filter), so :attr:`NodeAccess.api_key_error` keeps the node's answer for the tests that skip;
* one node, single-node discovery, a small heap, ``ES_JAVA_HOME`` = the installed Java 17;
* :meth:`ElasticsearchNode.stop` ends the whole process group it started (the CLI launcher and the
  server JVM), SIGKILL after a grace period, so no JVM outlives the test session.
"""

from __future__ import annotations

import base64
import datetime as dt
import glob
import ipaddress
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from aggregator import config
from aggregator.engine import EngineError, _port_open

ES_VERSION = "8.19.21"
GROUP_ID = "org.elasticsearch.distribution.integ-test-zip"
SERVICE_USER = "aggregator-es"
#: the file-realm superuser the fixture signs in with (basic auth) to set the node up
ADMIN_USER = "aggregator-admin"
#: the file-realm user the code under test signs in as
APP_USER = "aggregator"
#: what the code under test may do: the least a deployment needs (the README lists it), so a missing
#: privilege shows up here rather than on a user's cluster
APP_ROLE = {
    "cluster": ["monitor", "manage_index_templates"],
    "indices": [{"names": ["*"], "privileges": ["all"]}],
}


class NoServiceAccount(EngineError):
    """Running as root without an unprivileged account to hand the node to (Elasticsearch refuses root)."""


@dataclass
class NodeAccess:
    """How to reach a running node: written to ``credentials.json`` in the node's home."""

    url: str
    username: str  # the superuser
    password: str
    app_username: str
    app_password: str
    ca_certs: str
    api_key: str | None = None
    api_key_error: str | None = None  # why the node made no API key
    version: str = ES_VERSION

    def env(self, api_key: bool = False) -> dict[str, str]:
        """The ``AGGREGATOR_SEARCH_*`` variables that make :func:`aggregator.search.client.connect` sign in
        as the application user (or with the API key)."""
        env = {"AGGREGATOR_SEARCH_URL": self.url, "AGGREGATOR_SEARCH_CA_CERTS": self.ca_certs}
        if api_key:
            env["AGGREGATOR_SEARCH_API_KEY"] = self.api_key or ""
        else:
            env.update(AGGREGATOR_SEARCH_USER=self.app_username, AGGREGATOR_SEARCH_PASSWORD=self.app_password)
        return env


def find_java_home() -> str:
    """``ES_JAVA_HOME``/``JAVA_HOME`` if set, else the installed Java 17, else the ``java`` on PATH."""
    for name in ("ES_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(name) and Path(os.environ[name], "bin", "java").exists():
            return os.environ[name]
    for candidate in sorted(glob.glob("/usr/lib/jvm/java-17-openjdk*")):
        if Path(candidate, "bin", "java").exists():
            return candidate
    java = shutil.which("java")
    if java:
        return str(Path(java).resolve().parents[1])
    raise EngineError("no Java found for Elasticsearch: install openjdk-17-jre-headless or set ES_JAVA_HOME")


def _open_to_others(path: Path) -> bool:
    """Every folder from / down to ``path`` can be entered by other users (an unprivileged node must)."""
    path = path.resolve()
    for folder in [*reversed(path.parents), path]:
        if folder.exists() and not folder.stat().st_mode & 0o001:
            return False
    return True


def service_account() -> tuple[int, int] | None:
    """(uid, gid) to run the node as: ``None`` (ourselves) unless we are root, else ``aggregator-es``.

    Created on first use as a system user without a login shell or home. Raises :class:`EngineError`
    when it neither exists nor can be made.
    """
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(SERVICE_USER)
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd is None:
        raise NoServiceAccount(f"running as root, Elasticsearch refuses to; no user {SERVICE_USER!r} and no useradd "
                          "to make one")
    proc = subprocess.run([useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                           "--shell", "/usr/sbin/nologin", SERVICE_USER], capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 9):  # 9: made meanwhile by a parallel run
        raise NoServiceAccount(f"useradd {SERVICE_USER} failed: {proc.stderr.strip()}")
    entry = pwd.getpwnam(SERVICE_USER)
    return entry.pw_uid, entry.pw_gid


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a node certificate it signs (for 127.0.0.1 and localhost); returns (ca, cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aggregator test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.crt", folder / "node.crt", folder / "node.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class ElasticsearchNode:
    """Fetch, configure, start and stop one secured Elasticsearch node.

    ``home`` holds this node's config, certificates, credentials, data and logs (owned by the account
    it runs as); the unpacked distribution is shared read-only under ``dist_root``.
    """

    def __init__(self, home: Path, http_port: int, transport_port: int, heap: str = "512m",
                 version: str = ES_VERSION, dist_root: Path | None = None, data: Path | None = None) -> None:
        self.home = Path(home).resolve()
        self.http_port = http_port
        self.transport_port = transport_port
        self.heap = heap
        self.version = version
        self.dist_root = Path(dist_root or config.var_dir() / "elasticsearch").resolve()
        if os.geteuid() == 0 and not (_open_to_others(self.home.parent) and _open_to_others(self.dist_root.parent)):
            # root's checkout in a folder others cannot enter (/root/...): the node's account could not read
            # its files there, so they live in a folder of their own under /var/tmp
            moved = Path("/var/tmp/aggregator-elasticsearch")
            moved.mkdir(mode=0o755, parents=True, exist_ok=True)
            self.dist_root = moved
            self.home = moved / f"{self.home.name}-{http_port}"
        #: the index data; a test node may keep it in memory (tmpfs), where every index created or deleted
        #: does not wait for the disk to sync the cluster state
        self.data = Path(data).resolve() if data else self.home / "data"
        self.pid_file = self.home / "node.pid"
        self.log_file = self.home / "logs" / "launcher.log"
        self.credentials_file = self.home / "credentials.json"
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.http_port}"

    @property
    def dist(self) -> Path:
        return self.dist_root / f"elasticsearch-{self.version}"

    # -- fetch -------------------------------------------------------------------------------------
    def is_installed(self) -> bool:
        return (self.dist / ".unpacked").exists()

    def install(self) -> None:
        """Resolve the distribution from Maven Central (cached in ~/.m2) and unpack it (~107 MB, once)."""
        if self.is_installed():
            return
        self.dist_root.mkdir(parents=True, exist_ok=True)
        staging = self.dist_root / f".unpack-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        # the plugin skips artifacts its marker files call unpacked already: keep those in the staging folder
        cmd = ["mvn", "-q", "-B", "dependency:unpack", f"-Dartifact={GROUP_ID}:elasticsearch:{self.version}:zip",
               f"-DoutputDirectory={staging}", f"-DmarkersDirectory={staging / '.markers'}"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=staging)
        except FileNotFoundError as exc:
            raise EngineError("Maven (mvn) is not installed: run `make setup` or `apt-get install maven`") from exc
        unpacked = staging / f"elasticsearch-{self.version}"
        if proc.returncode != 0 or not (unpacked / "bin" / "elasticsearch").exists():
            shutil.rmtree(staging, ignore_errors=True)
            raise EngineError(f"fetching Elasticsearch {self.version} with Maven failed:\n"
                              f"{(proc.stdout + proc.stderr)[-2000:]}")
        shutil.rmtree(self.dist, ignore_errors=True)
        unpacked.rename(self.dist)
        shutil.rmtree(staging, ignore_errors=True)
        (self.dist / ".unpacked").write_text(self.version)

    def modules(self) -> list[str]:
        """The modules this build ships (``modules/``): what the suite can expect it to serve."""
        return sorted(p.name for p in (self.dist / "modules").iterdir()) if self.is_installed() else []

    # -- configuration -----------------------------------------------------------------------------
    def _configure(self, account: tuple[int, int] | None) -> NodeAccess:
        """A fresh config folder, certificates and a superuser; data and logs kept from earlier runs."""
        import bcrypt

        conf = self.home / "config"
        shutil.rmtree(conf, ignore_errors=True)
        shutil.copytree(self.dist / "config", conf)
        ca, cert, key = make_certificates(conf / "certs")
        settings = {
            "cluster.name": "aggregator-test",
            "node.name": "aggregator-es",
            "path.data": str(self.data),
            "path.logs": str(self.home / "logs"),
            "network.host": "127.0.0.1",
            "http.port": self.http_port,
            "transport.port": self.transport_port,
            "discovery.type": "single-node",
            # a shared CI disk can be fuller than the 90% at which shards stop being allocated
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "xpack.security.enabled": True,
            "xpack.security.http.ssl.enabled": True,
            "xpack.security.http.ssl.certificate": "certs/node.crt",
            "xpack.security.http.ssl.key": "certs/node.key",
            "xpack.security.http.ssl.certificate_authorities": ["certs/ca.crt"],
            "xpack.security.authc.api_key.enabled": True,
        }
        (conf / "elasticsearch.yml").write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in settings.items()))
        password, app_password = secrets.token_urlsafe(18), secrets.token_urlsafe(18)

        def hashed(secret: str) -> str:
            # the file realm takes bcrypt; Python's bcrypt writes the $2b$ spelling of what Java reads as $2a$
            return bcrypt.hashpw(secret.encode(), bcrypt.gensalt(10)).decode().replace("$2b$", "$2a$", 1)

        (conf / "users").write_text(f"{ADMIN_USER}:{hashed(password)}\n{APP_USER}:{hashed(app_password)}\n")
        (conf / "users_roles").write_text(f"superuser:{ADMIN_USER}\naggregator_app:{APP_USER}\n")
        (conf / "roles.yml").write_text(f"aggregator_app: {json.dumps(APP_ROLE)}\n")  # JSON is YAML
        for folder in (self.data, self.home / "logs", self.home / "tmp"):
            folder.mkdir(parents=True, exist_ok=True)
        if account is not None:
            uid, gid = account
            for root, dirs, files in [*os.walk(self.home), *([] if self.data.is_relative_to(self.home)
                                                             else os.walk(self.data))]:
                os.chown(root, uid, gid)
                for name in dirs + files:
                    os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)
        access = NodeAccess(self.url, ADMIN_USER, password, APP_USER, app_password, str(ca), version=self.version)
        self._save(access)
        return access

    def _save(self, access: NodeAccess) -> None:
        self.credentials_file.write_text(json.dumps(asdict(access), indent=1))
        self.credentials_file.chmod(0o600)

    def saved_access(self) -> NodeAccess | None:
        try:
            return NodeAccess(**json.loads(self.credentials_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    # -- lifecycle ---------------------------------------------------------------------------------
    def running_access(self) -> NodeAccess | None:
        """The saved access of a node that answers on our port with those credentials (one to reuse)."""
        access = self.saved_access()
        if access is None or access.url != self.url or not _port_open(self.http_port):
            return None
        health = request_json(access, "GET", "/_cluster/health", timeout=3.0)
        return access if isinstance(health, dict) and health.get("status") in ("yellow", "green") else None

    def start(self, timeout: float = 180.0) -> NodeAccess:
        """Install if needed, configure and start the node, wait for it, and make an API key."""
        if _port_open(self.http_port) or _port_open(self.transport_port):
            raise EngineError(f"port {self.http_port} or {self.transport_port} is taken by another program; choose "
                              "others with AGGREGATOR_TEST_ES_PORT / AGGREGATOR_TEST_ES_TRANSPORT_PORT")
        self.install()
        account = service_account()
        self.home.mkdir(parents=True, exist_ok=True)
        access = self._configure(account)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ES_", "JAVA_", "_JAVA"))}
        env.update(ES_JAVA_HOME=find_java_home(), ES_PATH_CONF=str(self.home / "config"),
                   ES_TMPDIR=str(self.home / "tmp"), ES_JAVA_OPTS=f"-Xms{self.heap} -Xmx{self.heap}",
                   LANG="C.UTF-8")
        extra: dict = {}
        if account is not None:
            env["HOME"] = str(self.home)
            extra = {"user": account[0], "group": account[1], "extra_groups": []}
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            # a session of its own: stop() signals the whole group (the CLI launcher and the server JVM)
            self._proc = subprocess.Popen([str(self.dist / "bin" / "elasticsearch")], stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                          cwd=self.home / "logs", start_new_session=True, **extra)
        self.pid_file.write_text(str(self._proc.pid))
        try:
            self.wait_ready(access, timeout)
            try:
                access.api_key = self.create_api_key(access)
            except EngineError as exc:
                access.api_key_error = str(exc)
        except BaseException:
            self.stop()
            raise
        self._save(access)
        return access

    def wait_ready(self, access: NodeAccess, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise EngineError(f"Elasticsearch exited with code {self._proc.returncode} during start-up; "
                                  f"see {self.log_file} and {self.home / 'logs'}")
            health = request_json(access, "GET", "/_cluster/health?wait_for_status=yellow&timeout=1s", timeout=3)
            if isinstance(health, dict) and health.get("status") in ("yellow", "green"):
                return
            time.sleep(0.5)
        raise EngineError(f"Elasticsearch did not become ready within {timeout:.0f}s; see {self.log_file}")

    def create_api_key(self, access: NodeAccess) -> str:
        """An API key (``POST /_security/api_key``, signed in with basic auth) limited to :data:`APP_ROLE`."""
        body = {"name": "aggregator-tests", "expiration": "1d", "role_descriptors": {"aggregator": APP_ROLE}}
        resp = request_json(access, "POST", "/_security/api_key", body, timeout=60, raise_errors=True)
        return resp["encoded"]

    def _pgid(self) -> int | None:
        if self._proc is not None:
            return self._proc.pid if self._proc.poll() is None else None
        try:
            pid = int(self.pid_file.read_text().strip())
            # a pid file from an earlier session: only our launcher, never a recycled pid
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if str(self.dist).encode() in cmdline or b"elasticsearch" in cmdline else None

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM to the process group we started, SIGKILL after ``timeout``; False if none was running."""
        pgid = self._pgid()
        self.pid_file.unlink(missing_ok=True)
        if pgid is None:
            return False
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _group_alive(pgid):
            if self._proc is not None:
                self._proc.poll()
            time.sleep(0.2)
        if _group_alive(pgid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._proc is not None:
            self._proc.wait(timeout=10)
            self._proc = None
        while _group_alive(pgid):
            time.sleep(0.1)
        return True


def _group_alive(pgid: int) -> bool:
    """Any live (non-zombie) process of group ``pgid``: the server JVM outlives its launcher briefly."""
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # after the ")" of the command name: state, ppid, pgrp
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def request_json(access: NodeAccess, method: str, path: str, body: dict | None = None, timeout: float = 10.0,
                 raise_errors: bool = False) -> dict | None:
    """One REST call signed in as the superuser (basic auth over TLS, checked against our CA)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(access.url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    token = base64.b64encode(f"{access.username}:{access.password}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context(cafile=access.ca_certs)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if raise_errors:
            raise EngineError(f"{method} {path} answered HTTP {exc.code}: {exc.read()[:500]!r}") from exc
        return None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        if raise_errors:
            raise EngineError(f"{method} {path} failed: {exc}") from exc
        return None
