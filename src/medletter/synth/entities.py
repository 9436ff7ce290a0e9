"""Tumour entities of a radiation-oncology department and their typical treatment.

Each entity function draws one episode (diagnosis, treatment before radiotherapy, the
radiotherapy course(s), side effects, findings, recommendations, follow-up rhythm) from regimens
that occur in practice (German S3 guidelines / DEGRO practice). Texts are in the language asked
for ("de" or "en"); numbers and dates are structured and only formatted by the letter renderer.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Callable

from medletter.records import (
    Diagnosis,
    Interruption,
    Laterality,
    RadiotherapyCourse,
    SecondaryDiagnosis,
    Sex,
    Surgery,
    SystemicTherapy,
    Technique,
    Toxicity,
)

T2 = tuple[str, str]  # (German, English)


@dataclass
class Ctx:
    rng: random.Random
    lang: str
    sex: Sex
    dx_date: dt.date
    age: int
    primary: str | None = None
    """For metastasis entities: the primary tumour's entity key."""

    def L(self, pair: T2 | str) -> str:
        if isinstance(pair, str):
            return pair
        return pair[0] if self.lang == "de" else pair[1]

    def pick(self, options):
        return self.rng.choice(options)

    def days(self, d: dt.date, lo: int, hi: int) -> dt.date:
        return d + dt.timedelta(days=self.rng.randint(lo, hi))

    def weekday(self, d: dt.date) -> dt.date:
        """``d`` or the next Monday–Friday."""
        while d.weekday() >= 5:
            d += dt.timedelta(days=1)
        return d


@dataclass
class Episode:
    diagnosis: Diagnosis
    surgeries: list[Surgery] = field(default_factory=list)
    systemic: list[SystemicTherapy] = field(default_factory=list)
    courses: list[RadiotherapyCourse] = field(default_factory=list)
    toxicities: list[Toxicity] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)
    interval_text: str = ""
    extra_visits: list[tuple[int, str]] = field(default_factory=list)
    secondary: list[SecondaryDiagnosis] = field(default_factory=list)
    referrer: str = "gp"


# ---------------------------------------------------------------------------------------------
# scheduling

_TREATMENT_DAYS = {5: (0, 1, 2, 3, 4), 4: (0, 1, 3, 4), 3: (0, 2, 4), 2: (0, 3), 1: None}

INTERRUPTION_REASONS: tuple[T2, ...] = (
    ("fieberhafter Infekt", "febrile infection"),
    ("Leukopenie", "leukopenia"),
    ("technische Wartung des Beschleunigers", "linac maintenance"),
    ("Verschlechterung des Allgemeinzustands", "deterioration of general condition"),
    ("Feiertage", "public holidays"),
    ("Wunsch des Patienten", "patient's request"),
)


def fraction_dates(start: dt.date, fractions: int, per_week: int, pause_after: int | None = None,
                   pause_days: int = 0) -> list[dt.date]:
    """Treatment dates: ``per_week`` fractions a week on fixed weekdays, weekends skipped; an
    interruption after fraction ``pause_after`` skips ``pause_days`` treatment days and so lengthens
    the course."""
    allowed = _TREATMENT_DAYS.get(per_week) or (start.weekday(),)
    dates: list[dt.date] = []
    skip = 0
    d = start
    while len(dates) < fractions:
        if d.weekday() in allowed:
            if skip:
                skip -= 1
            else:
                dates.append(d)
                if pause_after is not None and len(dates) == pause_after:
                    skip = pause_days
        d += dt.timedelta(days=1)
    return dates


def course(c: Ctx, start: dt.date, target: T2, technique: Technique, dpf: float, fx: int, *,
           igrt: T2 | None = None, energy: str | None = None, per_week: int = 5, boost: bool = False,
           chemo: T2 | None = None, may_interrupt: bool = True) -> RadiotherapyCourse:
    start = c.weekday(start)
    if per_week in _TREATMENT_DAYS and _TREATMENT_DAYS[per_week] is not None:
        while start.weekday() not in _TREATMENT_DAYS[per_week]:
            start += dt.timedelta(days=1)
    interruptions: list[Interruption] = []
    pause_after = None
    pause_days = 0
    if may_interrupt and fx >= 10 and c.rng.random() < 0.08:
        pause_days = c.rng.randint(1, 7)
        pause_after = c.rng.randint(3, fx - 2)
        interruptions.append(Interruption(days=pause_days, reason=c.L(c.pick(INTERRUPTION_REASONS))))
    dates = fraction_dates(start, fx, per_week, pause_after, pause_days)
    return RadiotherapyCourse(
        target_region=c.L(target), technique=technique, igrt=c.L(igrt) if igrt else None, energy=energy,
        dose_per_fraction_gy=dpf, fractions=fx, total_dose_gy=round(dpf * fx, 2), fractions_per_week=per_week,
        is_boost=boost, concurrent_chemotherapy=c.L(chemo) if chemo else None,
        start_date=dates[0], end_date=dates[-1], interruptions=interruptions,
    )


def next_day(c: Ctx, rt: RadiotherapyCourse) -> dt.date:
    return c.weekday(rt.end_date + dt.timedelta(days=1))


# ---------------------------------------------------------------------------------------------
# toxicities and findings

@dataclass(frozen=True)
class Tox:
    term: T2
    max_grade: int = 3
    finding: T2 | None = None
    """A finding at the end of treatment that goes with this side effect (if drawn)."""


def draw_toxicities(c: Ctx, pool: tuple[Tox, ...], n_courses: int = 1, k: tuple[int, int] = (1, 3)
                    ) -> tuple[list[Toxicity], list[str]]:
    if c.rng.random() < 0.08:
        return [], []
    n = min(len(pool), c.rng.randint(*k))
    chosen = c.rng.sample(pool, n)
    tox: list[Toxicity] = []
    findings: list[str] = []
    for t in chosen:
        grade = c.rng.choices((1, 2, 3), weights=(0.58, 0.34, 0.08))[0]
        grade = min(grade, t.max_grade)
        tox.append(Toxicity(term=c.L(t.term), grade=grade, course_index=n_courses - 1 if c.rng.random() < 0.3 else 0))
        if t.finding and len(findings) < 1:
            findings.append(c.L(t.finding))
    return tox, findings


def general_condition(c: Ctx, ecog_max: int = 1) -> str:
    ecog = c.rng.randint(0, ecog_max)
    return c.L(c.pick((
        (f"Guter Allgemeinzustand, ECOG {ecog}", f"Good general condition, ECOG {ecog}"),
        (f"Allgemeinzustand stabil (ECOG {ecog})", f"General condition stable (ECOG {ecog})"),
        (f"ECOG {ecog}, Gewicht stabil", f"ECOG {ecog}, weight stable"),
    )))


IGRT: tuple[T2, ...] = (
    ("CBCT täglich", "CBCT daily"),
    ("CBCT täglich", "CBCT daily"),
    ("kV-Bildgebung täglich", "daily kV imaging"),
    ("CBCT 1× wöchentlich", "weekly CBCT"),
)


def _igrt(c: Ctx) -> T2:
    return c.pick(IGRT)


def _fmt(x: float, lang: str) -> str:
    s = f"{x:g}"
    return s.replace(".", ",") if lang == "de" else s


# ---------------------------------------------------------------------------------------------
# entities

BREAST_TOX = (
    Tox(("Radiodermatitis", "Radiation dermatitis"), 3,
        ("Erythem der bestrahlten Brust", "Erythema of the irradiated breast")),
    Tox(("Fatigue", "Fatigue"), 2),
    Tox(("Brustschmerz", "Breast pain"), 2),
    Tox(("Brustödem", "Breast oedema"), 2, ("Leichtes Ödem der Brust", "Mild breast oedema")),
    Tox(("Juckreiz", "Pruritus"), 2),
)


