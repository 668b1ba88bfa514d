-- profile_paper_component: one row per (profile owner, distinct paper listed on any of their captured pages).
-- author_id: the profile owner.
-- paper_id: a paper listed on one of the owner's pages.
-- component_paper_id: the smallest paper_id of the paper's component: papers are linked
--   when they share a listed coauthor other than the owner (authorship of those papers).
with recursive
owners as (select distinct author_id from profile_snapshot),
listed as (select distinct author_id, paper_id from profile_paper),
authorships as (select distinct paper_id, author_id from authorship),
owner_papers as (
    select listed.author_id, listed.paper_id
    from listed
    join owners on owners.author_id = listed.author_id
),
shared_coauthors as (
    select owner_papers.author_id, owner_papers.paper_id, authorships.author_id as coauthor_id
    from owner_papers
    join authorships
        on authorships.paper_id = owner_papers.paper_id
        and authorships.author_id <> owner_papers.author_id
),
-- a bipartite graph per owner: paper nodes ('0' || paper_id) and coauthor nodes
-- ('1' || author_id); papers sort first, so a component's smallest label is its smallest paper
arcs as materialized (
    select author_id, '0' || paper_id as source_node, '1' || coauthor_id as target_node
    from shared_coauthors
    union all
    select author_id, '1' || coauthor_id as source_node, '0' || paper_id as target_node
    from shared_coauthors
),
nodes as (
    select author_id, '0' || paper_id as node from owner_papers
    union
    select author_id, '1' || coauthor_id as node from shared_coauthors
),
-- min-label propagation, as in author_network: nodes whose label changed offer it to their
-- neighbours, which take the smallest offer when it is lower than their current label
labels (author_id, node, label) using key (author_id, node) as (
    select author_id, node, node as label from nodes
    union
    select offers.author_id, offers.node, offers.label
    from (
        select arcs.author_id, arcs.target_node as node, min(labels.label) as label
        from labels
        join arcs on arcs.author_id = labels.author_id and arcs.source_node = labels.node
        group by arcs.author_id, arcs.target_node
    ) as offers
    join recurring.labels as current_label
        on current_label.author_id = offers.author_id and current_label.node = offers.node
    where offers.label < current_label.label
)
select
    author_id,
    substr(node, 2) as paper_id,
    substr(label, 2) as component_paper_id
from labels
where starts_with(node, '0')
