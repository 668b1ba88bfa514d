-- profile_paper_paper_exists: every profile_paper row's paper_id is a paper.
select child.snapshot_id, child.paper_id
from profile_paper as child
anti join paper as parent on parent.paper_id = child.paper_id
