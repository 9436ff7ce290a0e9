"""Institution styles of radiation-oncology letters and the letter renderer.

Three departments write the same facts differently:

* ``uniklinik``: university hospital; formal, a "Betreff" header with patient number, headings with
  a colon on their own line, structured blocks (labelled lines), dates 04.04.2029.
* ``kreisklinikum``: district hospital; terse, UPPER-CASE headings, bullet lists, the assessment
  right after the diagnoses, dates 4.4.2029 (en: 04/04/2029).
* ``praxis``: private practice; flowing prose, inline headings ("Bestrahlung: …"), patient address
  in the header, the summary last, diagnosis and surgery dates as "April 2029".

Within a style every main statement has several phrasings and some sentences are optional, so a
model has to learn the style rather than copy one template.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from medletter.records import REQUIRED_SECTIONS, Case, Letter, Section

from .render import Renderer, lower_first, sentence_list, short_dx
from .text import Builder, Phi, join


@dataclass(frozen=True)
class Style:
    name: str
    description: str
    institution: str
    """The department's institution (a hospital name: LOCATION_HOSPITAL where it appears)."""
    phone: str
    fax: str
    order: tuple[str, ...]
    headings: dict[str, dict[str, tuple[str, ...]]]
    """lang -> section key -> heading variants (the first is the usual one); no entry: no heading."""
    inline_headings: bool
    date_format: dict[str, str]
    coarse_date_format: dict[str, str] = field(default_factory=dict)
    """Format of diagnosis/surgery/systemic-therapy dates where the style writes them coarsely."""
    salutation_re: dict[str, str] = field(default_factory=dict)
    closing_re: dict[str, str] = field(default_factory=dict)
    header_re: dict[str, str] = field(default_factory=dict)
    with_chief: bool = False
    section_sep: str = "\n\n"

    def heading(self, key: str, lang: str, rng: random.Random | None = None, variant: int | None = None) -> str | None:
        options = self.headings[lang].get(key)
        if not options:
            return None
        if variant is not None:
            return options[variant % len(options)]
        return options[0] if rng is None else rng.choice(options)


# =============================================================================================
# uniklinik: formal, structured


