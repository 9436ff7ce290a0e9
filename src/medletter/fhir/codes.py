"""Code systems, profile and extension URLs the FHIR import reads, with the tables that map their codes.

Sources (checked against the published profiles, not guessed):
- MII Kerndatensatz Onkologie (oBDS-based), github.com/medizininformatik-initiative/kerndatensatzmodul-onkologie:
  Strahlentherapie (bracket) and Bestrahlung procedures with the Gesamtdosis/Einzeldosis/Boost extensions,
  Zielgebiet and Seitenlokalisation, Applikationsart (procedure-method extension or usedCode), Strahlenart;
  TNM-Klassifikation grouper with hasMember T/N/M observations and the cp-Präfix extension; Nebenwirkung
  (AdverseEvent with the CTCAE grade); ICD-10-GM with the KBV Seitenlokalisation extension.
- mCODE STU3/STU4 (hl7.org/fhir/us/mcode) and CodeX Radiation Therapy: RadiotherapyCourseSummary with
  the modality-and-technique, sessions, dose-delivered-to-volume and procedure-intent extensions,
  RadiotherapyVolume body structures; CancerStageGroup with hasMember T/N/M observations.
"""

from __future__ import annotations

# ---------------------------------------------------------------- code systems
ICD10_GM = ("http://fhir.de/CodeSystem/bfarm/icd-10-gm", "http://fhir.de/CodeSystem/dimdi/icd-10-gm")
ICD10_WHO = ("http://hl7.org/fhir/sid/icd-10",)
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OPS = "http://fhir.de/CodeSystem/bfarm/ops"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
KVID = ("http://fhir.de/sid/gkv/kvid-10", "http://fhir.de/sid/pkv/kvid-10")
UICC = ("https://www.uicc.org/resources/tnm", "http://uicc.org", "https://www.uicc.org")
AJCC = ("http://cancerstaging.org",)
KBV_SEITE = "https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_ICD_SEITENLOKALISATION"

MII_ONKO = "https://www.medizininformatik-initiative.de/fhir/ext/modul-onko/"
MII_CS = MII_ONKO + "CodeSystem/"
MII_SD = MII_ONKO + "StructureDefinition/"
MII_ZIELGEBIET = MII_CS + "mii-cs-onko-strahlentherapie-zielgebiet"
MII_APPLIKATIONSART = MII_CS + "mii-cs-onko-strahlentherapie-applikationsart"
MII_STRAHLENART = MII_CS + "mii-cs-onko-strahlentherapie-strahlenart"
MII_BOOST = MII_CS + "mii-cs-onko-strahlentherapie-boost"
MII_SEITE = MII_CS + "mii-cs-onko-seitenlokalisation"
MII_GRADING = MII_CS + "mii-cs-onko-grading"
MII_CTCAE_GRAD = MII_CS + "mii-cs-onko-nebenwirkung-ctcae-grad"
MII_RESIDUAL = MII_CS + "mii-cs-onko-residualstatus"
MII_INTENTION = MII_CS + "mii-cs-onko-intention"
MII_STELLUNG_OP = (MII_CS + "mii-cs-onko-therapie-stellungzurop", MII_CS + "mii-cs-therapie-stellungzurop")

# ---------------------------------------------------------------- profiles (meta.profile; matched without version)
MII_PR_STRAHLENTHERAPIE = MII_SD + "mii-pr-onko-strahlentherapie"
MII_PR_BESTRAHLUNG = MII_SD + "mii-pr-onko-strahlentherapie-bestrahlung-strahlentherapie"
MII_PR_BESTRAHLUNG_NUK = MII_SD + "mii-pr-onko-strahlentherapie-bestrahlung-nuklearmedizin"
MII_PR_DIAGNOSE = MII_SD + "mii-pr-onko-diagnose-primaertumor"
MII_PR_TNM = MII_SD + "mii-pr-onko-tnm-klassifikation"
MII_PR_GRADING = MII_SD + "mii-pr-onko-grading"
MII_PR_HISTOLOGIE = MII_SD + "mii-pr-onko-histologie-icdo3"
MII_PR_NEBENWIRKUNG = MII_SD + "mii-pr-onko-nebenwirkung-adverse-event"
MII_PR_SYSTEMISCH = MII_SD + "mii-pr-onko-systemische-therapie"
MII_PR_OPERATION = MII_SD + "mii-pr-onko-operation"

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
MCODE_PR_COURSE = MCODE + "mcode-radiotherapy-course-summary"
MCODE_PR_VOLUME = MCODE + "mcode-radiotherapy-volume"
MCODE_PR_PRIMARY = MCODE + "mcode-primary-cancer-condition"
MCODE_PR_SECONDARY = MCODE + "mcode-secondary-cancer-condition"
MCODE_PR_STAGE = MCODE + "mcode-cancer-stage-group"
MCODE_PR_SURGERY = MCODE + "mcode-cancer-related-surgical-procedure"
CODEX_RT = "http://hl7.org/fhir/us/codex-radiation-therapy/StructureDefinition/"

