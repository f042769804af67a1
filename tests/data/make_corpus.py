"""Generate the labeled dedup development corpus (``dedup_corpus.jsonl``).

Each *event* (a sales report, a price cut, a plant, a recall, a launch, a battery deal, an
earnings release) gets random facts and is written up as:

* a wire original (Reuters/AP voice, several paragraphs);
* syndicated copies -- same ``dup_label`` -- with a new headline, the reprinting site's own
  header/footer boilerplate, a dropped paragraph, an editor's note or light rewording;
* rewrites by other outlets in their own words, in English, German, French or Chinese --
  same ``story_label``, own ``dup_label``;

and every company gets a second, unrelated event in the same week (hard negative), plus
short, boilerplate-heavy deal posts from one blog (hard negatives for the dup tier).

Run: ``python tests/data/make_corpus.py`` (deterministic; seed below).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20241101
OUT = Path(__file__).with_name("dedup_corpus.jsonl")

COMPANIES = [
    # name, zh name, models (latin), home
    ("BYD", "比亚迪", ["Seal 06", "Dolphin", "Atto 3", "Seagull"], "Shenzhen"),
    ("Tesla", "特斯拉", ["Model Y", "Model 3", "Cybertruck"], "Austin"),
    ("Nio", "蔚来", ["ET5", "ES6", "Onvo L60"], "Shanghai"),
    ("Xpeng", "小鹏", ["G6", "Mona M03", "X9"], "Guangzhou"),
    ("Volkswagen", "大众", ["ID.4", "ID.7", "ID.3"], "Wolfsburg"),
    ("CATL", "宁德时代", ["Shenxing", "Qilin"], "Ningde"),
    ("Geely", "吉利", ["EX5", "Galaxy E8"], "Hangzhou"),
    ("Volvo", "沃尔沃", ["EX30", "EX90"], "Gothenburg"),
    ("Xiaomi", "小米", ["SU7", "YU7"], "Beijing"),
    ("Hyundai", "现代", ["Ioniq 5", "Ioniq 9"], "Seoul"),
]
COUNTRIES = [("Hungary", "Ungarn", "Hongrie", "匈牙利"), ("Mexico", "Mexiko", "Mexique", "墨西哥"),
             ("Thailand", "Thailand", "Thaïlande", "泰国"), ("Brazil", "Brasilien", "Brésil", "巴西"),
             ("Turkey", "Türkei", "Turquie", "土耳其"), ("Spain", "Spanien", "Espagne", "西班牙")]
MONTHS = [("October", "Oktober", "octobre", 10), ("September", "September", "septembre", 9),
          ("November", "November", "novembre", 11)]

WIRE = ["reuters", "ap"]
SYNDICATORS = {
    "autonews-daily": ("AUTONEWS DAILY | Industry", "Copyright 2024 Autonews Daily. All rights reserved. "
                       "Subscribe to our morning newsletter for more EV coverage."),
    "evworld": ("", "Follow EVWorld on X and LinkedIn for the latest electric vehicle news.\n"
                "This article was syndicated from a news agency."),
    "marketwire-asia": ("Marketwire Asia — Automotive", "Read more: Asia's EV makers race to Europe\n"
                        "Sign up for the Marketwire Asia briefing."),
    "greencarhub": ("", "GreenCarHub may earn a commission from affiliate links.\n"
                    "Share this story with a friend."),
}
REWRITERS_EN = ["electrek", "insideevs", "carnewschina", "cleantechnica"]
REWRITERS = {"de": ["electrive-de", "heise-auto"], "fr": ["automobile-propre", "largus"],
             "zh": ["sina-auto", "36kr"]}
DEAL_FOOTER = ("FTC: We use income earning auto affiliate links. More.\n"
               "Subscribe to the ChargeDeals newsletter and follow us on YouTube for daily deals.\n"
               "Check out our guide to the best home chargers of the year, updated every month.")


def fmt_en(n: int) -> str:
    return f"{n:,}"


def fmt_de(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def fmt_fr(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def fmt_zh(n: int) -> str:
    return f"{n / 10000:g}万" if n >= 10000 else str(n)


def dec(x: float, lang: str) -> str:
    s = f"{x:.1f}"
    return s.replace(".", ",") if lang in ("de", "fr") else s


# --- event kinds: facts + one wire template + rewrites per language ------------------------

def facts_sales(r: random.Random, co: tuple) -> dict:
    units = r.randrange(18, 480) * 1000 + r.randrange(1, 999)
    return dict(kind="sales", units=units, pct=round(r.uniform(3, 60), 1),
                exports=r.randrange(5, 60) * 1000 + r.randrange(1, 999),
                month=r.choice(MONTHS), prev=units - r.randrange(4000, 15000))


def facts_price(r: random.Random, co: tuple) -> dict:
    old = r.randrange(30, 60) * 1000 - 10
    return dict(kind="price", model=r.choice(co[2]), old=old, new=old - r.randrange(2, 7) * 1000,
                pct=0, country=r.choice(COUNTRIES))


def facts_plant(r: random.Random, co: tuple) -> dict:
    return dict(kind="plant", country=r.choice(COUNTRIES), capacity=r.randrange(10, 40) * 10000,
                invest=round(r.uniform(1.1, 5.9), 1), jobs=r.randrange(12, 90) * 100)


def facts_recall(r: random.Random, co: tuple) -> dict:
    return dict(kind="recall", model=r.choice(co[2]), units=r.randrange(12, 390) * 100 + r.randrange(1, 99),
                issue=r.choice(["a faulty rear-view camera", "a seat belt sensor",
                                "a software glitch in the inverter"]))


def facts_launch(r: random.Random, co: tuple) -> dict:
    return dict(kind="launch", model=r.choice(co[2]), range_km=r.randrange(41, 78) * 10 + 5,
                price=r.randrange(150, 330) * 1000 + 800, kwh=round(r.uniform(55, 105), 1))


def facts_earn(r: random.Random, co: tuple) -> dict:
    return dict(kind="earnings", q=r.choice(["third", "second"]), rev=round(r.uniform(5.2, 49.9), 1),
                margin=round(r.uniform(9, 24), 1), profit=round(r.uniform(0.3, 4.9), 2))


FACTS = [facts_sales, facts_price, facts_plant, facts_recall, facts_launch, facts_earn]

QUOTES = [
    "\"We are seeing strong demand for our latest models, and we expect the momentum to continue,\" "
    "a company spokesperson said.",
    "Analysts said competition in the sector remains intense as rivals cut prices to defend market share.",
    "Shares of the company rose 2.3% in early trading after the announcement.",
    "The company did not comment on its outlook for the rest of the year.",
    "Industry data from the China Passenger Car Association is due later this week.",
    "Europe has become a key battleground as Chinese brands expand beyond their home market.",
]


def wire_en(co: tuple, f: dict, r: random.Random) -> tuple[str, list[str]]:
    n = co[0]
    k = f["kind"]
    if k == "sales":
        m = f["month"][0]
        return (f"{n} {m} deliveries rise {f['pct']}% as demand holds up", [
            f"{n} said on Friday it delivered {fmt_en(f['units'])} electric and plug-in hybrid vehicles in {m}, "
            f"up {f['pct']}% from a year earlier, extending a run of monthly growth.",
            f"Overseas shipments reached {fmt_en(f['exports'])} units, the company said in a filing to the stock "
            f"exchange, as it pushes into markets in Europe, Latin America and Southeast Asia.",
            f"The figure compares with {fmt_en(f['prev'])} vehicles in the previous month.",
        ])
    if k == "price":
        return (f"{n} cuts {f['model']} price in {f['country'][0]} to {fmt_en(f['new'])} euros", [
            f"{n} has lowered the price of its {f['model']} in {f['country'][0]} to {fmt_en(f['new'])} euros from "
            f"{fmt_en(f['old'])} euros, the company said on Tuesday, the latest move in a widening price war.",
            "The cut applies to orders placed from this week, a spokesperson said, adding that existing customers "
            "would not receive a refund.",
            "Dealers said the reduction was needed to clear inventory before the end of the year.",
        ])
    if k == "plant":
        c = f["country"][0]
        return (f"{n} picks {c} for new plant with {fmt_en(f['capacity'])}-vehicle capacity", [
            f"{n} will build a factory in {c} with annual capacity of {fmt_en(f['capacity'])} vehicles, "
            f"the company said on Wednesday, investing about {f['invest']} billion euros.",
            f"The plant is expected to create {fmt_en(f['jobs'])} jobs and start production in 2026, "
            f"according to a statement from the government of {c}.",
            f"The decision makes {c} a hub for {n}'s international expansion.",
        ])
    if k == "recall":
        return (f"{n} recalls {fmt_en(f['units'])} {f['model']} vehicles over {f['issue']}", [
            f"{n} is recalling {fmt_en(f['units'])} {f['model']} vehicles because of {f['issue']}, "
            f"according to a notice published by regulators on Thursday.",
            "Owners will be notified by mail, and dealers will fix the problem free of charge, the notice said.",
            "The company said it was not aware of any crashes or injuries related to the issue.",
        ])
    if k == "launch":
        return (f"{n} launches {f['model']} with {f['range_km']} km range", [
            f"{n} on Monday launched the {f['model']}, a battery-electric model with a range of {f['range_km']} "
            f"kilometres and a starting price of {fmt_en(f['price'])} yuan.",
            f"The car uses a {f['kwh']} kWh battery pack and will be delivered to customers from next month.",
            "The launch comes as automakers crowd the mid-size segment with new models.",
        ])
    return (f"{n} {f['q']}-quarter revenue climbs to {f['rev']} billion", [
        f"{n} reported {f['q']}-quarter revenue of {f['rev']} billion dollars on Tuesday, with a gross margin "
        f"of {f['margin']}%.",
        f"Net profit came in at {f['profit']} billion dollars, the company said, beating analyst estimates.",
        "The company kept its full-year delivery target unchanged.",
    ])


def rewrite(lang: str, co: tuple, f: dict, r: random.Random) -> tuple[str, str]:
    """Another outlet's own words (title, body)."""
    n, zh = co[0], co[1]
    k = f["kind"]
    if lang == "en":
        if k == "sales":
            return (f"{n} just had a huge {f['month'][0]}", f"Another month, another record-ish number from {n}. "
                    f"The automaker moved {fmt_en(f['units'])} vehicles last month, a jump of {f['pct']} percent "
                    f"year over year. Exports accounted for {fmt_en(f['exports'])} of those cars. We think the "
                    f"numbers show the brand is far from running out of steam.")
        if k == "price":
            return (f"The {n} {f['model']} just got a lot cheaper in {f['country'][0]}",
                    f"Good news for buyers: the {f['model']} now starts at {fmt_en(f['new'])} euros in "
                    f"{f['country'][0]}, down from {fmt_en(f['old'])} euros. {n} is clearly trying to keep volume up "
                    f"as rivals slash their own sticker prices.")
        if k == "plant":
            return (f"{n} confirms {f['country'][0]} factory", f"It's official: {n} is heading to {f['country'][0]}. "
                    f"The new site will be able to build {fmt_en(f['capacity'])} cars a year and should employ around "
                    f"{fmt_en(f['jobs'])} people once it ramps up, with investment put at {f['invest']} billion euros.")
        if k == "recall":
            return (f"Recall alert: {n} {f['model']} owners should check their mail",
                    f"If you own a {f['model']}, pay attention. {n} has issued a recall covering "
                    f"{fmt_en(f['units'])} cars due to {f['issue']}. The fix is free at dealers.")
        if k == "launch":
            return (f"First look: {n} {f['model']} goes on sale", f"The {f['model']} is finally here. {n} quotes "
                    f"{f['range_km']} km of range from a {f['kwh']} kWh pack, and pricing starts at "
                    f"{fmt_en(f['price'])} yuan, which undercuts most rivals in its class.")
        return (f"{n} earnings: margin hits {f['margin']}%", f"{n} posted revenue of {f['rev']} billion dollars "
                f"for the {f['q']} quarter. Profit reached {f['profit']} billion dollars and margins came in at "
                f"{f['margin']}%, which investors will like.")
    if lang == "de":
        if k == "sales":
            return (f"{n} steigert Absatz im {f['month'][1]} um {dec(f['pct'], 'de')} Prozent",
                    f"{n} hat im {f['month'][1]} {fmt_de(f['units'])} Fahrzeuge ausgeliefert. Das entspricht einem "
                    f"Plus von {dec(f['pct'], 'de')} Prozent gegenüber dem Vorjahr. Ins Ausland gingen "
                    f"{fmt_de(f['exports'])} Einheiten.")
        if k == "price":
            return (f"{n} senkt Preis für {f['model']} in {f['country'][1]}",
                    f"Der {f['model']} kostet in {f['country'][1]} ab sofort {fmt_de(f['new'])} Euro statt "
                    f"{fmt_de(f['old'])} Euro. {n} reagiert damit auf den Preiskampf.")
        if k == "plant":
            return (f"{n} baut Werk in {f['country'][1]}", f"{n} errichtet ein neues Werk in {f['country'][1]}. "
                    f"Die Kapazität soll bei {fmt_de(f['capacity'])} Fahrzeugen pro Jahr liegen, die Investition bei "
                    f"{dec(f['invest'], 'de')} Milliarden Euro. Rund {fmt_de(f['jobs'])} Arbeitsplätze entstehen.")
        if k == "recall":
            return (f"Rückruf: {n} holt {f['model']} in die Werkstatt", f"{n} ruft {fmt_de(f['units'])} Exemplare "
                    f"des {f['model']} zurück. Grund ist ein technischer Defekt. Die Reparatur ist kostenlos.")
        if k == "launch":
            return (f"{n} {f['model']}: Marktstart mit {f['range_km']} km Reichweite",
                    f"{n} hat den {f['model']} vorgestellt. Der Akku fasst {dec(f['kwh'], 'de')} kWh, die Reichweite "
                    f"liegt bei {f['range_km']} Kilometern. Der Preis beginnt bei {fmt_de(f['price'])} Yuan.")
        quarter = "dritten" if f["q"] == "third" else "zweiten"
        return (f"{n} mit {dec(f['rev'], 'de')} Milliarden Umsatz", f"{n} hat im {quarter} "
                f"Quartal {dec(f['rev'], 'de')} Milliarden Dollar umgesetzt. "
                f"Die Marge lag bei {dec(f['margin'], 'de')} "
                f"Prozent, der Gewinn bei {dec(f['profit'], 'de')} Milliarden Dollar.")
    if lang == "fr":
        if k == "sales":
            return (f"{n} : les ventes bondissent de {dec(f['pct'], 'fr')} % en {f['month'][2]}",
                    f"{n} a livré {fmt_fr(f['units'])} véhicules en {f['month'][2]}, soit une hausse de "
                    f"{dec(f['pct'], 'fr')} % sur un an. Les exportations ont atteint {fmt_fr(f['exports'])} unités.")
        if k == "price":
            return (f"{n} baisse le prix de la {f['model']}", f"La {f['model']} passe à {fmt_fr(f['new'])} euros "
                    f"contre {fmt_fr(f['old'])} euros auparavant. {n} poursuit ainsi la guerre des prix.")
        if k == "plant":
            return (f"{n} choisit la {f['country'][2]} pour sa nouvelle usine", f"{n} va construire une usine "
                    f"d'une capacité de {fmt_fr(f['capacity'])} véhicules par an, pour un investissement de "
                    f"{dec(f['invest'], 'fr')} milliards d'euros. Environ {fmt_fr(f['jobs'])} emplois sont prévus.")
        if k == "recall":
            return (f"Rappel : {n} rappelle la {f['model']}", f"{n} rappelle {fmt_fr(f['units'])} exemplaires de la "
                    f"{f['model']} en raison d'un défaut. La réparation sera gratuite.")
        if k == "launch":
            return (f"{n} lance la {f['model']}", f"La {f['model']} de {n} promet {f['range_km']} km d'autonomie "
                    f"grâce à une batterie de {dec(f['kwh'], 'fr')} kWh. Prix de départ : {fmt_fr(f['price'])} yuans.")
        return (f"{n} : chiffre d'affaires de {dec(f['rev'], 'fr')} milliards", f"{n} a publié un chiffre d'affaires "
                f"de {dec(f['rev'], 'fr')} milliards de dollars, avec une marge de {dec(f['margin'], 'fr')} % et un "
                f"bénéfice de {dec(f['profit'], 'fr')} milliards.")
    # zh
    if k == "sales":
        return (f"{zh}{f['month'][3]}月销量同比增长{f['pct']}%", f"{zh}公布，{f['month'][3]}月共交付新能源汽车"
                f"{fmt_zh(f['units'])}辆，同比增长{f['pct']}%。其中海外销量{fmt_zh(f['exports'])}辆。")
    if k == "price":
        return (f"{zh}{f['model']}降价", f"{zh}宣布{f['model']}售价下调至{fmt_zh(f['new'])}欧元，"
                f"此前为{fmt_zh(f['old'])}欧元。")
    if k == "plant":
        return (f"{zh}宣布在{f['country'][3]}建厂", f"{zh}将在{f['country'][3]}建设新工厂，"
                f"年产能{fmt_zh(f['capacity'])}辆，"
                f"投资约{round(f['invest'] * 10)}亿欧元，预计创造{fmt_zh(f['jobs'])}个就业岗位。")
    if k == "recall":
        return (f"{zh}召回{f['model']}", f"{zh}宣布召回{f['model']}共计{fmt_zh(f['units'])}辆，将免费为用户维修。")
    if k == "launch":
        return (f"{zh}{f['model']}正式上市", f"{zh}{f['model']}正式上市，续航{f['range_km']}公里，"
                f"电池容量{f['kwh']}kWh，"
                f"起售价{fmt_zh(f['price'])}元。")
    return (f"{zh}第{'三' if f['q'] == 'third' else '二'}季度营收{round(f['rev'] * 10)}亿美元",
            f"{zh}发布财报，季度营收{round(f['rev'] * 10)}亿美元，毛利率{f['margin']}%，"
            f"净利润{round(f['profit'] * 10, 1)}亿美元。")


