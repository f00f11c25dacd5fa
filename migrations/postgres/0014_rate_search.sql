-- The call rates' `search` (a case-insensitive substring of the prefix or the
-- description, `LOWER(col) LIKE '%text%'`) answered from trigram indexes.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX call_rates_prefix_trgm ON call_rates USING gin (LOWER(prefix) gin_trgm_ops);
CREATE INDEX call_rates_description_trgm ON call_rates USING gin (LOWER(description) gin_trgm_ops);
