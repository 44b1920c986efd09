"""The Lua scripts of issuer.redis_store: every read-modify-write is one script, so it is atomic.

A script runs to the end before Redis serves anyone else, and with ``appendfsync always`` its writes are in
the AOF (fsynced) before the reply leaves the server. Every key a script touches is in one shard (one hash
tag: the global shard or one district's, issuer.store.redis.client), so the keys a script builds from
``prefix`` (the shard's, ARGV[1] where used) live in the declared keys' slot and the scripts run on Redis
Cluster. A step over several shards (a record's global index, then the record) is several scripts, each
idempotent, run in an order that leaves nothing a reader would miss. Status bits are BITFIELD ``u2`` entries at ``#idx`` (MSB-first in
each byte: issuer.redis_store converts with credential.statuslist.msb_to_lsb).
"""

from __future__ import annotations

# The audit chain inside a script that also changes something: the change and its entry are one script, so
# they are applied together or not at all (a crash lands before or after the script, never between). The
# caller chains the entry after the head it last saw (Redis Lua has no SHA-256); if the head moved, the script
# writes nothing and answers {0, seq, hash}: the caller chains after that head and runs the script again.
# Every check comes before the first write: Redis does not undo a script's writes when it fails half way.
_INDEX_ENTRY = """
-- The per-record index of the audit log: prefix .. ':audit_of:' .. record id, a sorted set of seqs (member and
-- score), so that a record's history is read without scanning the log (Store.audit_of_record).
local function index_entry(prefix, n, entry)
  local record_id = cjson.decode(entry)[5]  -- the stored entry is an array (issuer.store.redis.audit.audit_json)
  if type(record_id) == 'string' then redis.call('ZADD', prefix .. ':audit_of:' .. record_id, n, n) end
end
"""
_AUDIT = _INDEX_ENTRY + """
-- The keys: prefix .. ':audit:head' (a hash {seq, hash}) and prefix .. ':audit' (the log, a list: entry seq n at
-- index n - 1; a list costs a few bytes an entry where a sorted set costs ~100).
local function audit_head_moved(prefix, seq, hash)
  -- A key of the wrong type would fail the append after the change was written: refuse before any write.
  local log_type = redis.call('TYPE', prefix .. ':audit')['ok']
  local head_type = redis.call('TYPE', prefix .. ':audit:head')['ok']
  if (log_type ~= 'list' and log_type ~= 'none') or (head_type ~= 'hash' and head_type ~= 'none') then
    return redis.error_reply('WRONGTYPE the audit chain keys hold the wrong kind of value')
  end
  local head = redis.call('HMGET', prefix .. ':audit:head', 'seq', 'hash')
  local at, last = tonumber(head[1] or '0'), head[2] or ''
  if at ~= tonumber(seq) or last ~= hash then return {0, tostring(at), last} end
  return nil
end
local function audit_append(prefix, seq, new_hash, entry)
  local n = tonumber(seq) + 1
  redis.call('HSET', prefix .. ':audit:head', 'seq', n, 'hash', new_hash)
  redis.call('RPUSH', prefix .. ':audit', entry)
  index_entry(prefix, n, entry)
end
"""

# The global shard's indexes, claimed before a district's shard is written (an idempotent step: a crash after it
# leaves an index entry that names nothing, which every reader skips). KEYS: record -> district, the districts,
# offer -> district, code -> district. ARGV: global prefix, JSON {"records": [[id, district, holder hash]...],
# "offers": [[offer id, district, code hash]...]}. -> 1 claimed, -1 an id or code is another district's.
CLAIM = """
local batch = cjson.decode(ARGV[2])
for _, r in ipairs(batch.records) do
  local at = redis.call('HGET', KEYS[1], r[1])
  if at and at ~= r[2] then return -1 end
end
for _, o in ipairs(batch.offers) do
  local at = redis.call('HGET', KEYS[3], o[1]) or redis.call('HGET', KEYS[4], o[3])
  if at and at ~= o[2] then return -1 end
end
for _, r in ipairs(batch.records) do
  redis.call('HSET', KEYS[1], r[1], r[2])
  if r[2] ~= '' then redis.call('SADD', KEYS[2], r[2]) end
  local holder = ARGV[1] .. ':holder:' .. r[3]
  if not redis.call('LPOS', holder, r[1]) then redis.call('RPUSH', holder, r[1]) end
end
for _, o in ipairs(batch.offers) do
  redis.call('HSET', KEYS[3], o[1], o[2])
  redis.call('HSET', KEYS[4], o[3], o[2])
end
return 1
"""

