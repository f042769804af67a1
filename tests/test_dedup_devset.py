"""aggregator eval on a labelled development set: scoring, split, baselines, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aggregator.dedup.devset import Devset, DevsetError, load_devset, score


def _page(i: str, event: str, topic: str, lang: str = "en", copy_of: str | None = None,
          text: str = "some text", published: str | None = "2024-03-01") -> dict:
    return {"id": i, "url": f"https://x.example/{i}", "source": "x.example", "title": i, "language": lang,
            "published": published, "event": event, "topic": topic, "copy_of": copy_of, "query": "q", "text": text}


def test_score_counts_cross_language_pairs_and_near_misses() -> None:
    pages = [_page("1", "e1", "t"), _page("2", "e1", "t", "de"), _page("3", "e1", "t", copy_of="1"),
             _page("4", "e2", "t"), _page("5", "e3", "u")]
    ds = Devset([dict(p, body=p["text"]) for p in pages])
    assert ds.copies == {"1": "1", "2": "2", "3": "1", "4": "4", "5": "5"}
    # story: 1, 2 (German) and 4 (same topic, other event) together; 3 alone
    r = score(ds, {"1": "s", "2": "s", "3": "x", "4": "s", "5": "y"}, {i: i for i in "12345"})
    st = r["story"]
    assert st["cross_language_pairs"] == 2  # (1,2) and (2,3)
    assert st["cross_language_recall"] == 0.5
    assert st["same_language_recall"] == 0.0  # (1,3) missed
    assert st["near_miss_pairs"] == 3 and st["near_misses_merged"] == 2  # (1,4) and (2,4)
    assert st["pairwise_precision"] == pytest.approx(1 / 3)
    assert r["dup"]["copy_pairs"] == 1 and r["dup"]["pairwise_recall"] == 0.0


def test_load_split_and_bad_lines(tmp_path: Path) -> None:
    f = tmp_path / "set.jsonl"
    rows = [_page(str(i), f"e{i % 7}", f"t{i % 5}") for i in range(40)]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n" + json.dumps({"id": "z"}) + "\n")
    full = load_devset([f])
    assert len(full.pages) == 40 and full.skipped == 2
    a, b = load_devset([f], "a"), load_devset([f], "b")
    assert sorted(p["id"] for p in a.pages + b.pages) == sorted(p["id"] for p in full.pages)
    topics_a = {p["topic"] for p in a.pages}
    assert topics_a and not topics_a & {p["topic"] for p in b.pages}  # a topic never straddles the halves
    facts = tmp_path / "facts.jsonl"
    facts.write_text(json.dumps({k: v for k, v in rows[0].items() if k != "text"}) + "\n")
    with pytest.raises(DevsetError):
        load_devset([facts])


def test_eval_cli_on_devset_with_baselines(tmp_path: Path) -> None:
    from aggregator.dedup.cli import app

    base = ("Tesla recalled 125,227 Model S and Model X cars in the United States over a seat belt warning "
            "chime, the NHTSA said on Friday. ")
    other = ("BYD sold 301,903 new energy vehicles in October, a record, as exports to Europe climbed "
             "to 31,192 units from a year earlier. ")
    filler = " ".join(f"Paragraph {k} adds detail number {k * 37} about the market." for k in range(12))
    rows = [_page("a1", "recall", "tesla", text=base + filler),
            _page("a2", "recall", "tesla", copy_of="a1", text=base + filler + " UPDATE adds a comment."),
            _page("a3", "recall", "tesla", "de", text="Tesla ruft 125.227 Model S und Model X zurück, "
                                                      "meldet die NHTSA. Der Gurtwarnton fehlt."),
            _page("b1", "sales", "byd", text=other + filler[::-1])]
    f = tmp_path / "set.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    res = CliRunner().invoke(app(), ["eval", str(f), "--baselines", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    methods = [r["method"] for r in out["rows"]]
    assert methods[0].startswith("ours") and len(methods) == 3
    assert all("threshold" in r["story"] for r in out["rows"][1:])  # baselines say their oracle threshold
    assert out["rows"][0]["dup"]["pairwise_recall"] == 1.0  # the update is a copy
    res = CliRunner().invoke(app(), ["eval", str(f), "--half", "c"])
    assert res.exit_code == 2
    res = CliRunner().invoke(app(), ["eval", str(f)])
    assert res.exit_code == 0 and "story tier" in res.output and "oracle" not in res.output
