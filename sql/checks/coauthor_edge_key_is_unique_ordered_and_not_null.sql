-- coauthor_edge_key_is_unique_ordered_and_not_null: one coauthor_edge row per pair, author_id_a < author_id_b, neither null.
select author_id_a, author_id_b, count(*) as n_rows
from coauthor_edge
group by author_id_a, author_id_b
having
    count(*) > 1
    or author_id_a is null
    or author_id_b is null
    or not (author_id_a < author_id_b)
