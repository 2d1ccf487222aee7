-- Word timings of a clip, when the provider gave them (Volcengine
-- `with_timestamp`): a JSON array of {"word", "start_ms", "end_ms"}, offsets
-- in the clip. NULL when there are none. The WAV file cannot hold them, so
-- the manifest reads them from here.
ALTER TABLE clips ADD COLUMN words TEXT;
