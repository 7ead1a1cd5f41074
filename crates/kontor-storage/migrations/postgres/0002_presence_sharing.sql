-- Whether colleagues may see when a user is online (see the SQLite
-- migration 0008). Off until the user turns it on; when they are online is
-- never stored, only this choice. Changes are logged events, and the tail
-- needs to know which ones, as it knows revocations.
ALTER TABLE users ADD COLUMN share_presence BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE events ADD COLUMN presence_sharing BOOLEAN;
