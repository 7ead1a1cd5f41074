-- Whether colleagues may see when a user is online. Off for everyone until
-- they turn it on themselves (GDPR Art. 25(2)); when they are online is
-- never stored, only this choice.
ALTER TABLE users ADD COLUMN share_presence INTEGER NOT NULL DEFAULT 0
    CHECK (share_presence IN (0, 1));
