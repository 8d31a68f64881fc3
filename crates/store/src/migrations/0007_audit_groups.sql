-- Filtering by a group of actions (`workspace.*`) walks its own index instead
-- of matching a LIKE pattern, which PostgreSQL can't index under most
-- collations. The group is the action's first segment; every action has one
-- dot and a lower-case suffix, so trimming the suffix and then the dot leaves it.
ALTER TABLE audit_events ADD COLUMN action_group TEXT NOT NULL DEFAULT '';
UPDATE audit_events SET action_group = rtrim(rtrim(action, 'abcdefghijklmnopqrstuvwxyz_'), '.');
CREATE INDEX audit_events_org_group ON audit_events (org_id, action_group, seq);

-- Date filters become a range of sequence numbers (times never go backwards
-- within an organization's trail), found at the ends of this index.
DROP INDEX audit_events_org_time;
CREATE INDEX audit_events_org_time ON audit_events (org_id, occurred_at, seq)
