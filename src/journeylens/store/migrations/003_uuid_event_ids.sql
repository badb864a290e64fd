-- Event ids become UUIDs (16 bytes: the MD5 of the same key as before) instead of 32 hex
-- characters or "source:id" text, which cost more to write than the rest of an event. A
-- source's own id keeps its text in source_event_id. Old ids convert to exactly the ids a load
-- computes now, so reloading an overlapping file after the upgrade still dedupes.
ALTER TABLE events ADD COLUMN source_event_id VARCHAR;
UPDATE events SET source_event_id = substr(event_id, length(source) + 2)
WHERE starts_with(event_id, source || ':');
ALTER TABLE events ALTER event_id TYPE UUID USING CAST(unhex(
    CASE WHEN contains(event_id, ':') THEN md5(event_id) ELSE event_id END) AS UUID);
ALTER TABLE event_identifiers ALTER event_id TYPE UUID USING CAST(unhex(
    CASE WHEN contains(event_id, ':') THEN md5(event_id) ELSE event_id END) AS UUID);
