"""Organisations (``LOCATION_ORGANIZATION``): health insurers, employers, universities and companies.

Forms (invented examples): insurers by name ("AOK Bayern", "Barmer", "Techniker Krankenkasse",
"Helsana"), a name after a cue ("Krankenkasse: Musterkasse Nord", "Arbeitgeber: Stadtwerke Talheim"),
universities ("Ruprecht-Karls-Universität Heidelberg", "Universität zu Lübeck") and companies
("Muster Bau GmbH", "Beispiel AG").

Scores: a name after an insurer's or employer's cue (0.7), a university with its place (0.65), an
insurer's name or a company form without a cue (0.6: such names also stand in letterheads and in
other contexts than the patient's).
"""

from __future__ import annotations

from medletter.privacy import patterns as P
from medletter.privacy.recognizers.base import MedletterRegexRecognizer

ORG_INSURERS = (
    r"(?:AOK(?:\s(?:Bayern|Plus|Nordost|Nordwest|Niedersachsen|Rheinland(?:/Hamburg)?|Hessen|Baden-Württemberg|"
    r"Bremen(?:/Bremerhaven)?|Sachsen-Anhalt))?|Barmer(?:\sGEK)?|DAK(?:-Gesundheit)?|Techniker\sKrankenkasse|"
    r"IKK(?:\s\w+)?|BKK(?:\s\w+)?|KKH|HEK|hkk|HUK-COBURG|ÖGK|BVAEB|BVA|SVS|SVA|[WNOST]GKK|GKK|Debeka|DKV|"
    r"Allianz|AXA|Signal\sIduna|Knappschaft|Continentale|Gothaer|Generali|Helvetia|CSS|Helsana|Sanitas|SWICA)"
)
ORG_CUE = r"(?i:Versicherung|Krankenkasse|Kasse|Kostenträger|Versicherungsträger|Krankenversicherung|insurance|Arbeitgeber|Employer)"


class GermanOrganizationRecognizer(MedletterRegexRecognizer):
    ENTITY = "LOCATION_ORGANIZATION"
    RULES = [
        ("insurer", rf"(?<![\w-]){ORG_INSURERS}(?![\w-])", 0.6),
        ("cued", rf"(?<=\b{ORG_CUE}\s?:\s{{0,3}})[{P.UC}][\w.&-]+(?:[ ][{P.UC}][\w.&-]+){{0,3}}", 0.7),
        ("university", rf"(?:[{P.UC}][\w]*-)*[{P.UC}]?[\w-]*(?:Universität|Hochschule|University|Fachhochschule)"
                       rf"(?:[ ](?:zu[ ]|of[ ])?[{P.UC}][\w-]+){{1,2}}", 0.65),
        ("company", rf"[{P.UC}][\w&.-]+(?:[ ][{P.UC}][\w&.-]+){{0,3}}[ ](?:GmbH|AG|e\.\s?V\.|Ltd\.?|Inc\.?)(?![\w])", 0.6),
    ]
