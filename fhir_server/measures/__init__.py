"""Measures and their reports: the adoption dashboards' figures, from FHIR.

`Measure` resources (data, `profiles/ir-eprescription/measures/`) name populations by
`application/x-fhir-query` criteria and stratify them with FHIRPath; `$evaluate-measure`
answers a `MeasureReport` for a period from a tally kept incrementally: each evaluation
counts only what changed since the previous one (the store's history up to its
visibility watermark), so no write pays for the dashboards.
"""