def breast(c: Ctx) -> Episode:
    side = c.pick((Laterality.left, Laterality.right))
    sname = c.L(("links", "left") if side == Laterality.left else ("rechts", "right"))
    tnm, uicc = c.pick((("pT1c pN0 cM0", "IA"), ("pT1b pN0 cM0", "IA"), ("pT2 pN0 cM0", "IIA"),
                        ("pT1c pN1a cM0", "IIA"), ("pT2 pN1a cM0", "IIB"), ("pT3 pN1a cM0", "IIIA")))
    grading = c.pick(("G1", "G2", "G2", "G3"))
    receptor = c.pick(("ER+/PR+/HER2−", "ER+/PR+/HER2−", "ER+/PR−/HER2−", "ER−/PR−/HER2−", "ER+/PR+/HER2+"))
    hist = c.L(c.pick((("invasives Karzinom NST", "invasive carcinoma NST"),
                        ("invasiv-lobuläres Karzinom", "invasive lobular carcinoma"))))
    icd = c.pick(("C50.4", "C50.4", "C50.2", "C50.5", "C50.8", "C50.1"))
    if c.rng.random() < 0.4:
        icd += " L" if side == Laterality.left else " R"
    dx = Diagnosis(text=c.L(("Mammakarzinom ", "Breast cancer, ")) + sname, icd10=icd, laterality=side,
                   histology=f"{hist}, {receptor}", grading=grading, tnm=tnm, uicc_stage=uicc,
                   date_of_diagnosis=c.dx_date)
    ep = Episode(diagnosis=dx, referrer="gyn")
    op = c.days(c.dx_date, 14, 35)
    ep.surgeries.append(Surgery(date=op, procedure=c.L(c.pick((
        ("Brusterhaltende Operation mit Sentinel-Lymphknotenbiopsie", "Breast-conserving surgery with sentinel node biopsy"),
        ("Segmentresektion mit Sentinel-Lymphknotenbiopsie", "Segmentectomy with sentinel node biopsy"),
        ("Brusterhaltende Operation mit Axilladissektion", "Breast-conserving surgery with axillary dissection"),
    ))), resection_status="R0"))
    t = op
    triple_neg = receptor.startswith("ER−")
    her2 = receptor.endswith("HER2+")
    if grading == "G3" or "pN1" in tnm or triple_neg or her2 or c.rng.random() < 0.2:
        s = c.days(op, 21, 35)
        if her2:
            sys_ = SystemicTherapy(regimen="EC → Paclitaxel/Trastuzumab", agents=["Epirubicin", "Cyclophosphamid" if c.lang == "de" else "Cyclophosphamide", "Paclitaxel", "Trastuzumab"],
                                   intent="adjuvant", start_date=s, end_date=s + dt.timedelta(days=7 * 20), cycles=8)
        else:
            sys_ = SystemicTherapy(regimen="EC → Paclitaxel", agents=["Epirubicin", "Cyclophosphamid" if c.lang == "de" else "Cyclophosphamide", "Paclitaxel"],
                                   intent="adjuvant", start_date=s, end_date=s + dt.timedelta(days=7 * 20), cycles=8)
        ep.systemic.append(sys_)
        t = sys_.end_date
    start = c.days(t, 21, 42)
    tech = c.pick((Technique.conv_3d, Technique.imrt, Technique.vmat, Technique.vmat))
    region = ("Restbrust " + ("links" if side == Laterality.left else "rechts"), ("left" if side == Laterality.left else "right") + " breast")
    if "pN1" in tnm:
        region = (region[0] + " und Lymphabfluss supra-/infraklavikulär", region[1] + " and supra-/infraclavicular nodes")
    igrt = _igrt(c)
    main = course(c, start, region, tech, 2.67, 15, igrt=igrt, energy="6 MV")
    ep.courses.append(main)
    if c.rng.random() < 0.6:
        dpf, fx = c.pick(((2.0, 5), (2.0, 5), (2.0, 8)))
        ep.courses.append(course(c, next_day(c, main), ("Tumorbett", "tumour bed"),
                                 c.pick((tech, Technique.electrons)), dpf, fx, igrt=igrt, boost=True, may_interrupt=False))
    ep.toxicities, f = draw_toxicities(c, BREAST_TOX, len(ep.courses))
    ep.findings = f + [general_condition(c)]
    recs = [c.L(c.pick((("Weiterhin rückfettende Hautpflege der bestrahlten Region", "Continue moisturising skin care of the treated area"),
                        ("Hautpflege mit Urea-haltiger Creme für 2–4 Wochen", "Skin care with urea cream for 2–4 weeks"))))]
    if receptor.startswith("ER+"):
        drug = c.pick(("Letrozol", "Anastrozol", "Tamoxifen")) if c.age >= 55 else "Tamoxifen"
        if c.lang == "en":
            drug = {"Letrozol": "letrozole", "Anastrozol": "anastrozole", "Tamoxifen": "tamoxifen"}[drug]
        recs.append(c.L((f"Beginn der endokrinen Therapie mit {drug} über 5 Jahre", f"Start endocrine therapy with {drug} for 5 years")))
    if her2:
        recs.append(c.L(("Fortführung von Trastuzumab bis zu insgesamt 1 Jahr", "Continue trastuzumab to complete 1 year")))
    recs.append(c.L(c.pick((("Mammografie und Sonografie in 6 Monaten", "Mammography and ultrasound in 6 months"),
                            ("Jährliche Mammografie beidseits", "Annual bilateral mammography")))))
    ep.recommendations = recs
    ep.interval_text = c.L(c.pick((
        ("gynäkologische Nachsorge alle 3 Monate für 3 Jahre, danach halbjährlich bis 5 Jahre",
         "gynaecological follow-up every 3 months for 3 years, then every 6 months up to 5 years"),
        ("alle 3 Monate für 2 Jahre, danach halbjährlich bis 5 Jahre",
         "every 3 months for 2 years, then every 6 months up to 5 years"),
    )))
    ep.extra_visits = [(52, c.L(("Radioonkologische Nachsorge", "Radiation oncology follow-up")))]
    return ep


PROSTATE_TOX = (
    Tox(("Pollakisurie", "Urinary frequency"), 2, ("Nykturie 2–3×", "Nocturia 2–3 times")),
    Tox(("Harndrang", "Urinary urgency"), 2),
    Tox(("Zystitis (nicht infektiös)", "Cystitis noninfective"), 3),
    Tox(("Proktitis", "Proctitis"), 2),
    Tox(("Diarrhoe", "Diarrhea"), 2),
    Tox(("Fatigue", "Fatigue"), 2),
)


