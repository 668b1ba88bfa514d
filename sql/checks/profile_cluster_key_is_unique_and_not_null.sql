-- profile_cluster_key_is_unique_and_not_null: one profile_cluster row per (author_id, cluster_id), neither null.
select author_id, cluster_id, count(*) as n_rows
from profile_cluster
group by author_id, cluster_id
having count(*) > 1 or author_id is null or cluster_id is null
