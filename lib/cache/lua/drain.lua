#!lua flags=allow-oom
-- drain: one batch of drain jobs ("G\n=TAG" or "G\n*") of this table: the
-- candidates the caller read from each job's set (SSCAN) are removed when
-- older than the job's mark G, then each job's cursor moves to the one
-- given ("0": the job and its mark are done). KEYS: drain, cur, dead,
-- all, tags, stats, gstats, then per job its set and per candidate e:KEY
-- and the sets of its tags. ARGV: the number of jobs, then per job: the
-- job, its next cursor, its number of candidates, and per candidate: KEY,
-- its tags "\n"-joined as the caller read them, their number, the tags.
-- A candidate whose stored tags differ (rewritten meanwhile) keeps its
-- job's cursor where it was: the caller reads that page again. Returns
-- {removed, jobs kept back, removed KEYs...}.
local njobs = tonumber(ARGV[1])
--#include common.lua
local out = {0, 0}
local ki, ai = 8, 2
for _ = 1, njobs do
  local job, cursor, n = ARGV[ai], ARGV[ai + 1], tonumber(ARGV[ai + 2])
  local nl = string.find(job, '\n', 1, true)
  local g = tonumber(string.sub(job, 1, nl - 1))
  local marker = string.sub(job, nl + 2)
  local set, differ = KEYS[ki], 0
  ki, ai = ki + 1, ai + 3
  for _ = 1, n do
    local k, declared, nt = ARGV[ai], ARGV[ai + 1], tonumber(ARGV[ai + 2])
    local f = redis.call('HMGET', KEYS[ki], 'seq', 'tags')
    if not f[2] then
      redis.call('SREM', set, k)
    elseif (tonumber(f[1]) or 0) < g then
      if f[2] ~= declared then
        differ = differ + 1
      else
        unref(KEYS[5], k, ki + 1, ai + 3, nt)
        redis.call('SREM', KEYS[4], k)
        redis.call('DEL', KEYS[ki])
        out[1] = out[1] + 1
        out[#out + 1] = k
      end
    end
    ki, ai = ki + 1 + nt, ai + 3 + nt
  end
  if differ > 0 then
    out[2] = out[2] + 1
  elseif cursor == '0' then
    redis.call('SREM', KEYS[1], job)
    redis.call('HDEL', KEYS[2], job)
    if redis.call('HGET', KEYS[3], marker) == tostring(g) then
      redis.call('HDEL', KEYS[3], marker)
    end
  else
    redis.call('HSET', KEYS[2], job, cursor)
  end
end
if out[1] > 0 then
  redis.call('HINCRBY', KEYS[6], 'invalidated', out[1])
  redis.call('HINCRBY', KEYS[7], 'invalidated', out[1])
end
return out
