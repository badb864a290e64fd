-- Where an explicit link came from, so `identity show` can cite the file row that made it.
ALTER TABLE identity_links ADD COLUMN source VARCHAR;
ALTER TABLE identity_links ADD COLUMN source_row BIGINT;
