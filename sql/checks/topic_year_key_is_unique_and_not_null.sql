-- topic_year_key_is_unique_and_not_null: one topic_year row per (scheme, topic, year), none of them null.
select scheme, topic, year, count(*) as n_rows
from topic_year
group by scheme, topic, year
having count(*) > 1 or scheme is null or topic is null or year is null
