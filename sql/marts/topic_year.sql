-- topic_year: one row per (topic scheme, topic, year) with at least one paper; papers without a year are left out.
-- scheme: the topic scheme (`arxiv`, later `openalex_topic`, `s2_field`).
-- topic: the topic within the scheme.
-- year: publication year.
-- n_papers: distinct papers of the topic published that year.
-- n_scheme_papers: distinct papers with any topic of the scheme published that year.
-- share: n_papers / n_scheme_papers; a paper with two topics of one scheme counts in
--   both, so the shares of a (scheme, year) can add up to more than 1.
-- n_papers_prev_year: the topic's papers the year before; 0 when the scheme has papers
--   that year but not of this topic; null when the scheme has none that year.
-- change_from_prev_year: n_papers - n_papers_prev_year; null when that is null.
with
topics as (select distinct paper_id, scheme, topic from paper_topic),
papers as (
    select paper_id, published_year as year
    from paper
    where published_year is not null
),
paper_topics as (
    select topics.scheme, topics.topic, papers.year, topics.paper_id
    from topics
    join papers on papers.paper_id = topics.paper_id
),
topic_counts as (
    select scheme, topic, year, count(distinct paper_id) as n_papers
    from paper_topics
    group by scheme, topic, year
),
scheme_counts as (
    select scheme, year, count(distinct paper_id) as n_scheme_papers
    from paper_topics
    group by scheme, year
),
with_previous as (
    select
        topic_counts.scheme,
        topic_counts.topic,
        topic_counts.year,
        topic_counts.n_papers,
        scheme_counts.n_scheme_papers,
        case
            when previous_scheme.scheme is not null then coalesce(previous_topic.n_papers, 0)
        end as n_papers_prev_year
    from topic_counts
    join scheme_counts
        on scheme_counts.scheme = topic_counts.scheme and scheme_counts.year = topic_counts.year
    left join scheme_counts as previous_scheme
        on previous_scheme.scheme = topic_counts.scheme
        and previous_scheme.year = topic_counts.year - 1
    left join topic_counts as previous_topic
        on previous_topic.scheme = topic_counts.scheme
        and previous_topic.topic = topic_counts.topic
        and previous_topic.year = topic_counts.year - 1
)
select
    scheme,
    topic,
    year,
    n_papers,
    n_scheme_papers,
    (n_papers / n_scheme_papers)::double as share,
    n_papers_prev_year,
    n_papers - n_papers_prev_year as change_from_prev_year
from with_previous