def prostate(c: Ctx) -> Episode:
    tnm, gleason, isup, uicc, risk = c.pick((
        ("cT1c cN0 cM0", "3+4=7", 2, "IIB", "intermediate"),
        ("cT2b cN0 cM0", "3+4=7", 2, "IIB", "intermediate"),
        ("cT2c cN0 cM0", "4+3=7", 3, "IIC", "intermediate"),
        ("cT3a cN0 cM0", "4+4=8", 4, "IIIB", "high"),
        ("cT2b cN0 cM0", "4+5=9", 5, "IIIC", "high"),
    ))
    psa = round(c.rng.uniform(4.5, 19.5 if risk == "intermediate" else 38.0), 1)
    dx = Diagnosis(text=c.L(("Prostatakarzinom", "Prostate cancer")) + f", iPSA {_fmt(psa, c.lang)} ng/ml",
                   icd10="C61", laterality=Laterality.not_applicable,
                   histology=c.L(("Azinäres Adenokarzinom", "Acinar adenocarcinoma")),
                   grading=f"Gleason {gleason} (ISUP {isup})", tnm=tnm, uicc_stage=uicc, date_of_diagnosis=c.dx_date)
    ep = Episode(diagnosis=dx, referrer="uro")
    ep.surgeries.append(Surgery(date=c.dx_date, procedure=c.L(("MRT-Fusionsbiopsie der Prostata", "MRI-fusion biopsy of the prostate"))))
    t = c.days(c.dx_date, 14, 40)
    adt = risk == "high" or c.rng.random() < 0.5
    if adt:
        months = 24 if risk == "high" else 6
        drug = c.pick(("Leuprorelin", "Goserelin", "Degarelix"))
        ep.systemic.append(SystemicTherapy(regimen=c.L((f"ADT ({months} Monate)", f"ADT ({months} months)")), agents=[drug],
                                           intent="neoadjuvant", start_date=t, cycles=None))
        t = c.days(t, 56, 90)
    hypo = c.rng.random() < 0.55
    dpf, fx = (3.0, 20) if hypo else (2.0, 39)
    target = (("Prostata und Samenblasenbasis", "prostate and seminal vesicle base") if risk == "intermediate"
              else ("Prostata und Samenblasen", "prostate and seminal vesicles"))
    ep.courses.append(course(c, c.days(t, 14, 28), target, c.pick((Technique.imrt, Technique.vmat, Technique.vmat)),
                             dpf, fx, igrt=c.pick((("CBCT täglich mit Goldmarkern", "daily CBCT with gold markers"), ("CBCT täglich", "CBCT daily"))),
                             energy="10 MV"))
    ep.toxicities, f = draw_toxicities(c, PROSTATE_TOX)
    ep.findings = f + [general_condition(c)]
    ep.recommendations = []
    if adt:
        ep.recommendations.append(c.L(c.pick((
            (f"Fortführung der ADT für insgesamt {months} Monate", f"Continue ADT for a total of {months} months"),
            (f"ADT über insgesamt {months} Monate beim Urologen fortführen", f"Continue ADT with the urologist for {months} months in total"),
        ))))
    ep.recommendations.append(c.L(c.pick((("PSA-Kontrolle in 3 Monaten", "PSA test in 3 months"),
                                          ("Erste PSA-Bestimmung 6–8 Wochen nach RT", "First PSA test 6–8 weeks after RT")))))
    if c.rng.random() < 0.5:
        ep.recommendations.append(c.L(("Ausreichende Trinkmenge, ggf. Tamsulosin bei Drangsymptomatik",
                                       "Adequate fluid intake, tamsulosin if urgency persists")))
    ep.interval_text = c.L(c.pick((
        ("PSA alle 3 Monate für 2 Jahre, danach halbjährlich bis 5 Jahre, dann jährlich",
         "PSA every 3 months for 2 years, then every 6 months up to 5 years, then annually"),
        ("alle 3 Monate für 2 Jahre, danach halbjährlich bis 5 Jahre",
         "every 3 months for 2 years, then every 6 months up to 5 years"),
    )))
    ep.extra_visits = [(12, c.L(("PSA-Kontrolle beim Urologen", "PSA test with the urologist")))]
    return ep


RECTUM_TOX = (
    Tox(("Diarrhoe", "Diarrhea"), 3),
    Tox(("Proktitis", "Proctitis"), 2),
    Tox(("Radiodermatitis perianal", "Perianal radiation dermatitis"), 3, ("Perianales Erythem", "Perianal erythema")),
    Tox(("Zystitis (nicht infektiös)", "Cystitis noninfective"), 2),
    Tox(("Hand-Fuß-Syndrom", "Palmar-plantar erythrodysesthesia"), 2),
    Tox(("Übelkeit", "Nausea"), 2),
)


def rectum(c: Ctx) -> Episode:
    tnm, uicc = c.pick((("cT3 cN1 cM0", "IIIB"), ("cT3 cN0 cM0", "IIA"), ("cT3 cN2a cM0", "IIIB"),
                        ("cT4a cN1b cM0", "IIIB"), ("cT2 cN1 cM0", "IIIA")))
    height = c.rng.randint(4, 12)
    dx = Diagnosis(text=c.L((f"Rektumkarzinom, {height} cm ab ano", f"Rectal cancer, {height} cm from the anal verge")),
                   icd10="C20", histology=c.L(("Adenokarzinom", "Adenocarcinoma")), grading=c.pick(("G2", "G2", "G3")),
                   tnm=tnm, uicc_stage=uicc, date_of_diagnosis=c.dx_date)
    ep = Episode(diagnosis=dx, referrer=c.pick(("gp", "onc")))
    ep.surgeries.append(Surgery(date=c.dx_date, procedure=c.L(("Koloskopie mit Biopsie", "Colonoscopy with biopsy"))))
    start = c.days(c.dx_date, 21, 35)
    target = ("Rektum, Mesorektum und pelvine Lymphabflusswege", "rectum, mesorectum and pelvic nodes")
    tech = c.pick((Technique.conv_3d, Technique.imrt, Technique.vmat))
    short = c.rng.random() < 0.35
    if short:
        ep.courses.append(course(c, start, target, tech, 5.0, 5, igrt=_igrt(c), energy="10 MV", may_interrupt=False))
    else:
        ep.courses.append(course(c, start, target, tech, 1.8, 28, igrt=_igrt(c), energy="10 MV",
                                 chemo=("Capecitabin 825 mg/m² 2× täglich", "capecitabine 825 mg/m² twice daily")))
        ep.systemic.append(SystemicTherapy(regimen=c.L(("Capecitabin simultan", "concurrent capecitabine")), agents=["Capecitabin" if c.lang == "de" else "capecitabine"],
                                           intent="concurrent", start_date=ep.courses[0].start_date, end_date=ep.courses[0].end_date))
    ep.toxicities, f = draw_toxicities(c, RECTUM_TOX if not short else RECTUM_TOX[:4])
    ep.findings = f + [general_condition(c)]
    if short:
        ep.recommendations = [c.L(c.pick((
            ("Konsolidierende Chemotherapie (FOLFOX) im Rahmen einer TNT", "Consolidation chemotherapy (FOLFOX) as part of TNT"),
            ("Operation (TME) nach 1–2 Wochen", "Surgery (TME) after 1–2 weeks"),
        )))]
    else:
        ep.recommendations = [c.L(c.pick((
            ("Restaging mit MRT Becken nach 6–8 Wochen", "Restaging with pelvic MRI after 6–8 weeks"),
            ("MRT Becken und Rektoskopie nach 6–8 Wochen", "Pelvic MRI and rectoscopy after 6–8 weeks"),
        ))), c.L(("Vorstellung in der Tumorkonferenz zur Planung der TME", "Tumour board to schedule TME surgery"))]
    if c.rng.random() < 0.5:
        ep.recommendations.append(c.L(("Loperamid bei Bedarf", "Loperamide as needed")))
    ep.interval_text = c.L(c.pick((
        ("nach S3-Leitlinie: alle 6 Monate für 2 Jahre, danach jährlich bis 5 Jahre",
         "per guideline: every 6 months for 2 years, then annually up to 5 years"),
        ("alle 3 Monate für 2 Jahre, danach halbjährlich bis 5 Jahre", "every 3 months for 2 years, then every 6 months up to 5 years"),
    )))
    ep.extra_visits = [(8, c.L(("Restaging MRT Becken", "Restaging pelvic MRI")))]
    return ep


