"""Synthetic people: patients, referring and treating physicians (hand-written lists, no Faker).

All names, streets and numbers are invented combinations; postcodes belong to the cities named so
that addresses look real. Everything is drawn from the ``random.Random`` passed in.
"""

from __future__ import annotations

import datetime as dt
import random

from medletter.records import Address, Patient, Physician, Sex

FEMALE_FIRST = (
    "Anna", "Beate", "Christa", "Claudia", "Doris", "Elke", "Erika", "Gabriele", "Gisela", "Hannelore",
    "Heike", "Helga", "Ingrid", "Jutta", "Karin", "Katharina", "Kerstin", "Lea", "Lena", "Margarete",
    "Maria", "Marion", "Martina", "Monika", "Nicole", "Petra", "Renate", "Sabine", "Sandra", "Silke",
    "Sophie", "Stefanie", "Susanne", "Ursula", "Ute", "Waltraud", "Birgit", "Andrea", "Julia", "Annette",
)
MALE_FIRST = (
    "Andreas", "Bernd", "Christian", "Dieter", "Frank", "Friedrich", "Georg", "Gerhard", "Günter",
    "Hans", "Heinz", "Helmut", "Horst", "Jürgen", "Karl", "Klaus", "Lukas", "Manfred", "Markus",
    "Martin", "Matthias", "Michael", "Norbert", "Peter", "Rainer", "Ralf", "Rolf", "Stefan", "Thomas",
    "Uwe", "Walter", "Werner", "Wolfgang", "Jonas", "Felix", "Tobias", "Dirk", "Holger", "Bernhard", "Erich",
)
LAST_NAMES = (
    "Albers", "Bauer", "Becker", "Brandt", "Braun", "Dietrich", "Engel", "Fischer", "Frank", "Fuchs",
    "Graf", "Groß", "Haas", "Hahn", "Hartmann", "Heinrich", "Hoffmann", "Huber", "Jäger", "Kaiser",
    "Keller", "Klein", "Koch", "König", "Krämer", "Krause", "Kuhn", "Lang", "Lehmann", "Lorenz",
    "Ludwig", "Maier", "Martin", "Meyer", "Möller", "Müller", "Neumann", "Otto", "Peters", "Pohl",
    "Richter", "Roth", "Sauer", "Schäfer", "Scheffler", "Schmid", "Schmidt", "Schneider", "Scholz",
    "Schreiber", "Schröder", "Schulz", "Schwarz", "Seidel", "Sommer", "Stein", "Thomas", "Vogel",
    "Vogt", "Wagner", "Walter", "Weber", "Weiß", "Werner", "Winkler", "Wolf", "Zimmermann", "Ziegler",
    "Brenneisen", "Dörfler", "Eichhorn", "Gottschalk", "Heckmann", "Kessler", "Lindner", "Moser",
    "Nowak", "Oberle", "Pfeiffer", "Reinhardt", "Seiler", "Trautmann", "Ulrich", "Wendt",
)
STREETS = (
    "Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Goethestraße", "Lindenweg", "Kirchgasse",
    "Gartenstraße", "Bergstraße", "Mühlenweg", "Rosenstraße", "Am Sonnenhang", "Waldstraße",
    "Friedhofstraße", "Schulstraße", "Eichendorffweg", "Rheinstraße", "Marktplatz", "Talstraße",
    "Mozartstraße", "Kastanienallee", "Birkenweg", "Feldbergstraße", "Im Wiesengrund", "Uhlandstraße",
)
CITIES = (  # (postcode, city, phone prefix)
    ("79098", "Freiburg im Breisgau", "0761"), ("79539", "Lörrach", "07621"), ("79183", "Waldkirch", "07681"),
    ("77652", "Offenburg", "0781"), ("79312", "Emmendingen", "07641"), ("79618", "Rheinfelden", "07623"),
    ("78048", "Villingen-Schwenningen", "07721"), ("79761", "Waldshut-Tiengen", "07751"),
    ("69117", "Heidelberg", "06221"), ("68159", "Mannheim", "0621"), ("76133", "Karlsruhe", "0721"),
    ("70173", "Stuttgart", "0711"), ("72070", "Tübingen", "07071"), ("89073", "Ulm", "0731"),
    ("80331", "München", "089"), ("93047", "Regensburg", "0941"), ("97070", "Würzburg", "0931"),
    ("60311", "Frankfurt am Main", "069"), ("55116", "Mainz", "06131"), ("50667", "Köln", "0221"),
    ("44135", "Dortmund", "0231"), ("30159", "Hannover", "0511"), ("28195", "Bremen", "0421"),
    ("04109", "Leipzig", "0341"), ("01067", "Dresden", "0351"), ("99084", "Erfurt", "0361"),
    ("24103", "Kiel", "0431"), ("18055", "Rostock", "0381"), ("66111", "Saarbrücken", "0681"),
    ("54290", "Trier", "0651"),
)


def _phone(rng: random.Random, prefix: str) -> str:
    return f"{prefix} {rng.randint(10000, 9999999)}"


