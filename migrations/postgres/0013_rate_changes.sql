-- Which rate each single-rate change of a tariff touched, by the tariff's
-- rates version it made: a server whose rate table is a few versions behind
-- re-reads only those rates instead of rebuilding the whole table. A change
-- of many rates at once (an import, a tariff-wide value) writes no row and
-- removes the tariff's rows: a table behind it is built afresh. rate_id NULL
-- stands for a change of the tariff's name or currency only.
CREATE TABLE rate_changes (
    tariff_id  BIGINT NOT NULL REFERENCES tariffs (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    rate_id    BIGINT,
    PRIMARY KEY (tariff_id, version)
);
