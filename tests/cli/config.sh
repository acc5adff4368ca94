#!/bin/sh
# config: the configuration file and its precedence in every program that
# opens the cache: flags beat the environment, which beats the file, which
# beats the built-in defaults; bad lines are reported as FILE:LINE.
. "$top_srcdir/tests/cli/lib.sh"

start_redis
C="$top_builddir/ice-cache"
cd "$TMP" || exit 1 # its scratch files (err) stay out of the build folder
live="unix://$REDIS_SOCK"
dead="unix://$TMP/none.sock"
unset ICE_CACHE_URL
cfgdir="$XDG_CONFIG_HOME/icecache"
mkdir -p "$cfgdir"
cfg="$cfgdir/config"
keys() { redis-cli -s "$REDIS_SOCK" --scan --pattern "$1" | wc -l | tr -d ' '; }

# No URL anywhere: the built-in default, the embedded cache; with not even
# a home folder for it, a usage error that says where a URL can come from.
"$C" put k --value embedded
is "$?:$("$C" get k)" "0:embedded" "no URL anywhere: the embedded default cache"
check "no URL anywhere: it is \$XDG_CACHE_HOME/icecache/cache.db" test -s "$XDG_CACHE_HOME/icecache/cache.db"
XDG_CACHE_HOME='' HOME='' "$C" get k 2> err
is "$?" "2" "no URL and no home: exit 2"
like "$(cat err)" "set url in $cfg" "no URL and no home: names the configuration file"

# The file alone.
printf '# my cache\nurl = %s\n\nprefix = fromfile\n' "$live" > "$cfg"
"$C" put a --value 1
is "$?:$(keys 'fromfile:k:a')" "0:1" "file: url and prefix used"
# Environment beats file.
ICE_CACHE_PREFIX=fromenv "$C" put b --value 1
is "$(keys 'fromenv:k:b')" "1" "ICE_CACHE_PREFIX beats the file"
printf 'url = %s\n' "$dead" > "$cfg"
ICE_CACHE_URL="$live" "$C" get a > /dev/null 2>&1
is "$?" "1" "ICE_CACHE_URL beats the file (reached the live cache: a miss)"
# Flags beat environment.
ICE_CACHE_URL="$dead" "$C" --url "$live" get nope > /dev/null 2>&1
is "$?" "1" "--url beats ICE_CACHE_URL"
printf 'url = %s\nprefix = fromfile\n' "$live" > "$cfg"
ICE_CACHE_PREFIX=fromenv "$C" --prefix fromflag put c --value 1
is "$(keys 'fromflag:k:c')" "1" "--prefix beats ICE_CACHE_PREFIX"
# An empty variable is unset: the file applies.
ICE_CACHE_URL='' "$C" get a > /dev/null
is "$?" "0" "an empty ICE_CACHE_URL falls back to the file"

# Every program reads it: ice-invalidate and ice-snapshot poll --state redis.
printf '%s\n' '{"kind":"diff","table":"db.t","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[]}' |
	"$top_builddir/ice-invalidate" > /dev/null
is "$?:$(keys 'fromfile:{db.t}:c:invalidated')" "0:1" "ice-invalidate uses the file's url and prefix"

# default_ttl applies to put without --ttl; until-invalidated overrides it.
printf 'url = %s\ndefault_ttl = 2m\n' "$live" > "$cfg"
"$C" put t1 --value 1
is "$("$C" info t1 | $JSONQ 'r["expires_ms"] - r["created_ms"]')" "120000" "default_ttl applies to put"
"$C" put t2 --ttl until-invalidated --value 1
is "$("$C" info t2 | $JSONQ 'r["expires_ms"]')" "0" "--ttl until-invalidated beats default_ttl"

# ICE_CONFIG names another file, which must exist.
printf 'url = %s\nprefix = other\n' "$live" > "$TMP/other.conf"
ICE_CONFIG="$TMP/other.conf" "$C" put d --value 1
is "$(keys 'other:k:d')" "1" "ICE_CONFIG: that file is read"
ICE_CONFIG="$TMP/missing.conf" "$C" get d 2> err
is "$?" "2" "ICE_CONFIG naming a missing file: exit 2"
like "$(cat err)" "$TMP/missing.conf: No such file or directory" "ICE_CONFIG missing: named"
ICE_CONFIG=/dev/null ICE_CACHE_URL="$live" "$C" get d > /dev/null
is "$?" "1" "ICE_CONFIG=/dev/null: no file settings (default prefix: a miss)"

# Bad lines: FILE:LINE and exit 2, in every program.
printf 'url = %s\n# ok so far\nulr = typo\n' "$live" > "$cfg"
"$C" get a 2> err
is "$?" "2" "unknown key: exit 2"
is "$(cat err)" "ice-cache: error: $cfg:3: unknown key 'ulr'" "unknown key: FILE:LINE and the key"
echo '{}' | "$top_builddir/ice-invalidate" > /dev/null 2> err
is "$?:$(cat err)" "2:ice-invalidate: error: $cfg:3: unknown key 'ulr'" "ice-invalidate reports it the same way"
printf 'url = %s\ncommand_timeout = soon\n' "$live" > "$cfg"
"$C" get a 2> err
like "$(cat err)" "$cfg:2: command_timeout: bad duration 'soon'" "bad duration: FILE:LINE"
printf 'url = %s\nurl = %s\n' "$live" "$live" > "$cfg"
"$C" get a 2> err
like "$(cat err)" "$cfg:2: key 'url' given twice" "duplicate key: FILE:LINE"
# The flag does not hide a broken file: it is reported even with --url.
"$C" --url "$live" get a 2> /dev/null
is "$?" "2" "a broken file is an error even when flags give everything"

# A cache URL that does not parse is a usage error (2), not an unreachable
# cache (3), from the flag, the environment or the file, in every program.
rm -f "$XDG_CONFIG_HOME/icecache/config"
for url in 'bogus://x' 'redis://host:notaport' 'redis://[::1' 'sqlite://relative.db'; do
	"$C" --url "$url" get a > /dev/null 2> "$TMP/err"
	is "$?" "2" "malformed URL $url: usage error"
	like "$(cat "$TMP/err")" "ice-cache: error: cache URL: " "... says what is wrong with the URL"
done
ICE_CACHE_URL='bogus://x' "$top_builddir/ice-invalidate" < /dev/null 2> /dev/null
is "$?" "2" "ice-invalidate with a malformed ICE_CACHE_URL: usage error"
ICE_CACHE_URL='bogus://x' "$top_builddir/ice-stat" > /dev/null 2>&1
is "$?" "2" "ice-stat with a malformed ICE_CACHE_URL: usage error"
ICE_CACHE_URL='bogus://x' "$C" exec k -- echo hi > "$TMP/out" 2> /dev/null
is "$?:$(cat "$TMP/out")" "2:" "exec with a malformed URL fails instead of running uncached"

done_testing