GBM_TOX = (
    Tox(("Alopezie", "Alopecia"), 2, ("Alopezie im Bestrahlungsfeld", "Alopecia in the treated field")),
    Tox(("Fatigue", "Fatigue"), 2),
    Tox(("Kopfschmerzen", "Headache"), 2),
    Tox(("Übelkeit", "Nausea"), 2),
    Tox(("Thrombozytopenie", "Platelet count decreased"), 3),
)


def glioblastoma(c: Ctx) -> Episode:
    lobe, icd = c.pick(((("frontal", "frontal"), "C71.1"), (("temporal", "temporal"), "C71.2"), (("parietal", "parietal"), "C71.3")))
    side = c.pick((Laterality.left, Laterality.right))
    sname = c.L(("links", "left") if side == Laterality.left else ("rechts", "right"))
    mgmt = c.L(c.pick((("MGMT-Promotor methyliert", "MGMT promoter methylated"), ("MGMT-Promotor unmethyliert", "MGMT promoter unmethylated"))))
    dx = Diagnosis(text=f"Glioblastom {lobe[0]} {sname}" if c.lang == "de" else f"Glioblastoma, {sname} {lobe[1]}", icd10=icd, laterality=side,
                   histology=c.L(("Glioblastom, IDH-Wildtyp", "Glioblastoma, IDH-wildtype")) + f", {mgmt}",
                   grading=c.L(("CNS WHO Grad 4", "CNS WHO grade 4")), date_of_diagnosis=c.dx_date)
    ep = Episode(diagnosis=dx, referrer="neuro")
    op = c.days(c.dx_date, 3, 14)
    ep.surgeries.append(Surgery(date=op, procedure=c.L(c.pick((("Makroskopische Komplettresektion", "Gross total resection"),
                                                                ("Subtotale Resektion", "Subtotal resection"))))))
    start = c.days(op, 24, 38)
    target = (f"Resektionshöhle {c.L(lobe)} {'links' if side == Laterality.left else 'rechts'} mit Sicherheitssaum",
              f"{'left' if side == Laterality.left else 'right'} {lobe[1]} resection cavity with margin")
    tmz = ("Temozolomid 75 mg/m² täglich", "temozolomide 75 mg/m² daily")
    if c.age >= 70 and c.rng.random() < 0.7:
        rt = course(c, start, target, Technique.vmat, 2.67, 15, igrt=("CBCT täglich, Maske", "daily CBCT, mask"), chemo=tmz)
    else:
        rt = course(c, start, target, c.pick((Technique.vmat, Technique.imrt)), 2.0, 30,
                    igrt=("CBCT täglich, Maske", "daily CBCT, mask"), chemo=tmz)
    ep.courses.append(rt)
    ep.systemic.append(SystemicTherapy(regimen=c.L(("Temozolomid simultan", "concurrent temozolomide")), agents=["Temozolomid" if c.lang == "de" else "temozolomide"],
                                       intent="concurrent", start_date=rt.start_date, end_date=rt.end_date))
    ep.toxicities, f = draw_toxicities(c, GBM_TOX)
    ep.findings = f + [general_condition(c, 2)]
    ep.recommendations = [
        c.L(("Adjuvantes Temozolomid 150–200 mg/m² d1–5 q28d, 6 Zyklen, Beginn nach 4 Wochen",
             "Adjuvant temozolomide 150–200 mg/m² d1–5 q28d, 6 cycles, starting after 4 weeks")),
        c.L(c.pick((("MRT Schädel nach 3 Monaten", "Brain MRI after 3 months"), ("MRT Schädel 4 Wochen nach RT", "Brain MRI 4 weeks after RT")))),
    ]
    if c.rng.random() < 0.6:
        ep.recommendations.append(c.L(("Dexamethason ausschleichen", "Taper dexamethasone")))
    ep.interval_text = c.L(c.pick((("MRT alle 3 Monate", "MRI every 3 months"),
                                   ("klinisch und MRT alle 3 Monate im neuroonkologischen Zentrum", "clinical and MRI every 3 months at the neuro-oncology centre"))))
    ep.extra_visits = [(12, c.L(("MRT Schädel", "Brain MRI")))]
    return ep


LUNG_TOX = (
    Tox(("Ösophagitis", "Esophagitis"), 3, ("Schluckbeschwerden bei fester Kost", "Odynophagia with solid food")),
    Tox(("Husten", "Cough"), 2),
    Tox(("Fatigue", "Fatigue"), 2),
    Tox(("Neutropenie", "Neutrophil count decreased"), 3),
    Tox(("Radiodermatitis", "Radiation dermatitis"), 2),
    Tox(("Übelkeit", "Nausea"), 2),
)


def nsclc(c: Ctx) -> Episode:
    side = c.pick((Laterality.left, Laterality.right))
    lobe = c.pick((("Oberlappen", "upper lobe", "C34.1"), ("Unterlappen", "lower lobe", "C34.3")))
    sname = c.L(("links", "left") if side == Laterality.left else ("rechts", "right"))
    hist, hist_en = c.pick((("Adenokarzinom", "Adenocarcinoma"), ("Plattenepithelkarzinom", "Squamous cell carcinoma")))
    sbrt = c.rng.random() < 0.2
    if sbrt:
        tnm, uicc = c.pick((("cT1b cN0 cM0", "IA2"), ("cT1c cN0 cM0", "IA3"), ("cT2a cN0 cM0", "IB")))
    else:
        tnm, uicc = c.pick((("cT3 cN2 cM0", "IIIB"), ("cT2a cN2 cM0", "IIIA"), ("cT4 cN2 cM0", "IIIB"), ("cT1c cN3 cM0", "IIIB"), ("cT3 cN3 cM0", "IIIC")))
    icd = lobe[2]
    dx = Diagnosis(text=f"NSCLC {lobe[0]} {sname}" if c.lang == "de" else f"NSCLC, {sname} {lobe[1]}", icd10=icd, laterality=side,
                   histology=c.L((hist, hist_en)) + (f", PD-L1 {c.rng.choice((0, 5, 30, 60, 80))} %" if not sbrt else ""),
                   grading=c.pick(("G2", "G3")), tnm=tnm, uicc_stage=uicc, date_of_diagnosis=c.dx_date)
    ep = Episode(diagnosis=dx, referrer=c.pick(("gp", "onc")))
    ep.surgeries.append(Surgery(date=c.dx_date, procedure=c.L(c.pick((("Bronchoskopie mit EBUS-TBNA", "Bronchoscopy with EBUS-TBNA"),
                                                                      ("CT-gesteuerte Biopsie", "CT-guided biopsy"))))))
    start = c.days(c.dx_date, 21, 42)
    if sbrt:
        dpf, fx = c.pick(((15.0, 3), (11.0, 5), (7.5, 8)))
        rt = course(c, start, (f"Primärtumor {lobe[0]} {sname}", f"primary tumour, {sname} {lobe[1]}"),
                    Technique.sbrt, dpf, fx, igrt=("4D-CT, CBCT vor jeder Fraktion", "4D-CT, CBCT before each fraction"),
                    per_week=3 if fx <= 5 else 5, energy="6 MV FFF", may_interrupt=False)
        ep.courses.append(rt)
        ep.toxicities, f = draw_toxicities(c, (LUNG_TOX[1], LUNG_TOX[2]), k=(1, 2))
        ep.recommendations = [c.L(("CT Thorax nach 3 Monaten", "Chest CT after 3 months"))]
    else:
        chemo = c.pick((("Cisplatin/Vinorelbin", "cisplatin/vinorelbine", ["Cisplatin", "Vinorelbin"], ["cisplatin", "vinorelbine"]),
                        ("Carboplatin/Paclitaxel", "carboplatin/paclitaxel", ["Carboplatin", "Paclitaxel"], ["carboplatin", "paclitaxel"])))
        fx = c.pick((30, 30, 33))
        rt = course(c, start, ("Primärtumor und befallene mediastinale Lymphknoten", "primary tumour and involved mediastinal nodes"),
                    c.pick((Technique.imrt, Technique.vmat)), 2.0, fx, igrt=("4D-CT, CBCT täglich", "4D-CT, CBCT daily"), energy="6 MV",
                    chemo=(chemo[0], chemo[1]))
        ep.courses.append(rt)
        ep.systemic.append(SystemicTherapy(regimen=c.L((chemo[0], chemo[1])), agents=chemo[2] if c.lang == "de" else chemo[3],
                                           intent="concurrent", start_date=rt.start_date, end_date=rt.end_date, cycles=2))
        ep.toxicities, f = draw_toxicities(c, LUNG_TOX)
        ep.recommendations = [c.L(c.pick((("CT Thorax 4–6 Wochen nach RT", "Chest CT 4–6 weeks after RT"),
                                          ("Restaging-CT Thorax/Abdomen nach 6 Wochen", "Restaging CT chest/abdomen after 6 weeks")))),
                              c.L(("Konsolidierung mit Durvalumab für 12 Monate bei PD-L1 ≥ 1 %", "Durvalumab consolidation for 12 months if PD-L1 ≥ 1%"))]
    ep.findings = f + [general_condition(c)]
    if c.rng.random() < 0.4:
        ep.recommendations.append(c.L(("Vorstellung im Thorax-Tumorboard", "Presentation at the thoracic tumour board")))
    ep.interval_text = c.L(c.pick((("CT Thorax alle 3 Monate für 2 Jahre, danach halbjährlich", "chest CT every 3 months for 2 years, then every 6 months"),
                                   ("alle 3 Monate für 2 Jahre, danach halbjährlich bis 5 Jahre", "every 3 months for 2 years, then every 6 months up to 5 years"))))
    ep.extra_visits = [(12, c.L(("CT Thorax", "Chest CT")))]
    return ep


