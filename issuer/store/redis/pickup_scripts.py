"""The Lua scripts of the pickup's store steps (issuer.store.redis.pickup, .ephemeral): one script per step.

Ephemeral values are strings ``expires_at|value`` and counters hashes {count, expires_at}, as the single-value
methods keep them (issuer.store.redis.ephemeral), judged on the caller's ``now``; Redis TTLs only clean up.
"""

from __future__ import annotations

from issuer.store.redis.scripts import _AUDIT, _OPEN

_LIVE = """
local function live(stored, now)
  if not stored then return false end
  local sep = string.find(stored, '|', 1, true)
  if tonumber(string.sub(stored, 1, sep - 1)) <= now then return false end
  return string.sub(stored, sep + 1)
end
"""

_COUNT = """
local function count(key, now, ttl)
  local expires = tonumber(redis.call('HGET', key, 'expires_at'))
  if expires == nil or expires <= now then
    redis.call('HSET', key, 'count', 1, 'expires_at', now + ttl)
    redis.call('EXPIRE', key, ttl)
    return 1
  end
  return redis.call('HINCRBY', key, 'count', 1)
end
"""

# Store.ephemeral_step. KEYS: the counters, the values taken, read, put, added. ARGV: now, how many of each of the
# five, then (ttl, limit) per counter, then (value, ttl) per put and per add.
# -> {counts, 1} limited; {counts, 0, false} a take failed (none taken); {counts, 0, taken, got, added 1/0...}
EPHEMERAL_STEP = _LIVE + _COUNT + """
local now = tonumber(ARGV[1])
local nc, nt, ng, np = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local na = tonumber(ARGV[6])
local a, counts, limited = 7, {}, false
for i = 1, nc do
  counts[i] = count(KEYS[i], now, tonumber(ARGV[a]))
  if counts[i] > tonumber(ARGV[a + 1]) then limited = true end
  a = a + 2
end
if limited then return {counts, 1} end
local taken = {}
for i = nc + 1, nc + nt do
  local value = live(redis.call('GET', KEYS[i]), now)
  if not value then return {counts, 0, false} end
  taken[#taken + 1] = value
end
for i = nc + 1, nc + nt do redis.call('DEL', KEYS[i]) end
local got = {}
for i = nc + nt + 1, nc + nt + ng do got[#got + 1] = live(redis.call('GET', KEYS[i]), now) end
for i = nc + nt + ng + 1, nc + nt + ng + np do
  local ttl = tonumber(ARGV[a + 1])
  redis.call('SET', KEYS[i], (now + ttl) .. '|' .. ARGV[a], 'EX', math.max(ttl, 1))
  a = a + 2
end
local added = {}
for i = nc + nt + ng + np + 1, nc + nt + ng + np + na do
  added[#added + 1] = 0
  if not live(redis.call('GET', KEYS[i]), now) then
    local ttl = tonumber(ARGV[a + 1])
    redis.call('SET', KEYS[i], (now + ttl) .. '|' .. ARGV[a], 'EX', math.max(ttl, 1))
    added[#added] = 1
  end
  a = a + 2
end
return {counts, 0, taken, got, added}
"""

