-- ingest_file_path_is_unique_and_not_null: one ingest_file row per non-null path.
select path, count(*) as n_rows
from ingest_file
group by path
having count(*) > 1 or path is null