# KEYS: record. ARGV: state, district, permit, created_at, updated_at, and with an audit entry: prefix, the
# audit seq and hash chained after, the entry's hash, its JSON.
# -> 1 inserted, 0 the id exists, {0, seq, hash} the audit head moved
INSERT_RECORD = _AUDIT + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if #ARGV > 5 then
  local moved = audit_head_moved(ARGV[6], ARGV[7], ARGV[8])
  if moved then return moved end
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'district', ARGV[2], 'permit', ARGV[3],
           'created_at', ARGV[4], 'updated_at', ARGV[5])
if #ARGV > 5 then audit_append(ARGV[6], ARGV[7], ARGV[9], ARGV[10]) end
return 1
"""

# KEYS: record. ARGV: expected state, the permit read, the new permit, now. -> HGETALL, nil (state), 0 (raced)
UPDATE_RECORD_PERMIT = """
local f = redis.call('HMGET', KEYS[1], 'state', 'permit')
if f[1] ~= ARGV[1] then return false end
if f[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'permit', ARGV[3], 'updated_at', ARGV[4])
return redis.call('HGETALL', KEYS[1])
"""

# KEYS: record, its portrait. ARGV: expected state, the permit read, the new permit, now, the sealed portrait
# (base64url), then prefix, the audit seq and hash chained after, the entry's hash, its JSON.
# -> HGETALL, nil (state), 0 (the permit changed since it was read), {0, seq, hash} the audit head moved
PUT_PORTRAIT = _AUDIT + """
local f = redis.call('HMGET', KEYS[1], 'state', 'permit')
if f[1] ~= ARGV[1] then return false end
if f[2] ~= ARGV[2] then return 0 end
local moved = audit_head_moved(ARGV[6], ARGV[7], ARGV[8])
if moved then return moved end
redis.call('HSET', KEYS[1], 'permit', ARGV[3], 'updated_at', ARGV[4])
redis.call('SET', KEYS[2], ARGV[5])
audit_append(ARGV[6], ARGV[7], ARGV[9], ARGV[10])
return redis.call('HGETALL', KEYS[1])
"""

# KEYS: record, delivered, retired, the record's offers. ARGV: prefix, INVALID. -> the retired "n:i", or nil
RETIRE_DELIVERED = """
if redis.call('HGET', KEYS[1], 'state') ~= 'active' then return false end
local live, touched = {}, {}
for _, item in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  if redis.call('SADD', KEYS[3], item) == 1 then
    local n, i = string.match(item, '^(%d+):(%d+)$')
    redis.call('BITFIELD', ARGV[1] .. ':sl:' .. n .. ':bits', 'SET', 'u2', '#' .. i, ARGV[2])
    touched[n] = true
    table.insert(live, item)
  end
end
for n in pairs(touched) do redis.call('HINCRBY', ARGV[1] .. ':sl:' .. n, 'generation', 1) end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  local offer = ARGV[1] .. ':offer:' .. id
  local state = redis.call('HGET', offer, 'state')
  if state == 'open' or state == 'redeemed' then
    redis.call('HSET', offer, 'state', 'cancelled')
  end
end
return live
"""

# KEYS: record, delivered, retired, the record's offers. ARGV: prefix, expected, new, now, status value, the
# audit seq and hash chained after, the entry's hash, its JSON. -> HGETALL, nil (not in the expected state),
# {0, seq, hash} (the audit head moved). The state, the status bits, the closing of the offers and the audit
# entry change together. Retired indices (re-delivery) stay INVALID whatever the record does later; a record
# leaving 'active' has its open offers cancelled (a suspended or revoked record's pickup must not redeem).
UPDATE_RECORD_STATE = _AUDIT + """
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[2] then return false end
local moved = audit_head_moved(ARGV[1], ARGV[6], ARGV[7])
if moved then return moved end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'updated_at', ARGV[4])
if ARGV[3] ~= 'active' then
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    local offer = ARGV[1] .. ':offer:' .. id
    if redis.call('HGET', offer, 'state') == 'open' then redis.call('HSET', offer, 'state', 'cancelled') end
  end