class UniklinikRenderer(Renderer):
    def header(self) -> Builder:
        b = Builder()
        if self.de:
            b.t("Betreff: {mrs} {name}, geb. {dob}, Pat.-Nr. {pid}", mrs=self.mrs(), name=self.pat_full(),
                dob=self.dob(), pid=Phi(self.case.patient.patient_id, "ID"))
        else:
            b.t("Re: {mrs} {name}, born {dob}, patient no. {pid}", mrs=self.mrs(), name=self.pat_full(),
                dob=self.dob(), pid=Phi(self.case.patient.patient_id, "ID"))
        return b

    def salutation(self) -> Builder:
        b = Builder().add(self.colleague_salutation(), "\n\n")
        c = self.case
        fr = self.from_to(c.rt_start, c.rt_end)
        if self.de:
            opts = [
                lambda: b.t("wir berichten Ihnen über {ihr} {pat}, geb. {dob}, {die} sich {fr} in unserer Behandlung befand.",
                            ihr=self.g("Ihre Patientin", "Ihren Patienten"), pat=self.pat(True, "acc"), dob=self.dob(),
                            die=self.g("die", "der"), fr=fr),
                lambda: b.t("vielen Dank für die Zuweisung {ihr} {pat}, {die} wir {fr} strahlentherapeutisch behandelt haben.",
                            ihr=self.g("Ihrer Patientin", "Ihres Patienten"), pat=self.pat(None, "acc"), die=self.g("die", "den"), fr=fr),
                lambda: b.t("wir möchten Sie über den Abschluss der Strahlentherapie {ihr} {pat} (geb. {dob}) am {end} informieren.",
                            ihr=self.g("Ihrer Patientin", "Ihres Patienten"), pat=self.pat(True, "acc"), dob=self.dob(), end=self.date(c.rt_end)),
                lambda: b.t("nachfolgend berichten wir über die {fr} durchgeführte Strahlentherapie bei {pat}.", fr=fr, pat=self.pat(None, "dat")),
            ]
        else:
            opts = [
                lambda: b.t("We are writing about your patient {pat}, born {dob}, whom we treated {fr}.", pat=self.pat(True), dob=self.dob(), fr=fr),
                lambda: b.t("Thank you for referring {pat}, who completed radiotherapy in our department on {end}.", pat=self.pat(None),
                            end=self.date(c.rt_end)),
                lambda: b.t("Please find below our report on the radiotherapy of {pat} (born {dob}) {fr}.", pat=self.pat(True), dob=self.dob(), fr=fr),
                lambda: b.t("We treated your patient {pat} with radiotherapy {fr}.", pat=self.pat(None), fr=fr),
            ]
        self.rng.choice(opts)()
        return b

    def diagnosis(self) -> Builder:
        dx = self.case.main_diagnosis
        b = Builder()
        b.add(f"{dx.text} ({dx.icd10})")
        if dx.date_of_diagnosis and self.chance(0.7):
            b.add(self.L(", ED ", ", diagnosed "), self.date(dx.date_of_diagnosis))
        st, hi = self.stage(), self.histo()
        if st or hi:
            b.add("\n", "; ".join(x for x in (st, hi) if x))
        if self.case.secondary_diagnoses:
            items = [f"{s.text} ({s.icd10})" if s.icd10 else s.text for s in self.case.secondary_diagnoses]
            b.add("\n", self.v(("Nebendiagnosen: ", "Secondary diagnoses: "), ("Weitere Diagnosen: ", "Other diagnoses: ")), ", ".join(items))
        return b

    def history(self) -> Builder:
        b = Builder()
        lines = []
        for s in self.case.prior_treatments.surgeries:
            text = s.procedure + (f" ({s.resection_status})" if s.resection_status else "")
            lines.append(["- ", self.date(s.date), ": ", text])
        for s in self.prior_systemic():
            when = [self.L("seit ", "since "), self.date(s.start_date)] if s.end_date is None else self.period(s.start_date, s.end_date)
            lines.append(["- ", when, ": ", self.systemic_text(s)])
        if not lines:
            sec = self.case.secondary_diagnoses[0] if self.case.secondary_diagnoses else None
            lines.append([self.v(("Bekanntes ", "Known "), ("Grunderkrankung: ", "Underlying disease: ")) + sec.text if sec
                          else self.L("Keine tumorspezifische Vorbehandlung.", "No prior cancer treatment.")])
        b.add(join(lines, "\n"))
        return b

    def radiotherapy(self) -> Builder:
        b = Builder()
        for i, c in enumerate(self.case.radiotherapy_courses):
            if i:
                b.add("\n")
            label = self.L("Boost", "Boost") if c.is_boost else None
            tech = self.tech(c) + (f", {c.energy}" if c.energy and self.chance(0.5) else "")
            if c.is_boost:
                b.t(self.L("Sequenzieller Boost {t} ({tech}): ", "Sequential boost to {t} ({tech}): "), t=c.target_region, tech=tech)
            else:
                b.t(self.L("Zielvolumen: {t}\nTechnik: {tech}", "Target: {t}\nTechnique: {tech}"), t=c.target_region, tech=tech)
                if c.igrt:
                    b.add(f"; IGRT: {c.igrt}")
                b.add("\n")
            dose = self.dose(c, *self.rng.choice((
                ("ED {dpf}, GD {total} in {fx} Fraktionen", "{dpf} per fraction, {total} in {fx} fractions"),
                ("Einzeldosis {dpf}, Gesamtdosis {total} ({fx} Fraktionen)", "{fx} fractions of {dpf}, total dose {total}"),
                ("{fx} × {dpf} bis {total}", "{fx} × {dpf} to {total}"),
            )))
            if label is None:
                b.add(self.L("Dosis: ", "Dose: "))
            b.add(dose, ", ", self.period(c.start_date, c.end_date))
            if c.concurrent_chemotherapy:
                b.add("\n", self.L("Simultan: ", "Concurrent: "), c.concurrent_chemotherapy)
            for it in c.interruptions:
                b.add("\n", self.L(f"Unterbrechung: {it.days} Tage ({it.reason})", f"Interruption: {it.days} days ({it.reason})"))
        return b

    def course(self) -> Builder:
        b = Builder()
        interrupted = any(c.interruptions for c in self.case.radiotherapy_courses)
        if interrupted:
            b.add(self.v(("Nach kurzer Unterbrechung konnte die Therapie vollständig abgeschlossen werden.",
                          "After a short interruption, treatment was completed as planned."),
                         ("Die Bestrahlung wurde nach einer Pause fortgesetzt und planmäßig beendet.",
                          "Radiotherapy was resumed after a pause and completed."),
                         ("Trotz einer Unterbrechung wurde die geplante Dosis erreicht.", "Despite an interruption, the planned dose was delivered.")))
        else:
            b.add(self.v(("Die Bestrahlung konnte planmäßig durchgeführt werden.", "Radiotherapy was delivered as planned."),
                         ("Die Therapie wurde insgesamt gut vertragen.", "Treatment was well tolerated overall."),
                         ("Die Radiotherapie verlief ohne Unterbrechung.", "Radiotherapy proceeded without interruption."),
                         ("Die Behandlung verlief komplikationslos.", "The course was uneventful.")))
        tox = self.tox_list()
        if tox:
            b.add(" ", self.v(("An Nebenwirkungen (CTCAE v5.0) traten auf: ", "Side effects (CTCAE v5.0): "),
                              ("Akut zeigten sich ", "Acute toxicity: "),
                              ("Dokumentierte Nebenwirkungen nach CTCAE v5.0: ", "Documented CTCAE v5.0 toxicity: ")),
                  ", ".join(tox), ".")
        else:
            b.add(" ", self.v(("Relevante Nebenwirkungen traten nicht auf.", "No relevant side effects occurred."),
                              ("Akute Nebenwirkungen wurden nicht beobachtet.", "No acute toxicity was observed.")))
        return b

    def findings(self) -> Builder:
        return Builder().add(". ".join(self.case.findings_at_end or [self.L("Unauffällig", "Unremarkable")]) + ".")

    def assessment(self) -> Builder:
        b = Builder()
        c = self.case
        total = self.gy(self.main_courses()[0].total_dose_gy)
        mod, adj = self.modality(), self.intent_adj()
        if self.de:
            self.rng.choice((
                lambda: b.t("Zusammenfassend wurde die {adj} {mod} ({dx}) planmäßig abgeschlossen.", adj=adj, mod=mod, dx=short_dx(c)),
                lambda: b.t("Bei {pat} konnte die {adj} {mod} bis {total} abgeschlossen werden.", pat=self.pat(False, "dat"), adj=adj, mod=mod, total=total),
                lambda: b.t("Die {adj} {mod} ist abgeschlossen; die Akuttoxizität war {tox}.", adj=adj, mod=mod,
                            tox="gering" if self.max_grade() <= 1 else "moderat" if self.max_grade() == 2 else "relevant (Grad 3)"),
            ))()
        else:
            self.rng.choice((
                lambda: b.t("In summary, {adj} {mod} ({dx}) was completed as planned.", adj=adj, mod=mod, dx=short_dx(c)),
                lambda: b.t("{pat} completed {adj} {mod} to {total}.", pat=self.pat(False), adj=adj, mod=mod, total=total),
                lambda: b.t("{Adj} {mod} has been completed; acute toxicity was {tox}.", Adj=adj[:1].upper() + adj[1:], mod=mod,
                            tox="mild" if self.max_grade() <= 1 else "moderate" if self.max_grade() == 2 else "relevant (grade 3)"),
            ))()
        return b

    def recommendations(self) -> Builder:
        b = Builder()
        if self.chance(0.4):
            b.add(self.L("Wir empfehlen:\n", "We recommend:\n"))
        b.add("\n".join(f"- {r}" for r in self.case.recommendations) or "-")
        return b

    def follow_up(self) -> Builder:
        b = Builder()
        fu = self.case.follow_up
        w = fu.first_visit_weeks
        then = fu.interval_text or self.L("nach Maßgabe", "as needed")
        if self.de:
            self.rng.choice((
                lambda: b.t("Erste Vorstellung in unserer Ambulanz in {w} Wochen, danach {then}.", w=str(w), then=then),
                lambda: b.t("Wir sehen {pat} {w} Wochen nach Therapieende zur ersten Nachsorge, danach {then}.",
                            pat=self.pat(False, "acc"), w=str(w), then=then),
                lambda: b.t("Erste radioonkologische Nachsorge am {d}, im Weiteren {then}.", d=self.date(self.first_visit_date()), then=then),
            ))()
        else:
            self.rng.choice((
                lambda: b.t("First visit in our clinic in {w} weeks, then {then}.", w=str(w), then=then),
                lambda: b.t("We will see {pat} {w} weeks after treatment, then {then}.", pat=self.pat(False), w=str(w), then=then),
                lambda: b.t("First radiation oncology follow-up on {d}, thereafter {then}.", d=self.date(self.first_visit_date()), then=then),
            ))()
        return b

    def closing(self) -> Builder:
        b = Builder().add(self.v(("Mit freundlichen kollegialen Grüßen", "Yours sincerely"), ("Mit freundlichen Grüßen", "With kind regards")), "\n\n")
        b.add(join([self.signed(p) for p in self.case.treating_physicians], "\n"))
        return b


