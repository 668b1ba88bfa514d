-- author_id_is_unique_and_not_null: every author has one row with a non-null author_id.
select author_id, count(*) as n_rows
from author
group by author_id
having count(*) > 1 or author_id is null
