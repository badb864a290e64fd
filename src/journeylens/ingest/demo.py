"""Demo data for the running-shoes workspace: multichannel journeys with known answers.

Everything is vectorised with NumPy (no loop over customers or events) and seeded, so any size
from a thousand to a hundred million events is reproducible. Each channel's system writes its
own file with its own identifiers — cookies on the web shop, a CRM card in the store, a phone on
calls, an e-mail on orders and surveys — and ``ground_truth.json`` says which customer is behind
every identifier and at which map steps problems were planted.

The journey follows the current-state map. Ordinary steps lose about one customer in ten; the
planted problems stand out against that on purpose, each in its own way, as a real one would:

- ``pay-online``: card verification fails on mobile, so most mobile checkouts are abandoned,
  often after going back to the product page and trying again (a loop);
- ``look-for-returns-info``: there is no exchange article, so most readers then call;
- ``call-support``: long waits, a third call again, and the satisfaction answers about the call
  are poor — and callers buy again less often.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

PLANTED = ["pay-online", "look-for-returns-info", "call-support"]
#: Survey verbatims by tone and language (the seeds' languages and Portuguese).
VERBATIMS = {
    "negative": {
        "en": [
            "Twelve minutes on hold for a simple exchange.",
            "Nobody could tell me how to change the size.",
            "Great shoes, but the exchange was a hassle.",
        ],
        "ro": ["Am așteptat la telefon un sfert de oră.", "Schimbul mărimii a fost complicat."],
        "ru": ["Ждал на линии пятнадцать минут.", "Обмен размера был мучением."],
        "sl": ["Na telefonu sem čakala petnajst minut.", "Menjava velikosti je bila naporna."],
        "he": ["חיכיתי בטלפון רבע שעה.", "ההחלפה של המידה הייתה מסורבלת."],
        "pt": ["Fiquei quinze minutos esperando no telefone.", "A troca foi complicada."],
    },
    "positive": {
        "en": ["Fast delivery, perfect fit.", "Love them, running feels easy now."],
        "ro": ["Livrare rapidă, mărimea perfectă.", "Pantofi grozavi, recomand."],
        "ru": ["Быстрая доставка, идеально сели.", "Отличные кроссовки, рекомендую."],
        "sl": ["Hitra dostava, odlično se prilegajo.", "Odlični copati, priporočam."],
        "he": ["משלוח מהיר, המידה מושלמת.", "נעליים מצוינות, ממליצה."],
        "pt": ["Entrega rápida, tamanho perfeito.", "Ótimos tênis, recomendo."],
    },
}


@dataclass
class DemoFiles:
    folder: Path
    files: dict[str, Path]
    events: int
    customers: int


class _Events:
    """Event columns collected kind by kind, then sorted into journeys once."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def emit(
        self, who: np.ndarray, hour: float | np.ndarray, activity: str, **fields: object
    ) -> None:
        who = np.asarray(who, dtype=np.int64)
        part: dict[str, np.ndarray] = {
            "cust": who,
            "hour": np.broadcast_to(np.asarray(hour, dtype=np.float64), who.shape).copy(),
            "activity": np.full(who.shape, activity, dtype=object),
        }
        for name, value in fields.items():
            part[name] = np.broadcast_to(np.asarray(value, dtype=object), who.shape).copy()
        self.parts.append(part)

    def columns(self) -> dict[str, np.ndarray]:
        names = {name for part in self.parts for name in part}
        out: dict[str, np.ndarray] = {}
        for name in sorted(names):
            chunks = []
            for part in self.parts:
                if name in part:
                    chunks.append(part[name])
                else:
                    chunks.append(np.full(part["cust"].shape, None, dtype=object))
            out[name] = np.concatenate(chunks)
        return out


