"""Synthetic EV-news corpus with known near-duplicate groups.

Articles mix two kinds of sentence: news-prose templates filled with EV-industry vocabulary (makers,
models, executives, cities, battery chemistry, prices, percentages), which carry the names and
figures the story tier links on, and free prose drawn from a Zipf-distributed vocabulary (English
function words plus ~20,000 generated content words), which makes most of each article's wording
its own. Common phrases ("the company said", "year on year") still recur across unrelated articles,
but the Jaccard similarity of two unrelated articles' 3-word shingle sets is about 0.01, as in real
news. (Corpus v1 used templates only: every article reused the same 30 sentence frames and two
unrelated articles shared ~10 % of their shingles, 10x real copy, which flooded LSH with
candidates no real feed produces.) ``CORPUS_VERSION`` names the generator in the file name.

About ``dup_share`` of the documents belong to duplicate groups: one original plus 1-4 near-copies,
each edited by word substitutions (1-14 % of words), a dropped or added paragraph, a different
headline, an appended newsletter line -- what syndication and rewrites do. ``group`` holds the
original's id (a singleton's own id), so recall/precision can be scored against known truth as well
as against exact Jaccard.
"""

from __future__ import annotations

import json
import os
import random
import string
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

MAKERS = [
    ("Tesla", ["Model 3", "Model Y", "Model S", "Cybertruck", "Semi"]),
    ("BYD", ["Seal", "Atto 3", "Dolphin", "Han", "Song Plus", "Qin Plus", "Seagull", "Sealion 7"]),
    ("NIO", ["ET5", "ET7", "ES6", "EC6", "ES8", "ET9"]),
    ("XPeng", ["G6", "G9", "P7", "Mona M03", "X9"]),
    ("Li Auto", ["L6", "L7", "L9", "Mega", "i8"]),
    ("Zeekr", ["001", "007", "7X", "X", "Mix"]),
    ("Xiaomi", ["SU7", "SU7 Ultra", "YU7"]),
    ("Rivian", ["R1T", "R1S", "R2", "R3"]),
    ("Lucid", ["Air", "Gravity"]),
    ("Volkswagen", ["ID.3", "ID.4", "ID.7", "ID. Buzz", "ID.2all"]),
    ("Hyundai", ["Ioniq 5", "Ioniq 6", "Ioniq 9", "Kona Electric"]),
    ("Kia", ["EV3", "EV6", "EV9", "EV4"]),
    ("General Motors", ["Chevrolet Equinox EV", "Chevrolet Blazer EV", "Cadillac Lyriq", "GMC Hummer EV"]),
    ("Ford", ["Mustang Mach-E", "F-150 Lightning", "E-Transit", "Explorer EV"]),
    ("Polestar", ["Polestar 2", "Polestar 3", "Polestar 4"]),
    ("BMW", ["i4", "iX", "i5", "iX3"]),
    ("Mercedes-Benz", ["EQE", "EQS", "CLA EV", "G 580"]),
    ("Renault", ["Megane E-Tech", "R5 E-Tech", "Scenic E-Tech"]),
    ("Toyota", ["bZ4X", "bZ3", "C-HR+"]),
    ("Leapmotor", ["C10", "C16", "T03", "B10"]),
]
SUPPLIERS = ["CATL", "LG Energy Solution", "Panasonic", "Samsung SDI", "SK On", "CALB", "Gotion", "EVE Energy",
             "Northvolt", "Albemarle", "Ganfeng Lithium"]
PEOPLE = ["Elon Musk", "Wang Chuanfu", "William Li", "He Xiaopeng", "Li Xiang", "Lei Jun", "RJ Scaringe",
          "Mary Barra", "Jim Farley", "Oliver Blume", "Luca de Meo", "Thomas Schaefer", "Jose Munoz",
          "Michael Lohscheller", "Zhu Jiangming", "Robin Zeng", "Peter Rawlinson", "Akio Toyoda"]
