-- author_metrics_has_one_row_per_author: every author has exactly one author_metrics row and every row is an author.
with
authors as (select author_id from author),
metrics as (select author_id from author_metrics),
metric_counts as (
    select author_id, count(*) as n_rows
    from metrics
    group by author_id
)
select
    coalesce(authors.author_id, metric_counts.author_id) as author_id,
    authors.author_id is not null as is_author,
    coalesce(metric_counts.n_rows, 0) as n_metric_rows
from authors
full join metric_counts on metric_counts.author_id = authors.author_id
where authors.author_id is null or metric_counts.n_rows is distinct from 1