# ---------------------------------------------------------------- extensions
EX_MII_GESAMTDOSIS = MII_SD + "mii-ex-onko-strahlentherapie-bestrahlung-gesamtdosis"
EX_MII_EINZELDOSIS = MII_SD + "mii-ex-onko-strahlentherapie-bestrahlung-einzeldosis"
EX_MII_BOOST = MII_SD + "mii-ex-onko-strahlentherapie-bestrahlung-boost"
EX_MII_SEITE_BESTRAHLUNG = MII_SD + "mii-ex-onko-strahlentherapie-bestrahlung-seitenlokalisation"
EX_MII_HISTOLOGY = MII_SD + "mii-ex-onko-histology-morphology-behavior-icdo3"
EX_MII_CP_PRAEFIX = MII_SD + "mii-ex-onko-tnm-cp-praefix"
EX_MII_Y_PRAEFIX = MII_SD + "mii-ex-onko-tnm-y-praefix"
EX_MII_R_PRAEFIX = MII_SD + "mii-ex-onko-tnm-r-praefix"
EX_PROCEDURE_METHOD = "http://hl7.org/fhir/StructureDefinition/procedure-method"
EX_ASSERTED_DATE = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"
EX_KBV_SEITE = "http://fhir.de/StructureDefinition/seitenlokalisation"

EX_MCODE_MOD_TECH = MCODE + "mcode-radiotherapy-modality-and-technique"
EX_MCODE_MODALITY = MCODE + "mcode-radiotherapy-modality"
EX_MCODE_TECHNIQUE = MCODE + "mcode-radiotherapy-technique"
EX_MCODE_SESSIONS = MCODE + "mcode-radiotherapy-sessions"
EX_MCODE_DOSE_VOLUME = MCODE + "mcode-radiotherapy-dose-delivered-to-volume"
EX_MCODE_INTENT = MCODE + "mcode-procedure-intent"
EX_MCODE_HISTOLOGY = MCODE + "mcode-histology-morphology-behavior"
EX_MCODE_LATERALITY = MCODE + "mcode-laterality-qualifier"
EX_CTCAE_GRADE = (
    "http://hl7.org/fhir/us/ctcae/StructureDefinition/ctcae-grade",
    "http://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition/ae-grade",
    CODEX_RT + "codexrt-radiotheraphy-adverse-event-severity-or-grade",
    "http://hl7.org/fhir/us/mcode/StructureDefinition/ctcae-grade",
)

# ---------------------------------------------------------------- tables
SNOMED_TECHNIQUE = {  # mCODE RadiotherapyTechniqueVS (photon and electron techniques we distinguish)
    "441799006": "IMRT",  # Intensity modulated radiation therapy
    "1156530009": "VMAT",  # Volumetric Modulated Arc Therapy
    "1162782007": "3D-CRT",  # Three dimensional external beam radiation therapy
}
SNOMED_MODALITY_ELECTRONS = "45643008"
SNOMED_MODALITY_PHOTONS = "1156506007"
SNOMED_BRACHY_MODALITIES = {"1156708005", "169359004", "1156384006", "394902000", "438629002"}
SNOMED_LATERALITY = {"7771000": "left", "24028007": "right", "51440002": "bilateral"}
SNOMED_INTENT_PALLIATIVE = "363676003"
SNOMED_SURGICAL_CATEGORY = "387713003"
SNOMED_TNM_GROUPER = {"399537006": "clinical", "399588009": "pathological"}
LOINC_STAGE_GROUP = {"21908-9": "clinical", "21902-2": "pathological"}

MII_SEITE_LATERALITY = {"L": "left", "R": "right", "B": "bilateral", "M": "midline", "T": "not_applicable"}
"""mii-cs-onko-seitenlokalisation and the KBV ICD Seitenlokalisation (L, R, B); U (unknown) maps to nothing."""

