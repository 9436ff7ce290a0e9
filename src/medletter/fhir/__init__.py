"""Import of radiotherapy cases from FHIR R4: MII Kerndatensatz Onkologie (oBDS) and mCODE / CodeX RT.

read.py reads and validates Bundles and NDJSON (``fhir.resources``, R4B models); mii.py and mcode.py map
the radiotherapy courses, people.py and clinical.py the rest; importer.py makes the cases and the report.
"""
