# catalog-lib.sh: start the catalog test server (sourced after tests/cli/lib.sh).

CATALOG_SERVER="$top_srcdir/tests/catalog/catalog-server.py"
CATALOG_PROBE="$top_builddir/tests/catalog/ice-catalog-probe"
CATALOG_SPEC="$top_srcdir/../shared/iceberg-rest/rest-catalog-open-api.yaml"

# start_catalog NAME WAREHOUSE_DIR [server options]: a catalog-server.py on
# a free port, its log in $TMP/NAME.log; sets NAME_URL (http://127.0.0.1:PORT).
start_catalog() {
	_name=$1 _wh=$2
	shift 2
	python3 "$CATALOG_SERVER" "$_wh" "$TMP/$_name.port" "$TMP/$_name.log" --spec "$CATALOG_SPEC" "$@" \
		2> "$TMP/$_name.err" &
	track_pid $!
	wait_for 60 test -s "$TMP/$_name.port" ||
		{ echo "Bail out! catalog-server.py did not start"; cat "$TMP/$_name.err"; exit 1; }
	eval "${_name}_URL=http://127.0.0.1:\$(cat \"\$TMP/\$_name.port\")"
}

# ctl URL WHAT JSON: drive a test server (failures, vended credentials, tokens).
ctl() { curl -s -o /dev/null -X POST --data "${3:-{\}}" "$1/__ctl/$2"; }

# The spec's schemas checked every answer: no INVALID line in the logs. A
# note instead when the spec is absent (a user's clone has no ../shared).
check_schemas() {
	if [ ! -f "$CATALOG_SPEC" ]; then
		echo "# skip schema validation: ../shared/iceberg-rest absent"
		return 0
	fi
	is "$(cat "$TMP"/*.log | grep -c '^INVALID')" "0" "every answer of the test servers met the spec's schemas"
	grep '^INVALID' "$TMP"/*.log | head -5 | sed 's/^/#   /'
}
