-- author_metrics_h_index_at_most_n_papers: no author's h_index exceeds their number of papers.
select author_id, h_index, n_papers
from author_metrics
where h_index > n_papers
