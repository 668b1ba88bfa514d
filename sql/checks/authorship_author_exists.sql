-- authorship_author_exists: every authorship row's author_id is an author.
select child.paper_id, child.author_id
from authorship as child
anti join author as parent on parent.author_id = child.author_id