# =============================================================================================
# kreisklinikum: terse lists


class KreisklinikumRenderer(Renderer):
    def rng_period(self, a, b) -> list:
        """"3.1.–21.1.2029" when both dates share the year (German style), else a plain period."""
        if a != b and a.year == b.year and self.de:
            return [Phi(f"{a.day}.{a.month}.", "DATE"), "–", self.date(b)]
        return self.period(a, b)

    def salutation(self) -> Builder:
        b = Builder().add(self.v(("Liebe Kollegin, lieber Kollege,", "Dear colleague,"), ("Lieber Kollege, liebe Kollegin,", "Dear colleagues,")), "\n")
        c = self.case
        if self.de:
            self.rng.choice((
                lambda: b.t("wir berichten über {pat}, geb. {dob}, ambulant behandelt {fr}.", pat=self.pat(True, "acc"), dob=self.dob(), fr=self.from_to(c.rt_start, c.rt_end)),
                lambda: b.t("anbei der Abschlussbericht zu {pat} ({age} J.).", pat=self.pat(None, "dat"), age=self.age()),
                lambda: b.t("kurzer Bericht über {pat} (*{dob}) nach Abschluss der RT am {end}.", pat=self.pat(True, "acc"), dob=self.dob(), end=self.date(c.rt_end)),
                lambda: b.t("{pat}, {age} Jahre, hat die Strahlentherapie am {end} beendet.", pat=self.pat(None), age=self.age(), end=self.date(c.rt_end)),
            ))()
        else:
            self.rng.choice((
                lambda: b.t("Report on {pat}, born {dob}, treated as an outpatient {fr}.", pat=self.pat(True), dob=self.dob(), fr=self.from_to(c.rt_start, c.rt_end)),
                lambda: b.t("Please find the end-of-treatment summary for {pat} (aged {age}).", pat=self.pat(None), age=self.age()),
                lambda: b.t("Brief report on {pat} (DOB {dob}) after completion of RT on {end}.", pat=self.pat(True), dob=self.dob(), end=self.date(c.rt_end)),
                lambda: b.t("{pat}, {age} years, completed radiotherapy on {end}.", pat=self.pat(None), age=self.age(), end=self.date(c.rt_end)),
            ))()
        if self.chance(0.5):
            b.add(" ", self.v((f"Zuweisung wegen {short_dx(c)}.", f"Referred for {lower_first(short_dx(c))}."),
                              (f"Indikation: {short_dx(c)}.", f"Indication: {lower_first(short_dx(c))}.")))
        return b

    def diagnosis(self) -> Builder:
        dx = self.case.main_diagnosis
        b = Builder().add("- ", dx.text)
        st = self.stage()
        if st:
            b.add(", ", st)
        b.add(f" (ICD-10 {dx.icd10})")
        hi = self.histo()
        if hi or dx.date_of_diagnosis:
            b.add("\n  ", hi)
            if dx.date_of_diagnosis:
                b.add("; " if hi else "", self.L("ED ", "dx "), self.date(dx.date_of_diagnosis))
        for s in self.case.secondary_diagnoses:
            b.add("\n- ", s.text + (f" ({s.icd10})" if s.icd10 and self.chance(0.7) else ""))
        return b

    def assessment(self) -> Builder:
        mod, adj = self.modality(), self.intent_adj()
        g = self.max_grade()
        total = self.gy(self.main_courses()[0].total_dose_gy)
        Adj = adj[:1].upper() + adj[1:]
        return Builder().add(self.v(
            (f"{Adj} {mod} abgeschlossen, gut vertragen.", f"{Adj} {mod} completed, well tolerated."),
            (f"Planmäßiger Abschluss der {adj}n {mod}, " + (f"Toxizität max. Grad {g}." if g else "ohne Akuttoxizität."),
             f"{Adj} {mod} completed as planned, " + (f"max. toxicity grade {g}." if g else "no acute toxicity.")),
            (f"{Adj} {mod} bis {total} ohne Komplikationen beendet.", f"{Adj} {mod} to {total} completed without complications."),
            (f"{mod} abgeschlossen. Verträglichkeit {'gut' if g <= 1 else 'akzeptabel'}.", f"{mod[:1].upper() + mod[1:]} completed. Tolerance {'good' if g <= 1 else 'acceptable'}."),
        ))

    def history(self) -> Builder:
        b = Builder()
        lines = []
        for s in self.case.prior_treatments.surgeries:
            lines.append(["- ", self.date(s.date), " ", s.procedure + (f", {s.resection_status}" if s.resection_status else "")])
        for s in self.prior_systemic():
            when = [self.L("ab ", "from "), self.date(s.start_date)] if s.end_date is None else self.rng_period(s.start_date, s.end_date)
            lines.append(["- ", when, " ", s.regimen + (self.L(f" ({s.cycles} Zyklen)", f" ({s.cycles} cycles)") if s.cycles and str(s.cycles) not in s.regimen else "")])
        if not lines:
            sec = self.case.secondary_diagnoses[0] if self.case.secondary_diagnoses else None
            lines.append([self.L(f"- bekanntes {sec.text}, keine Vortherapie", f"- known {lower_first(sec.text)}, no prior treatment") if sec
                          else self.L("- keine Vortherapie", "- no prior treatment")])
        return b.add(join(lines, "\n"))

    def radiotherapy(self) -> Builder:
        b = Builder()
        for i, c in enumerate(self.case.radiotherapy_courses):
            if i:
                b.add("\n")
            b.add("- ", self.L("Boost ", "boost ") if c.is_boost else "", c.target_region, ": ",
                  f"{c.fractions} × {self.gy(c.dose_per_fraction_gy)} = {self.gy(c.total_dose_gy)}, {self.tech(c)}"
                  + (f" {c.energy}" if c.energy else ""))
            if c.igrt and not c.is_boost:
                b.add(f", {c.igrt}")
            b.add("\n  ", self.rng_period(c.start_date, c.end_date))
            if c.concurrent_chemotherapy:
                b.add("\n- ", self.L("simultan ", "concurrent "), c.concurrent_chemotherapy)
            for it in c.interruptions:
                b.add("\n- ", self.L(f"Pause {it.days} d ({it.reason})", f"pause {it.days} d ({it.reason})"))
        return b

    def course(self) -> Builder:
        b = Builder()
        if self.case.toxicities:
            if self.chance(0.5):
                b.add(self.v(("Akuttoxizität (CTCAE v5.0):\n", "Acute toxicity (CTCAE v5.0):\n"), ("NW nach CTCAE:\n", "CTCAE toxicity:\n")))
            b.add("\n".join("- " + t for t in self.tox_list("{term} G{grade}", "{term} G{grade}")))
        else:
            b.add(self.v(("- keine relevanten NW", "- no relevant toxicity"), ("- keine Akuttoxizität", "- no acute toxicity"),
                         ("- NW: keine", "- toxicity: none")))
        return b

    def findings(self) -> Builder:
        return Builder().add("\n".join("- " + f for f in (self.case.findings_at_end or [self.L("unauffällig", "unremarkable")])))

    def recommendations(self) -> Builder:
        return Builder().add("\n".join("- " + r for r in self.case.recommendations) or "-")

    def follow_up(self) -> Builder:
        fu = self.case.follow_up
        b = Builder()
        if self.chance(0.5):
            b.add(self.L(f"- erste Kontrolle in {fu.first_visit_weeks} Wochen", f"- first check in {fu.first_visit_weeks} weeks"))
        else:
            b.add(self.L("- erste Kontrolle am ", "- first check on "), self.date(self.first_visit_date()))
        if fu.interval_text:
            b.add("\n- ", self.L("dann ", "then "), fu.interval_text)
        return b

    def closing(self) -> Builder:
        b = Builder().add(self.v(("Mit kollegialen Grüßen", "Best regards"), ("Mit besten Grüßen", "Kind regards")), "\n\n")
        docs = self.case.treating_physicians
        b.add(join([self.signed(p, True, " – ") for p in docs], "\n"))
        first = docs[0]
        if first.institution and self.chance(0.6):
            b.add("\n", Phi(first.institution, "LOCATION_HOSPITAL"), self.L(", Strahlentherapie", ", Radiation Oncology"))
            if first.phone:
                b.add(self.L(", Tel. ", ", phone "), Phi(first.phone, "CONTACT_PHONE"))
        return b


