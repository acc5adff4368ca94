/* naive-avro: the reference for bench/run measurement 1a. Lists the live
 * files of the manifests named by a manifest list the straightforward way
 * with avro-c's generic value API: avro_file_reader_read_value() into a
 * generic value of the writer schema, fields looked up by name. Prints one
 * file path per live entry, then a count on stderr.
 *
 *   naive-avro MANIFEST_LIST.avro > paths
 *   naive-avro --manifests MANIFEST_LIST.avro > manifest paths (for the
 *                                 remote figures: what to upload and fetch) */
#include <avro.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*record_fn)(avro_value_t *rec, void *ctx);

/* Paths in manifest lists are URIs of the writer; the bench tables are
 * local, written where they are read. */
static const char *local(const char *uri)
{
	return strncmp(uri, "file:", 5) == 0 ? uri + 5 + (strncmp(uri + 5, "//", 2) == 0 ? 2 : 0) : uri;
}

static int each_record(const char *path, record_fn fn, void *ctx)
{
	avro_file_reader_t r;
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t rec;
	int rc = 0, got;

	if (avro_file_reader(path, &r)) {
		fprintf(stderr, "naive-avro: %s: %s\n", path, avro_strerror());
		return -1;
	}
	schema = avro_file_reader_get_writer_schema(r);
	iface = avro_generic_class_from_schema(schema);
	avro_generic_value_new(iface, &rec);
	while ((got = avro_file_reader_read_value(r, &rec)) == 0)
		if ((rc = fn(&rec, ctx)))
			break;
	if (got != 0 && got != EOF) {
		fprintf(stderr, "naive-avro: %s: %s\n", path, avro_strerror());
		rc = -1;
	}
	avro_value_decref(&rec);
	avro_value_iface_decref(iface);
	avro_schema_decref(schema);
	avro_file_reader_close(r);
	return rc;
}

static long live;

static int on_entry(avro_value_t *rec, void *ctx)
{
	avro_value_t status, data_file, path;
	int32_t st;
	const char *s;
	size_t len;

	(void)ctx;
	if (avro_value_get_by_name(rec, "status", &status, NULL) || avro_value_get_int(&status, &st) ||
	    avro_value_get_by_name(rec, "data_file", &data_file, NULL) ||
	    avro_value_get_by_name(&data_file, "file_path", &path, NULL) ||
	    avro_value_get_string(&path, &s, &len))
		return -1;
	if (st != 2) {
		live++;
		puts(s);
	}
	return 0;
}

/* ctx non-NULL: print the manifest's path instead of reading it. */
static int on_manifest(avro_value_t *rec, void *ctx)
{
	avro_value_t path;
	const char *s;
	size_t len;

	if (avro_value_get_by_name(rec, "manifest_path", &path, NULL) ||
	    avro_value_get_string(&path, &s, &len))
		return -1;
	if (ctx)
		return puts(local(s)) < 0 ? -1 : 0;
	return each_record(local(s), on_entry, NULL);
}

int main(int argc, char **argv)
{
	bool only_manifests = argc == 3 && strcmp(argv[1], "--manifests") == 0;

	if (argc != 2 && !only_manifests) {
		fputs("usage: naive-avro [--manifests] MANIFEST_LIST.avro\n", stderr);
		return 2;
	}
	if (each_record(argv[argc - 1], on_manifest, only_manifests ? &live : NULL))
		return 1;
	if (only_manifests)
		return fclose(stdout) == 0 ? 0 : 1;
	fprintf(stderr, "{\"live\":%ld}\n", live);
	return fclose(stdout) == 0 ? 0 : 1;
}
