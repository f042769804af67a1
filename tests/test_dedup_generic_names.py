"""Generic terms are no names (``names.json`` ``not_names``; measured in benchmarks/results.md, s14prec): "EV",
"SUVs", "Q3", "CO2", "E-Autos" name no maker, body, model or place, and as strong names tied unrelated reports."""

from __future__ import annotations

from aggregator.dedup import Deduplicator
from aggregator.dedup import features as F


def test_generic_terms_are_no_names_where_names_are_read() -> None:
    assert set(F.names("GM recalls the Bolt EV; Tesla CEO Elon Musk; BYD Q3 results", "en")) == {
        "gm", "bolt", "tesla", "elon", "musk", "byd"}
    assert not {"e-autos", "co2"} & set(F.names("Zölle auf E-Autos aus China, neue CO2-Ziele", "de"))  # (not
    # "co2-ziele": a hyphenated word is read whole, as a German compound name would be)
    # model names and codes stay
    assert {"model y", "id3", "su7", "seal 06"} <= set(F.names("Model Y, ID.3, SU7 and the Seal 06", "en"))


def test_the_list_holds_no_name_of_the_table() -> None:
    table = set(F.ALIASES.values()) | F.KNOWN_NAMES | F.PLACES
    assert F.GENERIC and not F.GENERIC & table
    assert all(w == w.lower() for w in F.GENERIC)


SALES = ("{mkt}: Sales of EVs rose in Q3 as buyers picked SUVs, the registry said. PHEVs and BEVs both gained, and "
         "AWD SUVs sold best in the quarter. {who} expect EVs to keep growing.")


def test_two_markets_sharing_only_generic_terms_are_two_stories() -> None:
    dd = Deduplicator()
    a = dd.add({"id": "no", "source": "one.example", "language": "en", "published_at": "2025-10-02T08:00:00Z",
                "title": "Q3 EV sales: SUVs lead as EVs and PHEVs gain in Norway",
                "body": SALES.format(mkt="Norway", who="Dealers")})
    b = dd.add({"id": "pl", "source": "two.example", "language": "en", "published_at": "2025-10-02T11:00:00Z",
                "title": "Q3 EV sales: SUVs and PHEVs push EVs higher in Poland",
                "body": "EV sales climbed in Q3 as SUVs took a larger share in Poland, the national registry said. "
                        "PHEVs and BEVs gained, with AWD SUVs the best sellers. Importers see more growth."})
    assert a.story_id != b.story_id  # (main linked them at p 0.98: "q3", "suvs", "phevs", "bevs", "awd" shared)