HN_TOX = (
    Tox(("Orale Mukositis", "Oral mucositis"), 3, ("Enorale Mukositis mit Fibrinbelägen", "Oral mucositis with fibrin coating")),
    Tox(("Dysphagie", "Dysphagia"), 3),
    Tox(("Xerostomie", "Dry mouth"), 2),
    Tox(("Radiodermatitis", "Radiation dermatitis"), 3, ("Erythem zervikal beidseits", "Erythema of the neck")),
    Tox(("Dysgeusie", "Dysgeusia"), 2),
    Tox(("Gewichtsverlust", "Weight loss"), 2),
)


def head_neck(c: Ctx) -> Episode:
    site = c.pick((
        (("Oropharynxkarzinom (Tonsille)", "Oropharyngeal cancer (tonsil)"), "C09.9", True),
        (("Oropharynxkarzinom (Zungengrund)", "Oropharyngeal cancer (base of tongue)"), "C01", True),
        (("Larynxkarzinom (glottisch)", "Glottic laryngeal cancer"), "C32.0", False),
        (("Hypopharynxkarzinom", "Hypopharyngeal cancer"), "C13.9", False),
    ))
    p16 = site[2] and c.rng.random() < 0.6
    if p16:
        tnm, uicc = c.pick((("cT2 cN1 cM0", "I"), ("cT3 cN1 cM0", "II"), ("cT4 cN2 cM0", "III")))
    else:
        tnm, uicc = c.pick((("cT3 cN1 cM0", "III"), ("cT2 cN2b cM0", "IVA"), ("cT4a cN2c cM0", "IVA"), ("cT3 cN0 cM0", "III")))
    hist = c.L(("Plattenepithelkarzinom", "Squamous cell carcinoma"))
    if site[2]:
        hist += ", p16 " + ("positiv" if p16 and c.lang == "de" else "positive" if p16 else "negativ" if c.lang == "de" else "negative")
    dx = Diagnosis(text=c.L(site[0]), icd10=site[1], laterality=c.pick((Laterality.left, Laterality.right, Laterality.midline)),
                   histology=hist, grading=c.pick(("G2", "G3")), tnm=tnm, uicc_stage=uicc, date_of_diagnosis=c.dx_date)
    ep = Episode(diagnosis=dx, referrer="ent")
    ep.surgeries.append(Surgery(date=c.days(c.dx_date, 0, 5), procedure=c.L(("Panendoskopie mit Biopsie", "Panendoscopy with biopsy"))))
    if c.rng.random() < 0.5:
        ep.surgeries.append(Surgery(date=c.days(c.dx_date, 10, 20), procedure=c.L(("PEG-Anlage", "PEG tube placement"))))
    start = c.days(c.dx_date, 24, 40)
    cis = c.pick((("Cisplatin 40 mg/m² wöchentlich", "weekly cisplatin 40 mg/m²"), ("Cisplatin 100 mg/m² d1, 22, 43", "cisplatin 100 mg/m² d1, 22, 43")))
    rt = course(c, start, ("Primärtumor und zervikale Lymphabflusswege beidseits", "primary tumour and bilateral cervical nodes"),
                c.pick((Technique.vmat, Technique.imrt)), 2.0, 35, igrt=("CBCT täglich, Maske", "daily CBCT, mask"), energy="6 MV", chemo=cis)
    ep.courses.append(rt)
    ep.systemic.append(SystemicTherapy(regimen=c.L(cis), agents=["Cisplatin" if c.lang == "de" else "cisplatin"], intent="concurrent",
                                       start_date=rt.start_date, end_date=rt.end_date))
    ep.toxicities, f = draw_toxicities(c, HN_TOX, k=(2, 3))
    ep.findings = f + [general_condition(c)]
    ep.recommendations = [
        c.L(c.pick((("PET-CT 12 Wochen nach RT", "PET-CT 12 weeks after RT"), ("CT Hals 8–12 Wochen nach RT", "Neck CT 8–12 weeks after RT")))),
        c.L(c.pick((("Schluck- und Logopädie", "Speech and swallowing therapy"), ("Fluoridierung der Zähne", "Dental fluoride prophylaxis")))),
    ]
    if c.rng.random() < 0.5:
        ep.recommendations.append(c.L(("Ernährungsberatung, ggf. Kost über PEG", "Dietary advice, PEG feeding as needed")))
    ep.interval_text = c.L(c.pick((
        ("HNO-Nachsorge alle 6–8 Wochen im 1. Jahr, alle 3 Monate im 2. Jahr, danach halbjährlich",
         "ENT follow-up every 6–8 weeks in year 1, every 3 months in year 2, then every 6 months"),
        ("alle 3 Monate für 2 Jahre, danach halbjährlich bis 5 Jahre", "every 3 months for 2 years, then every 6 months up to 5 years"),
    )))
    ep.extra_visits = [(12, "PET-CT")]
    return ep