PLACES = ["Shanghai", "Shenzhen", "Hefei", "Berlin", "Munich", "Austin", "Fremont", "Detroit", "Normal, Illinois",
          "Georgia", "Hungary", "Thailand", "Brazil", "Norway", "the Netherlands", "California", "Texas",
          "Guangzhou", "Changsha", "Seoul", "Tokyo", "Paris", "Wolfsburg", "Mexico", "Indonesia"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
CHEM = ["LFP", "NMC", "sodium-ion", "semi-solid-state", "4680", "Blade", "Shenxing", "Qilin"]
TOPICS = ["deliveries", "sales", "pricing", "charging", "battery", "factory", "software", "autonomy", "exports",
          "tariffs", "earnings", "recall", "subsidies", "launch"]
AUTHORS = ["Fred Lambert", "Jameson Dow", "Peter Johnson", "Michelle Lewis", "Jose Pontes", "Phate Zhang",
           "Ed Ding", "Tycho de Feijter", "Kyle Field", "Eric Walz", "Steven Loveday", "Tom Moloughney"]
ADJ = ["strong", "record", "weak", "surprising", "steady", "modest", "sharp", "significant", "unexpected",
       "robust", "disappointing", "solid", "slower", "faster"]
VERB_UP = ["rose", "climbed", "jumped", "increased", "grew", "surged", "edged up"]
VERB_DOWN = ["fell", "dropped", "declined", "slipped", "decreased", "slumped", "eased"]
FILLER = ["Meanwhile,", "However,", "In addition,", "According to the company,", "Analysts noted that",
          "By comparison,", "Separately,", "At the same time,", "Industry data show that", "Notably,"]

SENTENCES = [
    "{maker} delivered {n} vehicles in {month}, {up} {pct}% year on year and {down2} {pct2}% from {prev_month}.",
    "The {model} starts at {price} yuan after the latest price cut, {k} yuan less than before.",
    "{filler} {maker} said its {model} will offer a {kwh} kWh {chem} pack with a CLTC range of {km} km.",
    "{person}, chief executive of {maker}, told analysts on a call that margins would {improve} in {quarter}.",
    "Shares of {maker} {up} {pct}% in {place} trading after the announcement.",
    "The company plans to build a {n2}-unit plant in {place} that will start production in {year}.",
    "{supplier} will supply {chem} cells for the {model}, according to a filing seen by reporters.",
    "{filler} the {model} accounted for {n3} of the {n} units, making it the best-selling model of the month.",
    "Registrations of new electric cars in {place} {up} to {n} units, a {adj} result for the {topic} market.",
    "{maker} cut the price of the {model} by {pct}% in {place}, the {ordinal} reduction this year.",
    "The {model} can add {km2} km of range in {minutes} minutes on an {kw} kW fast charger.",
    "{filler} {maker} has installed {n2} battery swap stations and {n3} superchargers across {place}.",
    "Gross margin for vehicles was {pct}% in {quarter}, compared with {pct2}% a year earlier.",
    "{person} said on social media that the {model} order backlog had reached {n} units.",
    "The {topic} figures follow a {adj} {month} in which {maker} {down} short of analyst expectations.",
    "{maker} reported revenue of {bn} billion yuan for {quarter}, {up} {pct}% from the same period last year.",
    "Exports from {place} {up} {pct}% as {maker} shipped more {model} units to Europe and Southeast Asia.",
    "The European Commission's tariffs of {pct}% on Chinese-built electric cars took effect in {month}.",
    "{maker} is recalling {n3} units of the {model} over a software issue affecting the {part}.",
    "{filler} the {chem} pack in the {model} weighs {kg} kg and supports {kw} kW peak charging.",
    "Test drives of the {model} begin in {place} on {month} {day}, with deliveries planned for {quarter}.",
    "{supplier} said it would invest {bn} billion yuan in a new cell plant in {place}.",
    "Cumulative deliveries of the {model} passed {n} units in {month}, {maker} said in a statement.",
    "{filler} {maker} now offers a {years}-year, 0% financing plan for the {model} in {place}.",
    "The upgraded {model} gets a {kwh} kWh battery, a {motor} kW rear motor and a new {part}.",
    "The {adj} demand for the {model} pushed waiting times in {place} to {weeks} weeks.",
    "{person} expects {maker} to sell between {n} and {n2} vehicles next year, he told reporters in {place}.",
    "Weekly insurance registrations for {maker} came in at {n3}, {up} {pct}% from the previous week.",
    "{filler} the company's {topic} strategy depends on cheaper {chem} cells from {supplier}.",
    "The {model} is {mm} mm long with a wheelbase of {wb} mm and a drag coefficient of 0.{cd}.",
]
PARTS = ["rear camera", "seat belt chime", "inverter", "heat pump", "brake software", "door handles",
         "infotainment screen", "battery management system", "charging port", "steering column"]
TITLES = [
    "{maker} {topic}: {model} {up} {pct}% in {month}",
    "{maker} cuts {model} price by {k} yuan in {place}",
    "{maker} delivers {n} EVs in {month}, {model} leads",
    "{person} says {maker} will launch new {model} in {quarter}",
    "{supplier} to supply {chem} cells for {maker} {model}",
    "{maker} recalls {n3} {model} units over {part}",
    "{maker} {model} gets {kwh} kWh {chem} battery and {km} km range",
    "{maker} plans {place} plant as {topic} {up}",
]
BOILER = ["Subscribe to our newsletter for the latest EV news.", "FTC: We use income earning auto affiliate links.",
          "Related: more on electric vehicle sales this month.", "Follow us on social media for daily updates.",
          "Copyright 2025. All rights reserved."]

SOURCES = ["electrek", "insideevs", "cnevpost", "carnewschina", "arenaev", "reuters"]

CORPUS_VERSION = 2
TEMPLATE_SHARE = 0.35  # share of sentences from the templates; the rest is free prose
FUNCTION_WORDS = ("the of and to a in that is for on it with as was at by be this from are have has an "
                  "but not or which its their will more than after also about over into new said would "
                  "were been year up its had could some other last while first two most market since "
                  "per such under only both between through against during before because where").split()
_SYLLABLES = ("ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu "
              "ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu za ze zi zo zu ".split()
              + "ar er ir or ur an en in on un al el il ol ul as es is os us".split())


def _vocabulary(size: int = 20_000, seed: int = 7) -> tuple[list[str], list[float]]:
    """Function words then generated content words, with Zipf weights (rank^-1.07)."""
    rng = random.Random(seed)
    words: list[str] = list(FUNCTION_WORDS)
    seen = set(words)
    while len(words) < size:
        w = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    weights = [1.0 / (rank + 1) ** 1.07 for rank in range(len(words))]
    return words, weights


_VOCAB, _VOCAB_W = _vocabulary()
_VOCAB_CUM = list(accumulate(_VOCAB_W))


def _prose(rng: random.Random) -> str:
    words = rng.choices(_VOCAB, cum_weights=_VOCAB_CUM, k=rng.randint(12, 26))
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


_GEN = {
    "n": lambda r: f"{r.randint(1_000, 450_000):,}", "n2": lambda r: f"{r.randint(1_000, 900_000):,}",
    "n3": lambda r: f"{r.randint(100, 90_000):,}", "pct": lambda r: f"{r.randint(1, 95)}.{r.randint(0, 9)}",
    "pct2": lambda r: f"{r.randint(1, 60)}.{r.randint(0, 9)}", "month": lambda r: r.choice(MONTHS),
    "prev_month": lambda r: r.choice(MONTHS), "up": lambda r: r.choice(VERB_UP),
    "down": lambda r: r.choice(VERB_DOWN), "down2": lambda r: r.choice(VERB_DOWN),
    "price": lambda r: f"{r.randint(69, 499) * 1000 + 800:,}", "k": lambda r: f"{r.randint(3, 40) * 1000:,}",
    "kwh": lambda r: f"{r.randint(45, 120)}.{r.randint(0, 9)}", "chem": lambda r: r.choice(CHEM),
    "km": lambda r: str(r.randint(40, 90) * 10), "km2": lambda r: str(r.randint(15, 50) * 10),
    "person": lambda r: r.choice(PEOPLE), "improve": lambda r: r.choice(["improve", "recover", "stabilise"]),
    "quarter": lambda r: f"Q{r.randint(1, 4)} {r.randint(2024, 2026)}", "place": lambda r: r.choice(PLACES),
    "year": lambda r: str(r.randint(2025, 2029)), "supplier": lambda r: r.choice(SUPPLIERS),
    "adj": lambda r: r.choice(ADJ), "topic": lambda r: r.choice(TOPICS),
    "ordinal": lambda r: r.choice(["second", "third", "fourth", "fifth"]), "minutes": lambda r: str(r.randint(8, 35)),
    "kw": lambda r: str(r.randint(10, 120) * 5), "filler": lambda r: r.choice(FILLER),
    "bn": lambda r: f"{r.randint(1, 300)}.{r.randint(0, 99):02d}", "part": lambda r: r.choice(PARTS),
    "kg": lambda r: str(r.randint(380, 720)), "day": lambda r: str(r.randint(1, 28)),
    "years": lambda r: str(r.randint(2, 7)), "motor": lambda r: str(r.randint(150, 400)),
    "weeks": lambda r: str(r.randint(2, 30)), "mm": lambda r: str(r.randint(4300, 5300)),
    "wb": lambda r: str(r.randint(2700, 3200)), "cd": lambda r: str(r.randint(195, 290)),
}
_FIELDS = {t: sorted({f for _, f, _, _ in string.Formatter().parse(t) if f}) for t in SENTENCES + TITLES}


def _fill(rng: random.Random, template: str, maker: str, model: str) -> str:
    """``template`` with fresh values for its slots (only the slots it uses are drawn)."""
    values = {"maker": maker, "model": model}
    for name in _FIELDS[template]:
        if name not in values:
            values[name] = _GEN[name](rng)
    return template.format(**values)


def _paragraph(rng: random.Random, maker: str, model: str, sentences: int) -> str:
    out = []
    for _ in range(sentences):
        if rng.random() >= TEMPLATE_SHARE:
            out.append(_prose(rng))
            continue
        # a fresh fill per sentence: different numbers/names, realistic redundancy of phrasing
        if rng.random() < 0.3:  # sometimes another maker is mentioned
            m2, models2 = rng.choice(MAKERS)
            out.append(_fill(rng, rng.choice(SENTENCES), m2, rng.choice(models2)))
        else:
            out.append(_fill(rng, rng.choice(SENTENCES), maker, model))
    return " ".join(out)


def make_article(rng: random.Random, idx: int, words: int = 600) -> dict:
    maker, models = rng.choice(MAKERS)
    model = rng.choice(models)
    title = _fill(rng, rng.choice(TITLES), maker, model)
    topic = rng.choice(TOPICS)
    paras: list[str] = []
    count = 0
    while count < words:
        p = _paragraph(rng, maker, model, rng.randint(2, 5))
        paras.append(p)
        count += p.count(" ") + 1
    source = rng.choice(SOURCES)
    published = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randint(0, 320 * 86400))
    return {
        "id": f"a{idx:07d}", "source": source, "title": title, "lead": paras[0][:240],
        "body": "\n\n".join(paras), "language": "en", "published_at": published.isoformat().replace("+00:00", "Z"),
        "authors": [rng.choice(AUTHORS)], "tags": [maker, model, topic],
        "url": f"https://{source}.example/{published:%Y/%m/%d}/{maker.lower().replace(' ', '-')}-{idx}/",
        "group": f"a{idx:07d}",
    }


