"""Write the facts file of the development set: every field of every page except its text.

    .venv/bin/python -m benchmarks.devsets.make_facts /work/scratch/clusterset/part-A.jsonl \\
        /work/scratch/clusterset/part-B.jsonl -o benchmarks/devsets/clusterset.jsonl

The texts are other people's sentences and stay out of the repository (see README.md here).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FIELDS = ("id", "url", "source", "title", "language", "published", "event", "topic", "copy_of", "query")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("parts", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, default=Path(__file__).with_name("clusterset.jsonl"))
    args = ap.parse_args()
    rows: dict[str, dict] = {}
    for part in args.parts:
        for line in part.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                rows[str(r["id"])] = {k: r.get(k) for k in FIELDS}
    with args.out.open("w", encoding="utf-8") as fh:
        for r in rows.values():
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} pages -> {args.out}")


if __name__ == "__main__":
    main()
