"""What the two change-table readers (SQL Server CDC, Db2 ASN capture) have in common.

Both read rows a capture process wrote into change tables, each row stamped with a binary commit position
(SQL Server ``__$start_lsn``, Db2 ``IBMSNAP_COMMITSEQ``) and a position inside the commit (``__$seqval`` /
``IBMSNAP_INTENTSEQ``). This package holds the pieces that do not depend on which server wrote them:

- :mod:`.position`: the reader's position (binary, kept hex in the state) and the JSON-safe state shape;
- :mod:`.pairing`: pure pairing of before/after rows (or delete/insert rows) into one update;
- :mod:`.dbapi`: the small DB-API surface the readers use, so tests pass a fake connection;
- :mod:`.stream`: the snapshot-then-stream loop over windows ``(position, upper]``.
"""
