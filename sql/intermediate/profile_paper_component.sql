-- profile_paper_component: one row per (profile owner, distinct paper listed on any of their captured pages).
-- author_id: the profile owner.
-- paper_id: a paper listed on one of the owner's pages.
-- component_paper_id: the smallest paper_id of the paper's component: papers are linked
--   when they share a listed coauthor other than the owner (authorship of those papers).
with recursive
owners as (select distinct author_id from profile_snapshot),
listed as (select distinct author_id, paper_id from profile_paper),
-- authorship holds one row per (paper, author): a build that breaks this fails the check
-- authorship_key_is_unique_and_not_null and is not published (no distinct needed here)
authorships as (select paper_id, author_id from authorship),
owner_papers as (
    select listed.author_id, listed.paper_id
    from listed
    join owners on owners.author_id = listed.author_id
),
-- papers numbered in (owner, paper_id) order, so a component's smallest number is its
-- smallest paper_id, and labels propagate as integers (much cheaper to join than text);
-- owners numbered too, so a coauthor of one owner is grouped on an integer and a text
numbered as materialized (
    select
        author_id,
        paper_id,
        row_number() over (order by author_id, paper_id) as node,
        dense_rank() over (order by author_id) as owner
    from owner_papers
),
coauthor_papers as (
    select numbered.node, numbered.owner, authorships.author_id as coauthor_id
    from numbered
    join authorships
        on authorships.paper_id = numbered.paper_id
        and authorships.author_id <> numbered.author_id
),
-- a coauthor on several of the owner's papers links them: as a star around the smallest of
-- them (the same components as linking every pair, with as many edges as papers); a
-- coauthor on one paper links nothing
hubs as (
    select owner, coauthor_id, min(node) as hub
    from coauthor_papers
    group by owner, coauthor_id
    having count(*) > 1
),
edges as materialized (
    select distinct coauthor_papers.node, hubs.hub
    from coauthor_papers
    join hubs
        on hubs.owner = coauthor_papers.owner
        and hubs.coauthor_id = coauthor_papers.coauthor_id
    where coauthor_papers.node <> hubs.hub
),
arcs as materialized (
    select node as source_node, hub as target_node from edges
    union all
    select hub as source_node, node as target_node from edges
),
-- min-label propagation, as in author_network: papers whose label changed offer it to their
-- neighbours, which take the smallest offer when it is lower than their current label. Only
-- linked papers take part (a paper linked to none is its own component, a quarter of them
-- at 10^5 profiles), and each starts at the smallest of its own and its neighbours' numbers:
-- the first round's result, without a round over every paper
labels (node, label) using key (node) as (
    select source_node as node, least(source_node, min(target_node)) as label
    from arcs
    group by source_node
    union
    select offers.node, offers.label
    from (
        select arcs.target_node as node, min(labels.label) as label
        from labels
        join arcs on arcs.source_node = labels.node
        group by arcs.target_node
    ) as offers
    join recurring.labels as current_label on current_label.node = offers.node
    where offers.label < current_label.label
)
select
    members.author_id,
    members.paper_id,
    roots.paper_id as component_paper_id
from numbered as members
-- a paper without a label is linked to none: its own component
left join labels on labels.node = members.node
join numbered as roots on roots.node = coalesce(labels.label, members.node)
-- in (owner, paper_id) order: profile_cluster groups the rows by owner faster so (at 10^5
-- profiles 1.2-1.3 s against 1.3-1.6 s in the joins' order), and the sort costs less than
-- it saves in writing the table
order by members.node
