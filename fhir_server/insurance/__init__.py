"""The insurer's side: claims from what was delivered, adjudication by rules as data,
and the monthly settlement. Money (`money`), tariffs (`tariffs`) and the adjudication of
a line (`adjudication`) are pure modules; the rest reads and writes through the
Repository.
"""
