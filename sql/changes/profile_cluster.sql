-- profile_cluster: the owners whose clusters may differ after a load by changes: the owners
--   profile_paper_component was brought up to date for, and the owners listing a paper
--   whose row the load rewrote (its year or category). An owner's clusters come from their
--   rows of profile_paper_component and those papers' rows alone.
-- key: author_id
-- scope: profile_paper_component.author_id
select author_id from changed_profile_paper_component
union
select profile_paper_component.author_id
from profile_paper_component
semi join changed_paper on changed_paper.paper_id = profile_paper_component.paper_id
