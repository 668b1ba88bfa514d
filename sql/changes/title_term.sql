-- title_term: the papers whose terms may differ after a load by changes: every paper whose
--   row the load rewrote (added, changed or gone); a paper's terms come from its own title.
-- key: paper_id
-- scope: paper.paper_id
select paper_id from changed_paper