# =============================================================================================
# praxis: prose


class PraxisRenderer(Renderer):
    def header(self) -> Builder:
        p = self.case.patient
        a = p.address
        return Builder().t(self.L("Pat.: {name}, *{dob}, {street}, {zip} {city}", "Patient: {name}, DOB {dob}, {street}, {zip} {city}"),
                           name=self.pat_full(), dob=self.dob(), street=Phi(a.street, "LOCATION_STREET"),
                           zip=Phi(a.postcode, "LOCATION_ZIP"), city=Phi(a.city, "LOCATION_CITY"))

    def salutation(self) -> Builder:
        b = Builder()
        if self.chance(0.7):
            b.add(self.L("Sehr geehrte Damen und Herren,", "Dear Sir or Madam,"))
        else:
            b.add(self.colleague_salutation())
        b.add("\n")
        c = self.case
        if self.de:
            self.rng.choice((
                lambda: b.t("{pat} wurde {fr} in unserer Praxis bestrahlt.", pat=self.pat(None), fr=self.from_to(c.rt_start, c.rt_end)),
                lambda: b.t("wir danken für die Überweisung von {pat}, {age} Jahre, und berichten über die Behandlung.", pat=self.pat(None, "dat"), age=self.age()),
                lambda: b.t("am {end} hat {pat} die Strahlentherapie bei uns abgeschlossen.", end=self.date(c.rt_end), pat=self.pat(None)),
                lambda: b.t("über {ihr} {pat} möchten wir Sie wie folgt informieren.", ihr=self.g("unsere gemeinsame Patientin", "unseren gemeinsamen Patienten"), pat=self.pat(None, "acc")),
            ))()
        else:
            self.rng.choice((
                lambda: b.t("{pat} received radiotherapy in our practice {fr}.", pat=self.pat(None), fr=self.from_to(c.rt_start, c.rt_end)),
                lambda: b.t("Thank you for referring {pat}, aged {age}; we report on the treatment below.", pat=self.pat(None), age=self.age()),
                lambda: b.t("On {end}, {pat} completed radiotherapy with us.", end=self.date(c.rt_end), pat=self.pat(None)),
                lambda: b.t("We would like to update you on our shared patient {pat}.", pat=self.pat(None)),
            ))()
        return b

    def diagnosis(self) -> Builder:
        dx = self.case.main_diagnosis
        b = Builder().add(f"{dx.text} ({dx.icd10})")
        for part in (self.stage(), self.histo()):
            if part:
                b.add(", ", part)
        if dx.date_of_diagnosis:
            b.add(self.L(", Erstdiagnose ", ", first diagnosed "), self.dx_date(dx.date_of_diagnosis))
        b.add(".")
        if self.case.secondary_diagnoses:
            items = [f"{s.text} ({s.icd10})" if s.icd10 else s.text for s in self.case.secondary_diagnoses]
            b.add(" ", self.v(("Außerdem: ", "Also: "), ("Begleiterkrankungen: ", "Comorbidities: ")), ", ".join(items), ".")
        return b

    def history(self) -> Builder:
        b = Builder()
        items: list = []
        for s in self.case.prior_treatments.surgeries:
            items.append([s.procedure + (f" ({s.resection_status})" if s.resection_status else ""), self.L(" im ", " in "), self.dx_date(s.date)])
        for s in self.prior_systemic():
            if s.end_date is None:
                items.append([self.systemic_text(s), self.L(" seit ", " since "), self.dx_date(s.start_date)])
            else:
                items.append([self.systemic_text(s), " (", self.period(s.start_date, s.end_date, coarse=True), ")"])
        if not items:
            sec = self.case.secondary_diagnoses[0] if self.case.secondary_diagnoses else None
            return b.add(self.L(f"Bekanntes {sec.text}, bislang ohne Lokaltherapie.", f"Known {lower_first(sec.text)}, no prior local therapy.") if sec
                         else self.L("Keine Vorbehandlung.", "No prior treatment."))
        lead = self.v(("Vorausgegangen: ", "Previously: "), ("Z. n. ", "Status post "), ("Bisher erfolgt: ", "So far: "))
        if lead == "Status post " and isinstance(items[0][0], str):
            items[0][0] = lower_first(items[0][0])
        return b.add(lead, join(items, "; "), ".")

    def radiotherapy(self) -> Builder:
        b = Builder()
        main = self.main_courses()[0]
        tech = self.tech(main)
        dose = self.dose(main, "{fx} Fraktionen à {dpf} bis {total}", "{fx} fractions of {dpf} to {total}")
        fr = self.from_to(main.start_date, main.end_date)
        Fr = [fr[0][:1].upper() + fr[0][1:]] + fr[1:]
        if self.de:
            self.rng.choice((
                lambda: b.t("{Fr} erfolgte die Bestrahlung ({t}) in {tech}-Technik mit {dose}", Fr=Fr, t=main.target_region, tech=tech, dose=dose),
                lambda: b.t("Die Bestrahlung ({t}) erfolgte {fr} mit {dose} ({tech})", t=main.target_region, fr=fr, dose=dose, tech=tech),
                lambda: b.t("Durchgeführt wurde eine {tech}-Bestrahlung, Zielgebiet {t}, mit {dose}, {fr}", tech=tech, t=main.target_region, dose=dose, fr=fr),
            ))()
        else:
            self.rng.choice((
                lambda: b.t("{Fr} we irradiated the target volume ({t}) with {tech}, {dose}", Fr=Fr, t=main.target_region, tech=tech, dose=dose),
                lambda: b.t("Radiotherapy ({t}) was given {fr} with {dose} ({tech})", t=main.target_region, fr=fr, dose=dose, tech=tech),
                lambda: b.t("We delivered {tech} (target: {t}), {dose}, {fr}", tech=tech, t=main.target_region, dose=dose, fr=fr),
            ))()
        if main.igrt:
            b.add(self.L(f", bildgeführt ({main.igrt})", f", image-guided ({main.igrt})"))
        if main.concurrent_chemotherapy:
            b.add(self.L(", simultan ", ", with concurrent "), main.concurrent_chemotherapy)
        b.add(".")
        for it in main.interruptions:
            b.add(" ", self.L(f"Wegen {it.reason} pausierte die Therapie {it.days} Tage.", f"Treatment paused for {it.days} days ({it.reason})."))
        for c in self.boosts():
            b.add(" ", self.L("Anschließend Boost (", "This was followed by a boost ("), c.target_region,
                  self.L(f") mit {c.fractions} × {self.gy(c.dose_per_fraction_gy)} bis {self.gy(c.total_dose_gy)} (",
                         f") with {c.fractions} × {self.gy(c.dose_per_fraction_gy)} to {self.gy(c.total_dose_gy)} ("),
                  self.period(c.start_date, c.end_date), ").")
        return b

    def course(self) -> Builder:
        b = Builder()
        tox = self.tox_list("{term} (Grad {grade})", "{term} (grade {grade})")
        if tox:
            lead, tail = self.rng.choice((
                (("Die Behandlung wurde gut vertragen; es traten ", " auf."), ("Treatment was well tolerated, with ", ".")),
                (("Im Verlauf entwickelte" + ("n" if len(tox) > 1 else "") + " sich ", "."), ("During treatment the patient developed ", ".")),
                (("An Nebenwirkungen beobachteten wir ", "."), ("We observed ", ".")),
            ))[0 if self.de else 1]
            b.add(lead, sentence_list(tox, self.lang), tail)
        else:
            b.add(self.v(("Die Behandlung verlief ohne nennenswerte Nebenwirkungen.", "Treatment was completed without notable side effects."),
                         ("Nebenwirkungen traten nicht auf.", "There were no side effects."),
                         ("Die Therapie wurde ausgezeichnet vertragen.", "Treatment was tolerated very well.")))
        return b

    def findings(self) -> Builder:
        items = self.case.findings_at_end or [self.L("Unauffälliger Befund", "Unremarkable")]
        b = Builder()
        if self.chance(0.4):
            b.add(self.L("Abschlussuntersuchung am ", "Final examination on "), self.date(self.case.rt_end), ": ")
        return b.add("; ".join(items), ".")

    def recommendations(self) -> Builder:
        recs = self.case.recommendations
        if not recs:
            return Builder().add(self.L("Keine besonderen Maßnahmen.", "No specific measures."))
        lead = self.v(("Wir empfehlen: ", "We recommend: "), ("", ""), ("Aus unserer Sicht sinnvoll: ", "In our view: "))
        return Builder().add(lead, "; ".join(recs), ".")

    def follow_up(self) -> Builder:
        fu = self.case.follow_up
        then = fu.interval_text or self.L("nach Bedarf", "as needed")
        b = Builder()
        if self.de:
            self.rng.choice((
                lambda: b.t("Wir sehen {pat} in {w} Wochen wieder, danach {then}.", pat=self.pat(False, "acc"), w=str(fu.first_visit_weeks), then=then),
                lambda: b.t("Erste Nachsorge bei uns am {d}; weiter {then}.", d=self.date(self.first_visit_date()), then=then),
                lambda: b.t("Nachsorge ab {w} Wochen nach Therapieende, {then}.", w=str(fu.first_visit_weeks), then=then),
            ))()
        else:
            self.rng.choice((
                lambda: b.t("We will see {pat} again in {w} weeks, then {then}.", pat=self.pat(False), w=str(fu.first_visit_weeks), then=then),
                lambda: b.t("First follow-up with us on {d}; then {then}.", d=self.date(self.first_visit_date()), then=then),
                lambda: b.t("Follow-up from {w} weeks after treatment, {then}.", w=str(fu.first_visit_weeks), then=then),
            ))()
        return b

    def assessment(self) -> Builder:
        mod, adj = self.modality(), self.intent_adj()
        dx = short_dx(self.case)
        b = Builder()
        if self.de:
            self.rng.choice((
                lambda: b.add(f"Insgesamt gut verträgliche {adj} {mod} ({dx})."),
                lambda: b.add(f"Die {adj} {mod} wurde wie geplant abgeschlossen."),
                lambda: b.add(f"Zusammenfassend erfolgreich abgeschlossene {adj} {mod}."),
            ))()
        else:
            self.rng.choice((
                lambda: b.add(f"Overall, well tolerated {adj} {mod} ({dx})."),
                lambda: b.add(f"{adj[:1].upper() + adj[1:]} {mod} was completed as planned."),
                lambda: b.add(f"In summary, {adj} {mod} successfully completed."),
            ))()
        return b

    def closing(self) -> Builder:
        b = Builder().add(self.v(("Mit freundlichen Grüßen", "Kind regards"), ("Freundliche Grüße", "Best wishes")), "\n\n")
        doc = self.case.treating_physicians[0]
        b.add(self.signed(doc, with_role=False))
        if doc.phone and self.chance(0.5):
            b.add("\n", self.L("Rückfragen: Tel. ", "Queries: phone "), Phi(doc.phone, "CONTACT_PHONE"))
        return b


