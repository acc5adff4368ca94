/* test-catalog: the catalog settings of the configuration file, catalog
 * table names, namespaces in URLs, and which catalog a program uses
 * (flag, environment, file). The protocol itself is tested against the
 * catalog test server (tests/cli/catalog-*.sh). */
#include "config.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

#include "ice_catconf.h"
#include "ice_catname.h"
#include "ice_config.h"

static const char *file_text =
	"catalog = prod\n"
	"catalog.prod.uri = https://cat.example.com/api/catalog\n"
	"catalog.prod.credential = id1:sec1\n"
	"catalog.prod.warehouse = analytics\n"
	"catalog.prod.header.X-Api-Key = k-123\n"
	"catalog.prod.header.X-Team = lake\n"
	"catalog.dev-2.uri = http://127.0.0.1:8181\n"
	"catalog.dev-2.token = t-dev\n"
	"catalog.dev-2.scope = catalog:read\n"
	"catalog.dev-2.oauth2_server_uri = http://idp/token\n"
	"catalog.dev-2.ca_bundle = /etc/ca.pem\n";

static void test_catalog_keys(void)
{
	ice_config c;
	ice_err err = { 0 };
	const ice_catalog_conf *p, *d;
	int rc = ice_config_parse(file_text, "cfg", &c, &err);

	tap_is_int(rc, ICE_OK, "catalog keys: the file parses (%s)", err.msg);
	tap_is_int((long long)c.n_catalogs, 2, "catalog keys: two named catalogs");
	tap_is_str(c.catalog, "prod", "catalog keys: the default catalog by name");
	p = ice_config_catalog(&c, "prod");
	d = ice_config_catalog(&c, "dev-2");
	tap_ok(p && d && !ice_config_catalog(&c, "prod2"), "catalog keys: found by exact name");
	if (!p || !d) {
		ice_config_clear(&c);
		return;
	}
	tap_is_str(p->uri, "https://cat.example.com/api/catalog", "catalog keys: uri");
	tap_is_str(p->credential, "id1:sec1", "catalog keys: credential");
	tap_is_str(p->warehouse, "analytics", "catalog keys: warehouse");
	tap_is_int((long long)p->n_headers, 2, "catalog keys: two headers");
	tap_is_str(p->n_headers ? p->headers[0] : NULL, "X-Api-Key: k-123",
	           "catalog keys: header.X-Api-Key as a header line");
	tap_is_str(d->token, "t-dev", "catalog keys: token");
	tap_is_str(d->scope, "catalog:read", "catalog keys: scope");
	tap_is_str(d->oauth2_server_uri, "http://idp/token", "catalog keys: oauth2_server_uri");
	tap_is_str(d->ca_bundle, "/etc/ca.pem", "catalog keys: ca_bundle");
	ice_config_clear(&c);
}

static void bad_file(const char *text, const char *want, const char *what)
{
	ice_config c;
	ice_err err = { 0 };
	int rc = ice_config_parse(text, "cfg", &c, &err);

	tap_is_int(rc, ICE_EINVAL, "catalog keys: %s is an error", what);
	tap_ok(strstr(err.msg, want) != NULL, "catalog keys: %s: '%s' says '%s'", what, err.msg, want);
	tap_is_int((long long)c.n_catalogs, 0, "catalog keys: %s leaves nothing behind", what);
}

static void test_catalog_key_errors(void)
{
	bad_file("catalog.p.uri = http://a\ncatalog.p.uri = http://b\n", "cfg:2: key 'catalog.p.uri' "
	         "given twice", "a key given twice");
	bad_file("catalog.p.uri = http://a\ncatalog.p.color = red\n", "cfg:2: unknown key 'catalog.p.color'",
	         "an unknown catalog key");
	bad_file("catalog.p q.uri = http://a\n", "cfg:1: want catalog.NAME.KEY", "a bad catalog name");
	bad_file("catalog.p.token = t\n", "catalog 'p' has no catalog.p.uri", "a catalog without uri");
	bad_file("catalog.p.uri = http://a\ncatalog.p.header.X-K = 1\ncatalog.p.header.x-k = 2\n",
	         "cfg:3: header 'x-k' given twice", "a header given twice (any case)");
	bad_file("catalog.p.uri =\n", "cfg:1: key 'catalog.p.uri' has an empty value", "an empty value");
}