end
local touched = {}
for _, item in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  if redis.call('SISMEMBER', KEYS[3], item) == 0 then
    local n, i = string.match(item, '^(%d+):(%d+)$')
    redis.call('BITFIELD', ARGV[1] .. ':sl:' .. n .. ':bits', 'SET', 'u2', '#' .. i, ARGV[5])
    touched[n] = true
  end
end
for n in pairs(touched) do redis.call('HINCRBY', ARGV[1] .. ':sl:' .. n, 'generation', 1) end
audit_append(ARGV[1], ARGV[6], ARGV[8], ARGV[9])
return redis.call('HGETALL', KEYS[1])
"""

_OPEN = """
local function open(list_key, size)
  if redis.call('HSETNX', list_key, 'size', size) == 0 then return 0 end
  redis.call('HSET', list_key, 'allocated', 0, 'generation', 0)
  return 1
end
"""

# The global registry of lists, written before the list's own keys in its district's shard. KEYS: numbers (a
# sorted set), list -> district. ARGV: list_no, district. -> {1 registered now or 0, the district it is in}
REGISTER_STATUS_LIST = """
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return {0, redis.call('HGET', KEYS[2], ARGV[1])} end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[1])
return {1, ARGV[2]}
"""

# A list of the global shard that nothing was ever allocated on (list 1, opened before the first credential so
# that verifiers can sync) is handed to the first district that opens it: the district's credentials then
# start on list 1 as on a single-shard store. KEYS: list -> district, the list, its used bitmap, its bits (all
# in the global shard). ARGV: list_no, district. -> 1 adopted (the list's keys are the district's to open), 0 not
ADOPT_STATUS_LIST = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= '' then return 0 end
if tonumber(redis.call('HGET', KEYS[2], 'allocated') or '0') > 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
return 1
"""

# KEYS: list. ARGV: list_no, size. -> 1 created, 0 existed
OPEN_STATUS_LIST = _OPEN + "return open(KEYS[1], ARGV[2])\n"

# KEYS: list, used (1-bit bitmap of handed-out indices). ARGV: list_no, size, fill limit, random
# candidates... -> the index; -1 the list is full; -2 every candidate was taken (the caller draws again).
# SETBIT on `used` returns the old bit: an index is handed out only by the call that flips it 0 -> 1.
ALLOCATE_STATUS_INDEX = _OPEN + """
open(KEYS[1], ARGV[2])
local size = tonumber(redis.call('HGET', KEYS[1], 'size'))
local allocated = tonumber(redis.call('HGET', KEYS[1], 'allocated'))
if allocated >= math.floor(size * tonumber(ARGV[3])) then return -1 end
for k = 4, #ARGV do
  local idx = tonumber(ARGV[k]) % size
  if redis.call('SETBIT', KEYS[2], idx, 1) == 0 then
    redis.call('HINCRBY', KEYS[1], 'allocated', 1)
    return idx
  end
end
return -2
"""

