-- The call rates' `search` (a case-insensitive substring of the prefix or the
-- description) narrowed by a trigram index: the rates whose text holds every
-- three-character piece of the searched text, checked exactly afterwards.
-- The index follows call_rates through the triggers below.
CREATE VIRTUAL TABLE call_rates_search USING fts5(
    prefix,
    description,
    content = 'call_rates',
    content_rowid = 'id',
    tokenize = 'trigram'
);

INSERT INTO call_rates_search (call_rates_search) VALUES ('rebuild');

CREATE TRIGGER call_rates_search_insert AFTER INSERT ON call_rates
BEGIN
    INSERT INTO call_rates_search (rowid, prefix, description)
    VALUES (new.id, new.prefix, new.description);
END;

CREATE TRIGGER call_rates_search_delete AFTER DELETE ON call_rates
BEGIN
    INSERT INTO call_rates_search (call_rates_search, rowid, prefix, description)
    VALUES ('delete', old.id, old.prefix, old.description);
END;

CREATE TRIGGER call_rates_search_update AFTER UPDATE OF prefix, description ON call_rates
BEGIN
    INSERT INTO call_rates_search (call_rates_search, rowid, prefix, description)
    VALUES ('delete', old.id, old.prefix, old.description);
    INSERT INTO call_rates_search (rowid, prefix, description)
    VALUES (new.id, new.prefix, new.description);
END;