static void test_catalog_names(void)
{
	ice_table_ident id;
	ice_ns ns;
	ice_err err = { 0 };
	ice_sbuf b = ICE_SBUF_INIT;
	char *cat, *s;
	const char *rest;

	tap_is_int(ice_table_ident_parse("a.b.orders", &id, &err), ICE_OK, "names: a.b.orders parses");
	tap_is_int((long long)id.ns.n, 2, "names: a.b.orders has a two-level namespace");
	tap_is_str(id.name, "orders", "names: the last part is the table");
	s = ice_table_ident_format(&id);
	tap_is_str(s, "a.b.orders", "names: formatted back");
	free(s);
	ice_ns_put_url(&b, &id.ns, NULL);
	s = ice_sbuf_take(&b);
	tap_is_str(s, "a%1Fb", "names: levels joined by %%1F in URLs");
	free(s);
	ice_ns_put_url(&b, &id.ns, "%2E");
	s = ice_sbuf_take(&b);
	tap_is_str(s, "a%2Eb", "names: or by the advertised separator");
	free(s);
	ice_table_ident_clear(&id);

	tap_is_int(ice_ns_parse("sales dept/é", &ns, &err), ICE_OK, "names: a level with odd bytes");
	ice_ns_put_url(&b, &ns, NULL);
	s = ice_sbuf_take(&b);
	tap_is_str(s, "sales%20dept%2F%C3%A9", "names: a level is percent-encoded, '/' included");
	free(s);
	ice_ns_clear(&ns);

	tap_is_int(ice_table_ident_parse("orders", &id, &err), ICE_EINVAL, "names: a bare table is refused");
	tap_is_int(ice_table_ident_parse("db..orders", &id, &err), ICE_EINVAL, "names: an empty level is refused");
	tap_is_int(ice_table_ident_parse("db.orders.", &id, &err), ICE_EINVAL, "names: a trailing dot is refused");

	tap_ok(ice_catalog_ref_split("prod:db.orders", &cat, &rest) && cat && !strcmp(cat, "prod") &&
	       !strcmp(rest, "db.orders"), "names: prod:db.orders names catalog prod");
	free(cat);
	tap_ok(!ice_catalog_ref_split("s3://bucket/t", &cat, &rest) && !cat && !strcmp(rest, "s3://bucket/t"),
	       "names: a URI is no catalog reference");
	tap_ok(!ice_catalog_ref_split("db.orders", &cat, &rest) && !cat, "names: no colon, no catalog");
	tap_ok(!ice_catalog_ref_split("a b:db.t", &cat, &rest) && !cat, "names: a name with a blank is none");
}

static void test_catalog_resolve(void)
{
	ice_config c;
	ice_catalog_settings s;
	ice_err err = { 0 };

	ice_config_parse(file_text, "cfg", &c, &err);
	unsetenv("ICE_CATALOG");
	unsetenv("ICE_CATALOG_CREDENTIAL");
	unsetenv("ICE_CATALOG_TOKEN");
	unsetenv("ICE_CATALOG_WAREHOUSE");

	tap_is_int(ice_catalog_resolve(&c, NULL, NULL, &s, &err), ICE_OK, "resolve: the file's default");
	tap_is_str(s.uri, "https://cat.example.com/api/catalog", "resolve: catalog = prod gives prod's uri");
	tap_is_str(s.credential, "id1:sec1", "resolve: and prod's credential");
	tap_is_int((long long)s.n_headers, 2, "resolve: and prod's headers");

	setenv("ICE_CATALOG", "http://env:1/cat", 1);
	setenv("ICE_CATALOG_TOKEN", "t-env", 1);
	setenv("ICE_CATALOG_WAREHOUSE", "wh-env", 1);
	ice_catalog_resolve(&c, NULL, NULL, &s, &err);
	tap_is_str(s.uri, "http://env:1/cat", "resolve: ICE_CATALOG over the file");
	tap_is_str(s.token, "t-env", "resolve: ICE_CATALOG_TOKEN");
	tap_is_str(s.warehouse, "wh-env", "resolve: ICE_CATALOG_WAREHOUSE");
	ice_catalog_resolve(&c, NULL, "http://flag:2", &s, &err);
	tap_is_str(s.uri, "http://flag:2", "resolve: --catalog over ICE_CATALOG");

	ice_catalog_resolve(&c, "dev-2", "http://flag:2", &s, &err);
	tap_is_str(s.uri, "http://127.0.0.1:8181", "resolve: NAME: uses the named catalog");
	tap_is_str(s.token, "t-dev", "resolve: with its own token, not the environment's");
	tap_ok(s.warehouse == NULL, "resolve: and no warehouse from the environment");

	tap_is_int(ice_catalog_resolve(&c, "nope", NULL, &s, &err), ICE_ENOENT, "resolve: an unknown NAME");
	tap_ok(strstr(err.msg, "no catalog 'nope'") != NULL, "resolve: named in the message (%s)", err.msg);
	unsetenv("ICE_CATALOG");
	unsetenv("ICE_CATALOG_TOKEN");
	unsetenv("ICE_CATALOG_WAREHOUSE");
	tap_is_int(ice_catalog_resolve(NULL, NULL, NULL, &s, &err), ICE_ENOENT, "resolve: nothing configured");
	ice_config_clear(&c);
}

void test_catalog(void)
{
	test_catalog_keys();
	test_catalog_key_errors();
	test_catalog_names();
	test_catalog_resolve();
}
