-- snapshot_metrics: one row per profile capture: the h-index family computed from the per-paper counts that the same source showed at that capture, beside what the capture reported.
-- snapshot_id: the capture (profile_snapshot).
-- author_id: the profile's owner.
-- source: the source of the capture.
-- captured_at: when the capture was taken.
-- n_papers_counted: the owner's papers with a citation count from this source.
-- n_citations_counted: sum of those counts; null when none is known.
-- h_index: largest h such that h of those papers have at least h citations; null when no count is known.
-- i10_index: papers with at least 10 citations among them; null when no count is known.
-- h_index_reported: h-index the capture reported; null when it reports none.
-- i10_index_reported: i10-index the capture reported; null when it reports none.
-- n_papers_reported: paper count the capture reported; null when it reports none.
-- is_paper_list_complete: the counted papers cover the reported paper count (computed and reported h-index should then agree); null when no count is reported.
-- is_h_index_consistent: computed equals reported; null when either is unknown.
with
snapshots as (
    select snapshot_id, author_id, source, captured_at, h_index, i10_index, n_papers
    from profile_snapshot
),
-- authorship holds one row per (paper, author): a build that breaks this fails the check
-- authorship_key_is_unique_and_not_null and is not published (no distinct needed here)
authorships as (select paper_id, author_id from authorship),
observations as (select paper_id, source, observed_at, n_citations from paper_citation),
candidate_counts as (
    -- per capture and paper, the same source's observation closest to the capture,
    -- preferring one taken at or before it
    select
        snapshots.snapshot_id,
        observations.paper_id,
        observations.n_citations,
        row_number() over (
            partition by snapshots.snapshot_id, observations.paper_id
            order by
                observations.observed_at > snapshots.captured_at,
                abs(epoch(observations.observed_at) - epoch(snapshots.captured_at)),
                observations.n_citations desc
        ) as preference
    from snapshots
    join authorships on authorships.author_id = snapshots.author_id
    join observations
        on observations.paper_id = authorships.paper_id
        and observations.source = snapshots.source
),
counts as (
    select
        snapshot_id,
        n_citations,
        row_number() over (partition by snapshot_id order by n_citations desc) as citation_rank
    from candidate_counts
    where preference = 1
),
computed as (
    select
        snapshot_id,
        count(*) as n_papers_counted,
        sum(n_citations) as n_citations_counted,
        count(*) filter (where n_citations >= citation_rank) as h_index,
        count(*) filter (where n_citations >= 10) as i10_index
    from counts
    group by snapshot_id
)
select
    snapshots.snapshot_id,
    snapshots.author_id,
    snapshots.source,
    snapshots.captured_at,
    coalesce(computed.n_papers_counted, 0) as n_papers_counted,
    computed.n_citations_counted,
    computed.h_index,
    computed.i10_index,
    snapshots.h_index as h_index_reported,
    snapshots.i10_index as i10_index_reported,
    snapshots.n_papers as n_papers_reported,
    coalesce(computed.n_papers_counted, 0) >= snapshots.n_papers as is_paper_list_complete,
    computed.h_index = snapshots.h_index as is_h_index_consistent
from snapshots
left join computed on computed.snapshot_id = snapshots.snapshot_id
order by snapshots.snapshot_id