def make_address(rng: random.Random) -> tuple[Address, str]:
    """An address and the phone prefix of its city."""
    postcode, city, prefix = rng.choice(CITIES)
    street = rng.choice(STREETS)
    return Address(street=f"{street} {rng.randint(1, 120)}", postcode=postcode, city=city), prefix


def first_name(rng: random.Random, sex: Sex) -> str:
    return rng.choice(FEMALE_FIRST if sex == Sex.female else MALE_FIRST)


def make_patient(
    rng: random.Random, sex: Sex, birth_date: dt.date, patient_id: str, case_id: str
) -> Patient:
    address, prefix = make_address(rng)
    return Patient(
        first_name=first_name(rng, sex),
        last_name=rng.choice(LAST_NAMES),
        sex=sex,
        birth_date=birth_date,
        address=address,
        phone=_phone(rng, prefix) if rng.random() < 0.85 else None,
        patient_id=patient_id,
        case_id=case_id,
        insurance_number=f"{rng.choice('ABCDEFGHKLMNRSTWZ')}{rng.randint(100000000, 999999999)}",
    )


REFERRER_ROLES = {
    "gp": ({"de": "Fachärztin für Allgemeinmedizin", "en": "General practitioner"},
           {"de": "Facharzt für Allgemeinmedizin", "en": "General practitioner"}),
    "gyn": ({"de": "Fachärztin für Frauenheilkunde", "en": "Gynaecologist"},
            {"de": "Facharzt für Frauenheilkunde", "en": "Gynaecologist"}),
    "uro": ({"de": "Fachärztin für Urologie", "en": "Urologist"},
            {"de": "Facharzt für Urologie", "en": "Urologist"}),
    "onc": ({"de": "Fachärztin für Hämatologie und Onkologie", "en": "Oncologist"},
            {"de": "Facharzt für Hämatologie und Onkologie", "en": "Oncologist"}),
    "ent": ({"de": "Fachärztin für HNO-Heilkunde", "en": "ENT specialist"},
            {"de": "Facharzt für HNO-Heilkunde", "en": "ENT specialist"}),
    "neuro": ({"de": "Fachärztin für Neurochirurgie", "en": "Neurosurgeon"},
              {"de": "Facharzt für Neurochirurgie", "en": "Neurosurgeon"}),
}


def make_referrer(rng: random.Random, kind: str, lang: str) -> Physician:
    sex = Sex.female if rng.random() < 0.5 else Sex.male
    address, prefix = make_address(rng)
    role = REFERRER_ROLES[kind][0 if sex == Sex.female else 1][lang]
    return Physician(
        title=rng.choice(("Dr. med.", "Dr. med.", "Dr. med.", "Dr.", "Prof. Dr. med.")),
        first_name=first_name(rng, sex),
        last_name=rng.choice(LAST_NAMES),
        sex=sex,
        role=role,
        address=address,
        phone=_phone(rng, prefix),
        fax=_phone(rng, prefix) if rng.random() < 0.5 else None,
    )


TREATING_ROLES = {
    "chief": ({"de": "Klinikdirektorin", "en": "Head of Department"}, {"de": "Klinikdirektor", "en": "Head of Department"}),
    "senior": ({"de": "Oberärztin", "en": "Consultant"}, {"de": "Oberarzt", "en": "Consultant"}),
    "resident": ({"de": "Assistenzärztin", "en": "Resident"}, {"de": "Assistenzarzt", "en": "Resident"}),
}


def make_roster(rng: random.Random) -> list[tuple[str, Sex, str, str, str]]:
    """The physicians of one department: (rank, sex, title, first name, last name)."""
    roster = []
    for rank, count in (("chief", 1), ("senior", 3), ("resident", 4)):
        for _ in range(count):
            sex = Sex.female if rng.random() < 0.5 else Sex.male
            if rank == "chief":
                title = "Prof. Dr. med."
            elif rank == "senior":
                title = rng.choice(("Dr. med.", "Dr. med.", "PD Dr. med."))
            else:
                title = rng.choice(("Dr. med.", "", ""))
            roster.append((rank, sex, title, first_name(rng, sex), rng.choice(LAST_NAMES)))
    return roster


def treating_physicians(
    rng: random.Random, roster: list[tuple[str, Sex, str, str, str]], institution: str, phone: str, fax: str,
    lang: str, with_chief: bool,
) -> list[Physician]:
    seniors = [r for r in roster if r[0] == "senior"]
    residents = [r for r in roster if r[0] == "resident"]
    picks = [rng.choice(seniors), rng.choice(residents)]
    if with_chief:
        picks.insert(0, next(r for r in roster if r[0] == "chief"))
    out = []
    for rank, sex, title, first, last in picks:
        out.append(Physician(
            title=title, first_name=first, last_name=last, sex=sex,
            role=TREATING_ROLES[rank][0 if sex == Sex.female else 1][lang],
            institution=institution, phone=phone, fax=fax,
        ))
    return out