# KEYS: list, used, bits. ARGV: idx, value. -> 1 set, 0 never allocated
SET_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('GETBIT', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('BITFIELD', KEYS[3], 'SET', 'u2', '#' .. ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'generation', 1)
return 1
"""

# KEYS: list, bits. -> {size or nil, raw bits or nil}, read together
STATUS_BITS = """
return {redis.call('HGET', KEYS[1], 'size'), redis.call('GET', KEYS[2])}
"""

# KEYS: record, delivered, the signing key's deliveries (or the record again: no kid), the list. ARGV:
# "list_no:idx", "list_no:idx:record_id" or "". -> 1 bound, 0 the record is not active, -1 the list is not
# in the record's shard (its state changes could not set the index)
ADD_DELIVERED = """
if redis.call('HGET', KEYS[1], 'state') ~= 'active' then return 0 end
if redis.call('EXISTS', KEYS[4]) == 0 then return -1 end
redis.call('RPUSH', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then redis.call('SADD', KEYS[3], ARGV[2]) end
return 1
"""

# KEYS: the signing key's deliveries. ARGV: prefix. -> the "list_no:idx:record_id" not retired
DELIVERIES_SIGNED_BY = """
local live = {}
for _, item in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local pair, record = string.match(item, '^(%d+:%d+):(.*)$')
  if redis.call('SISMEMBER', ARGV[1] .. ':retired:' .. record, pair) == 0 then table.insert(live, item) end
end
return live
"""

# KEYS: offer, code index, the record's offers. ARGV: offer_id, field/value pairs. -> 0 the id or code exists
INSERT_OFFER = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
"""

# KEYS: code index. ARGV: prefix, final state, now. -> 1 for the one caller that finished it
FINISH_OFFER = """
local id = redis.call('GET', KEYS[1])
if not id then return 0 end
local offer = ARGV[1] .. ':offer:' .. id
if redis.call('HGET', offer, 'state') ~= 'open' then return 0 end
if tonumber(redis.call('HGET', offer, 'expires_at')) <= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', offer, 'state', ARGV[2])
return 1
"""

# KEYS: counter. ARGV: now, ttl. -> the new count (restarts after ttl, judged on the caller's clock)
INCREMENT = """
local expires = tonumber(redis.call('HGET', KEYS[1], 'expires_at'))
local now = tonumber(ARGV[1])
if expires == nil or expires <= now then
  redis.call('HSET', KEYS[1], 'count', 1, 'expires_at', now + tonumber(ARGV[2]))
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
return redis.call('HINCRBY', KEYS[1], 'count', 1)
"""

# KEYS: officer, officer set. ARGV: officer id, field/value pairs. Insert or replace.
PUT_OFFICER = """
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""

# KEYS: officer, officer set. ARGV: officer id, field/value pairs. -> 1 added, 0 the id exists (nothing written)
INSERT_OFFICER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""

# KEYS: token, the officer's token set. ARGV: token hash, officer id, expires_at, created_at.
ADD_OFFICER_TOKEN = """
redis.call('HSET', KEYS[1], 'officer_id', ARGV[2], 'expires_at', ARGV[3], 'created_at', ARGV[4], 'revoked', 0)
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""  # noqa: S105 (a script, not a secret)

_REVOKE_ALL = """
local function revoke_all(tokens_key, prefix)
  local count = 0
  for _, hash in ipairs(redis.call('SMEMBERS', tokens_key)) do
    local token = prefix .. ':otoken:' .. hash
    if redis.call('HGET', token, 'revoked') == '0' then
      redis.call('HSET', token, 'revoked', 1)
      count = count + 1
    end
  end
  return count
end
"""

# KEYS: the officer's token set. ARGV: prefix. -> how many tokens were live (not yet revoked)
REVOKE_OFFICER_TOKENS = _REVOKE_ALL + "return revoke_all(KEYS[1], ARGV[1])\n"

# KEYS: officer, the officer's token set, its secrets. ARGV: prefix, field/value pairs. Replace an existing officer,
# revoke every token of it and bump its generation in one step. -> how many tokens were live, -1 no such officer
CHANGE_OFFICER = _REVOKE_ALL + """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('HINCRBY', KEYS[3], 'generation', 1)
return revoke_all(KEYS[2], ARGV[1])
"""

# KEYS: officer, its secrets. ARGV: field ('password_hash' or 'totp_sealed'), value ('' clears it), the
# generation the officer must still be at ('' any). -> the new generation, -1 no such officer or another
# generation (nothing written). A TOTP change starts the steps over.
SET_OFFICER_SECRET = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if ARGV[3] ~= '' and tonumber(redis.call('HGET', KEYS[2], 'generation') or '0') ~= tonumber(ARGV[3]) then
  return -1
end
if ARGV[2] == '' then redis.call('HDEL', KEYS[2], ARGV[1]) else redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
if ARGV[1] == 'totp_sealed' then redis.call('HSET', KEYS[2], 'totp_last_step', 0) end
return redis.call('HINCRBY', KEYS[2], 'generation', 1)
"""  # noqa: S105 (a script, not a secret)

# KEYS: officer, its secrets. -> the new generation, -1 no such officer
END_OFFICER_SESSIONS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[2], 'generation', 1)
"""

# KEYS: the officer's secrets. ARGV: step, generation. -> 1 recorded (later than the last used step, same
# generation), 0 refused
USE_TOTP_STEP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'generation') or '0') ~= tonumber(ARGV[2]) then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'totp_last_step') or '0') >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'totp_last_step', ARGV[1])
return 1
"""

# KEYS: token. -> the officer id if the token was live (unrevoked), else nil
REVOKE_OFFICER_TOKEN = """
if redis.call('HGET', KEYS[1], 'revoked') ~= '0' then return false end
redis.call('HSET', KEYS[1], 'revoked', 1)
return redis.call('HGET', KEYS[1], 'officer_id')
"""  # noqa: S105 (a script, not a secret)

# KEYS: document. ARGV: the ordering field, its value, field/value pairs. Keep unless a higher one is stored.
PUT_IF_NOT_OLDER = """
local stored = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
if stored ~= nil and stored > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], unpack(ARGV, 3))
return 1
"""

# KEYS: audit head, audit log (declared so that a cluster client routes the script to their slot). ARGV:
# prefix, the seq and the hash the caller chained after ('' for none yet), the new entry's hash, its JSON.
# Compare-and-set: appends only if the head is still the one the caller chained after.
# -> 1 appended, else {0, seq, hash or ''}: the current head to chain after (no separate read: one round trip)
APPEND_AUDIT = _AUDIT + """
local moved = audit_head_moved(ARGV[1], ARGV[2], ARGV[3])
if moved then return moved end
audit_append(ARGV[1], ARGV[2], ARGV[4], ARGV[5])
return 1
"""

# KEYS: the code index. ARGV: prefix. -> {offer id, HGETALL of the offer...}, or nil: one round trip
OFFER_BY_CODE = """
local id = redis.call('GET', KEYS[1])
if not id then return false end
local fields = redis.call('HGETALL', ARGV[1] .. ':offer:' .. id)
table.insert(fields, 1, id)
return fields
"""

# Bulk registration (Store.insert_registrations), one script per batch: all rows or none. The batch is one
# JSON argument (cjson): thousands of separate arguments cost the client more than the writes cost Redis.
# KEYS: audit head, audit log. ARGV: prefix, the audit seq the caller chained after, JSON {"rows": [[record
# id, state, district, permit, created_at, updated_at, holder hash, offer id, code hash, PIN hash,
# expires_at, configuration ids, offer state, offer created_at], ...], "audit": [[hash, JSON],
# ...]} (strings; the entries chained by the caller); optionally KEYS[3] a file's bulk run (hash: run,
# batches), ARGV[4] the batch's number and ARGV[5] the run (Store.BulkStep): stored only as that run's next
# batch (batch 0: no run under way), the count moved on with it. -> 1 written, 0 the audit head moved, -1 an
# id exists, -2 not the run's next batch
INSERT_REGISTRATIONS = _INDEX_ENTRY + """
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
if seq ~= tonumber(ARGV[2]) then return 0 end
if KEYS[3] then  -- the district's count of a bulk run: never a batch it has stored, never another run's
  local run = redis.call('HGET', KEYS[3], 'run')
  local next_batch = tonumber(redis.call('HGET', KEYS[3], 'batches') or '0')
  if (run and run ~= ARGV[5]) or next_batch > tonumber(ARGV[4]) then return -2 end
