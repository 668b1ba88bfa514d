-- authorship_paper_exists: every authorship row's paper_id is a paper.
select child.paper_id, child.author_id
from authorship as child
anti join paper as parent on parent.paper_id = child.paper_id
