#!lua flags=allow-oom
-- drain: one batch of drain jobs ("G\n=TAG" or "G\n*") of this table: the
-- candidates the caller read from each job's set (SSCAN) are removed when
-- older than the job's mark G, then each job's cursor moves to the one
-- given ("0": the job and its mark are done). KEYS: drain, cur, dead,
-- all, tags, stats, gstats, then per job its set and per candidate e:KEY
-- and the sets of its tags. ARGV: the number of jobs, then per job: the
-- job, its next cursor, its number of candidates, and per candidate: KEY,
-- its tags "\n"-joined as the caller read them, and the number of its tag
-- sets among KEYS (a tag is its set's key without the prefix P:{T}:t:).
-- A candidate whose stored tags differ (rewritten meanwhile) keeps its
-- job's cursor where it was: the caller reads that page again. Returns
-- {removed, jobs kept back, removed KEYs...}.
-- The writes are gathered and made at the end, a command per key rather
-- than per entry or job: the removed hashes in one DEL, each set's
-- removed members in one SREM, the tag sets left empty found by EXISTS
-- over ranges of them (their tags leave the table's list of tags in one
-- SREM, and their jobs end), the jobs' cursors and marks in one command
-- each. Redis runs the script as one step, so no reader sees the
-- difference (bench/run measurement 4 counts the calls per entry).
local njobs = tonumber(ARGV[1])
local out = {0, 0}
local ki, ai = 8, 2
local removed = {} -- KEY: removed by this call (a KEY can be in several jobs' pages)
local hashes = {} -- the removed entries' e:KEY, for one DEL
local sets, order = {}, {} -- set key: {tagged, members to SREM}; the sets in the order first met
local tag_at = #KEYS[5] - #'tags' + #'t:' + 1 -- where TAG starts in P:{T}:t:TAG
local done, done_marks, done_gens = {}, {}, {} -- the jobs whose walk ended, their marks and Gs
local moved = {} -- job, next cursor, ...: the jobs whose walk goes on
local function srem_later(set, tagged, k)
  local s = sets[set]
  if not s then
    s = {m = {}}
    sets[set] = s
    order[#order + 1] = set
  end
  if tagged then s.tagged = true end
  s.m[#s.m + 1] = k
end
local function in_thousands(cmd, key, list)
  for i = 1, #list, 1000 do
    if key then
      redis.call(cmd, key, unpack(list, i, math.min(i + 999, #list)))
    else
      redis.call(cmd, unpack(list, i, math.min(i + 999, #list)))
    end
  end
end
for _ = 1, njobs do
  local job, cursor, n = ARGV[ai], ARGV[ai + 1], tonumber(ARGV[ai + 2])
  local nl = string.find(job, '\n', 1, true)
  local g = tonumber(string.sub(job, 1, nl - 1))
  local marker = string.sub(job, nl + 2)
  local set, differ = KEYS[ki], 0
  ki, ai = ki + 1, ai + 3
  for _ = 1, n do
    local k, declared, nt = ARGV[ai], ARGV[ai + 1], tonumber(ARGV[ai + 2])
    if removed[k] then
      srem_later(set, nil, k)
    else
      local f = redis.call('HMGET', KEYS[ki], 'seq', 'tags')
      if not f[2] then
        srem_later(set, nil, k)
      elseif (tonumber(f[1]) or 0) < g then
        if f[2] ~= declared then
          differ = differ + 1
        else
          for i = 0, nt - 1 do srem_later(KEYS[ki + 1 + i], true, k) end
          srem_later(KEYS[4], nil, k)
          hashes[#hashes + 1] = KEYS[ki]
          removed[k] = true
          out[1] = out[1] + 1
          out[#out + 1] = k
        end
      end
    end
    ki, ai = ki + 1 + nt, ai + 3
  end
  if differ > 0 then
    out[2] = out[2] + 1
  elseif cursor == '0' then
    done[#done + 1] = job
    done_marks[#done_marks + 1] = marker
    done_gens[#done_gens + 1] = tostring(g)
  else
    moved[#moved + 1] = job
    moved[#moved + 1] = cursor
  end
end
-- the jobs done go with their cursors, and their marks unless a later
-- invalidation replaced them
in_thousands('SREM', KEYS[1], done)
in_thousands('HDEL', KEYS[2], done)
-- a cursor moves only while its job is still queued: another drainer of
-- the table (a second invalidator) may have finished the job meanwhile,
-- and its cursor would be left behind for good (jobs: at most a few
-- hundred a call, one SMISMEMBER)
if #moved > 0 then
  local js, live = {}, {}
  for i = 1, #moved, 2 do js[#js + 1] = moved[i] end
  local queued = redis.call('SMISMEMBER', KEYS[1], unpack(js))
  for i = 1, #js do
    if queued[i] == 1 then
      live[#live + 1] = js[i]
      live[#live + 1] = moved[2 * i]
    end
  end
  in_thousands('HSET', KEYS[2], live)
end
local unmark = {}
for i = 1, #done_marks, 1000 do
  local last = math.min(i + 999, #done_marks)
  local cur = redis.call('HMGET', KEYS[3], unpack(done_marks, i, last))
  for j = i, last do
    if cur[j - i + 1] == done_gens[j] then unmark[#unmark + 1] = done_marks[j] end
  end
end
in_thousands('HDEL', KEYS[3], unmark)
in_thousands('DEL', nil, hashes)
local tagged, lone = {}, {} -- the tag sets this call removed members from: several, one
for _, key in ipairs(order) do
  local s = sets[key]
  in_thousands('SREM', key, s.m)
  if s.tagged then
    if #s.m > 1 then tagged[#tagged + 1] = key else lone[#lone + 1] = key end
  end
end
-- Which of them are left empty (Redis deletes an emptied set): EXISTS
-- counts a range of them in one call, halved until each range is all
-- there or all gone. Most are one file's sets that lost their one
-- member, emptied, so the sets that lost several, likelier to stay, come
-- first (a split in one pass, not a sort): a few calls a round instead of
-- one SCARD per set.
for i = 1, #lone do tagged[#tagged + 1] = lone[i] end
local emptied = {} -- the tags whose sets this call left empty
local function find_emptied(lo, hi)
  local there = redis.call('EXISTS', unpack(tagged, lo, hi))
  if there == hi - lo + 1 then return end
  if there == 0 then
    for i = lo, hi do emptied[#emptied + 1] = string.sub(tagged[i], tag_at) end
    return
  end
  local mid = math.floor((lo + hi) / 2)
  find_emptied(lo, mid)
  find_emptied(mid + 1, hi)
end
for i = 1, #tagged, 1000 do find_emptied(i, math.min(i + 999, #tagged)) end
in_thousands('SREM', KEYS[5], emptied)
-- a tag whose set this call left empty has nothing left to walk: its
-- current job ("G\n=TAG", G its mark in dead) is done now, with its
-- cursor and its mark, exactly as if its walk had ended (no entry carries
-- TAG any more, and one written later has a higher seq). Draining a
-- partition's tag thus ends the jobs of its files' one-member sets
-- without a walk each.
local ended, ended_marks = {}, {}
for i = 1, #emptied, 1000 do
  local last = math.min(i + 999, #emptied)
  local gen = redis.call('HMGET', KEYS[3], unpack(emptied, i, last))
  for j = i, last do
    local gj = gen[j - i + 1]
    if gj then
      ended[#ended + 1] = gj .. '\n=' .. emptied[j]
      ended_marks[#ended_marks + 1] = emptied[j]
    end
  end
end
in_thousands('SREM', KEYS[1], ended)
in_thousands('HDEL', KEYS[2], ended)
in_thousands('HDEL', KEYS[3], ended_marks)
if out[1] > 0 then
  redis.call('HINCRBY', KEYS[6], 'invalidated', out[1])
  redis.call('HINCRBY', KEYS[7], 'invalidated', out[1])
end
return out
