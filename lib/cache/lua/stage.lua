#!lua flags=allow-oom
-- stage: one part of an invalidation of this table, invisible to readers
-- until publish.lua makes every part visible at once (see "Invalidation
-- in three steps" in redis.c). For each tag of ARGV[4..] whose set exists
-- (whole "1": the table's set of all entries instead) the mark
-- stage[TAG] = G (stage[""] for the whole table) and the drain job
-- "G\n=TAG" ("G\n*") in jobs, written in bulk. A caller stages a few
-- hundred tags a call, so no call holds Redis long whatever the commit's
-- size. KEYS: stage (P:{T}:stage:G), jobs (P:{T}:jobs:G), then the sets
-- (t:TAG one per tag, or all). ARGV: G (taken from P:{T}:seq), the time
-- the staged keys may wait for their publish (ms), whole, the tags.
-- Returns the number of marks added (a tag named twice counts once).
local g, ttl_ms, whole = ARGV[1], ARGV[2], ARGV[3] == '1'
local first_tag = 4 -- ARGV[4..]: the tags, one each, their sets KEYS[3..]
local added = 0
local jobs, marks = {}, {}
local function flush()
  if #jobs > 0 then
    added = added + redis.call('HSET', KEYS[1], unpack(marks))
    redis.call('SADD', KEYS[2], unpack(jobs))
    jobs, marks = {}, {}
  end
end
local function stage(set, job, marker)
  if redis.call('EXISTS', set) == 1 then
    jobs[#jobs + 1] = g .. '\n' .. job
    marks[#marks + 1] = marker
    marks[#marks + 1] = g
    if #jobs == 1000 then flush() end
  end
end
if whole then
  stage(KEYS[3], '*', '')
else
  for i = first_tag, #ARGV do stage(KEYS[i - 1], '=' .. ARGV[i], ARGV[i]) end
end
flush()
if added > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl_ms)
  redis.call('PEXPIRE', KEYS[2], ttl_ms)
end
return added