def lightly_reword(text: str, r: random.Random) -> str:
    swaps = [(" said on ", " said "), (" vehicles", " cars"), ("the company said", "it said"),
             (" about ", " around "), ("expected", "anticipated")]
    for a, b in r.sample(swaps, 3):
        text = text.replace(a, b, 1)
    return text


def main() -> None:
    r = random.Random(SEED)
    rows: list[dict] = []
    base = datetime(2024, 10, 7, 6, 0, tzinfo=timezone.utc)
    ev = 0

    def emit(title: str, body: str, source: str, lang: str, when: datetime, dup: str, story: str) -> None:
        i = len(rows)
        rows.append(dict(id=f"a{i:04d}", url=f"https://{source}.example/{i}", title=title, body=body,
                         published=when.isoformat().replace("+00:00", "Z"), source=source, language=lang,
                         dup_label=dup, story_label=story))

    for week in range(3):
        for co in COMPANIES:
            kinds = r.sample(FACTS, 2)  # two unrelated events per company per week: hard negatives
            for fk in kinds:
                ev += 1
                f = fk(r, co)
                story = f"S{ev:03d}"
                t0 = base + timedelta(days=7 * week + r.randrange(0, 4), hours=r.randrange(0, 12))
                title, paras = wire_en(co, f, r)
                paras = paras + r.sample(QUOTES, 2)
                wire = r.choice(WIRE)
                emit(title, "\n\n".join(paras), wire, "en", t0, f"D{ev:03d}", story)
                for j, syn in enumerate(r.sample(list(SYNDICATORS), r.randrange(0, 3))):
                    head, foot = SYNDICATORS[syn]
                    p = list(paras)
                    edit = r.choice(["drop", "note", "reword", "plain"])
                    if edit == "drop" and len(p) > 4:
                        del p[r.randrange(1, len(p))]
                    if edit == "note":
                        p.insert(0, "Editor's note: this story has been updated with additional detail.")
                    if edit == "reword":
                        p = [lightly_reword(x, r) for x in p]
                    body = "\n\n".join(([head] if head else []) + p + [foot])
                    new_title = r.choice([f"{co[0]}: {title.split(' ', 1)[1]}", title.upper()[:1] + title[1:]
                                          + " - report", f"UPDATE {j + 1}-{title}"])
                    emit(new_title, body, syn, "en", t0 + timedelta(hours=r.randrange(1, 20)), f"D{ev:03d}", story)
                langs = r.sample(["en", "de", "fr", "zh"], r.randrange(1, 4))
                for lang in langs:
                    src = r.choice(REWRITERS_EN) if lang == "en" else r.choice(REWRITERS[lang])
                    t, b = rewrite(lang, co, f, r)
                    emit(t, b, src, lang, t0 + timedelta(hours=r.randrange(2, 40)), f"D{ev:03d}-{lang}-{src}", story)
    # boilerplate-heavy short deal posts from one site: every one is its own story
    gadgets = ["Level 2 home charger", "portable EV charger", "tire inflator", "dash cam", "wall connector",
               "charging cable organizer", "all-weather floor mats", "e-bike", "jump starter", "phone mount"]
    for g in gadgets:
        ev += 1
        price = r.randrange(29, 399)
        when = base + timedelta(days=r.randrange(0, 20), hours=r.randrange(0, 23))
        emit(f"Deal: this {g} is down to ${price}", f"Today's deal: the {g} drops to ${price}, "
             f"a {r.randrange(15, 45)}% discount for a limited time.\n\n{DEAL_FOOTER}", "chargedeals", "en", when,
             f"D{ev:03d}", f"S{ev:03d}")
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} articles, {ev} stories -> {OUT}")


if __name__ == "__main__":
    main()
