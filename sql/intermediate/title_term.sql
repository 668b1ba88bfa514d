-- title_term: one row per (paper, distinct term of its title).
-- paper_id: the paper.
-- term: a lower-cased title token of at least 3 characters with at least one letter,
--   split on anything that is not a letter or digit, English stop words removed.
with
papers as (select paper_id, title from paper where title is not null),
stop_words as (
    select word
    from (
        values
            ('about'), ('above'), ('across'), ('after'), ('again'), ('against'), ('all'),
            ('also'), ('among'), ('and'), ('any'), ('are'), ('around'), ('because'),
            ('been'), ('before'), ('being'), ('below'), ('beyond'), ('both'), ('but'),
            ('can'), ('could'), ('did'), ('does'), ('doing'), ('down'), ('during'),
            ('each'), ('either'), ('ever'), ('every'), ('few'), ('for'), ('from'),
            ('further'), ('had'), ('has'), ('have'), ('having'), ('her'), ('here'),
            ('hers'), ('him'), ('his'), ('how'), ('into'), ('its'), ('itself'), ('just'),
            ('less'), ('many'), ('may'), ('might'), ('more'), ('most'), ('much'), ('must'),
            ('near'), ('nor'), ('not'), ('now'), ('off'), ('once'), ('one'), ('only'),
            ('onto'), ('other'), ('our'), ('ours'), ('out'), ('over'), ('own'), ('per'),
            ('same'), ('shall'), ('she'), ('should'), ('since'), ('some'), ('such'),
            ('than'), ('that'), ('the'), ('their'), ('theirs'), ('them'), ('then'),
            ('there'), ('these'), ('they'), ('this'), ('those'), ('through'), ('thus'),
            ('too'), ('toward'), ('towards'), ('under'), ('until'), ('upon'), ('using'),
            ('very'), ('via'), ('was'), ('were'), ('what'), ('when'), ('where'),
            ('whether'), ('which'), ('while'), ('who'), ('whom'), ('whose'), ('why'),
            ('will'), ('with'), ('within'), ('without'), ('would'), ('yet'), ('you'),
            ('your'), ('yours')
    ) as stop_word_values (word)
),
title_tokens as (
    select paper_id, regexp_split_to_array(lower(title), '[^\p{L}\p{N}]+') as tokens
    from papers
),
tokens as (
    -- each title's tokens made distinct in its own list: no hash of every (paper, term) pair.
    -- A short list keeps each token where it first occurs (a search of the list per token
    -- costs less than building a hash of it); a long one, whose searches would add up to
    -- its length squared, is hashed
    select
        paper_id,
        unnest(
            case
                when len(tokens) <= 64
                    then list_filter(tokens, lambda token, i: list_position(tokens, token) = i)
                else list_distinct(tokens)
            end
        ) as term
    from title_tokens
)
select tokens.paper_id, tokens.term
from tokens
anti join stop_words on stop_words.word = tokens.term
where length(tokens.term) >= 3 and regexp_matches(tokens.term, '\p{L}')
