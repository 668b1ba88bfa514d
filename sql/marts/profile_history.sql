-- profile_history: one row per captured profile (author_id, source, captured_at; snapshot_id breaks ties) with the change since the previous capture of the same author and source.
-- author_id: the profile owner.
-- source: where the profile was captured.
-- captured_at: when it was captured.
-- snapshot_id: the capture's key in profile_snapshot.
-- h_index: h-index as reported by the profile (null when the dump lacks it).
-- i10_index: i10-index as reported.
-- n_papers: number of papers as reported.
-- n_citations: total citations as reported.
-- novelty_pct: novelty percentage as reported.
-- ai_score: AI score as reported.
-- previous_captured_at: the previous capture of the same author and source; null for the first.
-- h_index_change: h_index minus the previous capture's; null when either is null.
-- i10_index_change: i10_index minus the previous capture's.
-- n_papers_change: n_papers minus the previous capture's.
-- n_citations_change: n_citations minus the previous capture's.
-- novelty_pct_change: novelty_pct minus the previous capture's.
-- ai_score_change: ai_score minus the previous capture's.
with
snapshots as (
    select
        snapshot_id,
        author_id,
        source,
        captured_at,
        h_index,
        i10_index,
        n_papers,
        n_citations,
        novelty_pct,
        ai_score
    from profile_snapshot
)
select
    author_id,
    source,
    captured_at,
    snapshot_id,
    h_index,
    i10_index,
    n_papers,
    n_citations,
    novelty_pct,
    ai_score,
    lag(captured_at) over captures as previous_captured_at,
    h_index - lag(h_index) over captures as h_index_change,
    i10_index - lag(i10_index) over captures as i10_index_change,
    n_papers - lag(n_papers) over captures as n_papers_change,
    n_citations - lag(n_citations) over captures as n_citations_change,
    novelty_pct - lag(novelty_pct) over captures as novelty_pct_change,
    ai_score - lag(ai_score) over captures as ai_score_change
from snapshots
window captures as (partition by author_id, source order by captured_at, snapshot_id)
