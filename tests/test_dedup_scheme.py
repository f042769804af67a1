"""A dedup state keeps the MinHash scheme it was built with: upgrades never split old from new."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.dedup import DedupConfig, Deduplicator, open_store
from aggregator.dedup.minhash import KPERM, OPH

BODY = ("CATL said on Tuesday it will start mass production of sodium-ion cells for passenger cars in "
        "December, with an energy density of 175 Wh/kg and 10,000 charging cycles. The company's chief "
        "scientist told reporters in Ningde that the cells keep 90% of their capacity at minus 20 degrees. "
        "Shares of CATL rose 3.2% in Shenzhen trading after the announcement, and analysts at two brokers "
        "raised their price targets. The first customer is expected to be Chery, which plans a compact "
        "hatchback using the pack, priced below 100,000 yuan, for the Chinese market next spring.")


def _article(i: int, body: str = BODY) -> dict:
    return {"id": f"art-{i}", "source": f"outlet{i}", "title": f"CATL sodium-ion cells, report {i}", "body": body,
            "language": "en", "published_at": "2026-11-20T08:00:00Z"}


def test_new_state_records_the_default_scheme(tmp_path: Path) -> None:
    dd = Deduplicator(store=f"file:{tmp_path}")
    assert dd.scheme == OPH and dd.signer.scheme == OPH
    dd.flush()
    assert Deduplicator(store=f"file:{tmp_path}").scheme == OPH


def test_state_keeps_its_scheme_and_still_finds_copies(tmp_path: Path) -> None:
    with Deduplicator(DedupConfig(minhash_scheme=KPERM), store=f"file:{tmp_path}") as dd:
        first = dd.add(_article(1))
    # a later run with the default configuration reopens the state in its own scheme
    dd2 = Deduplicator(store=f"file:{tmp_path}")
    assert dd2.scheme == KPERM
    copy = dd2.add(_article(2, BODY + " Subscribe to our newsletter."))
    assert copy.dup_id == first.dup_id


def test_state_from_before_schemes_were_recorded_is_kperm(tmp_path: Path) -> None:
    store = open_store(f"file:{tmp_path}")
    with Deduplicator(DedupConfig(minhash_scheme=KPERM), store=store) as dd:
        first = dd.add(_article(1))
        store.delete("meta:minhash_scheme")  # what a state written by an older version looks like
    dd2 = Deduplicator(store=f"file:{tmp_path}")
    assert dd2.scheme == KPERM
    assert dd2.add(_article(3)).dup_id == first.dup_id


def test_asking_for_another_scheme_than_the_state_has_is_a_clear_error(tmp_path: Path) -> None:
    Deduplicator(store=f"file:{tmp_path}").flush()
    with pytest.raises(ValueError, match="built with MinHash scheme 'oph-"):
        Deduplicator(DedupConfig(minhash_scheme=KPERM), store=f"file:{tmp_path}")
