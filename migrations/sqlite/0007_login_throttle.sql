-- Failed logins counted per account and per client address, so that
-- password guessing is slowed down on every server sharing the database.
-- One row per counter: `subject` is 'account:<hash of domain and user name>'
-- or 'address:<client address>'; the window starts at its first failure
-- (unix milliseconds) and lasts five minutes.

CREATE TABLE login_throttle (
    subject       TEXT    PRIMARY KEY,
    window_start  BIGINT  NOT NULL,
    failures      BIGINT  NOT NULL
);

CREATE INDEX login_throttle_window ON login_throttle (window_start);
