"""The multi-host topology on one machine: network namespaces joined by a bridge on 10.77.0.0/24.

``aggregator cluster up`` makes one namespace per host, each with a veth pair whose other end is on
the bridge ``aggbr0`` (10.77.0.1 in the root namespace, so commands run here reach every host):

=============  ===========  ==================================================================
namespace      address      runs
=============  ===========  ==================================================================
agg-web        10.77.0.10   the offline fixture web on port 8080 (the outlets, via the host map)
agg-redis      10.77.0.20   redis-server on 6379 (the shared dedup state)
agg-es1        10.77.0.31   OpenSearch node ``es1``: cluster manager and data, HTTP 9200
agg-es2        10.77.0.32   OpenSearch node ``es2``: data, HTTP 9200 (one replica per shard)
agg-crawl1     10.77.0.41   scrapyd on 6800, this project deployed
agg-crawl2     10.77.0.42   scrapyd on 6800, this project deployed
=============  ===========  ==================================================================

Traffic only goes to loopback and to these addresses. Everything runs as root (namespaces need it)
with its files under ``<AGGREGATOR_VAR>/cluster``; the processes started are recorded in
``cluster/state.json``, and ``down`` stops them, kills whatever else still runs inside the
namespaces, and deletes the veths, the bridge and the namespaces.

The engine nodes bind a non-loopback address, which makes OpenSearch's production bootstrap checks
apply in a packaged install (65,535 open files, ``vm.max_map_count`` >= 262,144). The embedded
launcher runs a node through ``Node.start()``, which does not run those checks (only the packaged
``Bootstrap`` does), so the hard open-files limit of 20,000 here is no obstacle; ``up`` still raises
``vm.max_map_count`` when it is lower, as a real host should have it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from aggregator import config
from aggregator.engine import pid_alive

SUBNET = "10.77.0"
BRIDGE = "aggbr0"
GATEWAY = f"{SUBNET}.1"
WEB_PORT = 8080
REDIS_PORT = 6379
ENGINE_PORT = 9200
SCRAPYD_PORT = 6800


@dataclass(frozen=True)
class Host:
    name: str  # namespace name
    ip: str
    role: str  # web | redis | engine | crawler


HOSTS = [
    Host("agg-web", f"{SUBNET}.10", "web"),
    Host("agg-redis", f"{SUBNET}.20", "redis"),
    Host("agg-es1", f"{SUBNET}.31", "engine"),
    Host("agg-es2", f"{SUBNET}.32", "engine"),
    Host("agg-crawl1", f"{SUBNET}.41", "crawler"),
    Host("agg-crawl2", f"{SUBNET}.42", "crawler"),
]
ENGINES = [h for h in HOSTS if h.role == "engine"]
CRAWLERS = [h for h in HOSTS if h.role == "crawler"]
BY_NAME = {h.name: h for h in HOSTS}


class ClusterError(RuntimeError):
    """The topology could not be made or unmade; the message says why."""


def home() -> Path:
    return config.var_dir() / "cluster"


def redis_url(prefix: str = "ev") -> str:
    return f"redis://{BY_NAME['agg-redis'].ip}:{REDIS_PORT}/0?prefix={prefix}"


def engine_url(host: Host = ENGINES[0]) -> str:
    return f"http://{host.ip}:{ENGINE_PORT}"


def scrapyd_url(host: Host) -> str:
    return f"http://{host.ip}:{SCRAPYD_PORT}/"


def web_url() -> str:
    return f"http://{BY_NAME['agg-web'].ip}:{WEB_PORT}"


def require_root() -> None:
    if os.geteuid() != 0:
        raise ClusterError("aggregator cluster needs root: it creates network namespaces, veth pairs and a "
                           "bridge (run it with sudo)")
    if shutil.which("ip") is None:
        raise ClusterError("the `ip` command (iproute2) is missing: apt-get install -y iproute2")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise ClusterError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def _exists_ns(name: str) -> bool:
    return name in {line.split()[0] for line in _ip("netns", "list", check=False).stdout.splitlines() if line}


def _http(url: str, timeout: float = 2.0, data: bytes | None = None) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout, data=data) as resp:
            return json.loads(resp.read().decode())
    except (urllib.error.URLError, OSError, ValueError):
        return None


# -- state ---------------------------------------------------------------------------------------------
def _state_file() -> Path:
    return home() / "state.json"


def _load_state() -> dict:
    try:
        return json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return {"pids": {}}


def _save_state(state: dict) -> None:
    _state_file().parent.mkdir(parents=True, exist_ok=True)
    _state_file().write_text(json.dumps(state, indent=1))


def _record(name: str, pid: int) -> None:
    state = _load_state()
    state["pids"][name] = pid
    _save_state(state)


# -- network -------------------------------------------------------------------------------------------
def _network_up() -> None:
    if _ip("link", "show", BRIDGE, check=False).returncode != 0:
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{GATEWAY}/24", "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")
    for i, host in enumerate(HOSTS):
        if not _exists_ns(host.name):
            _ip("netns", "add", host.name)
        outer, inner = f"aggv{i}", "eth0"
        if _ip("link", "show", outer, check=False).returncode != 0:
            _ip("link", "add", outer, "type", "veth", "peer", "name", inner, "netns", host.name)
            _ip("link", "set", outer, "master", BRIDGE)
            _ip("link", "set", outer, "up")
            _ip("-n", host.name, "addr", "add", f"{host.ip}/24", "dev", inner)
            _ip("-n", host.name, "link", "set", inner, "up")
            _ip("-n", host.name, "link", "set", "lo", "up")
            # the only route is the subnet itself: no default route, nothing else is reachable


def _network_down() -> list[str]:
    left = []
    for i, host in enumerate(HOSTS):
        _ip("link", "del", f"aggv{i}", check=False)
        if _exists_ns(host.name):
            _ip("netns", "del", host.name, check=False)
        if _exists_ns(host.name):
            left.append(f"namespace {host.name}")
    _ip("link", "del", BRIDGE, check=False)
    if _ip("link", "show", BRIDGE, check=False).returncode == 0:
        left.append(f"bridge {BRIDGE}")
    return left


# -- processes -----------------------------------------------------------------------------------------
def _spawn(host: Host, name: str, cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
    log_dir = home() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"{name}.log", "ab") as log:
        proc = subprocess.Popen(["ip", "netns", "exec", host.name, *cmd], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})}, cwd=cwd,
                                start_new_session=True)
    _record(name, proc.pid)
    return proc.pid


def _wait(what: str, check, timeout: float) -> None:  # noqa: ANN001 - a predicate
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise ClusterError(f"{what} did not come up within {timeout:.0f}s; see {home() / 'logs'}")


def engine_node(host: Host, heap: str = "512m"):  # noqa: ANN201 - aggregator.engine.LocalEngine
    from aggregator.engine import LocalEngine

    name = host.name.removeprefix("agg-")
    roles = ["cluster_manager", "data", "ingest"] if host is ENGINES[0] else ["data", "ingest"]
    node = LocalEngine(home=home() / name, port=ENGINE_PORT, heap=heap, host=host.ip, prefix=[
        "ip", "netns", "exec", host.name], settings={
        "node.name": name, "node.roles": roles, "cluster.name": "aggregator-cluster",
        "discovery.seed_hosts": [f"{e.ip}:{ENGINE_PORT + 100}" for e in ENGINES],
        "cluster.initial_cluster_manager_nodes": [ENGINES[0].name.removeprefix("agg-")]})
    # one Maven build for every node (AGGREGATOR_ENGINE_BUILD: a build elsewhere, as the tests share theirs)
    node.build_dir = Path(os.environ.get("AGGREGATOR_ENGINE_BUILD") or config.var_dir() / "engine" / "build")
    return node


def start_engine(host: Host, timeout: float = 240) -> int:
    node = engine_node(host)
    node.start(timeout=timeout)
    pid = node._read_pid()
    assert pid is not None
    _record(f"engine-{host.name}", pid)
    return pid


def start_scrapyd(host: Host, extra_env: dict[str, str] | None = None) -> int:
    d = home() / host.name.removeprefix("agg-")
    d.mkdir(parents=True, exist_ok=True)
    (d / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = {host.ip}\nhttp_port = {SCRAPYD_PORT}\n"
        "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\nmax_proc = 4\npoll_interval = 0.5\n")
    env = {"AGGREGATOR_DEDUP_STORE": redis_url(), "AGGREGATOR_SEARCH_URL": engine_url(),
           "AGGREGATOR_VAR": str(d / "var"), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    pid = _spawn(host, f"scrapyd-{host.name}", [str(Path(sys.executable).parent / "scrapyd")], env, cwd=d)
    _wait(f"scrapyd on {host.name}", lambda: (_http(scrapyd_url(host) + "daemonstatus.json") or {}).get(
        "status") == "ok", 60)
    return pid


def deploy(egg: Path | None = None) -> Path:
    """Build this project's egg once (``scrapyd-deploy --build-egg``) and upload it to every crawler."""
    if egg is None:
        egg = home() / "aggregator.egg"
        root = Path(__file__).resolve().parents[1]
        proc = subprocess.run([str(Path(sys.executable).parent / "scrapyd-deploy"), f"--build-egg={egg}"],
                              cwd=root, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ClusterError(f"building the egg failed: {proc.stderr[-1500:]}")
    boundary = "aggregatoregg"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"project\"\r\n\r\naggregator\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n{int(time.time())}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"egg\"; filename=\"project.egg\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + egg.read_bytes() + \
        f"\r\n--{boundary}--\r\n".encode()
    for host in CRAWLERS:
        req = urllib.request.Request(scrapyd_url(host) + "addversion.json", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            answer = json.loads(resp.read())
        if answer.get("status") != "ok":
            raise ClusterError(f"deploying to {host.name}: {answer}")
    return egg


def up(engines: bool = True, crawler_env: dict[str, str] | None = None) -> dict[str, str]:
    """Make the namespaces and start every host's process; returns the URLs.

    ``crawler_env``: more environment for the scrapyd hosts (their jobs inherit it)."""
    require_root()
    home().mkdir(parents=True, exist_ok=True)
    if int(Path("/proc/sys/vm/max_map_count").read_text()) < 262144:
        Path("/proc/sys/vm/max_map_count").write_text("262144")
    _network_up()
    web = BY_NAME["agg-web"]
    _spawn(web, "web", [sys.executable, "-m", "aggregator.cluster", "serve-web", web.ip, str(WEB_PORT)])
    _wait("the offline web", lambda: _status_code(web_url() + "/") is not None, 30)
    rd = BY_NAME["agg-redis"]
    (home() / "redis").mkdir(exist_ok=True)
    _spawn(rd, "redis", [shutil.which("redis-server") or "redis-server", "--bind", rd.ip, "--port",
                         str(REDIS_PORT), "--protected-mode", "no", "--dir", str(home() / "redis"),
                         "--appendonly", "yes", "--save", ""])
    _wait("redis", lambda: _redis_ping(), 30)
    if engines:
        for host in ENGINES:
            start_engine(host)
        _wait("the engine cluster (green)", lambda: (_http(
            engine_url() + "/_cluster/health?wait_for_nodes=2&timeout=1s") or {}).get("number_of_nodes") == 2, 240)
    for host in CRAWLERS:
        start_scrapyd(host, crawler_env)
    deploy()
    return {"web": web_url(), "redis": redis_url(), "engine": engine_url(),
            **{h.name: scrapyd_url(h) for h in CRAWLERS}}


def _status_code(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def _redis_ping() -> bool:
    import redis

    try:
        return bool(redis.Redis(host=BY_NAME["agg-redis"].ip, port=REDIS_PORT, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def kill(pid: int, sig: int = signal.SIGTERM) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def down() -> list[str]:
    """Stop every process we started and anything still inside our namespaces; delete the network.

    Returns what could not be removed (empty when nothing is left behind)."""
    require_root()
    state = _load_state()
    pids = set(state.get("pids", {}).values())
    for host in HOSTS:  # processes inside our namespaces are ours too (scrapyd's jobs, for one)
        if _exists_ns(host.name):
            pids |= {int(p) for p in _ip("netns", "pids", host.name, check=False).stdout.split()}
    for pid in pids:
        kill(pid)
    deadline = time.monotonic() + 30
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        if pid_alive(pid):
            kill(pid, signal.SIGKILL)
    left = [f"process {p}" for p in pids if pid_alive(p)]
    left += _network_down()
    _save_state({"pids": {}})
    return left


def status() -> list[tuple[str, str, str, str]]:
    """(host, address, what, state) per host."""
    rows = []
    state = _load_state().get("pids", {})
    for host in HOSTS:
        if not _exists_ns(host.name):
            rows.append((host.name, host.ip, host.role, "no namespace"))
            continue
        if host.role == "web":
            ok = _status_code(web_url() + "/") is not None
            rows.append((host.name, host.ip, "offline web", "up" if ok else "down"))
        elif host.role == "redis":
            rows.append((host.name, host.ip, "redis", "up" if _redis_ping() else "down"))
        elif host.role == "engine":
            h = _http(f"http://{host.ip}:{ENGINE_PORT}/_cluster/health")
            rows.append((host.name, host.ip, "engine node", f"up, cluster {h['status']}, {h['number_of_nodes']} "
                         "nodes" if h else "down"))
        else:
            s = _http(scrapyd_url(host) + "daemonstatus.json")
            rows.append((host.name, host.ip, "scrapyd", f"up, {s['running']} running, {s['pending']} pending"
                         if s else "down"))
    del state
    return rows


def serve_web(address: str, port: int) -> None:
    """The offline fixture web bound to ``address`` (the web host's namespace address)."""
    from http.server import ThreadingHTTPServer

    from aggregator.fixtureweb import DEFAULT_ROOT, _Handler

    handler = type("Handler", (_Handler,), {"root": DEFAULT_ROOT.resolve()})
    httpd = ThreadingHTTPServer((address, port), handler)
    httpd.daemon_threads = True
    httpd.serve_forever()


if __name__ == "__main__":  # python -m aggregator.cluster serve-web ADDRESS PORT (run by `up` in the web host)
    if len(sys.argv) == 4 and sys.argv[1] == "serve-web":
        serve_web(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("usage: python -m aggregator.cluster serve-web ADDRESS PORT")