# =============================================================================================

_UNI_DE = {"diagnosis": ("Diagnose:", "Diagnosen:"), "history": ("Onkologische Anamnese:",), "radiotherapy": ("Durchgeführte Strahlentherapie:",),
           "course": ("Verlauf und Nebenwirkungen:",), "findings": ("Befund bei Abschluss:",), "assessment": ("Beurteilung:",),
           "recommendations": ("Procedere:",), "follow_up": ("Nachsorge:",)}
_UNI_EN = {"diagnosis": ("Diagnosis:", "Diagnoses:"), "history": ("Oncological history:",), "radiotherapy": ("Radiotherapy delivered:",),
           "course": ("Course and side effects:",), "findings": ("Findings at completion:",), "assessment": ("Assessment:",),
           "recommendations": ("Plan:",), "follow_up": ("Follow-up:",)}
_KK_DE = {"diagnosis": ("DIAGNOSEN",), "history": ("VORGESCHICHTE",), "radiotherapy": ("STRAHLENTHERAPIE",), "course": ("VERLAUF/NEBENWIRKUNGEN",),
          "findings": ("ABSCHLUSSBEFUND",), "assessment": ("BEURTEILUNG",), "recommendations": ("EMPFEHLUNGEN",), "follow_up": ("NACHSORGE",)}
