"""scholarhouse: researcher-profile dumps into a DuckDB analytics warehouse."""

import os

# polars allocates through jemalloc, which by default keeps freed pages for half a second and
# then only marks them reusable (the process still holds them) for a second more; a run frees
# large frames stage after stage, so it would hold far more memory than it uses. Freed pages
# go back after 100 ms here, for a few percent of normalise time. polars appends this to its
# own setting when it loads: set here, before anything imports it.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:100,muzzy_decay_ms:0")