def generate(
    folder: Path, *, events: int = 100_000, seed: int = 7, noise: float = 0.05
) -> DemoFiles:
    """Write demo event files, their source definitions' data, and ``ground_truth.json``."""
    rng = np.random.default_rng(seed)
    # About 7.5 events per customer: overshoot, then keep whole journeys up to ``events``.
    customers = max(20, int(events / 7) + 20)
    ids = np.arange(customers)

    def u() -> np.ndarray:
        """One fresh draw per customer."""
        return rng.random(customers)

    mobile = u() < 0.6
    beginner = u() < 0.6
    devices = rng.integers(1, 4, customers)

    # Who reaches what. Ordinary steps keep about nine in ten; the planted ones do not.
    video = u() < 0.7
    consider = u() < 0.9
    store = consider & (u() < 0.45)
    reviews = consider & ((store & (u() < 0.7)) | (~store & (u() < 0.3)))
    forum = consider & (u() < 0.4)
    profile = consider & (u() < 0.5)
    view = consider & (u() < 0.9)
    cart = view & (u() < 0.9)
    checkout = cart & (u() < 0.92)
    paid = checkout & (u() < np.where(mobile, 0.38, 0.92))  # planted: mobile card checks fail
    retry = checkout & ~paid & (u() < 0.6)  # back to the product page, then try again
    shipped = paid & (u() < 0.99)
    wrong_size = paid & (u() < 0.3)
    faq = wrong_size & (u() < 0.75)
    call = wrong_size & np.where(faq, u() < 0.88, u() < 0.35)  # planted: no exchange article
    call_again = call & (u() < 0.3)
    survey = paid & (u() < 0.6)
    review = paid & (u() < np.where(call, 0.25, 0.45))
    again = paid & (u() < np.where(call, 0.2, 0.5))

    log = _Events()

    def pick(mask: np.ndarray) -> np.ndarray:
        return np.asarray(ids[mask])

    views = 1 + rng.poisson(1.0, customers)
    ads = 1 + rng.poisson(1.5, customers)
    for k in range(int(ads.max())):
        log.emit(
            pick(ads > k),
            0.0 + 2 * k,
            "ad_impression",
            channel="instagram",
            touchpoint="tp-instagram-ad",
        )
    log.emit(pick(video), 10, "video_view", channel="instagram", touchpoint="tp-shoe-video")
    log.emit(pick(store), 40, "store_visit", channel="store", touchpoint="tp-store-staff")
    who = pick(reviews)
    log.emit(
        who,
        np.where(store[who], 41, 60),
        "review_read",
        channel="review-sites",
        touchpoint="tp-review-site",
        device=np.where(store[who] | mobile[who], "mobile", "desktop"),
    )
    log.emit(pick(forum), 70, "forum_visit", channel="forum", touchpoint="tp-forum-thread")
    log.emit(
        pick(profile), 90, "profile_visit", channel="instagram", touchpoint="tp-instagram-profile"
    )
    for k in range(int(views.max())):
        log.emit(
            pick(view & (views > k)),
            110 + 3 * k,
            "product_view",
            channel="webshop",
            touchpoint="tp-product-page",
        )
    log.emit(pick(cart), 130, "add_to_cart", channel="webshop", touchpoint="tp-cart")
    log.emit(pick(checkout), 131, "checkout_start", channel="webshop", touchpoint="tp-checkout")
    log.emit(
        pick(checkout & (paid | (u() < 0.7))),
        131.3,
        "payment_submitted",
        channel="webshop",
        touchpoint="tp-checkout",
    )
    log.emit(pick(retry), 132, "product_view", channel="webshop", touchpoint="tp-product-page")
    log.emit(pick(retry), 133, "checkout_start", channel="webshop", touchpoint="tp-checkout")
    log.emit(
        pick(paid),
        133.5,
        "order_placed",
        channel="webshop",
        touchpoint="tp-order-email",
        repeat=False,
    )
    log.emit(pick(shipped), 150, "shipping_email", channel="email", touchpoint="tp-shipping-email")
    log.emit(pick(paid), 200, "delivered", channel="webshop")
    log.emit(
        pick(faq),
        224,
        "faq_view",
        channel="help-center",
        touchpoint="tp-faq-returns",
        topic="returns",
    )
    who = pick(call)
    log.emit(
        who,
        230,
        "call",
        channel="phone",
        touchpoint="tp-phone-support",
        wait_seconds=rng.gamma(4.0, 180.0, len(who)).round(),
    )
    who = pick(call_again)
    log.emit(
        who,
        280,
        "call",
        channel="phone",
        touchpoint="tp-phone-support",
        wait_seconds=rng.gamma(4.0, 180.0, len(who)).round(),
    )
    who = pick(survey)
    unhappy = call[who]
    score = np.where(
        unhappy, rng.choice([1, 2, 2, 3, 3], len(who)), rng.choice([3, 4, 4, 5, 5], len(who))
    )
    tone = np.where(score <= 2, "negative", np.where(score >= 4, "positive", ""))
    text, language = _verbatims(rng, tone)
    log.emit(
        who,
        np.where(unhappy, 300, 210),
        "survey_answer",
        channel="email",
        touchpoint="tp-csat-survey",
        survey="csat",
        about=np.where(unhappy, "tp-phone-support", "tp-order-email"),
        score=score,
        text=text,
        language=language,
    )
    log.emit(
        pick(review), 400, "review_posted", channel="review-sites", touchpoint="tp-review-request"
    )
    log.emit(
        pick(again),
        2500,
        "order_placed",
        channel="webshop",
        touchpoint="tp-loyalty-email",
        repeat=True,
    )

    col = log.columns()
    cust = col["cust"]
    # Each customer has a pace, so journeys differ in length of time but keep their order.
    pace = np.clip(rng.lognormal(0.0, 0.35, customers), 0.5, 2.0)
    hour = col["hour"] * pace[cust] + rng.random(len(cust)) * 0.9
    order = np.lexsort((hour, cust))
    keep = order[:events]
    col = {name: values[keep] for name, values in col.items()}
    cust, hour = col["cust"], hour[keep]
    customers_used = int(cust.max()) + 1 if len(cust) else 0
    n = len(cust)
    start = np.datetime64("2025-01-01T00:00:00") + rng.integers(0, 300 * 86400, customers).astype(
        "timedelta64[s]"
    )
    ts = start[cust] + (hour * 3600).astype("int64").astype("timedelta64[s]")
    activity = col["activity"].astype(str)
    channel = col["channel"].astype(str)
    touchpoint = pa.array(col["touchpoint"], pa.string())
    device = pc.coalesce(
        pa.array(col["device"], pa.string()),
        pa.array(np.where(mobile[cust], "mobile", "desktop")),
    )

    who = pa.array(cust).cast(pa.string())
    device_index = rng.integers(0, devices[cust])
    cookie = pc.binary_join_element_wise(
        "k", who, "-", pa.array(device_index).cast(pa.string()), ""
    )
    email = pc.binary_join_element_wise("runner", who, "@example.com", "")
    padded = pc.utf8_lpad(who, 7, "0")
    phone = pc.binary_join_element_wise("+4072", padded, "")
    crm = pc.binary_join_element_wise("CRM", pc.utf8_lpad(who, 8, "0"), "")

    # Noise: formatting a normaliser must undo, and shared identifiers a stitcher must refuse.
    noisy = rng.random(n) < noise
    email_out = pc.if_else(
        pa.array(noisy & (rng.random(n) < 0.5)),
        pc.binary_join_element_wise(" ", pc.utf8_upper(email), ""),
        email,
    )
    phone_out = pc.if_else(
        pa.array(noisy), pc.binary_join_element_wise("0040 72", padded, ""), phone
    )
    shared_tablet = (channel == "store") & (rng.random(n) < noise)
    test_account = (activity == "checkout_start") & (rng.random(n) < noise / 5)
    timestamps = pa.array(ts.astype("datetime64[s]"), pa.timestamp("s", tz="UTC"))

    def mask(values: np.ndarray) -> pa.Array:
        return pa.array(values)

    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    web = np.isin(channel, ["instagram", "webshop", "review-sites", "forum", "help-center"])
    identified = np.isin(activity, ["checkout_start", "order_placed", "review_posted"])
    # Every device logs in once (an account on the app or the shop), which links its cookie.
    online_rows = np.flatnonzero(web)
    device_key = cust[online_rows].astype(np.int64) * 8 + device_index[online_rows]
    _, first_on_device = np.unique(device_key, return_index=True)
    identified[online_rows[first_on_device]] = True
    web_email = pc.if_else(mask(test_account), "test@example.com", email_out)
    web_table = pa.table(
        {
            "cookie": cookie,
            "email": pc.if_else(mask(identified), web_email, pa.nulls(n, pa.string())),
            "timestamp": timestamps,
            "activity": activity,
            "channel": channel,
            "touchpoint": touchpoint,
            "device": device,
            "topic": pa.array(col["topic"], pa.string()),
            "segment": np.where(beginner[cust], "beginner", "regular"),
            "repeat": pa.array(col["repeat"], pa.bool_()),
        }
    ).filter(mask(web))
    files["web"] = folder / "web.parquet"
    pq.write_table(web_table, files["web"])

    in_store = channel == "store"
    store_table = pa.table(
        {
            "crm_id": crm,
            # The loyalty app on the phone (device 0, which is logged in) is scanned at the till.
            "device_id": pc.if_else(
                mask(shared_tablet), "tablet-01", pc.binary_join_element_wise("k", who, "-0", "")
            ),
            # The store's till writes local time without an offset; its source says the zone.
            "visited_at": pc.strftime(
                timestamps.cast(pa.timestamp("s", tz="Europe/Bucharest")),
                format="%Y-%m-%d %H:%M:%S",
                locale="C",
            ),
            "activity": activity,
            "channel": channel,
            "touchpoint": touchpoint,
        }
    ).filter(mask(in_store))
    files["store"] = folder / "store.csv"
    pacsv.write_csv(store_table, files["store"])

    contact = np.isin(channel, ["phone", "email"])
    is_call = activity == "call"
    none = pa.nulls(n, pa.string())
    contact_table = pa.table(
        {
            "phone": pc.if_else(mask(is_call), phone_out, none),
            "email": pc.if_else(mask(~is_call), email_out, none),
            "crm_id": crm,  # the contact centre looks every caller and mail up in the CRM
            "timestamp": pc.strftime(timestamps, format="%Y-%m-%dT%H:%M:%SZ", locale="C"),
            "activity": activity,
            "channel": channel,
            "touchpoint": touchpoint,
            "survey": pa.array(col["survey"], pa.string()),
            "about": pa.array(col["about"], pa.string()),
            "wait_seconds": pa.array(col["wait_seconds"], pa.float64()),
            "score": pa.array(col["score"], pa.int64()),
            "text": pa.array(col["text"], pa.string()),
            "language": pa.array(col["language"], pa.string()),
        }
    ).filter(mask(contact))
    files["contacts"] = folder / "contacts.csv"
    pacsv.write_csv(contact_table, files["contacts"])

    truth = {
        "seed": seed,
        "events": int(n),
        "customers": customers_used,
        "planted_pain_points": PLANTED,
        "shared_identifiers": ["cookie:tablet-01", "email:test@example.com"],
        "identifier_prefixes": {
            "cookie": "k<customer>-<device>",
            "email": "runner<customer>@example.com",
            "phone": "+4072<customer, 7 digits>",
            "crm_id": "CRM<customer, 8 digits>",
        },
    }
    (folder / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    return DemoFiles(folder, files, int(n), customers_used)


def _verbatims(rng: np.random.Generator, tone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A verbatim in a random language for every answer with a tone; neutral ones have none."""
    text = np.full(tone.shape, None, dtype=object)
    language = np.full(tone.shape, None, dtype=object)
    for name, by_language in VERBATIMS.items():
        pool = [(code, line) for code in sorted(by_language) for line in by_language[code]]
        rows = np.flatnonzero(tone == name)
        chosen = rng.integers(0, len(pool), len(rows))
        text[rows] = np.array([line for _, line in pool], dtype=object)[chosen]
        language[rows] = np.array([code for code, _ in pool], dtype=object)[chosen]
    return text, language


SOURCES = {
    "demo-web": (
        "id: demo-web\npath: data/demo/web.parquet\n"
        "identifiers: [{column: cookie, type: cookie}, {column: email, type: email}]\n"
        "touchpoint: touchpoint\ndevice: device\nattributes: [topic, segment, repeat, device]\n"
    ),
    "demo-store": (
        "id: demo-store\npath: data/demo/store.csv\ntimestamp: visited_at\n"
        "timezone: Europe/Bucharest\ntouchpoint: touchpoint\n"
        "identifiers: [{column: crm_id, type: crm_id}, {column: device_id, type: cookie}]\n"
    ),
    "demo-contacts": (
        "id: demo-contacts\npath: data/demo/contacts.csv\n"
        "identifiers: [{column: phone, type: phone}, {column: email, type: email}, "
        "{column: crm_id, type: crm_id}]\ntouchpoint: touchpoint\n"
        "score: score\nscore_type: csat\ntext: text\nlanguage: language\n"
        "attributes: [survey, about, wait_seconds]\n"
    ),
}