end
local p = ARGV[1]
local batch = cjson.decode(ARGV[3])
for _, r in ipairs(batch.rows) do
  if redis.call('EXISTS', p .. ':record:' .. r[1], p .. ':offer:' .. r[8], p .. ':offer_code:' .. r[9]) > 0 then
    return -1
  end
end
for _, r in ipairs(batch.rows) do
  redis.call('HSET', p .. ':record:' .. r[1], 'state', r[2], 'district', r[3], 'permit', r[4], 'created_at', r[5],
             'updated_at', r[6])
  local offer = p .. ':offer:' .. r[8]
  redis.call('HSET', offer, 'record_id', r[1], 'code_hash', r[9], 'tx_code_hash', r[10], 'expires_at', r[11],
             'configuration_ids', r[12], 'state', r[13], 'created_at', r[14])
  redis.call('SET', p .. ':offer_code:' .. r[9], r[8])
  redis.call('SADD', p .. ':offers_of:' .. r[1], r[8])
  if r[15] ~= '' then redis.call('SET', p .. ':portrait:' .. r[1], r[15]) end
end
for n, entry in ipairs(batch.audit) do
  redis.call('RPUSH', KEYS[2], entry[2])
  index_entry(p, seq + n, entry[2])
end
if #batch.audit > 0 then
  redis.call('HSET', KEYS[1], 'seq', seq + #batch.audit, 'hash', batch.audit[#batch.audit][1])
end
if KEYS[3] then redis.call('HSET', KEYS[3], 'run', ARGV[5], 'batches', tonumber(ARGV[4]) + 1) end
return 1
"""

# KEYS: a bulk run's count in the global shard. ARGV: the batch, the run. Every district of the batch is
# stored: the batch becomes the file's progress if it is the run's next one (1), else nothing (0).
BULK_BATCH_DONE = """
local run = redis.call('HGET', KEYS[1], 'run')
local batches = tonumber(redis.call('HGET', KEYS[1], 'batches') or '0')
if ARGV[1] == '0' then
  if run then return 0 end
elseif run ~= ARGV[2] or batches ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'run', ARGV[2], 'batches', tonumber(ARGV[1]) + 1)
return 1
"""

# KEYS: the record's audit index, the audit log. ARGV: the highest seq to read ('+inf' or '(N': below N),
# the most entries. -> the entries' JSON, newest first (one round trip for a record's history)
AUDIT_OF_RECORD = """
local found = {}
for _, seq in ipairs(redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'LIMIT', 0, tonumber(ARGV[2]))) do
  local entry = redis.call('LINDEX', KEYS[2], tonumber(seq) - 1)
  if entry then table.insert(found, entry) end
