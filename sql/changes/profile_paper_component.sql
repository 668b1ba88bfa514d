-- profile_paper_component: the owners whose rows may differ after a load by changes: an
--   owner whose listed papers are not the ones the table was built from (a paper listed or
--   no longer listed, an owner new or gone), and an owner listing a paper whose authorship
--   the load rewrote. An owner's components come from their listed papers and the
--   authorship of those papers alone.
-- key: author_id
-- scope: profile_snapshot.author_id
with
listed as (
    select distinct profile_paper.author_id, profile_paper.paper_id
    from profile_paper
    semi join profile_snapshot on profile_snapshot.author_id = profile_paper.author_id
),
built as (select author_id, paper_id from profile_paper_component),
listing_changed as (
    (select author_id, paper_id from listed except select author_id, paper_id from built)
    union all
    (select author_id, paper_id from built except select author_id, paper_id from listed)
)
select author_id from listing_changed
union
select listed.author_id
from listed
semi join changed_authorship on changed_authorship.paper_id = listed.paper_id
