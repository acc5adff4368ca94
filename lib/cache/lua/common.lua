-- common: the functions the scripts that read or remove entries share.
-- A script includes this file with the line "--#include common.lua"
-- (scripts/lua-to-c puts the file there at build time); it is never run
-- alone. Keys are laid out as icecache-keys(7) says (layout 2): every key
-- a script touches is one of its KEYS, all in the slot of one table.

-- Remove entry k from the n tag sets KEYS[ki..] (their tags ARGV[ai..]),
-- and a tag whose set is left empty from the table's list of tags.
local function unref(tagsk, k, ki, ai, n)
  for i = 0, n - 1 do
    local s = KEYS[ki + i]
    if redis.call('SREM', s, k) == 1 and redis.call('SCARD', s) == 0 then
      redis.call('SREM', tagsk, ARGV[ai + i])
    end
  end
end

-- Whether an entry (its seq and tags) is covered by an invalidation mark
-- in the hash dead not yet drained: the whole table's ("") or one of its
-- tags'.
local function is_dead(dead, seq, tl)
  if redis.call('EXISTS', dead) == 0 then return false end
  local s = tonumber(seq) or 0
  local d = redis.call('HGET', dead, '')
  if d and tonumber(d) > s then return true end
  for ot in string.gmatch(tl, '[^\n]+') do
    d = redis.call('HGET', dead, ot)
    if d and tonumber(d) > s then return true end
  end
  return false
end
