#!lua flags=allow-oom
-- publish: the atomic step of an invalidation of this table: the marks
-- staged under generation G (stage.lua) become the table's marks in one
-- O(1) step, by renaming P:{T}:stage:G to dead and P:{T}:jobs:G to drain
-- (see "Invalidation in three steps" in redis.c). That needs dead and
-- drain gone, i.e. every earlier invalidation of the table drained: when
-- they are not, nothing changes and 0 is returned (the caller drains and
-- calls again), unless merge is "1": then the staged marks are added to
-- dead (the higher generation of a tag wins) and the jobs to drain, in
-- time proportional to them. KEYS: dead, drain, stage, jobs, stats,
-- gstats. ARGV: count_global ("1": count the invalidation in gstats, the
-- first table of a call), explicit ("1": count one for the table even
-- when nothing was staged), the number of marks staged, merge. Returns 1
-- (published), 0 (busy) or -1 (the staged keys are not all there:
-- expired, or lost with a master that failed over; stage again).
local count_global, explicit = ARGV[1] == '1', ARGV[2] == '1'
local staged, merge = tonumber(ARGV[3]), ARGV[4] == '1'
local dead, drain, stage, jobs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if staged > 0 then
  if redis.call('HLEN', stage) ~= staged or redis.call('SCARD', jobs) ~= staged then
    return -1
  end
  if redis.call('EXISTS', dead) == 0 and redis.call('EXISTS', drain) == 0 then
    redis.call('RENAME', stage, dead)
    redis.call('PERSIST', dead)
    redis.call('RENAME', jobs, drain)
    redis.call('PERSIST', drain)
  elseif merge then
    local f = redis.call('HGETALL', stage)
    for i = 1, #f, 2 do
      local d = redis.call('HGET', dead, f[i])
      if not d or tonumber(d) < tonumber(f[i + 1]) then redis.call('HSET', dead, f[i], f[i + 1]) end
    end
    redis.call('SUNIONSTORE', drain, drain, jobs)
    redis.call('DEL', stage, jobs)
  else
    return 0
  end
end
if staged > 0 or explicit then
  redis.call('HINCRBY', KEYS[5], 'invalidations', 1)
end
if count_global then redis.call('HINCRBY', KEYS[6], 'invalidations', 1) end
return 1