PRIMARIES: dict[str, tuple[T2, str]] = {
    "breast": (("Mammakarzinom", "breast cancer"), "C50.9"),
    "prostate": (("Prostatakarzinom", "prostate cancer"), "C61"),
    "nsclc": (("NSCLC", "NSCLC"), "C34.9"),
    "rectum": (("Rektumkarzinom", "rectal cancer"), "C20"),
    "kidney": (("Nierenzellkarzinom", "renal cell carcinoma"), "C64"),
    "melanoma": (("Malignes Melanom", "malignant melanoma"), "C43.9"),
    "head_neck": (("Kopf-Hals-Karzinom", "head and neck cancer"), "C76.0"),
    "cervix": (("Zervixkarzinom", "cervical cancer"), "C53.9"),
    "oesophagus": (("Ösophaguskarzinom", "oesophageal cancer"), "C15.9"),
}

BONE_TOX = (
    Tox(("Schmerz-Flare", "Pain flare"), 2),
    Tox(("Übelkeit", "Nausea"), 2),
    Tox(("Fatigue", "Fatigue"), 2),
    Tox(("Diarrhoe", "Diarrhea"), 2),
)


def _primary_secondary(c: Ctx, default: tuple[str, ...]) -> tuple[str, SecondaryDiagnosis]:
    p = c.primary or c.pick(default)
    name, icd = PRIMARIES[p]
    return p, SecondaryDiagnosis(text=c.L(name)[0].upper() + c.L(name)[1:], icd10=icd)


def bone_mets(c: Ctx) -> Episode:
    p, sec = _primary_secondary(c, ("breast", "prostate", "nsclc", "kidney", "rectum"))
    site = c.pick((("LWK 3", "L3 vertebra"), ("BWK 8–10", "T8–T10 vertebrae"), ("Os ilium rechts", "right ilium"),
                   ("Femur links proximal", "left proximal femur"), ("Os sacrum", "sacrum"), ("HWK 6", "C6 vertebra")))
    dx = Diagnosis(text=c.L(("Ossäre Metastase ", "Bone metastasis, ")) + c.L(site) + c.L((" bei ", ", ")) + c.L(PRIMARIES[p][0]),
                   icd10="C79.5", histology=None, uicc_stage="IV", date_of_diagnosis=c.dx_date)
    ep = Episode(diagnosis=dx, referrer="onc", secondary=[sec])
    start = c.days(c.dx_date, 5, 20)
    dpf, fx = c.pick(((8.0, 1), (8.0, 1), (3.0, 10), (4.0, 5)))
    tech = Technique.conv_3d if fx == 1 or c.rng.random() < 0.6 else Technique.vmat
    igrt = ("kV-Bildgebung", "kV imaging") if fx == 1 else c.pick((("kV-Bildgebung bei der 1. Fraktion", "kV imaging at the first fraction"), ("CBCT täglich", "CBCT daily")))
    rt = course(c, start, site, tech, dpf, fx, igrt=igrt,
                energy="10 MV")
    ep.courses.append(rt)
    ep.toxicities, f = draw_toxicities(c, BONE_TOX, k=(1, 2))
    ep.findings = f + [c.L(c.pick((("Schmerzen rückläufig (NRS 3/10)", "Pain decreasing (NRS 3/10)"),
                                   ("Schmerzen unverändert (NRS 5/10)", "Pain unchanged (NRS 5/10)"),
                                   ("Deutliche Schmerzlinderung (NRS 2/10)", "Marked pain relief (NRS 2/10)")))), general_condition(c, 2)]
    ep.recommendations = [
        c.L(c.pick((("Denosumab 120 mg s.c. alle 4 Wochen", "Denosumab 120 mg s.c. every 4 weeks"),
                    ("Zoledronat 4 mg i.v. alle 4 Wochen", "Zoledronic acid 4 mg i.v. every 4 weeks")))),
        c.L(("Analgetische Therapie nach WHO-Stufenschema", "Analgesia according to the WHO ladder")),
    ]
    if c.rng.random() < 0.5:
        ep.recommendations.append(c.L(("Fortführung der Systemtherapie durch die Onkologie", "Continue systemic therapy with the oncologist")))
    ep.interval_text = c.L(c.pick((("nach Bedarf", "as needed"), ("bei Bedarf über den Hausarzt", "as needed via the GP"))))
    return ep


BRAIN_TOX = (
    Tox(("Kopfschmerzen", "Headache"), 2),
    Tox(("Alopezie", "Alopecia"), 2),
    Tox(("Fatigue", "Fatigue"), 2),
    Tox(("Übelkeit", "Nausea"), 2),
)


def brain_mets(c: Ctx) -> Episode:
    p, sec = _primary_secondary(c, ("nsclc", "breast", "melanoma", "kidney"))
    srs = c.rng.random() < 0.55
    if srs:
        n = c.rng.randint(1, 3)
        loc = c.pick((("frontal rechts", "right frontal"), ("zerebellär links", "left cerebellar"), ("parietal links", "left parietal"),
                      ("okzipital rechts", "right occipital")))
        text = (f"{n} Hirnmetastase{'n' if n > 1 else ''} ({c.L(loc)})" if c.lang == "de" else f"{n} brain metastas{'es' if n > 1 else 'is'} ({c.L(loc)})")
    else:
        text = c.L(("Multiple Hirnmetastasen", "Multiple brain metastases"))
    dx = Diagnosis(text=text + c.L((" bei ", " from ")) + c.L(PRIMARIES[p][0]), icd10="C79.3", uicc_stage="IV", date_of_diagnosis=c.dx_date)
    ep = Episode(diagnosis=dx, referrer="onc", secondary=[sec])
    start = c.days(c.dx_date, 7, 21)
    if srs:
        dpf, fx = c.pick(((20.0, 1), (20.0, 1), (6.0, 5)))
        rt = course(c, start, (f"Metastase{'n' if n > 1 else ''} {loc[0]}", f"{loc[1]} metastas{'es' if n > 1 else 'is'}"),
                    Technique.srs if fx == 1 else Technique.fsrt, dpf, fx, igrt=("Maske, CBCT vor jeder Fraktion", "mask, CBCT before each fraction"),
                    per_week=3 if fx > 1 else 5, energy="6 MV FFF", may_interrupt=False)
        ep.recommendations = [c.L(("MRT Schädel alle 3 Monate", "Brain MRI every 3 months"))]
    else:
        rt = course(c, start, ("Ganzhirn", "whole brain"), Technique.conv_3d, 3.0, 10, igrt=("kV-Bildgebung, Maske", "kV imaging, mask"), energy="6 MV")
        ep.recommendations = [c.L(("MRT Schädel nach 3 Monaten", "Brain MRI after 3 months"))]
    ep.courses.append(rt)
    ep.toxicities, f = draw_toxicities(c, BRAIN_TOX if not srs else (BRAIN_TOX[0], BRAIN_TOX[2]), k=(1, 2))
    ep.findings = f + [c.L(c.pick((("Neurologisch stabil", "Neurologically stable"), ("Keine neuen neurologischen Defizite", "No new neurological deficits")))),
                       general_condition(c, 2)]
    ep.recommendations.append(c.L(c.pick((("Dexamethason über 2 Wochen ausschleichen", "Taper dexamethasone over 2 weeks"),
                                          ("Fortführung der Systemtherapie", "Continue systemic therapy")))))
    if c.rng.random() < 0.5:
        ep.recommendations.append(c.L(("Vorstellung im Tumorboard", "Presentation at the tumour board")))
    ep.interval_text = c.L(c.pick((("MRT alle 3 Monate", "MRI every 3 months"), ("alle 3 Monate mit MRT Schädel", "every 3 months with brain MRI"))))
    ep.extra_visits = [(12, c.L(("MRT Schädel", "Brain MRI")))]
    return ep


