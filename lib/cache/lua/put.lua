#!lua
-- put: write entry k of this table (replacing one of the same key in it),
-- stamped with the table's sequence number. KEYS: e:KEY, seq, all, tags,
-- stats, gstats, the sets of the nn new tags, then those of the old
-- entry's tags as the caller believes them (ARGV[13], "\n"-joined). When
-- the stored entry has other tags nothing changes and the stored tags
-- are returned: the caller declares those and calls again. count "1": a
-- put, counted; "0": a restore (migrate), which keeps hits and counts
-- nothing. ver (ARGV[14]): the version of an entry over several tables,
-- written in its home entry and in each guard ("" for a one-table
-- entry); home (ARGV[15]): for a guard, the entry's home table (its
-- other fields as an entry's, v empty; see icecache-keys(7)).
-- Returns 1. No flags: refused whole when memory is full.
local k, v, created, expires, size = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ttl_ms, has_origin, origin = tonumber(ARGV[6]), ARGV[7] == '1', ARGV[8]
local tags_joined, hits, counted, nn = ARGV[9], ARGV[10], ARGV[11] == '1', tonumber(ARGV[12])
local declared_old, ver, home = ARGV[13], ARGV[14], ARGV[15]
local first_tag = 16 -- ARGV[16..15+nn]: the new tags; then the old ones
--#include common.lua
local e, tagsk = KEYS[1], KEYS[4]
local stored = redis.call('HGET', e, 'tags')
if stored and stored ~= declared_old then return stored end
if stored then
  local n_old = #ARGV - first_tag + 1 - nn
  unref(tagsk, k, 7 + nn, first_tag + nn, n_old)
  redis.call('DEL', e)
end
local seq = redis.call('INCR', KEYS[2])
redis.call('HSET', e, 'v', v, 'created', created, 'expires', expires,
           'size', size, 'hits', hits, 'tags', tags_joined, 'seq', seq)
if has_origin then redis.call('HSET', e, 'origin', origin) end
if ver ~= '' then redis.call('HSET', e, 'ver', ver) end
if home ~= '' then redis.call('HSET', e, 'home', home) end
redis.call('SADD', KEYS[3], k)
for i = 0, nn - 1 do
  redis.call('SADD', KEYS[7 + i], k)
  redis.call('SADD', tagsk, ARGV[first_tag + i])
end
if ttl_ms > 0 then redis.call('PEXPIRE', e, ttl_ms) end
if counted then
  redis.call('HINCRBY', KEYS[5], 'puts', 1)
  redis.call('HINCRBY', KEYS[6], 'puts', 1)
end
return 1
