"""Demo consumers and bulk consumers for benchmarks, loaded straight into the contacts schema with COPY."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from services.contacts.consumers import phones
from services.runtime.db import connect

SCHEMA = "contacts"

# (name, language, numbers, emails) for the demo consumers, whose ids are consumer_id(0..9).
DEMO = [
    ("Jane Doe", "en", ["+1 614 555 0123"], ["jane.doe@example.com"]),
    ("Robert Miller", "en", ["+1 212 555 0147", "+1 917 555 0199"], ["bob.miller@example.net"]),
    ("Maria Garcia", "es-US", ["+1 305 555 0111"], []),
    ("Luis Garcia", "es-US", ["+1 305 555 0111"], []),  # same household number as Maria
    ("Oliver Smith", "en-GB", ["+44 7700 900123"], ["oliver.smith@example.co.uk"]),
    ("Amélie Laurent", "fr", ["+33 6 12 34 56 78"], ["amelie.laurent@example.fr"]),
    ("Jürgen Weiß", "de", ["+49 30 1234567"], []),
    ("Chloé Tremblay", "fr-CA", ["+1 514 555 0166"], ["chloe@example.ca"]),
    ("Priya Patel", "en", ["+1 408 555 0177"], ["priya.patel@example.com"]),
    ("Tom O'Brien", "en-IE", ["+353 85 123 4567"], []),
]
# Postal addresses of some demo consumers, by index: (region, lines, locality, area, postal code). A replacement
# or a letter needs one, so the demo can ship a parcel and show its notices.
DEMO_ADDRESSES = {
    0: ("US", ["1200 Maple Avenue"], "Columbus", "OH", "43215"),
    1: ("US", ["350 West 57th Street", "Apt 12B"], "New York", "NY", "10019"),
    4: ("GB", ["14 Albert Road"], "Manchester", "", "M19 2EQ"),
    5: ("FR", ["12 rue des Lilas"], "Lyon", "", "69003"),
    6: ("DE", ["Kastanienallee 8"], "Berlin", "", "10435"),
    7: ("CA", ["4520 rue Saint-Denis"], "Montréal", "QC", "H2J 2L3"),
}
DEMO_HISTORY = [
    # (consumer index, channel, summary, days ago)
    (0, "phone", "Asked where to buy the 500 g Crunchy Oat Clusters", 3),
    (0, "email", "Complaint: plastic fragment in Crunchy Oat Clusters, lot L2419", 40),
    (1, "phone", "Coupon request after a leaking bottle of Fresh Linen detergent", 12),
    (4, "web", "Compliment on the new recyclable packaging", 7),
    (5, "letter", "Question about allergens in Chocolat Noir 70%", 20),
]

FIRST = {
    "US": ["James", "Mary", "John", "Patricia", "Michael", "Linda", "David", "Barbara", "Emily", "Daniel"],
    "GB": ["Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Mia", "Jack", "Grace"],
    "FR": ["Lucas", "Emma", "Hugo", "Léa", "Louis", "Chloé", "Gabriel", "Manon", "Arthur", "Camille"],
    "DE": ["Lukas", "Mia", "Leon", "Hannah", "Finn", "Emilia", "Paul", "Lena", "Jonas", "Marie"],
}
LAST = {
    "US": ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Lopez", "Wilson"],
    "GB": ["Taylor", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes", "Green", "Hall", "Wood"],
    "FR": [
        "Martin",
        "Bernard",
        "Dubois",
        "Thomas",
        "Robert",
        "Richard",
        "Petit",
        "Durand",
        "Leroy",
        "Moreau",
    ],
    "DE": [
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Schulz",
        "Hoffmann",
    ],
}
LANGUAGE = {"US": "en", "GB": "en-GB", "FR": "fr", "DE": "de"}
US_AREAS = [201, 212, 213, 305, 312, 404, 415, 503, 512, 614, 617, 702, 713, 818, 917]


def bulk_number(index: int, rng: random.Random) -> tuple[str, int, str]:
    """A plausible mobile or landline number for consumer `index`: (E.164, country code, national number)."""
    country = ("US", "US", "GB", "FR", "DE")[index % 5]
    if country == "US":
        national = f"{US_AREAS[index % len(US_AREAS)]}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        return f"+1{national}", 1, national
    if country == "GB":
        national = f"7{rng.randint(100, 999)}{rng.randint(0, 999999):06d}"
        return f"+44{national}", 44, national
    if country == "FR":
        national = f"{rng.choice('67')}{rng.randint(0, 99999999):08d}"
        return f"+33{national}", 33, national
    national = f"1{rng.choice((51, 52, 57, 60, 70, 76))}{rng.randint(0, 99999999):08d}"
    return f"+49{national}", 49, national


def seed_bulk(database_url: str, consumer_ids: list[str]) -> None:
    """Load consumers with numbers for `consumer_ids`; households and old numbers included.

    Seeding again is harmless: consumers already there are kept as they are. Every row is still generated,
    so that the numbers the others get do not depend on which were there before.
    """
    rng = random.Random(20261123)
    now = datetime.now(UTC)
    with connect(database_url, schema=SCHEMA) as conn, conn.cursor() as cur:
        cur.execute("SELECT id::text FROM consumer WHERE id = ANY(%s::uuid[])", (consumer_ids,))
        present = {row[0] for row in cur.fetchall()}
        with cur.copy("COPY consumer (id, name, language, created_at, last_contact_at) FROM STDIN") as copy:
            for index, consumer_id in enumerate(consumer_ids):
                country = ("US", "US", "GB", "FR", "DE")[index % 5]
                name = f"{rng.choice(FIRST[country])} {rng.choice(LAST[country])}"
                last = now - timedelta(days=rng.randint(0, 900)) if index % 3 else None
                if consumer_id not in present:
                    copy.write_row((consumer_id, name, LANGUAGE[country], now, last))
        with cur.copy(
            "COPY phone_number (consumer_id, position, e164, country_code, national_number, suffix, type,"
            " valid_from, valid_to) FROM STDIN"
        ) as copy:
            previous = None
            for index, consumer_id in enumerate(consumer_ids):
                # Every 40th consumer shares the previous one's number: a household.
                e164, code, national = previous if previous and index % 40 == 0 else bulk_number(index, rng)
                previous = (e164, code, national)
                fresh = consumer_id not in present
                if fresh:
                    copy.write_row((consumer_id, 0, e164, code, national, national[-7:], "mobile", now, None))
                if index % 10 == 0:
                    old, old_code, old_national = bulk_number(index + 7, rng)
                    gave_up = now - timedelta(days=365)
                    if not fresh:
                        continue
                    copy.write_row(
                        (
                            consumer_id,
                            1,
                            old,
                            old_code,
                            old_national,
                            old_national[-7:],
                            "home",
                            gave_up - timedelta(days=1000),
                            gave_up,
                        )
                    )
        conn.commit()
    # VACUUM sets the visibility map, without which matching's index-only scans still visit the table.
    with connect(database_url, schema=SCHEMA, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) consumer")
        conn.execute("VACUUM (ANALYZE) phone_number")


def seed_demo(database_url: str, consumer_ids: list[str]) -> None:
    """The demo consumers, with a little contact history; running it again changes nothing."""
    now = datetime.now(UTC)
    with connect(database_url, schema=SCHEMA) as conn, conn.cursor() as cur:
        for consumer_id, (name, language, numbers, emails) in zip(consumer_ids, DEMO, strict=False):
            cur.execute(
                "INSERT INTO consumer (id, name, language) VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
                (consumer_id, name, language),
            )
            if cur.rowcount == 0:
                continue
            for position, written in enumerate(numbers):
                number = phones.parse(written, "US")
                cur.execute(
                    "INSERT INTO phone_number (consumer_id, position, e164, country_code, national_number, suffix)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (
                        consumer_id,
                        position,
                        number.e164,
                        number.country_code,
                        number.national_number,
                        number.suffix,
                    ),
                )
            for position, address in enumerate(emails):
                cur.execute(
                    "INSERT INTO email (consumer_id, position, address) VALUES (%s, %s, %s)",
                    (consumer_id, position, address),
                )
            _demo_address(cur, consumer_ids, consumer_id)
            for index, channel, summary, days in DEMO_HISTORY:
                if consumer_ids[index] == consumer_id:
                    cur.execute(
                        "INSERT INTO contact (consumer_id, channel, summary, status, occurred_at)"
                        " VALUES (%s, %s, %s, 'closed', %s)",
                        (consumer_id, channel, summary, now - timedelta(days=days)),
                    )
        cur.execute(
            "UPDATE consumer c SET last_contact_at = x.latest FROM"
            " (SELECT consumer_id, max(occurred_at) AS latest FROM contact GROUP BY consumer_id) x"
            " WHERE x.consumer_id = c.id AND c.id = ANY(%s::uuid[])",
            (consumer_ids,),
        )
        conn.commit()


def _demo_address(cur, consumer_ids: list[str], consumer_id: str) -> None:
    index = consumer_ids.index(consumer_id)
    if index not in DEMO_ADDRESSES:
        return
    region, lines, locality, area, postal_code = DEMO_ADDRESSES[index]
    cur.execute(
        "INSERT INTO postal_address (consumer_id, position, region_code, address_lines, locality,"
        " administrative_area, postal_code) VALUES (%s, 0, %s, %s, %s, %s, %s)",
        (consumer_id, region, lines, locality, area, postal_code),
    )