# Store.redeem_offer, in the shard of the offer's district (its record, its PIN counter and the district's audit
# chain are there too: one slot). KEYS: the code index, the PIN attempt counter, the audit head, the audit log,
# then the grants' keys when they live on this server (not on a cluster: issuer.store.redis.pickup). ARGV: the
# shard's prefix, now, the PIN's hash, max attempts, authority code ('' any), the earliest deliverable
# valid_until ('' any), the audit seq and hash chained after, the redeemed entry's hash and JSON, the burned
# entry's hash and JSON, then (value, ttl) per grant.
# -> {'invalid'}; {0, seq, hash} the audit head moved (nothing written); {'exhausted', attempts};
#    {'wrong_pin', attempts, burned 0/1}; {'undeliverable' or 'redeemed', attempts, offer id, offer HGETALL,
#    record HGETALL}. Every check and the head's comes before the first write.
REDEEM_OFFER = _AUDIT + _COUNT + """
local p, now = ARGV[1], tonumber(ARGV[2])
local id = redis.call('GET', KEYS[1])
if not id then return {'invalid'} end
local offer_key = p .. ':offer:' .. id
local state, expires, tx, record_id = unpack(redis.call('HMGET', offer_key, 'state', 'expires_at', 'tx_code_hash',
                                                         'record_id'))
if state ~= 'open' or tonumber(expires) <= now then return {'invalid'} end
local moved = audit_head_moved(p, ARGV[7], ARGV[8])
if moved then return moved end
local attempts = count(KEYS[2], now, math.max(tonumber(expires) - now, 1))
if attempts > tonumber(ARGV[4]) then return {'exhausted', attempts} end
if tx ~= ARGV[3] then  -- keyed hashes: how long the comparison takes says nothing of the PIN
  if attempts >= tonumber(ARGV[4]) then
    redis.call('HSET', offer_key, 'state', 'burned')
    audit_append(p, ARGV[7], ARGV[11], ARGV[12])
    return {'wrong_pin', attempts, 1}
  end
  return {'wrong_pin', attempts, 0}
end
local record = redis.call('HGETALL', p .. ':record:' .. record_id)
local rstate, permit = unpack(redis.call('HMGET', p .. ':record:' .. record_id, 'state', 'permit'))
local ok = rstate == 'active'
if ok then
  local decoded = cjson.decode(permit)
  ok = (ARGV[5] == '' or decoded.authority_code == ARGV[5]) and decoded.valid_until >= ARGV[6]
end
if not ok then return {'undeliverable', attempts, id, redis.call('HGETALL', offer_key), record} end
redis.call('HSET', offer_key, 'state', 'redeemed')
audit_append(p, ARGV[7], ARGV[9], ARGV[10])
local a = 13
for i = 5, #KEYS do
  local ttl = tonumber(ARGV[a + 1])
  redis.call('SET', KEYS[i], (now + ttl) .. '|' .. ARGV[a], 'EX', math.max(ttl, 1))
  a = a + 2
end
return {'redeemed', attempts, id, redis.call('HGETALL', offer_key), record}
"""

# Store.allocate_delivered: ALLOCATE_STATUS_INDEX and ADD_DELIVERED in one script, in the record's shard (the
# list is one of its district's, registered in the global shard before: issuer.store.redis.status). KEYS: list,
# used, record, delivered, the signing key's deliveries (or the record again: no kid), the value to remember (or
# the record again: none). ARGV: list_no, size, fill limit, the record id ('' no kid), the kid, now, the
# remembered value's ttl ('' none), random candidates... -> the index; -1 full; -2 every candidate taken (draw
# again); -3 the record is not active (nothing allocated)
ALLOCATE_DELIVERED = _OPEN + """
if redis.call('HGET', KEYS[3], 'state') ~= 'active' then return -3 end
open(KEYS[1], ARGV[2])
local size = tonumber(redis.call('HGET', KEYS[1], 'size'))
local allocated = tonumber(redis.call('HGET', KEYS[1], 'allocated'))
if allocated >= math.floor(size * tonumber(ARGV[3])) then return -1 end
for k = 8, #ARGV do
  local idx = tonumber(ARGV[k]) % size
  if redis.call('SETBIT', KEYS[2], idx, 1) == 0 then
    redis.call('HINCRBY', KEYS[1], 'allocated', 1)
    local pair = ARGV[1] .. ':' .. string.format('%d', idx)
    redis.call('RPUSH', KEYS[4], pair)
    if ARGV[4] ~= '' then redis.call('SADD', KEYS[5], pair .. ':' .. ARGV[4]) end
    if ARGV[7] ~= '' then
      local now, ttl = tonumber(ARGV[6]), tonumber(ARGV[7])
      local held = cjson.encode({list = tonumber(ARGV[1]), idx = idx, iat = now, kid = ARGV[5]})
      redis.call('SET', KEYS[6], (now + ttl) .. '|' .. held, 'EX', math.max(ttl, 1))
    end
    return idx
  end
end
return -2
"""
