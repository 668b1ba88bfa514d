-- author_metrics_g_index_at_least_h_index: g_index >= h_index, and both are null together.
select author_id, h_index, g_index
from author_metrics
where g_index < h_index or (g_index is null) <> (h_index is null)