end
return found
"""

# KEYS: the record's offer set. ARGV: prefix. -> per offer {offer id, HGETALL of the offer...}
OFFERS_OF_RECORD = """
local found = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fields = redis.call('HGETALL', ARGV[1] .. ':offer:' .. id)
  if #fields > 0 then
    table.insert(fields, 1, id)
    table.insert(found, fields)
  end
end
return found
"""

# KEYS: the index marker, the audit log. ARGV: prefix, the first seq, the last seq. Indexes the entries of
# that range (written before the per-record index existed) and, once the last range is done, marks it.
# -> the number of entries read
INDEX_AUDIT = _INDEX_ENTRY + """
local first = tonumber(ARGV[2])
local entries = redis.call('LRANGE', KEYS[2], first - 1, tonumber(ARGV[3]) - 1)
for i, entry in ipairs(entries) do index_entry(ARGV[1], first + i - 1, entry) end
return #entries
"""

# KEYS: the format marker, the audit head. ARGV: this format. -> the key space's format: as marked; "before 3"
# when it holds an audit chain but no marker (written before the marker existed); else marked now with ARGV[1]
STORE_FORMAT = """
local found = redis.call('GET', KEYS[1])
if found then return found end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'before 3' end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
"""

# KEYS: delivered, retired. ARGV: prefix, INVALID, "n:i"... -> the ones retired now (delivered, not retired yet)
RETIRE_INDICES = """
local delivered, done, touched = {}, {}, {}
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do delivered[item] = true end
for j = 3, #ARGV do
  local item = ARGV[j]
  if delivered[item] and redis.call('SADD', KEYS[2], item) == 1 then
    local n, i = string.match(item, '^(%d+):(%d+)$')
    redis.call('BITFIELD', ARGV[1] .. ':sl:' .. n .. ':bits', 'SET', 'u2', '#' .. i, ARGV[2])
    touched[n] = true
    table.insert(done, item)
  end
end
for n in pairs(touched) do redis.call('HINCRBY', ARGV[1] .. ':sl:' .. n, 'generation', 1) end
return done
"""

# KEYS: request, holder's list, the set of its district and state. ARGV: id, created_at, field, value...
# -> 1, or 0 (id exists)
INSERT_REQUEST = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
"""

# KEYS: request. ARGV: prefix, id, expected state, new state, updated_at, data. -> 1 replaced, 0 not in the
# expected state. The request moves from its district's set of the old state to that of the new one (the
# sets are named from the prefix, so they share the request's slot).
UPDATE_REQUEST = """
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[3] then return 0 end
local f = redis.call('HMGET', KEYS[1], 'district', 'created_at')
local base = ARGV[1] .. ':reqs_in:' .. f[1] .. ':'
redis.call('ZREM', base .. ARGV[3], ARGV[2])
redis.call('ZADD', base .. ARGV[4], f[2], ARGV[2])
redis.call('HSET', KEYS[1], 'state', ARGV[4], 'updated_at', ARGV[5], 'data', ARGV[6])
return 1
"""

# KEYS: message, holder's list, the due set. ARGV: id, next_attempt_at, state, field, value... -> 1, or 0 (exists)
INSERT_NOTIFICATION = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('LPUSH', KEYS[2], ARGV[1])
if ARGV[3] == 'pending' then redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1]) end
return 1
"""

# KEYS: message, the due set. ARGV: id, state, attempts, next_attempt_at
UPDATE_NOTIFICATION = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'attempts', ARGV[3], 'next_attempt_at', ARGV[4])
if ARGV[2] == 'pending' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) else redis.call('ZREM', KEYS[2], ARGV[1]) end
return 1
"""
