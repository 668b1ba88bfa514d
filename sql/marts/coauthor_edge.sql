-- coauthor_edge: one row per unordered pair of authors with at least one joint paper.
-- author_id_a: the pair's smaller author_id (author_id_a < author_id_b).
-- author_id_b: the pair's larger author_id.
-- n_papers: joint papers of the pair (full counting: each joint paper counts 1).
-- first_year: earliest publication year of a joint paper (null years ignored).
-- last_year: latest publication year of a joint paper (null years ignored).
-- weight: sum over joint papers of 1 / (n - 1), n = the paper's known author count
--   (its authorship rows, inferred ones included); a two-author paper adds 1. Summed
--   exactly, in units of 10^-18, so the same joint papers give the same weight in every
--   build, whatever order they are summed in.
-- is_weight_upper_bound: true when any joint paper's author list is truncated ("et al."):
--   the real author count is then larger, so the true weight is smaller than `weight`.
with
-- authorship holds one row per (paper, author): a build that breaks this fails the check
-- authorship_key_is_unique_and_not_null and is not published (no distinct needed here)
authorships as (select paper_id, author_id from authorship),
papers as (select paper_id, published_year, is_author_list_truncated from paper),
paper_sizes as (
    select paper_id, count(*) as n_authors
    from authorships
    group by paper_id
),
pairs as (
    select a.author_id as author_id_a, b.author_id as author_id_b, a.paper_id
    from authorships as a
    join authorships as b on b.paper_id = a.paper_id and a.author_id < b.author_id
)
select
    pairs.author_id_a,
    pairs.author_id_b,
    count(*) as n_papers,
    min(papers.published_year) as first_year,
    max(papers.published_year) as last_year,
    -- each 1 / (n - 1) rounded to the nearest unit of 10^-18: integers add up exactly (doubles
    -- summed in parallel gave another last digit from one build to the next)
    sum(
        (1000000000000000000 + (paper_sizes.n_authors - 1) // 2) // (paper_sizes.n_authors - 1)
    )::double / 1e18 as weight,
    coalesce(bool_or(papers.is_author_list_truncated), false) as is_weight_upper_bound
from pairs
join paper_sizes on paper_sizes.paper_id = pairs.paper_id
left join papers on papers.paper_id = pairs.paper_id
group by pairs.author_id_a, pairs.author_id_b
