-- profile_paper_snapshot_exists: every profile_paper row belongs to a profile_snapshot of the same owner.
select child.snapshot_id, child.author_id, child.paper_id
from profile_paper as child
anti join profile_snapshot as parent
    on parent.snapshot_id = child.snapshot_id and parent.author_id = child.author_id
