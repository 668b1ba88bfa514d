-- author_metrics: one row per author (every row of `author`, including authors with no papers).
-- author_id: the author's stable key.
-- n_papers: distinct papers the author is listed on, with or without a citation count.
-- n_papers_cited: of those, papers with a known citation count (the base of h, g and i10).
-- n_citations: sum of the known citation counts; null when no count is known.
-- h_index: largest h such that h of the author's papers have at least h citations each;
--   0 when all known counts are 0; null when no count is known.
-- g_index: largest g such that the top g papers together have at least g*g citations,
--   capped at the number of papers with a known count; null when no count is known.
-- i10_index: papers with at least 10 citations; null when no count is known.
-- first_year: year of the author's first paper (all papers, null years ignored).
-- last_year: year of the author's latest paper (all papers, null years ignored).
-- reference_year: the year m_quotient counts to: the latest profile capture in the
--   warehouse, or the latest publication year when there is no capture (never the clock).
-- m_quotient: h_index / (reference_year - first_year + 1); null when h_index or
--   first_year is null or the first paper is later than the reference year.
-- n_coauthors: distinct other authors sharing at least one paper with the author.
-- h_index_reported: h-index of the author's latest profile capture that reports one.
-- h_index_reported_at: when that capture was taken.
-- h_index_diff: h_index_reported - h_index (positive: the profile claims more).
with
authors as (select author_id from author),
-- authorship holds one row per (paper, author): a build that breaks this fails the check
-- authorship_key_is_unique_and_not_null and is not published (no distinct needed here)
authorships as (select paper_id, author_id from authorship),
papers as (select paper_id, published_year, n_citations from paper),
snapshots as (
    select snapshot_id, author_id, captured_at, h_index
    from profile_snapshot
),
edges as (select author_id_a, author_id_b from coauthor_edge),
reference as (
    select coalesce(
        (select max(year(captured_at)) from snapshots),
        (select max(published_year) from papers)
    ) as reference_year
),
author_papers as (
    select authorships.author_id, papers.paper_id, papers.published_year, papers.n_citations
    from authorships
    join papers on papers.paper_id = authorships.paper_id
),
ranked as (
    select
        author_id,
        n_citations,
        row_number() over (
            partition by author_id order by n_citations desc
        ) as citation_rank,
        sum(n_citations) over (
            partition by author_id order by n_citations desc
            rows between unbounded preceding and current row
        ) as cumulative_citations
    from author_papers
    where n_citations is not null
),
citation_indices as (
    -- counts are sorted descending, so both conditions hold on a prefix of the ranks
    select
        author_id,
        count(*) as n_papers_cited,
        sum(n_citations) as n_citations,
        count(*) filter (where n_citations >= citation_rank) as h_index,
        count(*) filter (where cumulative_citations >= citation_rank * citation_rank)
            as g_index,
        count(*) filter (where n_citations >= 10) as i10_index
    from ranked
    group by author_id
),
paper_counts as (
    select
        author_id,
        count(*) as n_papers,  -- one row per (author, paper): see authorships
        min(published_year) as first_year,
        max(published_year) as last_year
    from author_papers
    group by author_id
),
coauthor_counts as (
    select author_id, count(*) as n_coauthors
    from (
        select author_id_a as author_id from edges
        union all
        select author_id_b as author_id from edges
    )
    group by author_id
),
latest_reported as (
    select
        author_id,
        h_index as h_index_reported,
        captured_at as h_index_reported_at
    from snapshots
    where h_index is not null
    qualify row_number() over (
        partition by author_id order by captured_at desc, snapshot_id desc
    ) = 1
)
select
    authors.author_id,
    coalesce(paper_counts.n_papers, 0) as n_papers,
    coalesce(citation_indices.n_papers_cited, 0) as n_papers_cited,
    citation_indices.n_citations::bigint as n_citations,
    citation_indices.h_index,
    citation_indices.g_index,
    citation_indices.i10_index,
    paper_counts.first_year,
    paper_counts.last_year,
    reference.reference_year,
    case
        when reference.reference_year >= paper_counts.first_year
            then citation_indices.h_index / (reference.reference_year - paper_counts.first_year + 1)
    end::double as m_quotient,
    coalesce(coauthor_counts.n_coauthors, 0) as n_coauthors,
    latest_reported.h_index_reported,
    latest_reported.h_index_reported_at,
    latest_reported.h_index_reported - citation_indices.h_index as h_index_diff
from authors
cross join reference
left join paper_counts on paper_counts.author_id = authors.author_id
left join citation_indices on citation_indices.author_id = authors.author_id
left join coauthor_counts on coauthor_counts.author_id = authors.author_id
left join latest_reported on latest_reported.author_id = authors.author_id
