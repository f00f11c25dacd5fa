-- A tenant's standing (ACTIVE, or SUSPENDED: its users cannot log in and its
-- calls are not authorised online, though the CDRs its PBX posts are still
-- taken) and whether a user is disabled (no login, no token, no session).

ALTER TABLE tenants ADD COLUMN status TEXT NOT NULL DEFAULT 'ACTIVE';
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
