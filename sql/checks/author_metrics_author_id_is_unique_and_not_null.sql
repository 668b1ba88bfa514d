-- author_metrics_author_id_is_unique_and_not_null: one author_metrics row per non-null author_id.
select author_id, count(*) as n_rows
from author_metrics
group by author_id
having count(*) > 1 or author_id is null
