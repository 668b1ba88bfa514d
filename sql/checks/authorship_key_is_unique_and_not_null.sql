-- authorship_key_is_unique_and_not_null: one authorship row per (paper_id, author_id), neither null.
select paper_id, author_id, count(*) as n_rows
from authorship
group by paper_id, author_id
having count(*) > 1 or paper_id is null or author_id is null
