"""What a raw identifier looks like in text: one definition for every place that masks them.

REES46 user ids are 9-10 digit integers, possibly written ``541312140.0`` by a spreadsheet or
``00541312140`` by a fixed-width export (the parser reads both as 541312140, so both are ids);
sessions are UUIDs. An id is a whole field: bounded by anything but a digit, a letter or a
decimal point, so one inside a CSV line (``,1081.98,541312140,``) or after ``id=`` matches,
while counts with separators (``12,345,678``) and prices never do. The patterns are plain
strings valid both for Python's ``re`` and for Java regexes (Spark's ``regexp_replace``).
"""

RAW_USER_ID_PATTERN = r"(?<![\w.])0*\d{9,10}(?:\.0+)?(?![\w]|\.\d)"
UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
