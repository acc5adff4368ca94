#!lua flags=allow-oom
-- upgrade: layout 1 to layout 2 in place, on one server (layout 1 never
-- ran on a cluster). KEYS: P:layout, P:stats (layout 1's global
-- counters), P:{s:0}:gstats. The global counters move into the gstats
-- hash, then the version is written. Entries, tag sets, the index,
-- marks, drain jobs and cursors of layout 1 are already layout 2's.
-- Returns the layout now in force.
local v = redis.call('GET', KEYS[1])
if v then return v end
local f = redis.call('HGETALL', KEYS[2])
for i = 1, #f, 2 do redis.call('HINCRBY', KEYS[3], f[i], tonumber(f[i + 1]) or 0) end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[1], '2')
return '2'
