-- ingest_file_quarantine_has_reason: every quarantined ingest_file row says why.
select path, status, reason
from ingest_file
where status = 'quarantined' and (reason is null or trim(reason) = '')
