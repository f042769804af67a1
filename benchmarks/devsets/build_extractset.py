"""Rebuild the real-page extraction set under a scratch folder (never in the repository).

    python benchmarks/devsets/build_extractset.py [--dir /work/scratch/extractset]
    python benchmarks/devsets/build_extractset.py --refresh-facts   # re-derive the Go-module facts

The pages are the saved test pages that news extractors publish:

- newspaper4k's tests/data (page + expected text + metadata) and trafilatura's tests/resources
  (pages that are not articles), from the packages' own sdists on PyPI (fetched with pip);
- go-readability's test-pages (Mozilla Readability's test set: source.html, expected.html = the
  article body Readability should give, expected-metadata.json with title, byline, language,
  publishedTime and ``readerable``), from the Go module ``codeberg.org/readeck/go-readability/v2``;
- go-trafilatura's test-files/comparison (trafilatura's own evaluation pages) with the snippets each
  extraction must and must not contain (scripts/comparison/data.go), from the Go module
  ``github.com/markusmobius/go-trafilatura``.

Go modules are fetched by name and version with the ordinary ``go mod download`` (GOPATH inside the
scratch folder). ``extractset.jsonl`` beside this file holds only facts: the collection, where each
page is (module@version or sdist, path), its URL when known, language, kind (article / not-article)
and title/date/author labels where the collection gives them, plus the page's sha1 so a rebuilt
folder is known to hold the same bytes. Expected texts and snippets are written to
``<dir>/expected`` (``<id>.txt`` for body texts, ``<id>.json`` for with/without snippets).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FACTS = HERE / "extractset.jsonl"
DEFAULT_DIR = Path("/work/scratch/extractset")

READABILITY = "codeberg.org/readeck/go-readability/v2@v2.1.3"
GO_TRAFILATURA = "github.com/markusmobius/go-trafilatura@v1.12.2"
# go-readability's test-pages mix real saved pages with hand-written unit cases ("ol", "rtl-1",
# "basic-tags-cleaning"); the hand-written ones are all under 4 kB, the real ones over 10 kB.
REAL_PAGE_BYTES = 10_000
_BLOCK = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "td", "th", "table",
          "blockquote", "pre", "section", "article", "figure", "figcaption", "dd", "dt", "hr"}


def load_facts(path: Path = FACTS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def collection_of(fact: dict) -> str:
    if fact.get("collection"):
        return fact["collection"]
    return "newspaper4k" if "newspaper4k" in (fact.get("sdist") or "") else "trafilatura-tests"


def go_module_dir(module: str, target: Path) -> Path:
    """``go mod download`` the module into ``<target>/gopath`` and return its unpacked folder."""
    env = {**os.environ, "GOPATH": str(target / "gopath"), "GOFLAGS": "-modcacherw", "GOTOOLCHAIN": "local"}
    out = subprocess.run(["go", "mod", "download", "-json", module], env=env, check=True,
                         capture_output=True, text=True, cwd=target).stdout
    return Path(json.loads(out)["Dir"])


def comparison_data(module_dir: Path, target: Path) -> dict[str, dict]:
    """go-trafilatura's comparisonData map (URL -> entry) as JSON, by compiling data.go with a dumper."""
    work = target / "go-dump"
    work.mkdir(parents=True, exist_ok=True)
    (work / "data.go").write_bytes((module_dir / "scripts/comparison/data.go").read_bytes())
    (work / "go.mod").write_text("module dump\n\ngo 1.21\n")
    (work / "main.go").write_text('package main\n\nimport (\n\t"encoding/json"\n\t"os"\n)\n\n'
                                  "func main() { _ = json.NewEncoder(os.Stdout).Encode(comparisonData) }\n")
    env = {**os.environ, "GOPATH": str(target / "gopath"), "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    out = subprocess.run(["go", "run", "."], env=env, check=True, capture_output=True, text=True, cwd=work).stdout
    return json.loads(out)


def html_text(html: bytes | str) -> str:
    """Visible text of an HTML fragment, a line break after each block element."""
    import lxml.html

    root = lxml.html.fromstring(html)
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCK:
            el.tail = "\n" + (el.tail or "")
    return re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\n\s*\n+", "\n", root.text_content())).strip()


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _language(declared: str | None, *texts: str) -> str | None:
    from aggregator.extract.language import detect_language, normalize_lang

    if normalize_lang(declared):
        return normalize_lang(declared)
    for text in texts:
        if text and (found := detect_language(text)):
            return found
    return None


def _day(value: str | None) -> str | None:
    m = re.match(r"\d{4}-\d{2}-\d{2}", value or "")
    return m.group(0) if m else None


def readability_facts(target: Path) -> list[dict]:
    root = go_module_dir(READABILITY, target)
    facts = []
    for folder in sorted(p for p in (root / "test-pages").iterdir() if p.is_dir()):
        source = (folder / "source.html").read_bytes()
        if len(source) < REAL_PAGE_BYTES:
            continue
        meta = json.loads((folder / "expected-metadata.json").read_text(encoding="utf-8"))
        expected = html_text((folder / "expected.html").read_bytes())
        kind = "article" if meta.get("readerable") and len(expected) >= 200 else "not-article"
        lang_decl = re.search(rb"<html[^>]*\blang=[\"']?([A-Za-z_-]+)", source[:5000])
        facts.append({
            "id": f"rdb-{folder.name}", "collection": "readability", "module": READABILITY,
            "path": f"test-pages/{folder.name}/source.html",
            "expected_path": f"test-pages/{folder.name}/expected.html" if kind == "article" else None,
            "url": None, "language": _language(meta.get("language")
                                               or (lang_decl.group(1).decode() if lang_decl else None), expected),
            "kind": kind, "title": meta.get("title") or None, "date": _day(meta.get("publishedTime")),
            "author": meta.get("byline") or None, "sha1": _sha1(source)})
    return facts


def comparison_facts(target: Path) -> list[dict]:
    root = go_module_dir(GO_TRAFILATURA, target)
    data = comparison_data(root, target)
    facts, seen = [], set()
    for url, entry in sorted(data.items(), key=lambda kv: kv[1]["file"]):
        page = root / "test-files/comparison" / entry["file"]
        if not page.exists() or not entry.get("with"):
            continue
        source = page.read_bytes()
        ident = "trf-" + re.sub(r"[^\w.-]+", "_", entry["file"].removesuffix(".html"))
        if ident in seen:
            continue
        seen.add(ident)
        lang_decl = re.search(rb"<html[^>]*\blang=[\"']?([A-Za-z_-]+)", source[:5000])
        snippets = " ".join(entry["with"])
        facts.append({
            "id": ident, "collection": "trafilatura-comparison", "module": GO_TRAFILATURA,
            "path": f"test-files/comparison/{entry['file']}", "expected_path": "scripts/comparison/data.go",
            "url": url, "language": _language(lang_decl.group(1).decode() if lang_decl else None,
                                              (entry.get("title") or "") + " " + snippets),
            "kind": "article", "title": entry.get("title") or None, "date": _day(entry.get("date")),
            "author": "; ".join(entry.get("author") or []) or None, "sha1": _sha1(source)})
    return facts


def refresh_facts(target: Path) -> int:
    """Rewrite the Go-module facts in extractset.jsonl (the sdist facts stay as they are)."""
    kept = [f for f in load_facts() if not f.get("module")]
    facts = kept + readability_facts(target) + comparison_facts(target)
    FACTS.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in facts), encoding="utf-8")
    print(f"{len(facts)} facts written to {FACTS}")
    return 0


