"""What a raw identifier looks like in text: one definition for every place that masks them.

REES46 user ids are 9-10 digit integers, possibly written ``541312140.0`` by a spreadsheet or
``00541312140`` by a fixed-width export (the parser reads both as 541312140, so both are ids);
sessions are UUIDs. An id is a run of 9-10 digits (after leading zeros, with an optional
``.0``) wherever it sits: inside a CSV line (``,1081.98,541312140,``), after ``id=``, and stuck
to letters or underscores in free text (``acme541312140``, ``id_541312140``, ``541312140x``:
a brand or category code typed around an id). It is not part of a longer number (category ids,
13-digit timestamps), nor the fraction of a decimal (``3.141592653``), nor a decimal's whole
part (``541312140.5`` is a price). Shorter numbers (prices, model numbers such as
``rtx3080``) and counts with separators (``12,345,678``) never match. The patterns are plain
strings valid both for Python's ``re`` and for Java regexes (Spark's ``regexp_replace``).
"""

RAW_USER_ID_PATTERN = r"(?<!\d)(?<!\d\.)0*\d{9,10}(?:\.0+)?(?!\d|\.\d)"
UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
