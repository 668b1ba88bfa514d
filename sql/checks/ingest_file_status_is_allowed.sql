-- ingest_file_status_is_allowed: every ingest_file row's status is loaded, duplicate or quarantined.
select path, status
from ingest_file
where status is null or status not in ('loaded', 'duplicate', 'quarantined')
