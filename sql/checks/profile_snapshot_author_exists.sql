-- profile_snapshot_author_exists: every profile_snapshot's author_id is an author.
select child.snapshot_id, child.author_id
from profile_snapshot as child
anti join author as parent on parent.author_id = child.author_id