def near_copy(rng: random.Random, base: dict, idx: int, strength: float) -> dict:
    """A rewrite/syndicated copy: word substitutions at rate ``strength``, paragraph drop/add, new title."""
    paras = base["body"].split("\n\n")
    if len(paras) > 4 and rng.random() < 0.35:
        del paras[rng.randrange(1, len(paras))]
    out_paras = []
    for p in paras:
        words = p.split(" ")
        for i in range(len(words)):
            if rng.random() < strength:
                words[i] = rng.choice(ADJ + VERB_UP + VERB_DOWN + ["the", "its", "new", "about", "nearly"])
        out_paras.append(" ".join(words))
    if rng.random() < 0.5:
        out_paras.append(rng.choice(BOILER))
    art = dict(base)
    art["id"] = f"a{idx:07d}"
    art["source"] = rng.choice(SOURCES)
    art["body"] = "\n\n".join(out_paras)
    art["lead"] = out_paras[0][:240]
    if rng.random() < 0.6:
        title = base["title"]
        art["title"] = title.replace(" in ", " during ", 1) if rng.random() < 0.5 else title + " (update)"
    pub = datetime.fromisoformat(base["published_at"].replace("Z", "+00:00")) + timedelta(hours=rng.uniform(0, 30))
    art["published_at"] = pub.isoformat().replace("+00:00", "Z")
    art["url"] = f"https://{art['source']}.example/{pub:%Y/%m/%d}/copy-{idx}/"
    art["group"] = base["group"]
    return art