def build(target: Path) -> int:
    facts = load_facts()
    (target / "pages").mkdir(parents=True, exist_ok=True)
    (target / "expected").mkdir(parents=True, exist_ok=True)
    bad = 0

    def keep(fact: dict, page: bytes) -> bool:
        nonlocal bad
        if _sha1(page) != fact["sha1"]:
            print(f"{fact['id']}: page differs from the recorded one", file=sys.stderr)
            bad += 1
            return False
        (target / "pages" / f"{fact['id']}.html").write_bytes(page)
        return True

    sdists = sorted({f["sdist"] for f in facts if f.get("sdist")})
    cache = target / "sdists"
    cache.mkdir(exist_ok=True)
    for sdist in sdists:
        name, _, version = sdist.rpartition("-")
        if not list(cache.glob(f"{name.replace('-', '_')}-{version}.tar.gz")) and not list(
                cache.glob(f"{name}-{version}.tar.gz")):
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                            f"{name}=={version}", "-d", str(cache)], check=True)
    for sdist in sdists:
        archive = next(cache.glob(f"{sdist}.tar.gz"), None) or next(cache.glob(f"{sdist.replace('-', '_', 1)}.tar.gz"))
        with tarfile.open(archive) as tar, tempfile.TemporaryDirectory() as tmp:
            tar.extractall(tmp, filter="data")
            root = next(Path(tmp).iterdir())
            for fact in (f for f in facts if f.get("sdist") == sdist):
                if keep(fact, (root / fact["path"]).read_bytes()) and fact.get("expected_path"):
                    (target / "expected" / f"{fact['id']}.txt").write_bytes((root / fact["expected_path"]).read_bytes())

    for module in sorted({f["module"] for f in facts if f.get("module")}):
        root = go_module_dir(module, target)
        data = comparison_data(root, target) if module == GO_TRAFILATURA else {}
        by_file = {entry["file"]: entry for entry in data.values()}
        for fact in (f for f in facts if f.get("module") == module):
            if not keep(fact, (root / fact["path"]).read_bytes()) or not fact.get("expected_path"):
                continue
            if module == GO_TRAFILATURA:
                entry = by_file[fact["path"].rsplit("/", 1)[1]]
                snippets = {"with": entry.get("with") or [], "without": entry.get("without") or []}
                (target / "expected" / f"{fact['id']}.json").write_text(json.dumps(snippets, ensure_ascii=False))
            else:
                (target / "expected" / f"{fact['id']}.txt").write_text(
                    html_text((root / fact["expected_path"]).read_bytes()), encoding="utf-8")
    print(f"{len(facts) - bad} pages in {target}")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--refresh-facts", action="store_true",
                        help="re-derive the Go-module facts in extractset.jsonl from the modules")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.refresh_facts:
        if str(HERE.parents[1]) not in sys.path:
            sys.path.insert(0, str(HERE.parents[1]))
        refresh_facts(args.dir.resolve())
    return build(args.dir.resolve())


if __name__ == "__main__":
    raise SystemExit(main())