CERVIX_TOX = (
    Tox(("Diarrhoe", "Diarrhea"), 3),
    Tox(("Zystitis (nicht infektiös)", "Cystitis noninfective"), 2),
    Tox(("Übelkeit", "Nausea"), 2),
    Tox(("Leukopenie", "White blood cell decreased"), 3),
    Tox(("Vaginale Mukositis", "Vaginal inflammation"), 2, ("Vaginale Schleimhautrötung", "Vaginal mucosal erythema")),
    Tox(("Fatigue", "Fatigue"), 2),
)


def cervix(c: Ctx) -> Episode:
    tnm, figo = c.pick((("cT2b cN0 cM0", "IIB"), ("cT2b cN0 cM0", "IIB"), ("cT1b3 cN0 cM0", "IB3"), ("cT3b cN0 cM0", "IIIB"), ("cT2a2 cN0 cM0", "IIA2")))
    dx = Diagnosis(text=c.L(("Zervixkarzinom, FIGO ", "Cervical cancer, FIGO ")) + figo, icd10=c.pick(("C53.9", "C53.0", "C53.1")),
                   histology=c.L(("Plattenepithelkarzinom", "Squamous cell carcinoma")), grading=c.pick(("G2", "G3")),
                   tnm=tnm, uicc_stage=figo, date_of_diagnosis=c.dx_date)
    ep = Episode(diagnosis=dx, referrer="gyn")
    ep.surgeries.append(Surgery(date=c.days(c.dx_date, 7, 18), procedure=c.L(("Laparoskopisches Staging (pelvine LK)", "Laparoscopic staging (pelvic nodes)"))))
    start = c.days(ep.surgeries[0].date, 14, 28)
    cis = ("Cisplatin 40 mg/m² wöchentlich", "weekly cisplatin 40 mg/m²")
    rt = course(c, start, ("Becken (Zervix, Uterus, Parametrien, pelvine Lymphabflusswege)", "pelvis (cervix, uterus, parametria, pelvic nodes)"),
                c.pick((Technique.vmat, Technique.imrt)), 1.8, 28, igrt=("CBCT täglich", "CBCT daily"), energy="10 MV", chemo=cis)
    ep.courses.append(rt)
    ep.systemic.append(SystemicTherapy(regimen=c.L(cis), agents=["Cisplatin" if c.lang == "de" else "cisplatin"], intent="concurrent",
                                       start_date=rt.start_date, end_date=rt.end_date, cycles=5))
    dpf, fx = c.pick(((7.0, 4), (7.0, 4), (8.0, 3)))
    ep.courses.append(course(c, c.days(rt.end_date, 3, 7), ("Zervix, MRT-gestützte HDR-Brachytherapie", "cervix, MRI-guided HDR brachytherapy"),
                             Technique.brachy, dpf, fx, per_week=1, boost=True, may_interrupt=False))
    ep.toxicities, f = draw_toxicities(c, CERVIX_TOX, len(ep.courses))
    ep.findings = f + [general_condition(c)]
    ep.recommendations = [c.L(("MRT Becken nach 3 Monaten", "Pelvic MRI after 3 months")),
                          c.L(c.pick((("Vaginaldilatatoren ab 4 Wochen nach Therapieende", "Vaginal dilators from 4 weeks after treatment"),
                                      ("Gynäkologische Untersuchung in 6 Wochen", "Gynaecological examination in 6 weeks"))))]
    ep.interval_text = c.L(c.pick((("gynäkologisch alle 3 Monate für 3 Jahre, danach halbjährlich bis 5 Jahre",
                                    "gynaecological follow-up every 3 months for 3 years, then every 6 months up to 5 years"),
                                   ("alle 3 Monate für 2 Jahre, danach halbjährlich bis 5 Jahre", "every 3 months for 2 years, then every 6 months up to 5 years"))))
    ep.extra_visits = [(12, c.L(("MRT Becken", "Pelvic MRI")))]
    return ep


OESO_TOX = (
    Tox(("Ösophagitis", "Esophagitis"), 3, ("Dysphagie für feste Kost", "Dysphagia for solid food")),
    Tox(("Gewichtsverlust", "Weight loss"), 2),
    Tox(("Übelkeit", "Nausea"), 2),
    Tox(("Fatigue", "Fatigue"), 2),
    Tox(("Neutropenie", "Neutrophil count decreased"), 3),
)


def oesophagus(c: Ctx) -> Episode:
    adeno = c.rng.random() < 0.6
    tnm, uicc = c.pick((("cT3 cN1 cM0", "III"), ("cT3 cN0 cM0", "IIB"), ("cT2 cN1 cM0", "IIA"), ("cT3 cN2 cM0", "III")))
    third = c.pick(((("unteres Drittel", "lower third"), "C15.5"), (("mittleres Drittel", "middle third"), "C15.4")))
    dx = Diagnosis(text=c.L(("Ösophaguskarzinom, ", "Oesophageal cancer, ")) + c.L(third[0]), icd10=third[1],
                   histology=c.L(("Adenokarzinom", "Adenocarcinoma") if adeno else ("Plattenepithelkarzinom", "Squamous cell carcinoma")),
                   grading=c.pick(("G2", "G3")), tnm=tnm, uicc_stage=uicc, date_of_diagnosis=c.dx_date)
    ep = Episode(diagnosis=dx, referrer=c.pick(("gp", "onc")))
    ep.surgeries.append(Surgery(date=c.dx_date, procedure=c.L(("Gastroskopie mit Biopsie und Endosonografie", "Endoscopy with biopsy and EUS"))))
    start = c.days(c.dx_date, 21, 40)
    definitive = c.rng.random() < 0.35
    cp = ("Carboplatin AUC 2/Paclitaxel 50 mg/m² wöchentlich", "weekly carboplatin AUC 2/paclitaxel 50 mg/m²")
    if definitive:
        rt = course(c, start, ("Primärtumor und regionäre Lymphknoten", "primary tumour and regional nodes"), c.pick((Technique.vmat, Technique.imrt)),
                    1.8, 28, igrt=("CBCT täglich", "CBCT daily"), energy="10 MV", chemo=cp)
    else:
        rt = course(c, start, ("Primärtumor und regionäre Lymphknoten", "primary tumour and regional nodes"),
                    c.pick((Technique.vmat, Technique.imrt, Technique.conv_3d)), 1.8, 23, igrt=("CBCT täglich", "CBCT daily"), energy="10 MV",
                    chemo=(cp[0] + " (CROSS)", cp[1] + " (CROSS)"))
    ep.courses.append(rt)
    ep.systemic.append(SystemicTherapy(regimen=c.L(cp), agents=["Carboplatin", "Paclitaxel"] if c.lang == "de" else ["carboplatin", "paclitaxel"],
                                       intent="concurrent", start_date=rt.start_date, end_date=rt.end_date, cycles=5 if not definitive else 6))
    ep.toxicities, f = draw_toxicities(c, OESO_TOX)
    ep.findings = f + [general_condition(c)]
    if definitive:
        ep.recommendations = [c.L(("Endoskopie und CT nach 8–12 Wochen", "Endoscopy and CT after 8–12 weeks"))]
    else:
        ep.recommendations = [c.L(("Restaging-CT nach 4 Wochen", "Restaging CT after 4 weeks")),
                              c.L(("Ösophagektomie 4–8 Wochen nach RCT", "Oesophagectomy 4–8 weeks after CRT"))]
    ep.recommendations.append(c.L(c.pick((("Ernährungsberatung, hochkalorische Trinknahrung", "Dietary advice, high-calorie supplements"),
                                          ("Gewichtskontrolle wöchentlich", "Weekly weight check")))))
    ep.interval_text = c.L(c.pick((("alle 3 Monate für 2 Jahre, danach halbjährlich bis 5 Jahre", "every 3 months for 2 years, then every 6 months up to 5 years"),
                                   ("viszeralchirurgisch/onkologisch nach Operation", "by surgery/oncology after resection"))))
    return ep


