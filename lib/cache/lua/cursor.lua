#!lua flags=allow-oom
-- cursor: move cursor KEYS[1] (a JSON string) to ARGV[1] only forward:
-- its place in the table's history is the pair (ARGV[2], ARGV[3]), the
-- snapshot's sequence number then its timestamp, compared with the pair
-- (sequence_number, timestamp_ms) of the stored JSON (a stored cursor
-- without them, or not JSON, is behind everything). Returns 1 moved, 0
-- kept: the stored cursor is at the same place or later (a late or
-- replayed invalidator).
local seq, ts = tonumber(ARGV[2]), tonumber(ARGV[3])
local old = redis.call('GET', KEYS[1])
if old then
  local ok, v = pcall(cjson.decode, old)
  if ok and type(v) == 'table' then
    local os, ot = tonumber(v.sequence_number), tonumber(v.timestamp_ms)
    if os and ot and (os > seq or (os == seq and ot >= ts)) then return 0 end
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
