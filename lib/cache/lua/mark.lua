#!lua flags=allow-oom
-- mark: the atomic step of an invalidation of this table (see
-- "Invalidation in two steps" in redis.c): only a mark and a drain job per
-- tag whose set exists (whole "1": the table's set of all entries
-- instead), written in bulk, 1000 tags a call. KEYS: seq, drain, dead,
-- stats, gstats, then the sets (t:TAG one per tag of ARGV[4..], or all).
-- count_global "1" counts the invalidation in gstats (the first table of
-- a call); explicit "1" counts one for the table even when nothing was
-- marked. Returns the number of sets marked.
local count_global, explicit, whole = ARGV[1] == '1', ARGV[2] == '1', ARGV[3] == '1'
local first_tag = 4 -- ARGV[4..]: the tags, one each, their sets KEYS[6..]
local g = redis.call('INCR', KEYS[1])
local marked = 0
local jobs, dead = {}, {}
local function flush()
  if #jobs > 0 then
    redis.call('SADD', KEYS[2], unpack(jobs))
    redis.call('HSET', KEYS[3], unpack(dead))
    jobs, dead = {}, {}
  end
end
local function mark(set, job, marker)
  if redis.call('EXISTS', set) == 1 then
    jobs[#jobs + 1] = g .. '\n' .. job
    dead[#dead + 1] = marker
    dead[#dead + 1] = g
    marked = marked + 1
    if #jobs == 1000 then flush() end
  end
end
if whole then
  mark(KEYS[6], '*', '')
else
  for i = first_tag, #ARGV do mark(KEYS[i + 2], '=' .. ARGV[i], ARGV[i]) end
end
flush()
if marked > 0 or explicit then
  redis.call('HINCRBY', KEYS[4], 'invalidations', 1)
end
if count_global then redis.call('HINCRBY', KEYS[5], 'invalidations', 1) end
return marked
