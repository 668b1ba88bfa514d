-- term_year: one row per (title term, year) with at least one paper: how fast a term is emerging.
-- term: a title term (see title_term).
-- year: publication year (papers without a year are left out).
-- n_papers: papers of that year whose title has the term.
-- first_year: the first year any paper's title has the term.
-- n_papers_before: papers with the term in all preceding years.
-- growth: n_papers / (n_papers_before / (year - first_year)), i.e. against the average
--   per calendar year since the term first appeared; null in that first year (no history).
with
terms as (select paper_id, term from title_term),
papers as (
    select paper_id, published_year as year
    from paper
    where published_year is not null
),
term_counts as (
    -- title_term holds one row per (paper, term): each row is one paper
    select terms.term, papers.year, count(*) as n_papers
    from terms
    join papers on papers.paper_id = terms.paper_id
    group by terms.term, papers.year
),
histories as (
    select
        term,
        year,
        n_papers,
        min(year) over (partition by term) as first_year,
        coalesce(
            sum(n_papers) over (
                partition by term order by year
                rows between unbounded preceding and 1 preceding
            ),
            0
        )::bigint as n_papers_before
    from term_counts
)
select
    term,
    year,
    n_papers,
    first_year,
    n_papers_before,
    case
        when year > first_year then n_papers / (n_papers_before / (year - first_year))
    end::double as growth
from histories
