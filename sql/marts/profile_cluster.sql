-- profile_cluster: one row per (profile owner, cluster of the papers on their pages); papers sharing a listed coauthor other than the owner are linked, clusters are the connected components.
-- author_id: the profile owner.
-- cluster_id: 1..k within the owner, by n_papers descending, then smallest paper_id.
-- n_papers: distinct papers in the cluster (a paper sharing no coauthor is a cluster of 1).
-- dominant_category: the most frequent known category among the cluster's papers
--   (ties: alphabetically first); null when none is known.
-- first_year: earliest publication year in the cluster (null years ignored).
-- last_year: latest publication year in the cluster (null years ignored).
-- paper_ids: the cluster's paper_ids, sorted.
with
components as (
    select author_id, paper_id, component_paper_id
    from profile_paper_component
),
papers as (select paper_id, published_year, category from paper),
members as (
    select
        components.author_id,
        components.component_paper_id,
        components.paper_id,
        papers.published_year,
        papers.category
    from components
    left join papers on papers.paper_id = components.paper_id
),
clusters as (
    select
        author_id,
        component_paper_id,
        count(*) as n_papers,
        min(published_year) as first_year,
        max(published_year) as last_year,
        list(paper_id order by paper_id) as paper_ids
    from members
    group by author_id, component_paper_id
),
category_counts as (
    select author_id, component_paper_id, category, count(*) as n_papers
    from members
    where category is not null
    group by author_id, component_paper_id, category
),
dominant_categories as (
    select author_id, component_paper_id, category as dominant_category
    from category_counts
    qualify row_number() over (
        partition by author_id, component_paper_id order by n_papers desc, category
    ) = 1
)
select
    clusters.author_id,
    row_number() over (
        partition by clusters.author_id
        order by clusters.n_papers desc, clusters.component_paper_id
    ) as cluster_id,
    clusters.n_papers,
    dominant_categories.dominant_category,
    clusters.first_year,
    clusters.last_year,
    clusters.paper_ids
from clusters
left join dominant_categories
    on dominant_categories.author_id = clusters.author_id
    and dominant_categories.component_paper_id = clusters.component_paper_id
