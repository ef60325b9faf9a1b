-- Every order can end: the order channel's progress is recorded so that a step interrupted by a
-- crash (channel created but not stored, summary not posted) is found and finished, and admins
-- are reminded once of a receipt nobody reviewed.
ALTER TABLE orders ADD COLUMN channel_ready_at BIGINT;
ALTER TABLE orders ADD COLUMN channel_attempt_at BIGINT;
ALTER TABLE orders ADD COLUMN review_reminded_at BIGINT;
-- Orders made before this version are taken as settled (their summary was posted then), except
-- an unpaid order that never got its channel: the reconciler finishes that one.
UPDATE orders SET channel_ready_at = updated_at WHERE channel_id IS NOT NULL OR status <> 'awaiting_payment';
