"""Demo data for the running-shoes workspace: multichannel journeys with known answers.

Everything is vectorised with NumPy (no loop over customers or events) and seeded, so any size
from a thousand to a hundred million events is reproducible. Each channel's system writes its
own file with its own identifiers — cookies on the web shop, a CRM card in the store, a phone on
calls, an e-mail on orders and surveys — and ``ground_truth.json`` says which customer is behind
every identifier and at which map steps problems were planted.
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

# The designed journey (current-state map), the activity each step emits, its channel, and the
# chance a customer who reached the step goes on. Planted problems are in the probabilities.
STEPS: list[tuple[str, str, str, float]] = [
    ("see-instagram-ad", "ad_impression", "instagram", 0.92),
    ("watch-shoe-video", "video_view", "instagram", 0.85),
    ("try-on-in-store", "store_visit", "store", 0.80),
    ("compare-prices-on-phone", "review_read", "review-sites", 0.90),
    ("read-forum", "forum_visit", "forum", 0.90),
    ("visit-instagram-page", "profile_visit", "instagram", 0.95),
    ("view-product-online", "product_view", "webshop", 0.70),
    ("add-to-cart", "add_to_cart", "webshop", 0.85),
    ("pay-online", "checkout_start", "webshop", 0.80),  # mobile: far lower (planted)
    ("receive-confirmation", "order_placed", "webshop", 0.97),
    ("wait-for-delivery", "shipping_email", "email", 0.99),
    ("first-run", "delivered", "webshop", 0.60),
    ("look-for-returns-info", "faq_view", "help-center", 0.90),
    ("call-support", "call", "phone", 0.85),
    ("answer-csat", "survey_answer", "email", 0.70),
    ("post-review", "review_posted", "review-sites", 0.60),
    ("buy-again", "order_placed", "webshop", 1.0),
]
PLANTED = ["pay-online", "look-for-returns-info", "call-support"]
VERBATIMS = {
    "en": [
        "Great shoes, the exchange was a hassle.",
        "Payment failed twice on my phone.",
        "Fast delivery, perfect fit.",
        "Twelve minutes on hold for a simple exchange.",
    ],
    "ro": ["Pantofi grozavi, dar schimbul a fost complicat.", "Plata a eșuat de două ori."],
    "ru": ["Отличные кроссовки, но обмен был мучением.", "Оплата с телефона не прошла."],
    "sl": ["Odlični copati, menjava pa je bila naporna.", "Plačilo na telefonu ni uspelo."],
    "he": ["נעליים מצוינות, אבל ההחלפה הייתה מסורבלת.", "התשלום בטלפון נכשל פעמיים."],
    "pt": ["Ótimos tênis, mas a troca foi complicada.", "Entrega rápida, tamanho perfeito."],
}


@dataclass
class DemoFiles:
    folder: Path
    files: dict[str, Path]
    events: int
    customers: int


def _maybe(mask: np.ndarray, values: object) -> pa.Array:
    """``values`` where ``mask`` holds, null elsewhere."""
    array = pa.array(np.broadcast_to(np.asarray(values), mask.shape)).cast(pa.string())
    return pc.if_else(pa.array(mask), array, pa.nulls(len(mask), pa.string()))


def generate(
    folder: Path, *, events: int = 100_000, seed: int = 7, noise: float = 0.05
) -> DemoFiles:
    """Write demo event files, their source definitions' data, and ``ground_truth.json``."""
    rng = np.random.default_rng(seed)
    # Overshoot the customers, then keep whole journeys up to exactly ``events`` events.
    customers = max(20, int(events / 5.5) + 20)
    steps = len(STEPS)
    mobile = rng.random(customers) < 0.6
    beginner = rng.random(customers) < 0.6
    devices = rng.integers(1, 4, customers)

    # How far each customer gets: walk the steps with their continuation chances.
    go_on = np.array([s[3] for s in STEPS])
    draws = rng.random((customers, steps))
    thresholds = np.broadcast_to(go_on, (customers, steps)).copy()
    pay = [s[0] for s in STEPS].index("pay-online")
    thresholds[mobile, pay] = 0.35  # planted: card verification fails on mobile
    stop = np.where(draws >= thresholds, np.arange(steps), steps).min(axis=1)
    # Customers who find no returns article mostly go on to call (planted in STEPS' chances).
    reached = np.arange(steps)[None, :] <= stop[:, None]
    # Not every step leaves a trace: some are skipped (offline, not tracked).
    skip = rng.random((customers, steps)) < 0.12
    skip[:, [0, pay, pay + 1]] = False
    present = reached & ~skip
    present[:, steps - 1] &= rng.random(customers) < 0.5  # half of finishers buy again

    cust, step = np.nonzero(present)
    # Repeats: product views and ad impressions come several times.
    repeat = np.ones(len(cust), dtype=np.int64)
    for name in ("view-product-online", "see-instagram-ad"):
        index = [s[0] for s in STEPS].index(name)
        mask = step == index
        repeat[mask] = 1 + rng.poisson(1.5, mask.sum())
    cust, step = np.repeat(cust, repeat), np.repeat(step, repeat)
    order = np.argsort(cust, kind="stable")
    cust, step = cust[order][:events], step[order][:events]
    customers_used = int(cust.max()) + 1 if len(cust) else 0
    n = len(cust)
    start = np.datetime64("2025-01-01T00:00:00") + rng.integers(0, 300 * 86400, customers).astype(
        "timedelta64[s]"
    )
    gap = rng.exponential(6 * 3600, n).astype("int64")
    order = np.lexsort((gap, step, cust))
    cust, step, gap = cust[order], step[order], gap[order]
    offset = step.astype("int64") * 36 * 3600 + gap
    ts = start[cust] + offset.astype("timedelta64[s]")

    names = np.array([s[1] for s in STEPS])
    channels = np.array([s[2] for s in STEPS])
    activity, channel = names[step], channels[step]
    device = np.where(mobile[cust], "mobile", "desktop")
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

    def pick(mask: np.ndarray) -> pa.Array:
        return pa.array(mask)

    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    web = np.isin(channel, ["instagram", "webshop", "review-sites", "forum", "help-center"])
    identified = np.isin(activity, ["checkout_start", "order_placed", "review_posted"])
    # Every device logs in once (an account on the app or the shop), which links its cookie.
    online_rows = np.flatnonzero(web)
    device_key = cust[online_rows].astype(np.int64) * 8 + device_index[online_rows]
    _, first_on_device = np.unique(device_key, return_index=True)
    identified[online_rows[first_on_device]] = True
    web_email = pc.if_else(pick(test_account), "test@example.com", email_out)
    web_table = pa.table(
        {
            "cookie": cookie,
            "email": pc.if_else(pick(identified), web_email, pa.nulls(n, pa.string())),
            "timestamp": timestamps,
            "activity": activity,
            "channel": channel,
            "device": device,
            "topic": _maybe(activity == "faq_view", "returns"),
            "segment": np.where(beginner[cust], "beginner", "regular"),
            "repeat": np.where(step == steps - 1, "true", "false"),
        }
    ).filter(pick(web))
    files["web"] = folder / "web.parquet"
    pq.write_table(web_table, files["web"])

    store = channel == "store"
    store_table = pa.table(
        {
            "crm_id": crm,
            # The loyalty app on the phone (device 0, which is logged in) is scanned at the till.
            "device_id": pc.if_else(
                pick(shared_tablet), "tablet-01", pc.binary_join_element_wise("k", who, "-0", "")
            ),
            # The store's till writes local time without an offset; its source says the zone.
            "visited_at": pc.strftime(
                timestamps.cast(pa.timestamp("s", tz="Europe/Bucharest")),
                format="%Y-%m-%d %H:%M:%S",
                locale="C",
            ),
            "activity": activity,
            "channel": channel,
        }
    ).filter(pick(store))
    files["store"] = folder / "store.csv"
    pacsv.write_csv(store_table, files["store"])

    contact = np.isin(channel, ["phone", "email"])
    pool = [(code, text) for code in sorted(VERBATIMS) for text in VERBATIMS[code]]
    chosen = rng.integers(0, len(pool), n)
    survey = activity == "survey_answer"
    is_call = activity == "call"
    none = pa.nulls(n, pa.string())
    contact_table = pa.table(
        {
            "phone": pc.if_else(pick(is_call), phone_out, none),
            "email": pc.if_else(pick(~is_call), email_out, none),
            "crm_id": crm,  # the contact centre looks every caller and mail up in the CRM
            "timestamp": pc.strftime(timestamps, format="%Y-%m-%dT%H:%M:%SZ", locale="C"),
            "activity": activity,
            "channel": channel,
            "score": _maybe(survey, rng.integers(1, 6, n).astype(str)),
            "text": _maybe(survey, np.array([t for _, t in pool])[chosen]),
            "language": _maybe(survey, np.array([c for c, _ in pool])[chosen]),
        }
    ).filter(pick(contact))
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


SOURCES = {
    "demo-web": (
        "id: demo-web\npath: data/demo/web.parquet\n"
        "identifiers: [{column: cookie, type: cookie}, {column: email, type: email}]\n"
        "device: device\nattributes: [topic, segment, repeat, device]\n"
    ),
    "demo-store": (
        "id: demo-store\npath: data/demo/store.csv\ntimestamp: visited_at\n"
        "timezone: Europe/Bucharest\n"
        "identifiers: [{column: crm_id, type: crm_id}, {column: device_id, type: cookie}]\n"
    ),
    "demo-contacts": (
        "id: demo-contacts\npath: data/demo/contacts.csv\n"
        "identifiers: [{column: phone, type: phone}, {column: email, type: email}, "
        "{column: crm_id, type: crm_id}]\n"
        "score: score\nscore_type: csat\ntext: text\nlanguage: language\n"
    ),
}
