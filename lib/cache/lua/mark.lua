#!lua flags=allow-oom
-- mark: the atomic step of an invalidation of table t (see "Invalidation
-- in two steps" in redis.c): only a mark and a drain job per tag whose set
-- exists (whole "1": the table's set of all entries instead), written in
-- bulk, 1000 tags a call; no key is renamed or read. count_global "1"
-- counts a global invalidation; explicit "1" counts one for the table
-- even when nothing was marked. Returns the number of sets marked.
local p, t = ARGV[1], ARGV[2]
local count_global, explicit, whole = ARGV[3] == '1', ARGV[4] == '1', ARGV[5] == '1'
local first_tag = 6 -- ARGV[6] on: the tags, one each
local pre = p .. ':{' .. t .. '}:'
local g = redis.call('INCR', pre .. 'seq')
local marked = 0
local jobs, dead = {}, {}
local function flush()
  if #jobs > 0 then
    redis.call('SADD', pre .. 'drain', unpack(jobs))
    redis.call('HSET', pre .. 'dead', unpack(dead))
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
  mark(pre .. 'all', '*', '')
else
  for i = first_tag, #ARGV do mark(pre .. 't:' .. ARGV[i], '=' .. ARGV[i], ARGV[i]) end
end
flush()
if marked > 0 or explicit then
  redis.call('HINCRBY', pre .. 'stats', 'invalidations', 1)
end
if count_global then redis.call('HINCRBY', p .. ':stats', 'invalidations', 1) end
return marked
