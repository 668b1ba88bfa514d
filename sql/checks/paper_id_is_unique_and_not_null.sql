-- paper_id_is_unique_and_not_null: every paper has one row with a non-null paper_id.
select paper_id, count(*) as n_rows
from paper
group by paper_id
having count(*) > 1 or paper_id is null
