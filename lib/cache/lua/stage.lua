#!lua flags=allow-oom
-- stage: one part of an invalidation of this table, invisible to readers
-- until publish.lua makes every part visible at once (see "Invalidation
-- in three steps" in redis.c). For each tag of ARGV[4..] listed in the
-- table's set of tags (every tag whose set is not empty is; whole "1":
-- the table, when its set of all entries exists) the mark stage[TAG] = G
-- (stage[""] for the whole table) and the drain job "G\n=TAG" ("G\n*")
-- in jobs, written in bulk. The tags are looked up in bulk too
-- (SMISMEMBER), not a call per tag. A caller stages a few hundred tags a
-- call (at most a thousand: unpack takes up to 8,000 values), so no call
-- holds Redis long whatever the commit's size. KEYS:
-- stage (P:{T}:stage:G), jobs (P:{T}:jobs:G), then tags (P:{T}:tags; all
-- when whole). ARGV: G (taken from P:{T}:seq), the time the staged keys
-- may wait for their publish (ms), whole, the tags. Returns the number
-- of marks added (a tag named twice counts once).
local g, ttl_ms, whole = ARGV[1], ARGV[2], ARGV[3] == '1'
local first_tag = 4 -- ARGV[4..]: the tags
local added = 0
local jobs, marks = {}, {}
local function stage(job, marker)
  jobs[#jobs + 1] = job
  marks[#marks + 1] = marker
  marks[#marks + 1] = g
end
if whole then
  if redis.call('EXISTS', KEYS[3]) == 1 then stage(g .. '\n*', '') end
elseif #ARGV >= first_tag then
  local listed = redis.call('SMISMEMBER', KEYS[3], unpack(ARGV, first_tag))
  for i = 1, #listed do
    if listed[i] == 1 then
      local tag = ARGV[first_tag + i - 1]
      stage(g .. '\n=' .. tag, tag)
    end
  end
end
if #jobs > 0 then
  added = redis.call('HSET', KEYS[1], unpack(marks))
  redis.call('SADD', KEYS[2], unpack(jobs))
  redis.call('PEXPIRE', KEYS[1], ttl_ms)
  redis.call('PEXPIRE', KEYS[2], ttl_ms)
end
return added