LYMPHOMA_TOX = (
    Tox(("Mukositis", "Mucositis"), 2),
    Tox(("Dysphagie", "Dysphagia"), 2),
    Tox(("Radiodermatitis", "Radiation dermatitis"), 2, ("Diskretes Erythem im Feld", "Faint erythema in the field")),
    Tox(("Fatigue", "Fatigue"), 2),
    Tox(("Xerostomie", "Dry mouth"), 1),
)


def lymphoma(c: Ctx) -> Episode:
    region = c.pick((("zervikal links", "left cervical"), ("zervikal rechts", "right cervical"), ("mediastinal", "mediastinal"),
                     ("axillär rechts", "right axillary")))
    hodgkin = c.age < 50 or c.rng.random() < 0.3
    ep: Episode
    if hodgkin:
        stage = c.pick(("IA", "IIA", "IIA", "IB"))
        dx = Diagnosis(text=c.L(("Klassisches Hodgkin-Lymphom, Ann Arbor ", "Classical Hodgkin lymphoma, Ann Arbor ")) + stage, icd10="C81.1",
                       histology=c.L(("nodulär-sklerosierender Typ", "nodular sclerosis")), uicc_stage=stage, date_of_diagnosis=c.dx_date)
        ep = Episode(diagnosis=dx, referrer="onc")
        cycles = c.pick((2, 2, 4))
        s = c.days(c.dx_date, 14, 28)
        ep.systemic.append(SystemicTherapy(regimen=f"{cycles}× ABVD" if cycles == 2 else "2× BEACOPPesk + 2× ABVD",
                                           agents=(["Doxorubicin", "Bleomycin", "Vinblastin" if c.lang == "de" else "vinblastine", "Dacarbazin" if c.lang == "de" else "dacarbazine"]
                                                   + ([] if cycles == 2 else ["Etoposid" if c.lang == "de" else "etoposide", "Cyclophosphamid" if c.lang == "de" else "cyclophosphamide", "Procarbazin" if c.lang == "de" else "procarbazine"])),
                                           intent="induction", start_date=s, end_date=s + dt.timedelta(days=28 * cycles), cycles=cycles))
        dpf, fx = (2.0, 10) if cycles == 2 else (2.0, 15)
    else:
        stage = c.pick(("IA", "IIA", "IIA"))
        dx = Diagnosis(text=c.L(("Diffus großzelliges B-Zell-Lymphom, Ann Arbor ", "Diffuse large B-cell lymphoma, Ann Arbor ")) + stage, icd10="C83.3",
                       histology="DLBCL, GCB", uicc_stage=stage, date_of_diagnosis=c.dx_date)
        ep = Episode(diagnosis=dx, referrer="onc")
        s = c.days(c.dx_date, 14, 28)
        ep.systemic.append(SystemicTherapy(regimen="6× R-CHOP", agents=["Rituximab", "Cyclophosphamid" if c.lang == "de" else "cyclophosphamide", "Doxorubicin", "Vincristin" if c.lang == "de" else "vincristine", "Prednison" if c.lang == "de" else "prednisone"],
                                           intent="induction", start_date=s, end_date=s + dt.timedelta(days=21 * 6), cycles=6))
        dpf, fx = 2.0, 15
    ep.surgeries.append(Surgery(date=c.days(c.dx_date, 0, 3), procedure=c.L(("Lymphknotenexstirpation", "Lymph node excision")) + f" {c.L(region)}"))
    start = c.days(ep.systemic[0].end_date, 21, 35)
    ep.courses.append(course(c, start, (f"ISRT {region[0]}", f"ISRT {region[1]}"), c.pick((Technique.imrt, Technique.vmat, Technique.conv_3d)),
                             dpf, fx, igrt=_igrt(c), energy="6 MV"))
    ep.toxicities, f = draw_toxicities(c, LYMPHOMA_TOX, k=(1, 2))
    ep.findings = f + [general_condition(c)]
    ep.recommendations = [c.L(c.pick((("Hämatoonkologische Nachsorge", "Haemato-oncological follow-up"),
                                      ("Abschluss-PET-CT nach Maßgabe der Hämatoonkologie", "End-of-treatment PET-CT as planned by haemato-oncology"))))]
    if region[0].startswith("zervikal"):
        ep.recommendations.append(c.L(("TSH-Kontrolle jährlich", "Annual TSH test")))
    ep.interval_text = c.L(c.pick((("alle 3 Monate im 1. Jahr, dann halbjährlich bis 5 Jahre", "every 3 months in year 1, then every 6 months up to 5 years"),
                                   ("hämatoonkologisch alle 3 Monate für 2 Jahre", "haemato-oncology every 3 months for 2 years"))))
    return ep


@dataclass(frozen=True)
class Entity:
    key: str
    build: Callable[[Ctx], Episode]
    sex: str | None  # "f", "m" or None
    age: tuple[int, int]
    weight: float
    relapse_to: tuple[str, ...] = ()
    """Metastasis entities a later second case of the same patient may have."""


ENTITIES: dict[str, Entity] = {e.key: e for e in (
    Entity("breast", breast, "f", (38, 82), 3.0, ("bone_mets", "brain_mets")),
    Entity("prostate", prostate, "m", (55, 84), 2.0, ("bone_mets",)),
    Entity("rectum", rectum, None, (42, 84), 1.2, ("bone_mets",)),
    Entity("glioblastoma", glioblastoma, None, (40, 80), 0.8),
    Entity("nsclc", nsclc, None, (48, 84), 1.5, ("brain_mets", "bone_mets")),
    Entity("head_neck", head_neck, None, (45, 80), 1.2, ("bone_mets",)),
    Entity("bone_mets", bone_mets, None, (45, 86), 1.2, ("brain_mets",)),
    Entity("brain_mets", brain_mets, None, (40, 84), 1.0, ("bone_mets",)),
    Entity("cervix", cervix, "f", (30, 76), 0.8, ("bone_mets",)),
    Entity("oesophagus", oesophagus, None, (48, 80), 0.8, ("bone_mets",)),
    Entity("lymphoma", lymphoma, None, (19, 80), 0.8),
)}

PRIMARY_OF = {"breast": "breast", "prostate": "prostate", "rectum": "rectum", "nsclc": "nsclc", "head_neck": "head_neck",
              "cervix": "cervix", "oesophagus": "oesophagus"}

SECONDARY_DIAGNOSES: tuple[tuple[T2, str], ...] = (
    (("Arterielle Hypertonie", "Arterial hypertension"), "I10"),
    (("Diabetes mellitus Typ 2", "Type 2 diabetes mellitus"), "E11.9"),
    (("Hypercholesterinämie", "Hypercholesterolaemia"), "E78.0"),
    (("Hypothyreose", "Hypothyroidism"), "E03.9"),
    (("COPD", "COPD"), "J44.9"),
    (("Adipositas", "Obesity"), "E66.9"),
    (("Vorhofflimmern", "Atrial fibrillation"), "I48.9"),
    (("Koronare Herzkrankheit", "Coronary heart disease"), "I25.9"),
    (("Nikotinabusus", "Tobacco use"), "F17.2"),
    (("Refluxösophagitis", "Reflux oesophagitis"), "K21.0"),
    (("Osteoporose", "Osteoporosis"), "M81.0"),
)
