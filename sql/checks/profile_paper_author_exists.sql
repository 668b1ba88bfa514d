-- profile_paper_author_exists: every profile_paper row's author_id (the page owner) is an author.
select child.snapshot_id, child.author_id
from profile_paper as child
anti join author as parent on parent.author_id = child.author_id
