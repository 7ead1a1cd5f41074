-- The sweep looks for uploads no message took, oldest first; this keeps
-- it from scanning every attachment.
CREATE INDEX attachments_unsent ON attachments(created_at) WHERE message_id IS NULL;
