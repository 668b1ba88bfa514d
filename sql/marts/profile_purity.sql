-- profile_purity: one row per profile owner (every author with a profile_snapshot): how much of their page is one body of work.
-- author_id: the profile owner.
-- n_papers: distinct papers listed over all the owner's captured pages.
-- n_clusters: clusters of those papers (see profile_cluster).
-- largest_cluster_papers: papers in the largest cluster; 0 when no paper is listed.
-- purity: largest_cluster_papers / n_papers (1.0 = one connected body of work);
--   null when no paper is listed.
with
owners as (select distinct author_id from profile_snapshot),
clusters as (select author_id, cluster_id, n_papers from profile_cluster),
per_owner as (
    select
        author_id,
        sum(n_papers) as n_papers,
        count(*) as n_clusters,
        max(n_papers) as largest_cluster_papers
    from clusters
    group by author_id
)
select
    owners.author_id,
    coalesce(per_owner.n_papers, 0)::bigint as n_papers,
    coalesce(per_owner.n_clusters, 0) as n_clusters,
    coalesce(per_owner.largest_cluster_papers, 0) as largest_cluster_papers,
    (per_owner.largest_cluster_papers / per_owner.n_papers)::double as purity
from owners
left join per_owner on per_owner.author_id = owners.author_id
