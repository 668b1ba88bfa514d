-- profile_snapshot_id_is_unique_and_not_null: one profile_snapshot row per non-null snapshot_id.
select snapshot_id, count(*) as n_rows
from profile_snapshot
group by snapshot_id
having count(*) > 1 or snapshot_id is null