_KK_EN = {"diagnosis": ("DIAGNOSES",), "history": ("HISTORY",), "radiotherapy": ("RADIOTHERAPY",), "course": ("COURSE/SIDE EFFECTS",),
          "findings": ("FINAL EXAMINATION",), "assessment": ("ASSESSMENT",), "recommendations": ("RECOMMENDATIONS",), "follow_up": ("FOLLOW-UP",)}
_PX_DE = {"diagnosis": ("Diagnosen / ICD-10:",), "history": ("Bisherige Therapie:",), "radiotherapy": ("Bestrahlung:",), "course": ("Verlauf:",),
          "findings": ("Befund:",), "assessment": ("Zusammenfassung:",), "recommendations": ("Weiteres Vorgehen:",), "follow_up": ("Nachsorgeplan:",)}
_PX_EN = {"diagnosis": ("Diagnoses / ICD-10:",), "history": ("Previous treatment:",), "radiotherapy": ("Irradiation:",), "course": ("Course:",),
          "findings": ("Findings:",), "assessment": ("Summary:",), "recommendations": ("Further management:",), "follow_up": ("Follow-up plan:",)}

STYLES: dict[str, Style] = {
    "uniklinik": Style(
        name="uniklinik",
        description="University hospital: formal, 'Betreff' header, headings with colon on their own line, labelled lines.",
        institution="Universitätsklinikum Freiburg",
        phone="0761 270-94610", fax="0761 270-94620",
        order=("header", "salutation", "diagnosis", "history", "radiotherapy", "course", "findings", "assessment",
               "recommendations", "follow_up", "closing"),
        headings={"de": _UNI_DE, "en": _UNI_EN},
        inline_headings=False,
        date_format={"de": "dd.mm.yyyy", "en": "d month yyyy"},
        salutation_re={"de": r"^Sehr geehrter? (?:Frau|Herr)\b", "en": r"^Dear (?:Dr|Professor|Ms|Mr)\b"},
        closing_re={"de": r"^Mit freundlichen (?:kollegialen )?Grüßen", "en": r"^(?:Yours sincerely|With kind regards)"},
        header_re={"de": r"^Betreff:", "en": r"^Re:"},
        with_chief=True,
    ),
    "kreisklinikum": Style(
        name="kreisklinikum",
        description="District hospital: terse, UPPER-CASE headings, bullet lists, assessment right after the diagnoses.",
        institution="Kreisklinikum Lörrach",
        phone="07621 416-3300", fax="07621 416-3309",
        order=("salutation", "diagnosis", "assessment", "history", "radiotherapy", "course", "findings", "recommendations",
               "follow_up", "closing"),
        headings={"de": _KK_DE, "en": _KK_EN},
        inline_headings=False,
        date_format={"de": "d.m.yyyy", "en": "dd/mm/yyyy"},
        salutation_re={"de": r"^Liebe[r]? Kolleg(?:in|e), liebe[r]? Kolleg(?:in|e),", "en": r"^Dear colleagues?,"},
        closing_re={"de": r"^Mit (?:kollegialen|besten) Grüßen", "en": r"^(?:Best regards|Kind regards)"},
    ),
    "praxis": Style(
        name="praxis",
        description="Private practice: prose, inline headings, patient address in the header, summary last, coarse dates.",
        institution="Praxis für Strahlentherapie am Theater",
        phone="0781 9483-0", fax="0781 9483-19",
        order=("header", "salutation", "diagnosis", "history", "radiotherapy", "course", "findings", "recommendations",
               "follow_up", "assessment", "closing"),
        headings={"de": _PX_DE, "en": _PX_EN},
        inline_headings=True,
        date_format={"de": "dd.mm.yyyy", "en": "d month yyyy"},
        coarse_date_format={"de": "month yyyy", "en": "month yyyy"},
        salutation_re={"de": r"^Sehr geehrte[r]? (?:Damen und Herren|Frau|Herr)\b", "en": r"^Dear (?:Sir or Madam|Dr|Professor|Ms|Mr)\b"},
        closing_re={"de": r"^(?:Mit freundlichen Grüßen|Freundliche Grüße)", "en": r"^(?:Kind regards|Best wishes)"},
        header_re={"de": r"^Pat\.:", "en": r"^Patient:"},
    ),
}