MII_STELLUNG_INTENT = {"A": "adjuvant", "N": "neoadjuvant"}
MII_STEREOTACTIC = {"P-ST", "P-ST4D", "PRCN-ST", "PRCN-ST4D"}
MII_WITH_CHEMO = {"PRCJ", "PRCJ-4D"}
MII_BRACHY_PREFIX = ("K", "I")
MII_CRANIAL_ZIELGEBIET = {"1.1", "1.2", "1.4", "1.5"}
"""Brain targets (Ganzhirn, Teilhirn, Hypophyse, Hirn sonstiges): stereotactic there is SRS/FSRT, elsewhere SBRT."""
OPS_IMRT_PREFIX = "8-522.9"
"""OPS 8-522.9: Hochvoltstrahlentherapie, Linearbeschleuniger, intensitätsmodulierte Radiotherapie."""

MII_ZIELGEBIET_NAMES = {
    "1.1": "Ganzhirn", "1.2": "Teilhirn", "1.3": "Neuroachse/Rückenmark", "1.4": "Hypophyse", "1.5": "Hirn sonstiges",
    "2.1": "Auge", "2.2": "Nase/Nasennebenhöhle", "2.3": "Mundhöhle", "2.4": "Ohr", "2.5": "Speicheldrüse",
    "2.6": "Pharynx", "2.7": "Nasopharynx", "2.8": "Oropharynx", "2.9": "Hypopharynx", "2.10": "Larynx",
    "2.11": "Schilddrüse", "2.12": "Kopf-Hals sonstige",
    "3.1": "Mamma als Ganzbrust", "3.2": "Mamma als Teilbrust", "3.3": "Thoraxwand", "3.4": "Lunge", "3.5": "Ösophagus",
    "3.6": "Mediastinum", "3.7": "Thymus", "3.8": "Thorax sonstige",
    "4.1": "Magen", "4.2": "Pankreas", "4.3": "Leber", "4.4": "Milz", "4.5": "Niere", "4.6": "Nebenniere",
    "4.7": "Retroperitoneum", "4.8": "Ureter", "4.9": "Bauchwand", "4.10": "Oberbauch", "4.11": "Gallengänge",
    "4.12": "Gallenblase", "4.13": "Abdomen sonstige",
    "5.1": "Rektum", "5.2": "Analbereich", "5.3": "Harnblase", "5.4": "Prostata", "5.5": "Hoden", "5.6": "Penis",
    "5.7": "Uterus", "5.8": "Zervix", "5.9": "Vulva", "5.10": "Vagina", "5.11": "Beckenwand", "5.12": "Becken sonstige",
    "6.1": "Schädel", "6.2": "Schädelbasis", "6.3": "Orbita", "6.4": "Halswirbelsäule", "6.5": "Brustwirbelsäule",
    "6.6": "Lendenwirbelsäule", "6.7": "Sacrum/Coccygeum", "6.8": "Rippen", "6.9": "Sternum", "6.10": "Schulter",
    "6.11": "Oberarm", "6.12": "Unterarm", "6.13": "Hand", "6.14": "Becken", "6.15": "Hüfte", "6.16": "Oberschenkel",
    "6.17": "Unterschenkel", "6.18": "Fuß", "6.19": "Knochen sonstige",
    "7.1": "Weichteile Kopf, Gesicht, Hals", "7.2": "Weichteile obere Extremität", "7.3": "Weichteile untere Extremität",
    "7.4": "Weichteile Thorax", "7.5": "Weichteile Abdomen", "7.6": "Weichteile Becken", "7.7": "Weichteile Stamm",
    "7.8": "Weichteile, mehrere Bereiche", "7.9": "Weichteile sonstige",
    "8.1": "Ganzhaut", "8.2": "Haut, Teilbereiche",
    "9.1": "Zervikale Lymphknoten", "9.2": "Supra-/infraklavikuläre Lymphknoten", "9.3": "Axilläre Lymphknoten",
    "9.4": "Mammaria-interna-Lymphknoten", "9.5": "Mediastinale Lymphknoten", "9.6": "Hiläre Lymphknoten",
    "9.7": "Intraabdominale Lymphknoten", "9.8": "Paraaortale/parakavale Lymphknoten",
    "9.9": "Retroperitoneale Lymphknoten", "9.10": "Beckenlymphabfluss", "9.11": "Inguinale Lymphknoten",
    "9.12": "Involved Node", "9.13": "Involved Site", "9.14": "Involved Field", "9.15": "Sonstige Lymphknoten",
    "10.1": "Ganzkörperbestrahlung", "10.2": "Operative Zugangswege", "10.3": "Sonstiges Zielgebiet",
}
"""oBDS Zielgebiet (mii-cs-onko-strahlentherapie-zielgebiet), short names for a code without text."""