def generate(n: int, seed: int = 42, dup_share: float = 0.15, words: int = 600) -> Iterator[dict]:
    """``n`` articles; duplicate groups (original + 1..4 copies) interleaved with singletons."""
    rng = random.Random(seed)
    idx = 0
    pending: list[tuple[int, dict]] = []  # (emit at index >= , article): copies appear a little later
    while idx < n:
        if pending and pending[0][0] <= idx:
            _, art = pending.pop(0)
            art["id"] = f"a{idx:07d}"
            art["url"] = art["url"].replace("/copy-0/", f"/copy-{idx}/")
            yield art
            idx += 1
            continue
        art = make_article(rng, idx, words)
        yield art
        idx += 1
        if rng.random() < dup_share / 2.5:
            for _ in range(rng.randint(1, 4)):
                # strengths spread so pairs land on both sides of a 0.5 Jaccard threshold
                copy = near_copy(rng, art, 0, rng.choice([0.0, 0.01, 0.02, 0.04, 0.06, 0.09, 0.12, 0.14]))
                pending.append((idx + rng.randint(0, 200), copy))
            pending.sort(key=lambda x: x[0])


def corpus_path(data: Path, n: int, seed: int = 42) -> Path:
    return data / f"corpus-v{CORPUS_VERSION}-{n}-s{seed}.jsonl"


def ensure_corpus(data: Path, n: int, seed: int = 42) -> Path:
    """Write (once) and return the JSON-lines corpus of ``n`` articles."""
    path = corpus_path(data, n, seed)
    if path.exists():
        return path
    data.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # concurrent benchmark runs must not share a temp file
    with tmp.open("w", encoding="utf-8") as f:
        for art in generate(n, seed):
            f.write(json.dumps(art, ensure_ascii=False))
            f.write("\n")
    tmp.rename(path)
    return path


def read_corpus(path: Path, limit: int | None = None) -> Iterator[dict]:
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if limit is not None and i >= limit:
                return
            yield json.loads(line)