RENDERERS: dict[str, type[Renderer]] = {
    "uniklinik": UniklinikRenderer,
    "kreisklinikum": KreisklinikumRenderer,
    "praxis": PraxisRenderer,
}


def style_names() -> list[str]:
    return list(STYLES)


def _style(style: str) -> Style:
    try:
        return STYLES[style]
    except KeyError:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(STYLES)}") from None


def _lang(lang: str) -> str:
    if lang not in ("de", "en"):
        raise ValueError(f"unknown language {lang!r}; expected 'de' or 'en'")
    return lang


def render_letter(case: Case, style: str, lang: str, rng: random.Random) -> Letter:
    """The reference letter of ``case`` in ``style`` and ``lang``, with its PHI spans."""
    st = _style(style)
    lang = _lang(lang)
    r = RENDERERS[st.name](case, st, lang, rng)
    sections: list[Section] = []
    full = Builder()
    for key in st.order:
        method = getattr(r, key, None)
        if method is None:
            continue
        body: Builder = method()
        if key == "diagnosis" and len(st.headings[lang].get(key, ())) > 1:  # "Diagnose:" / "Diagnosen:"
            heading = st.heading(key, lang, variant=1 if case.secondary_diagnoses else 0)
        else:
            heading = st.heading(key, lang, rng)
        if len(full):
            full.add(st.section_sep)
        if heading:
            full.add(heading, " " if st.inline_headings else "\n")
        full.add(body)
        sections.append(Section(key=key, heading=heading, text=body.text))
    return Letter(style=st.name, language=lang, sections=sections, text=full.text, spans=full.spans())


def section_patterns(style: str, lang: str) -> dict[str, re.Pattern]:
    """For each required section, a regex that finds it in a letter of ``style`` (multiline mode)."""
    st = _style(style)
    lang = _lang(lang)
    out: dict[str, re.Pattern] = {}
    for key in REQUIRED_SECTIONS:
        if key == "salutation":
            out[key] = re.compile(st.salutation_re[lang], re.M)
        elif key == "closing":
            out[key] = re.compile(st.closing_re[lang], re.M)
        else:
            options = st.headings[lang][key]
            alt = "|".join(re.escape(h) for h in options)
            end = r"(?=\s|$)" if st.inline_headings else r"[ \t]*$"
            out[key] = re.compile(rf"^(?:{alt}){end}", re.M)
    return out
